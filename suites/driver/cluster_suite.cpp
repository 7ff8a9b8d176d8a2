// guest-minimal: three nodes on two VLANs (a: 1,2  b: 1  c: 2), booted in
// parallel; addresses the nixpkgs way (192.168.<vlan>.<node number>).
#include <vmtest/cluster_test.hpp>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <future>

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

TEST_F(Trio, NamesResolveThroughEtcHosts) { node("a").wait_until_succeeds("ping -c1 -W2 b", 60s); }

TEST_F(Trio, BlockCutsANodeOffAndUnblockBringsItBack) {
  node("b").wait_until_succeeds("ping -c1 -W2 192.168.1.1", 60s);
  node("a").block();
  node("b").fail("ping -c2 -W2 192.168.1.1");
  node("c").fail("ping -c2 -W2 192.168.2.1");
  node("a").unblock();
  node("b").wait_until_succeeds("ping -c1 -W2 192.168.1.1", 60s);
  node("c").wait_until_succeeds("ping -c1 -W2 192.168.2.1", 60s);
}

TEST_F(Trio, CommandsRunOnSeveralMachinesAtOnce) {
  auto t0 = vmtest::Clock::now();
  auto fa = std::async(std::launch::async, [] { return node("a").succeed("sleep 3; echo a"); });
  auto fb = std::async(std::launch::async, [] { return node("b").succeed("sleep 3; echo b"); });
  auto fc = std::async(std::launch::async, [] { return node("c").succeed("sleep 3; echo c"); });
  EXPECT_EQ(fa.get(), "a\n");
  EXPECT_EQ(fb.get(), "b\n");
  EXPECT_EQ(fc.get(), "c\n");
  // Sequential would take 9 s; generous bound for a loaded TCG host.
  EXPECT_LT(vmtest::seconds_since(t0), 8.5);
}

TEST_F(Trio, FilesTravelBetweenNodesThroughTheHost) {
  node("a").succeed("head -c 100000 /dev/urandom > /tmp/payload; md5sum /tmp/payload | cut -d' ' -f1 > /tmp/sum");
  auto dir = fs::path(::testing::TempDir()) / "vmtest-trio";
  fs::remove_all(dir);
  node("a").copy_from_vm("/tmp/payload", dir / "payload");
  node("c").copy_from_host(dir / "payload", "/tmp/payload");
  EXPECT_EQ(node("c").succeed("md5sum /tmp/payload | cut -d' ' -f1"), node("a").succeed("cat /tmp/sum"));
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
