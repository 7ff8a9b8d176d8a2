// The airgap checks over a mocked worker: healthy recordings pass, and each
// failure mode of reference section 2.7 gives its exact finding.
#include "vmtest/k0s/airgap.hpp"
#include "vmtest/k0s/kube.hpp"

#include <vmtest/containerd/ctr.hpp>

#include "support.hpp"

namespace vmtest::k0s {
namespace {

using ::testing::_;
using testing::check_failure;
using ::testing::Contains;
using ::testing::ElementsAre;
using testing::file;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using testing::ok;
using testing::recording;
using ::testing::Return;
using ::testing::SizeIs;
using ::testing::StartsWith;

class K0sAirgapChecks : public testing::Fleet {
 protected:
  K0sAirgapChecks() {
    // A worker whose bundles were imported as they should be.
    on("wrkr1", "find -L '/var/lib/k0s/images'", file("bundle-dir.txt"));
    on("wrkr1", "k0s airgap list-images --all", file("list-images-all.txt"));
    on("wrkr1", "f='/var/lib/k0s/images/k0s-airgap-bundle.tar'",
       ok("index.json\n" + recording("bundle-index-k0s.json")));
    on("wrkr1", "f='/var/lib/k0s/images/vmtest-workload.tar'",
       ok("index.json\n" + recording("bundle-index-workload.json")));
    on("wrkr1", "journalctl -u 'k0s.service' --no-pager -o cat | {", file("journal-import-ok.txt"));
    ON_CALL(channel("wrkr1"), run("k0s ctr -n 'k8s.io' images ls", _, _))
        .WillByDefault(Return(file("ctr-images-ls.txt")));
    ON_CALL(channel("wrkr1"), run("k0s ctr -n 'k8s.io' images check", _, _))
        .WillByDefault(Return(file("ctr-images-check.txt")));
    on("wrkr1", "images pull", mocks::result(1, "", recording("ctr-pull-fails.stderr")));
    on("wrkr1", "curl -sS -o /dev/null --max-time 5 https://quay.io/",
       mocks::result(6, "", "curl: (6) Could not resolve host: quay.io\n"));
    on("ctrl", "--field-selector reason=Pulling", file("events-none.json"));
    on("ctrl", "--field-selector involvedObject.kind=Pod,reason=Pulled",
       file("events-pulled-ok.json"));
    on("ctrl", "get daemonsets,deployments -o json", file("kube-system-workloads-never.json"));
  }
  std::vector<std::string> expected() { return expected_images(node("wrkr1"), cfg); }
};

TEST_F(K0sAirgapChecks, HealthyWorkerPassesEveryCheck) {
  auto images = expected();
  ASSERT_THAT(images, SizeIs(13));
  require_bundles_present(node("wrkr1"), cfg);
  require_bundles_cover(node("wrkr1"), cfg, images);
  wait_bundles_imported(node("wrkr1"), cfg, images);
  require_images_imported(node("wrkr1"), cfg, images);
  require_registry_unreachable(node("wrkr1"), cfg, images.front());
  require_no_pulls(node("ctrl"), cfg);
  require_pull_policy(node("ctrl"), cfg);
}

// The two ends of the supported range: k0s 1.34.10 and 1.35.7 list other
// image tags but print, label and log the same way.
// The airgap suite checks exactly the declared images: a bundle that carries one more (a user's
// archive with two images, one of them not in k0s.airgap.images) is named.
TEST_F(K0sAirgapChecks, AnUndeclaredImageFromABundleIsNamed) {
  auto table = recording("ctr-images-ls.txt");
  auto extra = std::string(
      "docker.io/acme/sidecar:2 application/vnd.oci.image.manifest.v1+json "
      "sha256:1111111111111111111111111111111111111111111111111111111111111111 1.0 MiB linux/amd64 "
      "io.cri-containerd.image=managed,io.cri-containerd.pinned=pinned,io.k0sproject.ocibundle-"
      "paths="
      "{\"/var/lib/k0s/images/vmtest-workload.tar\":\"1970-01-01T00:00:01Z\"}\n");
  auto rows = containerd::parse_images_ls(table + extra);
  EXPECT_THAT(bundle_label_findings(containerd::parse_images_ls(table), cfg, expected()),
              IsEmpty());
  EXPECT_THAT(
      bundle_label_findings(rows, cfg, expected()),
      ElementsAre("docker.io/acme/sidecar:2: imported from "
                  "/var/lib/k0s/images/vmtest-workload.tar, but not "
                  "declared (neither in k0s.airgap.images nor in k0s airgap list-images --all)"));
  auto without_list = cfg;
  without_list.airgap.list_images = false;  // k0s's own images are then not in the list either
  auto expected_only = without_list.airgap.images;
  EXPECT_THAT(bundle_label_findings(rows, without_list, expected_only), IsEmpty());
}

TEST_F(K0sAirgapChecks, BothEndsOfTheSupportedRangePass) {
  for (std::string suffix : {"-1.34", ""}) {
    SCOPED_TRACE("k0s " + std::string(suffix.empty() ? "1.35.7" : "1.34.10"));
    on("wrkr1", "k0s airgap list-images --all", file("list-images-all" + suffix + ".txt"));
    on("wrkr1", "f='/var/lib/k0s/images/k0s-airgap-bundle.tar'",
       ok("index.json\n" + recording("bundle-index-k0s" + suffix + ".json")));
    ON_CALL(channel("wrkr1"), run("k0s ctr -n 'k8s.io' images ls", _, _))
        .WillByDefault(Return(file("ctr-images-ls" + suffix + ".txt")));
    ON_CALL(channel("wrkr1"), run("k0s ctr -n 'k8s.io' images check", _, _))
        .WillByDefault(Return(file("ctr-images-check" + suffix + ".txt")));
    auto images = expected();
    ASSERT_THAT(images, SizeIs(13));
    EXPECT_NO_THROW(require_bundles_cover(node("wrkr1"), cfg, images));
    EXPECT_NO_THROW(wait_bundles_imported(node("wrkr1"), cfg, images));
    EXPECT_NO_THROW(require_images_imported(node("wrkr1"), cfg, images));
  }
}

TEST_F(K0sAirgapChecks, A135BundleOnA134NodeLacksItsImages) {
  on("wrkr1", "k0s airgap list-images --all", file("list-images-all-1.34.txt"));
  auto e = check_failure([&] { require_bundles_cover(node("wrkr1"), cfg, expected()); });
  EXPECT_THAT(e.findings(), SizeIs(9));
  EXPECT_THAT(
      e.findings()[0],
      StartsWith("image quay.io/k0sproject/calico-cni:v3.29.7-0 is in none of the bundles"));
}

TEST_F(K0sAirgapChecks, ExpectedImagesAreTheManifestsAndListImagesWithoutDuplicates) {
  auto images = expected();
  EXPECT_EQ(images[0], "quay.io/k0sproject/pause:3.10.1");
  EXPECT_EQ(images[1], "docker.io/vmtest/echo:1");
  EXPECT_EQ(images[2], "quay.io/k0sproject/calico-cni:v3.31.4-2");
  EXPECT_EQ(std::count(images.begin(), images.end(), "quay.io/k0sproject/pause:3.10.1"), 1);
  cfg.airgap.list_images = false;
  EXPECT_CALL(channel("wrkr1"), run(HasSubstr("list-images"), _, _)).Times(0);
  EXPECT_THAT(expected(),
              ElementsAre("quay.io/k0sproject/pause:3.10.1", "docker.io/vmtest/echo:1"));
}

TEST_F(K0sAirgapChecks, MissingBundleFile) {
  on("wrkr1", "find -L '/var/lib/k0s/images'", file("bundle-dir-missing.txt"));
  auto e = check_failure([&] { require_bundles_present(node("wrkr1"), cfg); });
  EXPECT_EQ(e.machine(), "wrkr1");
  EXPECT_EQ(e.summary(), "the airgap bundles are not in place:");
  EXPECT_THAT(e.findings(), ElementsAre("bundle /var/lib/k0s/images/vmtest-workload.tar is missing "
                                        "(present: k0s-airgap-bundle.tar)"));
}

TEST_F(K0sAirgapChecks, FolderAndEmptyFileInTheBundleDir) {
  on("wrkr1", "find -L '/var/lib/k0s/images'", file("bundle-dir-with-folder.txt"));
  auto e = check_failure([&] { require_bundles_present(node("wrkr1"), cfg); });
  EXPECT_THAT(e.findings(), ElementsAre("bundle /var/lib/k0s/images/vmtest-workload.tar is empty",
                                        "/var/lib/k0s/images/extra is a folder; k0s imports every "
                                        "entry of /var/lib/k0s/images as a "
                                        "bundle and fails on it"));
}

TEST_F(K0sAirgapChecks, NoBundleDir) {
  on("wrkr1", "find -L '/var/lib/k0s/images'",
     mocks::result(1, "", "find: '/var/lib/k0s/images': No such file or directory\n"));
  auto e = check_failure([&] { require_bundles_present(node("wrkr1"), cfg); });
  EXPECT_EQ(e.summary(), "the bundle folder /var/lib/k0s/images cannot be listed:");
  EXPECT_THAT(e.findings()[0], HasSubstr("No such file or directory"));
}

TEST_F(K0sAirgapChecks, BundleOfAnotherK0sVersionLacksAnImage) {
  on("wrkr1", "f='/var/lib/k0s/images/k0s-airgap-bundle.tar'",
     ok("index.json\n" + recording("bundle-index-k0s-old.json")));
  auto e = check_failure([&] { require_bundles_cover(node("wrkr1"), cfg, expected()); });
  EXPECT_EQ(e.summary(), "the bundles lack expected images:");
  EXPECT_THAT(e.findings(),
              ElementsAre("image quay.io/k0sproject/pause:3.10.1 is in none of the bundles "
                          "(k0s-airgap-bundle.tar, vmtest-workload.tar); wrong tag, or a bundle of "
                          "another k0s version"));
}

TEST_F(K0sAirgapChecks, FailedBundleLoadStopsTheWaitAtOnce) {
  cfg.timeouts.node_ready = std::chrono::seconds(3600);  // must not wait it out
  on("wrkr1", "journalctl -u 'k0s.service' --no-pager -o cat | {",
     file("journal-import-failed.txt"));
  auto e = check_failure([&] { wait_bundles_imported(node("wrkr1"), cfg, expected()); });
  EXPECT_EQ(e.summary(), "k0s did not import the airgap bundles:");
  ASSERT_THAT(e.findings(), SizeIs(1));
  // The line as k0s 1.35.7 prints it (logrus text, "2006-01-02 15:04:05").
  EXPECT_THAT(
      e.findings()[0],
      StartsWith(
          "k0s failed to load a bundle: time=\"2026-08-20 10:03:20\" level=error msg=\"Failed to "
          "load "
          "OCI bundle /var/lib/k0s/images/vmtest-workload.tar\" component=OCIBundleReconciler "
          "error=\"failed to process OCI bundle: can't import bundle: "));
  EXPECT_THAT(e.findings()[0], HasSubstr("unexpected EOF"));
}

TEST_F(K0sAirgapChecks, ImportIsProvenByLabelsEvenWithoutJournalLines) {
  // A rotated journal: containerd's labels still prove the import.
  on("wrkr1", "journalctl -u 'k0s.service' --no-pager -o cat | {", ok(""));
  wait_bundles_imported(node("wrkr1"), cfg, expected());
}

TEST_F(K0sAirgapChecks, NothingImportedYet) {
  on("wrkr1", "journalctl -u 'k0s.service' --no-pager -o cat | {", ok(""));
  ON_CALL(channel("wrkr1"), run("k0s ctr -n 'k8s.io' images ls", _, _))
      .WillByDefault(Return(ok(recording("ctr-images-ls.txt")
                                   .substr(0, recording("ctr-images-ls.txt").find('\n') + 1))));
  auto e = check_failure([&] { wait_bundles_imported(node("wrkr1"), cfg, expected()); });
  EXPECT_EQ(
      e.summary(),
      "the airgap bundle import (k0s ctr images ls, labels) not reached within 0 s; last seen:");
  EXPECT_THAT(
      e.findings(),
      ElementsAre(
          StartsWith(
              "13 of 13 expected images not in k8s.io yet: quay.io/k0sproject/pause:3.10.1, "),
          "no image is labelled as imported from /var/lib/k0s/images/k0s-airgap-bundle.tar",
          "no image is labelled as imported from /var/lib/k0s/images/vmtest-workload.tar",
          "journal: no \"Loading OCI bundle /var/lib/k0s/images/k0s-airgap-bundle.tar\" line",
          "journal: no \"Loading OCI bundle /var/lib/k0s/images/vmtest-workload.tar\" line"));
}

TEST_F(K0sAirgapChecks, ImagesWithoutK0sBundleLabelsWereNotImportedByK0s) {
  // What a CRI pull or a manual `ctr images import` leaves: no k0s labels.
  ON_CALL(channel("wrkr1"), run("k0s ctr -n 'k8s.io' images ls", _, _))
      .WillByDefault(Return(file("ctr-images-ls-unpinned.txt")));
  auto e = check_failure([&] { wait_bundles_imported(node("wrkr1"), cfg, expected()); });
  EXPECT_THAT(
      e.findings(),
      ::testing::IsSupersetOf(
          {"docker.io/vmtest/echo:1: no io.k0sproject.ocibundle-paths label (not imported "
           "by k0s from a bundle; labels: io.cri-containerd.image=managed)",
           "no image is labelled as imported from /var/lib/k0s/images/vmtest-workload.tar",
           "journal: \"OCI bundle /var/lib/k0s/images/vmtest-workload.tar loaded\" logged"}));
}

TEST_F(K0sAirgapChecks, ImagesNotPinned) {
  ON_CALL(channel("wrkr1"), run("k0s ctr -n 'k8s.io' images ls", _, _))
      .WillByDefault(Return(file("ctr-images-ls-unpinned.txt")));
  auto e = check_failure([&] { require_images_imported(node("wrkr1"), cfg, expected()); });
  EXPECT_EQ(e.summary(),
            "2 of 13 expected images are not imported, complete and pinned in k8s.io:");
  EXPECT_THAT(
      e.findings(),
      ElementsAre(
          "docker.io/vmtest/echo:1: not pinned (io.cri-containerd.pinned=pinned missing; labels: "
          "io.cri-containerd.image=managed)",
          "docker.io/vmtest/echo:1: label io.k0sproject.ocibundle-paths missing (labels: "
          "io.cri-containerd.image=managed)",
          "quay.io/k0sproject/coredns:1.14.2-0: not pinned (io.cri-containerd.pinned=pinned "
          "missing; "
          "labels: io.cri-containerd.image=managed)",
          "quay.io/k0sproject/coredns:1.14.2-0: label io.k0sproject.ocibundle-paths missing "
          "(labels: "
          "io.cri-containerd.image=managed)"));
}

TEST_F(K0sAirgapChecks, ImagesMissingFromContainerd) {
  ON_CALL(channel("wrkr1"), run("k0s ctr -n 'k8s.io' images ls", _, _))
      .WillByDefault(Return(file("ctr-images-ls-missing.txt")));
  auto e = check_failure([&] { require_images_imported(node("wrkr1"), cfg, expected()); });
  EXPECT_THAT(e.findings(),
              ElementsAre("quay.io/k0sproject/pause:3.10.1: not listed by ctr images ls",
                          "docker.io/vmtest/echo:1: not listed by ctr images ls"));
}

TEST_F(K0sAirgapChecks, WrongArchitectureIsIncomplete) {
  ON_CALL(channel("wrkr1"), run("k0s ctr -n 'k8s.io' images check", _, _))
      .WillByDefault(Return(
          mocks::result(1, recording("ctr-images-check-wrong-arch.txt"),
                        "ctr: unable to check unpack for quay.io/k0sproject/kube-router\n")));
  auto e = check_failure([&] { require_images_imported(node("wrkr1"), cfg, expected()); });
  EXPECT_THAT(e.findings(),
              ElementsAre("quay.io/k0sproject/kube-router:v2.7.1-iptables1.8.11-0: status "
                          "unavailable (0/?) (content "
                          "missing: wrong architecture or truncated bundle?), platforms "
                          "linux/amd64,linux/arm/v7,linux/arm64,linux/riscv64"));
}

TEST_F(K0sAirgapChecks, PullingEvent) {
  on("ctrl", "--field-selector reason=Pulling", file("events-pulling.json"));
  auto e = check_failure([&] { require_no_pulls(node("ctrl"), cfg); });
  EXPECT_EQ(e.summary(), "images came from the network:");
  EXPECT_THAT(
      e.findings(),
      ElementsAre("Pulling event for Pod kube-system/metrics-server-6f8c9d7b5-2xw7n on wrkr2: "
                  "Pulling image \"quay.io/k0sproject/metrics-server:v0.8.1-0\""));
}

TEST_F(K0sAirgapChecks, PulledEventOfARealPull) {
  on("ctrl", "--field-selector involvedObject.kind=Pod,reason=Pulled",
     file("events-pulled-real.json"));
  auto e = check_failure([&] { require_no_pulls(node("ctrl"), cfg); });
  EXPECT_THAT(
      e.findings(),
      ElementsAre(
          "Pulled event for Pod kube-system/metrics-server-6f8c9d7b5-2xw7n on wrkr2 is not "
          "\"already "
          "present\": Successfully pulled image \"quay.io/k0sproject/metrics-server:v0.8.1-0\" in "
          "3.412s (3.412s including waiting). Image size: 19633280 bytes."));
}

TEST_F(K0sAirgapChecks, RegistryPullThatSucceeds) {
  on("wrkr1", "images pull", ok("quay.io/k0sproject/pause:3.10.1: resolved\n"));
  try {
    require_registry_unreachable(node("wrkr1"), cfg, "quay.io/k0sproject/pause:3.10.1");
    FAIL() << "no throw";
  } catch (const CommandFailed& e) {
    EXPECT_EQ(e.machine(), "wrkr1");
    EXPECT_THAT(e.message(),
                StartsWith("pulling quay.io/k0sproject/pause:3.10.1 from its registry succeeded"));
  }
}

TEST_F(K0sAirgapChecks, InternetReachable) {
  on("wrkr1", "curl -sS -o /dev/null --max-time 5 https://quay.io/", ok(""));
  auto e = check_failure(
      [&] { require_registry_unreachable(node("wrkr1"), cfg, "quay.io/k0sproject/pause:3.10.1"); });
  EXPECT_THAT(e.findings(), ElementsAre("curl https://quay.io/ succeeded"));
}

TEST_F(K0sAirgapChecks, MissingCurlIsNotTakenForOffline) {
  on("wrkr1", "curl -sS -o /dev/null --max-time 5 https://quay.io/",
     mocks::result(127, "", "bash: curl: command not found\n"));
  auto e = check_failure(
      [&] { require_registry_unreachable(node("wrkr1"), cfg, "quay.io/k0sproject/pause:3.10.1"); });
  EXPECT_THAT(e.summary(), HasSubstr("not for a network reason"));
  EXPECT_THAT(e.findings(), Contains(HasSubstr("curl is not installed")));
}

TEST_F(K0sAirgapChecks, ATlsErrorMeansSomethingAnswered) {
  on("wrkr1", "curl -sS -o /dev/null --max-time 5 https://quay.io/",
     mocks::result(35, "", "curl: (35) OpenSSL SSL_connect: Connection reset by peer\n"));
  auto e = check_failure(
      [&] { require_registry_unreachable(node("wrkr1"), cfg, "quay.io/k0sproject/pause:3.10.1"); });
  EXPECT_THAT(e.findings(), Contains(HasSubstr("exit status 35")));
}

TEST_F(K0sAirgapChecks, K0sWorkloadsWithAnotherPullPolicy) {
  on("ctrl", "get daemonsets,deployments -o json", file("kube-system-workloads-ifnotpresent.json"));
  auto e = check_failure([&] { require_pull_policy(node("ctrl"), cfg); });
  EXPECT_EQ(
      e.summary(),
      "k0s-managed workloads do not use pull policy Never (spec.images.default_pull_policy):");
  EXPECT_THAT(
      e.findings(),
      ElementsAre(
          "DaemonSet kube-system/kube-router init container install-cni-bins (image "
          "quay.io/k0sproject/cni-node:1.8.0-k0s.0): imagePullPolicy IfNotPresent, expected Never",
          "DaemonSet kube-system/kube-router init container install-cniconf (image "
          "quay.io/k0sproject/kube-router:v2.7.1-iptables1.8.11-0): imagePullPolicy IfNotPresent, "
          "expected Never",
          "DaemonSet kube-system/kube-router container kube-router (image "
          "quay.io/k0sproject/kube-router:v2.7.1-iptables1.8.11-0): imagePullPolicy IfNotPresent, "
          "expected Never"));
  cfg.airgap.pull_policy = "IfNotPresent";
  EXPECT_THAT(check_failure([&] { require_pull_policy(node("ctrl"), cfg); }).findings(), SizeIs(4));
}

}  // namespace
}  // namespace vmtest::k0s
