// The ctr output parsers against real recordings (testdata/README.md) and
// the unaligned table shape of the k0s reference.
#include "vmtest/containerd/ctr.hpp"

#include "testdata.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace vmtest::containerd {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using testing::recording;

TEST(CtrParse, ImagesLsOfARealImport) {
  auto rows = parse_images_ls(recording("ls.stdout"));
  ASSERT_EQ(rows.size(), 4u);
  EXPECT_EQ(rows[0].ref, "docker.io/vmtest/busybox:1");
  EXPECT_EQ(rows[0].type, "application/vnd.oci.image.manifest.v1+json");
  EXPECT_EQ(rows[0].digest,
            "sha256:1b6f1384d31bfd474fe52e0b2acd640ddcef9ee02da13cb212b8fe6355f4450a");
  EXPECT_EQ(rows[0].size, "2.0 MiB");
  EXPECT_THAT(rows[0].platforms, ElementsAre("linux/amd64"));
  EXPECT_EQ(rows[0].label("io.cri-containerd.image"), "managed");
  EXPECT_FALSE(rows[0].pinned());
  EXPECT_EQ(rows[2].ref, "sha256:8a7c81781494494a4044b5718e7ced0af67e70eeedc06e9cf2252b904efb92e0");
}

TEST(CtrParse, ImagesLsReadsPinnedAndBundleLabels) {
  auto rows = parse_images_ls(recording("ls-labelled.stdout"));
  ASSERT_EQ(rows.size(), 4u);
  EXPECT_TRUE(rows[0].pinned());
  EXPECT_EQ(rows[0].label(kBundlePathsLabel),
            R"({"/var/lib/k0s/images/bundle.tar":"1970-01-01T00:00:01Z"})");
  EXPECT_EQ(rows[0].labels.size(), 3u);
  EXPECT_FALSE(rows[1].pinned());
}

TEST(CtrParse, ImagesLsHeaderOnlyAndEmpty) {
  EXPECT_THAT(parse_images_ls(recording("ls-name-missing.stdout")), IsEmpty());
  EXPECT_THAT(parse_images_ls(""), IsEmpty());
}

TEST(CtrParse, ImagesLsWithoutLabelsAndSeveralPlatforms) {
  auto rows = parse_images_ls(recording("ls-mix.stdout"));
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_THAT(rows[0].platforms, ElementsAre("linux/amd64", "linux/arm64"));
  EXPECT_THAT(rows[0].labels, IsEmpty());
  EXPECT_EQ(rows[0].size, "1.0 KiB");
}

TEST(CtrParse, ImagesLsUnalignedAsInTheReference) {
  // Single spaces between cells, a JSON label with a comma inside, padding at the end.
  std::string text =
      "REF TYPE DIGEST SIZE PLATFORMS LABELS\n"
      "quay.io/k0sproject/coredns:1.14.2-0 application/vnd.oci.image.index.v1+json sha256:aa 21.7 "
      "MiB "
      "linux/amd64,linux/arm/v7,linux/arm64 "
      "io.cri-containerd.pinned=pinned,io.k0sproject.ocibundle-paths="
      "{\"/var/lib/k0s/images/a.tar\":\"1970-01-01T00:00:01Z\",\"/var/lib/k0s/images/"
      "b.tar\":\"2026-08-20T10:00:00Z\"}   \n";
  auto rows = parse_images_ls(text);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].size, "21.7 MiB");
  EXPECT_THAT(rows[0].platforms, ElementsAre("linux/amd64", "linux/arm/v7", "linux/arm64"));
  EXPECT_TRUE(rows[0].pinned());
  EXPECT_EQ(
      rows[0].label(kBundlePathsLabel),
      R"({"/var/lib/k0s/images/a.tar":"1970-01-01T00:00:01Z","/var/lib/k0s/images/b.tar":"2026-08-20T10:00:00Z"})");
}

TEST(CtrParse, ImagesLsRejectsSomethingElse) {
  try {
    parse_images_ls("Error: unknown command \"ls\"\n");
    FAIL() << "no throw";
  } catch (const Error& e) {
    EXPECT_THAT(e.message(), HasSubstr("ctr images ls: cannot parse ctr output"));
  }
  EXPECT_THROW(parse_images_ls("REF TYPE DIGEST SIZE PLATFORMS LABELS\nfoo bar\n"), Error);
}

TEST(CtrParse, ImagesLsQuiet) {
  EXPECT_THAT(
      parse_images_ls_quiet(recording("ls-q.stdout")),
      ElementsAre("docker.io/vmtest/busybox:1", "docker.io/vmtest/echo:1",
                  "sha256:8a7c81781494494a4044b5718e7ced0af67e70eeedc06e9cf2252b904efb92e0",
                  "sha256:bccd1b82afa49baf6e9e2a76893d18d2560d84602443e9d46481dc88dac71806"));
}

TEST(CtrParse, ImagesCheckComplete) {
  auto rows = parse_images_check(recording("check-all.stdout"));
  ASSERT_EQ(rows.size(), 4u);
  EXPECT_EQ(rows[0].ref, "docker.io/vmtest/busybox:1");
  EXPECT_EQ(rows[0].status, "complete");
  EXPECT_EQ(rows[0].present, 3);
  EXPECT_EQ(rows[0].required, 3);
  EXPECT_EQ(rows[0].size, "2.0 MiB/2.0 MiB");
  EXPECT_TRUE(rows[0].unpacked);
  EXPECT_TRUE(rows[0].complete());
  EXPECT_EQ(rows[0].status_text(), "complete (3/3)");
}

TEST(CtrParse, ImagesCheckIncompleteAndUnavailable) {
  auto incomplete = parse_images_check(recording("check-incomplete.stdout"));
  ASSERT_EQ(incomplete.size(), 1u);
  EXPECT_FALSE(incomplete[0].complete());
  EXPECT_EQ(incomplete[0].status_text(), "incomplete (2/3)");

  auto unavailable = parse_images_check(recording("check-mix.stdout"));
  ASSERT_EQ(unavailable.size(), 1u);
  EXPECT_EQ(unavailable[0].status, "unavailable");
  EXPECT_EQ(unavailable[0].present, 0);
  EXPECT_EQ(unavailable[0].required, -1);
  EXPECT_EQ(unavailable[0].status_text(), "unavailable (0/?)");
  EXPECT_EQ(unavailable[0].size, "0.0 B/?");
  EXPECT_FALSE(unavailable[0].unpacked);
}

TEST(CtrParse, ImagesCheckPrintsNothingForNoMatch) {
  EXPECT_THAT(parse_images_check(recording("check-missing.stdout")), IsEmpty());
}

TEST(CtrParse, LabelsCell) {
  EXPECT_THAT(parse_labels("-"), IsEmpty());
  auto labels = parse_labels("a=b,c={\"x\":\"1\",\"y\":[1,2]},d=");
  EXPECT_EQ(labels.size(), 3u);
  EXPECT_EQ(labels["a"], "b");
  EXPECT_EQ(labels["c"], R"({"x":"1","y":[1,2]})");
  EXPECT_EQ(labels["d"], "");
  // `ctr images label` prints the image's labels in the same form.
  auto pinned = parse_labels(recording("label-paths.stdout"));
  EXPECT_EQ(pinned["io.cri-containerd.pinned"], "pinned");
}

TEST(CtrParse, ImportOutput) {
  EXPECT_THAT(parse_import_output(recording("import.stdout")),
              ElementsAre("docker.io/vmtest/busybox:1", "docker.io/vmtest/echo:1"));
  EXPECT_THAT(parse_import_output(recording("import-truncated.stdout")), IsEmpty());
}

TEST(CtrParse, BundleRefsOfAnOciLayoutAndADockerArchive) {
  auto oci = R"({"schemaVersion":2,"manifests":[
    {"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:1","size":1,
     "annotations":{"org.opencontainers.image.ref.name":"quay.io/k0sproject/pause:3.10.1"}},
    {"mediaType":"application/vnd.oci.image.index.v1+json","digest":"sha256:2","size":1,
     "annotations":{"org.opencontainers.image.ref.name":"docker.io/vmtest/echo:1"}}]})";
  EXPECT_THAT(parse_bundle_refs(oci, "index.json"),
              ElementsAre("quay.io/k0sproject/pause:3.10.1", "docker.io/vmtest/echo:1"));
  auto docker =
      R"([{"Config":"c.json","RepoTags":["docker.io/library/nginx:1.31.3-alpine"],"Layers":["l.tar"]}])";
  EXPECT_THAT(parse_bundle_refs(docker, "manifest.json"),
              ElementsAre("docker.io/library/nginx:1.31.3-alpine"));
  try {
    parse_bundle_refs("{\"x\":1}", "wrkr1: index.json of /b.tar");
    FAIL() << "no throw";
  } catch (const Error& e) {
    EXPECT_THAT(e.message(), HasSubstr("wrkr1: index.json of /b.tar: neither an OCI index"));
  }
  EXPECT_THROW(parse_bundle_refs("not json", "x"), Error);
}

TEST(CtrParse, ProcNetDev) {
  EXPECT_THAT(parse_proc_net_dev(recording("run-netdev.stdout")), ElementsAre("lo"));
  EXPECT_THAT(parse_proc_net_dev(recording("run-nohost.stdout")),
              ElementsAre("lo", "ifb0", "ifb1", "eth0"));
}

TEST(CtrEvaluate, AllFine) {
  auto listed = parse_images_ls(recording("ls-labelled.stdout"));
  auto checked = parse_images_check(recording("check-all.stdout"));
  EXPECT_THAT(evaluate_images({"docker.io/vmtest/busybox:1"}, listed, checked,
                              {.complete = true, .pinned = true}),
              IsEmpty());
}

TEST(CtrEvaluate, MissingUnpinnedIncomplete) {
  auto listed = parse_images_ls(recording("ls-labelled.stdout"));
  auto checked = parse_images_check(recording("check-incomplete.stdout"));
  auto problems = evaluate_images(
      {"docker.io/vmtest/busybox:1", "docker.io/vmtest/echo:1", "docker.io/vmtest/gone:1"}, listed,
      checked, {.complete = true, .pinned = true});
  ASSERT_EQ(problems.size(), 4u);
  EXPECT_EQ(problems[0].ref, "docker.io/vmtest/busybox:1");
  EXPECT_EQ(problems[0].problem, "listed, but ctr images check did not report it");
  EXPECT_EQ(problems[1].ref, "docker.io/vmtest/echo:1");
  EXPECT_THAT(problems[1].problem, HasSubstr("status incomplete (2/3)"));
  EXPECT_EQ(problems[2].ref, "docker.io/vmtest/echo:1");
  EXPECT_EQ(problems[2].problem,
            "not pinned (io.cri-containerd.pinned=pinned missing; labels: "
            "io.cri-containerd.image=managed)");
  EXPECT_EQ(problems[3].ref, "docker.io/vmtest/gone:1");
  EXPECT_EQ(problems[3].problem, "not listed by ctr images ls");
}

TEST(CtrEvaluate, RequiredLabels) {
  auto listed = parse_images_ls(recording("ls-labelled.stdout"));
  ImageExpectations want{
      .complete = false, .pinned = false, .labels = {{std::string(kBundlePathsLabel), ""}}};
  EXPECT_THAT(evaluate_images({"docker.io/vmtest/busybox:1"}, listed, {}, want), IsEmpty());
  auto problems = evaluate_images({"docker.io/vmtest/echo:1"}, listed, {}, want);
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_EQ(
      problems[0].problem,
      "label io.k0sproject.ocibundle-paths missing (labels: io.cri-containerd.image=managed)");
}

}  // namespace
}  // namespace vmtest::containerd

namespace vmtest::containerd {
namespace {

TEST(CtrImportForms, Containerd1UnpackLines) {
  auto out = parse_import(testing::recording("import.stdout"));
  EXPECT_EQ(out.format, ImportFormat::unpack_lines);
  EXPECT_THAT(out.refs,
              ::testing::ElementsAre("docker.io/vmtest/busybox:1", "docker.io/vmtest/echo:1"));
  EXPECT_THAT(out.digests,
              ::testing::ElementsAre(
                  "sha256:1b6f1384d31bfd474fe52e0b2acd640ddcef9ee02da13cb212b8fe6355f4450a",
                  "sha256:8f328cf4bb0fa52ad2b9c5db6545515a209b8be76b84d5d3da965179d4f7e444"));
}

TEST(CtrImportForms, Containerd2ProgressTableLastFrame) {
  auto out = parse_import(testing::recording("from-source/import-transfer-2.3.3.stdout"));
  EXPECT_EQ(out.format, ImportFormat::transfer_progress);
  EXPECT_TRUE(out.refs.empty());
  // The first frame's row is cleared and redrawn: each image once.
  EXPECT_THAT(out.saved,
              ::testing::ElementsAre("docker.io/vmtest/busybox:1", "docker.io/vmtest/echo:1"));
  EXPECT_THAT(out.digests, ::testing::SizeIs(2));
  EXPECT_EQ(out.status, "Importing");
}

TEST(CtrImportForms, Containerd2DisplayNames) {
  EXPECT_EQ(transfer_display_name("docker.io/vmtest/echo:1"), "docker.io/vmtest/echo:1");
  EXPECT_EQ(transfer_display_name("quay.io/k0sproject/kube-proxy:v1.35.7"),
            "quay.io/k0sproject/kube proxy:v1.35.7");
  // Cut at 40 characters.
  EXPECT_EQ(transfer_display_name("quay.io/k0sproject/apiserver-network-proxy-agent:v0.34.0-k0s.2"),
            "quay.io/k0sproject/apiserver network pro");
  EXPECT_EQ(transfer_display_name(
                "sha256:8a7c81781494494a4044b5718e7ced0af67e70eeedc06e9cf2252b904efb92e0"),
            "(8a7c81781494)");
}

TEST(CtrImportForms, NeitherFormIsAnError) {
  EXPECT_THROW(parse_import("ctr: something else\n"), Error);
  EXPECT_THROW(parse_import(""), Error);
}

}  // namespace
}  // namespace vmtest::containerd
