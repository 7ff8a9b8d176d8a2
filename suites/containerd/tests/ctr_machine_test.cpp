// The ctr operations over a mocked node: the commands they send and how real
// ctr results (testdata/) become values or errors naming node and image.
#include "vmtest/containerd/ctr.hpp"

#include "testdata.hpp"

#include <vmtest/machine.hpp>
#include <vmtest/mocks/command_channel.hpp>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace vmtest::containerd {
namespace {

using mocks::MockCommandChannel;
using mocks::result;
using ::testing::_;
using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::NiceMock;
using ::testing::Not;
using testing::recording;
using ::testing::Return;
using ::testing::StartsWith;

std::string optional_recording(const std::string& name) {
  try {
    return recording(name);
  } catch (const std::exception&) {
    return {};
  }
}

// The recorded result of `name` with its exit status.
CommandResult recorded(const std::string& name, int status) {
  return result(status, recording(name + ".stdout"), optional_recording(name + ".stderr"));
}

struct CtrOnNode : ::testing::Test {
  CtrOnNode() {
    auto c = std::make_unique<NiceMock<MockCommandChannel>>();
    channel = c.get();
    ON_CALL(*channel, describe()).WillByDefault(Return("mock"));
    node = std::make_unique<Machine>("wrkr1", std::move(c));
  }
  NiceMock<MockCommandChannel>* channel;
  std::unique_ptr<Machine> node;
  CtrCommand ctr{.binary = "k0s ctr"};
};

TEST_F(CtrOnNode, PrefixQuotesAddressAndNamespace) {
  EXPECT_EQ(ctr.prefix(), "k0s ctr -n 'k8s.io'");
  CtrCommand plain{.binary = "ctr", .address = "/run/containerd/containerd.sock"};
  EXPECT_EQ(plain.prefix(), "ctr --address '/run/containerd/containerd.sock' -n 'k8s.io'");
}

TEST_F(CtrOnNode, ImportReturnsTheUnpackedRefs) {
  EXPECT_CALL(*channel, run("k0s ctr -n 'k8s.io' images import '/tmp/bundle.tar'", _, Repeat::once))
      .WillOnce(Return(recorded("import", 0)));
  auto r = import_bundle(*node, ctr, "/tmp/bundle.tar");
  EXPECT_THAT(r.refs, ElementsAre("docker.io/vmtest/busybox:1", "docker.io/vmtest/echo:1"));
}

TEST_F(CtrOnNode, ImportInContainerd2FormMatchesItsRowsToTheNamespace) {
  // containerd 2.x (k0s 1.36 embeds 2.3.3): the progress table gives
  // shortened names only, so the refs come from matching them to `images ls -q`.
  EXPECT_CALL(*channel, run("k0s ctr -n 'k8s.io' images import '/tmp/bundle.tar'", _, Repeat::once))
      .WillOnce(Return(mocks::result(0, recording("from-source/import-transfer-2.3.3.stdout"))));
  EXPECT_CALL(*channel, run("k0s ctr -n 'k8s.io' images ls -q", _, _))
      .WillOnce(Return(recorded("ls-q", 0)));
  auto r = import_bundle(*node, ctr, "/tmp/bundle.tar");
  EXPECT_EQ(r.format, ImportFormat::transfer_progress);
  EXPECT_THAT(r.refs, ElementsAre("docker.io/vmtest/busybox:1", "docker.io/vmtest/echo:1"));
}

TEST_F(CtrOnNode, ImportInContainerd2FormWithARowNoImageMatchesIsAnError) {
  EXPECT_CALL(*channel, run(HasSubstr("images import"), _, _))
      .WillOnce(Return(mocks::result(0, recording("from-source/import-transfer-2.3.3.stdout"))));
  EXPECT_CALL(*channel, run("k0s ctr -n 'k8s.io' images ls -q", _, _))
      .WillOnce(Return(mocks::result(0, "docker.io/vmtest/busybox:1\n")));
  try {
    import_bundle(*node, ctr, "/tmp/bundle.tar");
    FAIL() << "no throw";
  } catch (const Error& e) {
    EXPECT_EQ(e.machine(), "wrkr1");
    EXPECT_THAT(
        e.message(),
        HasSubstr("reported \"docker.io/vmtest/echo:1\" saved, but no image in namespace k8s.io"));
  }
}

TEST_F(CtrOnNode, ImportThatPrintsNeitherFormNamesTheCommand) {
  EXPECT_CALL(*channel, run(HasSubstr("images import"), _, _))
      .WillOnce(Return(mocks::result(0, "")));
  try {
    import_bundle(*node, ctr, "/tmp/bundle.tar");
    FAIL() << "no throw";
  } catch (const Error& e) {
    EXPECT_THAT(e.message(),
                HasSubstr("ctr images import: the output has neither containerd 1.x's"));
    EXPECT_EQ(e.command(), "k0s ctr -n 'k8s.io' images import '/tmp/bundle.tar'");
  }
}

TEST_F(CtrOnNode, ImportOfATruncatedBundleNamesNodeBundleAndCause) {
  EXPECT_CALL(*channel, run(HasSubstr("images import"), _, _))
      .WillOnce(Return(recorded("import-truncated", 1)));
  try {
    import_bundle(*node, ctr, "/tmp/truncated.tar");
    FAIL() << "no throw";
  } catch (const CommandFailed& e) {
    EXPECT_EQ(e.machine(), "wrkr1");
    EXPECT_THAT(e.message(),
                HasSubstr("importing the bundle /tmp/truncated.tar into namespace k8s.io failed"));
    EXPECT_THAT(e.message(), HasSubstr("failed to read expected number of bytes: unexpected EOF"));
  }
}

TEST_F(CtrOnNode, ImportOfAForeignArchitectureSaysFilteredOut) {
  EXPECT_CALL(*channel, run(HasSubstr("images import --all-platforms '/tmp/arm64.tar'"), _, _))
      .WillOnce(Return(recorded("import-arm64-all", 0)));
  EXPECT_THAT(import_bundle(*node, ctr, "/tmp/arm64.tar", {.all_platforms = true}).refs,
              ElementsAre("docker.io/vmtest/arm:1"));
  EXPECT_CALL(*channel, run(HasSubstr("images import '/tmp/arm64.tar'"), _, _))
      .WillOnce(Return(recorded("import-arm64", 1)));
  try {
    import_bundle(*node, ctr, "/tmp/arm64.tar");
    FAIL() << "no throw";
  } catch (const CommandFailed& e) {
    EXPECT_THAT(e.message(), HasSubstr("ctr: image might be filtered out"));
  }
}

TEST_F(CtrOnNode, BundleRefsReadsTheIndex) {
  std::string index =
      R"({"schemaVersion":2,"manifests":[{"annotations":{"org.opencontainers.image.ref.name":"docker.io/vmtest/echo:1"}}]})";
  EXPECT_CALL(*channel,
              run(AllOf(HasSubstr("f='/var/lib/k0s/images/b.tar'"), HasSubstr("tar -xOf")), _, _))
      .WillOnce(Return(result(0, "index.json\n" + index)));
  EXPECT_THAT(bundle_refs(*node, "/var/lib/k0s/images/b.tar"),
              ElementsAre("docker.io/vmtest/echo:1"));
}

TEST_F(CtrOnNode, ListAndLabels) {
  EXPECT_CALL(*channel,
              run("k0s ctr -n 'k8s.io' images ls 'name==docker.io/vmtest/busybox:1'", _, _))
      .WillOnce(Return(recorded("ls-name", 0)));
  auto labels = image_labels(*node, ctr, "docker.io/vmtest/busybox:1");
  EXPECT_EQ(labels["io.cri-containerd.pinned"], "pinned");

  EXPECT_CALL(*channel,
              run("k0s ctr -n 'k8s.io' images ls 'name==docker.io/vmtest/missing:1'", _, _))
      .WillOnce(Return(recorded("ls-name-missing", 0)));
  try {
    image_labels(*node, ctr, "docker.io/vmtest/missing:1");
    FAIL() << "no throw";
  } catch (const Error& e) {
    EXPECT_EQ(e.message(), "image docker.io/vmtest/missing:1 is not in namespace k8s.io");
    EXPECT_EQ(e.machine(), "wrkr1");
  }
}

TEST_F(CtrOnNode, CheckKeepsRowsWhenCtrExitsOne) {
  EXPECT_CALL(*channel, run(HasSubstr("images check"), _, _))
      .WillOnce(Return(recorded("check-mix", 1)));
  auto rows = check_images(*node, ctr);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].status_text(), "unavailable (0/?)");
}

TEST_F(CtrOnNode, RequireImagesPassesOnAHealthyNode) {
  EXPECT_CALL(*channel, run("k0s ctr -n 'k8s.io' images ls", _, _))
      .WillOnce(Return(recorded("ls-labelled", 0)));
  EXPECT_CALL(*channel, run("k0s ctr -n 'k8s.io' images check", _, _))
      .WillOnce(Return(recorded("check-all", 0)));
  EXPECT_NO_THROW(require_images(*node, ctr, {"docker.io/vmtest/busybox:1"}, {.pinned = true}));
}

TEST_F(CtrOnNode, RequireImagesListsEveryProblem) {
  EXPECT_CALL(*channel, run("k0s ctr -n 'k8s.io' images ls", _, _))
      .WillOnce(Return(recorded("ls-labelled", 0)));
  EXPECT_CALL(*channel, run("k0s ctr -n 'k8s.io' images check", _, _))
      .WillOnce(Return(recorded("check-all", 0)));
  try {
    require_images(*node, ctr,
                   {"docker.io/vmtest/busybox:1", "docker.io/vmtest/echo:1",
                    "quay.io/k0sproject/pause:3.10.1"},
                   {.pinned = true});
    FAIL() << "no throw";
  } catch (const ImagesMissing& e) {
    EXPECT_EQ(
        e.message(),
        "2 of 3 expected images in namespace k8s.io are not usable:\n"
        "  docker.io/vmtest/echo:1: not pinned (io.cri-containerd.pinned=pinned missing; labels: "
        "io.cri-containerd.image=managed)\n"
        "  quay.io/k0sproject/pause:3.10.1: not listed by ctr images ls");
    EXPECT_EQ(e.machine(), "wrkr1");
    EXPECT_EQ(e.problems().size(), 2u);
  }
}

TEST_F(CtrOnNode, PullFailsAsExpectedOffline) {
  EXPECT_CALL(
      *channel,
      run("timeout -s KILL 120 k0s ctr -n 'k8s.io' images pull 'quay.io/k0sproject/pause:3.10.1'",
          _, _))
      .WillOnce(Return(recorded("pull-quay", 1)));
  auto why = require_pull_fails(*node, ctr, "quay.io/k0sproject/pause:3.10.1");
  EXPECT_THAT(why, HasSubstr("failed to resolve reference \"quay.io/k0sproject/pause:3.10.1\""));
}

// ctr 1.6 with containerd stopped (its wording: containerd's cmd/ctr
// commands.AppContext dialing the socket, v1.6.20).
TEST_F(CtrOnNode, PullFailingWithoutANetworkCauseIsAnError) {
  EXPECT_CALL(*channel, run(HasSubstr("images pull"), _, _))
      .WillOnce(Return(result(
          1, "",
          "ctr: failed to dial \"/run/containerd/containerd.sock\": context deadline exceeded\n")));
  try {
    require_pull_fails(*node, ctr, "quay.io/k0sproject/pause:3.10.1");
    FAIL() << "no throw";
  } catch (const CommandFailed& e) {
    EXPECT_EQ(e.machine(), "wrkr1");
    EXPECT_THAT(e.message(), HasSubstr("not for a network reason"));
  }
}

TEST(CtrNetworkFailure, TellsNetworkCausesFromLocalOnes) {
  EXPECT_TRUE(is_network_failure("dial tcp: lookup quay.io on 10.255.255.53:53: no such host"));
  EXPECT_TRUE(is_network_failure("dial tcp 203.0.113.7:5000: connect: network is unreachable"));
  EXPECT_FALSE(is_network_failure(
      "ctr: failed to dial \"/run/containerd/containerd.sock\": connection refused"));
  EXPECT_FALSE(is_network_failure("ctr: unrecognized image format"));
  EXPECT_FALSE(is_network_failure(""));
}

TEST_F(CtrOnNode, PullThatSucceedsIsReported) {
  EXPECT_CALL(*channel, run(HasSubstr("images pull"), _, _)).WillOnce(Return(result(0, "done\n")));
  try {
    require_pull_fails(*node, ctr, "quay.io/k0sproject/pause:3.10.1");
    FAIL() << "no throw";
  } catch (const CommandFailed& e) {
    EXPECT_EQ(e.machine(), "wrkr1");
    EXPECT_THAT(e.message(),
                StartsWith("pulling quay.io/k0sproject/pause:3.10.1 from its registry succeeded"));
  }
}

TEST_F(CtrOnNode, PullThatHangsCountsAsFailed) {
  EXPECT_CALL(*channel, run(HasSubstr("images pull"), _, _)).WillOnce(Return(result(137)));
  EXPECT_THAT(require_pull_fails(*node, ctr, "x/y:1", std::chrono::seconds(5)),
              HasSubstr("no answer within 5 s"));
}

TEST_F(CtrOnNode, RunContainerReturnsItsOutput) {
  EXPECT_CALL(
      *channel,
      run(AllOf(HasSubstr("k0s ctr -n 'k8s.io' run --rm 'docker.io/vmtest/busybox:1' vmtest-"),
                HasSubstr("'cat' '/etc/vmtest-image'"), Not(HasSubstr("--net-host"))),
          _, _))
      .WillOnce(Return(recorded("run-cat", 0)));
  auto r = run_container(*node, ctr, "docker.io/vmtest/busybox:1", {"cat", "/etc/vmtest-image"});
  EXPECT_EQ(r.status, 0);
  EXPECT_EQ(r.out, "docker.io/vmtest/busybox:1\n");
}

TEST_F(CtrOnNode, RunContainerKeepsTheContainersOwnFailure) {
  EXPECT_CALL(*channel, run(HasSubstr(" run --rm "), _, _))
      .WillOnce(Return(recorded("run-fails", 3)));
  auto r = run_container(*node, ctr, "docker.io/vmtest/busybox:1",
                         {"sh", "-c", "echo oops >&2; exit 3"});
  EXPECT_EQ(r.status, 3);
  EXPECT_EQ(r.err, "oops\n");
}

TEST_F(CtrOnNode, RunContainerOfAMissingImageNamesIt) {
  EXPECT_CALL(*channel, run(HasSubstr(" run --rm "), _, _))
      .WillOnce(Return(recorded("run-missing", 1)));
  try {
    run_container(*node, ctr, "docker.io/vmtest/missing:1", {"true"});
    FAIL() << "no throw";
  } catch (const CommandFailed& e) {
    EXPECT_EQ(e.message(),
              "cannot run a container from image docker.io/vmtest/missing:1: "
              "ctr: image \"docker.io/vmtest/missing:1\": not found");
  }
}

TEST_F(CtrOnNode, NoNetworkInAContainer) {
  EXPECT_CALL(*channel, run(HasSubstr("'cat' '/proc/net/dev'"), _, _))
      .WillOnce(Return(recorded("run-netdev", 0)));
  EXPECT_NO_THROW(require_no_network(*node, ctr, "docker.io/vmtest/busybox:1"));
  EXPECT_CALL(*channel, run(HasSubstr("'cat' '/proc/net/dev'"), _, _))
      .WillOnce(Return(recorded("run-nohost", 0)));
  try {
    require_no_network(*node, ctr, "docker.io/vmtest/busybox:1");
    FAIL() << "no throw";
  } catch (const Error& e) {
    EXPECT_EQ(e.message(),
              "a container from docker.io/vmtest/busybox:1 has network interfaces [lo, ifb0, ifb1, "
              "eth0]; "
              "expected only lo (no network)");
  }
}

}  // namespace
}  // namespace vmtest::containerd
