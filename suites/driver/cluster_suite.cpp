// guest-minimal: three nodes on two VLANs (a: 1,2  b: 1  c: 2), booted in
// parallel; addresses the nixpkgs way (192.168.<vlan>.<node number>).
#include <vmtest/cluster_test.hpp>

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <unistd.h>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <future>
#include <string>
#include <vector>

namespace {

using ::testing::HasSubstr;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

class Trio : public vmtest::ClusterTest {
 public:
  // Blocks links and kills a node: not for a cluster shared through VMTEST_ATTACH.
  static void SetUpTestSuite() { set_up_suite({.label = "guest-minimal", .disruptive = true}); }
};

TEST_F(Trio, AllNodesAreUp) {
  for (auto* m : cluster().machines()) EXPECT_TRUE(m->connected()) << m->name();
  EXPECT_EQ(node("b").succeed("hostname"), "b\n");
}

TEST_F(Trio, AddressesFollowNodeNumbers) {
  auto a = node("a").succeed("ip -4 -o addr show");
  EXPECT_THAT(a, HasSubstr("192.168.1.1/24"));
  EXPECT_THAT(a, HasSubstr("192.168.2.1/24"));
  EXPECT_THAT(node("b").succeed("ip -4 -o addr show"), HasSubstr("192.168.1.2/24"));
  EXPECT_THAT(node("c").succeed("ip -4 -o addr show"), HasSubstr("192.168.2.3/24"));
}

TEST_F(Trio, NodesReachEachOtherOnBothVlans) {
  node("a").wait_until_succeeds("ping -c1 -W2 192.168.1.2", 60s);
  node("a").wait_until_succeeds("ping -c1 -W2 192.168.2.3", 60s);
  node("b").wait_until_succeeds("ping -c1 -W2 192.168.1.1", 60s);
  node("c").wait_until_succeeds("ping -c1 -W2 192.168.2.1", 60s);
  // b and c share no VLAN.
  node("b").fail("ping -c1 -W2 192.168.2.3");
}

TEST_F(Trio, NamesResolveThroughEtcHosts) {
  node("a").wait_until_succeeds("ping -c1 -W2 b", 60s);
}

TEST_F(Trio, BlockCutsANodeOffAndUnblockBringsItBack) {
  node("b").wait_until_succeeds("ping -c1 -W2 192.168.1.1", 60s);
  node("a").block();
  node("b").fail("ping -c2 -W2 192.168.1.1");
  node("c").fail("ping -c2 -W2 192.168.2.1");
  node("a").unblock();
  node("b").wait_until_succeeds("ping -c1 -W2 192.168.1.1", 60s);
  node("c").wait_until_succeeds("ping -c1 -W2 192.168.2.1", 60s);
}

// Event-ordered, no stopwatch (speed is bench/'s): each node's command
// announces itself on its console and then waits until its VLAN carrier
// drops. The host drops the links (QMP, beside the command channel) only
// after it has seen all three announcements, so the three commands finish
// only if they ran at the same time; run one after another, the first would
// wait for a link drop that never comes and the second never announce.
TEST_F(Trio, CommandsRunOnSeveralMachinesAtOnce) {
  auto mark = std::to_string(::getpid());
  auto command = [&](const std::string& name) {
    return fmt::format(
        "echo vmtest-began-{0}-{1} > /dev/ttyS0; "
        "until grep -qx 0 /sys/class/net/*/carrier 2>/dev/null; do sleep 0.05; done; echo {1}",
        mark, name);
  };
  std::vector<std::string> names = {"a", "b", "c"};
  std::vector<std::future<std::string>> runs;
  for (const auto& n : names)
    runs.push_back(
        std::async(std::launch::async, [&, n] { return node(n).succeed(command(n), 300s); }));
  std::string missing;
  for (const auto& n : names) {
    try {
      node(n).wait_for_console_text(fmt::format("vmtest-began-{}-{}", mark, n), 120s);
    } catch (const vmtest::TimeoutError&) {
      missing += " " + n;
    }
  }
  // Release every command, whatever happened above.
  for (const auto& n : names) node(n).block();
  for (std::size_t i = 0; i < names.size(); ++i) EXPECT_EQ(runs[i].get(), names[i] + "\n");
  for (const auto& n : names) node(n).unblock();
  EXPECT_EQ(missing, "") << "these nodes' commands did not start while the others ran:" << missing;
}

TEST_F(Trio, FilesTravelBetweenNodesThroughTheHost) {
  node("a").succeed(
      "head -c 100000 /dev/urandom > /tmp/payload; md5sum /tmp/payload | cut -d' ' -f1 > /tmp/sum");
  auto dir = fs::path(::testing::TempDir()) / ("vmtest-trio-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  node("a").copy_from_vm("/tmp/payload", dir / "payload");
  node("c").copy_from_host(dir / "payload", "/tmp/payload");
  EXPECT_EQ(node("c").succeed("md5sum /tmp/payload | cut -d' ' -f1"),
            node("a").succeed("cat /tmp/sum"));
  fs::remove_all(dir);
}

TEST_F(Trio, ACrashedNodeIsReportedByName) {
  auto& c = node("c");
  ::kill(c.pid(), SIGKILL);
  try {
    c.succeed("true");
    FAIL() << "no exception";
  } catch (const vmtest::MachineDied& e) {
    EXPECT_EQ(e.machine(), "c");
    EXPECT_THAT(e.what(), HasSubstr("c: "));
  }
  // The others are unaffected.
  EXPECT_EQ(node("a").succeed("echo fine"), "fine\n");
}

}  // namespace
