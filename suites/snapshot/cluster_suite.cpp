// Snapshots of a three-node cluster on two VLANs (a: 1,2  b: 1  c: 2), on
// either bundled guest: all nodes saved together and restored together still
// talk across both VLANs, with their state as it was at the snapshot, and
// two restores of the cluster are independent.
#include <vmtest/cluster_test.hpp>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <string>
#include <thread>

namespace {

using namespace std::chrono_literals;

std::string tier() {
  const char* t = std::getenv("VMTEST_SNAPSHOT_TIER");
  return t && *t ? t : "guest-minimal";
}

class Trio : public vmtest::ClusterTest {
 public:
  static void SetUpTestSuite() { set_up_suite({.label = tier()}); }
};

void expect_vlans_work() {
  auto node = [](std::string_view n) -> vmtest::Machine& { return vmtest::ClusterTest::node(n); };
  // Both VLANs, both directions; b and c share none.
  node("a").wait_until_succeeds("ping -c1 -W2 192.168.1.2", 60s);
  node("a").wait_until_succeeds("ping -c1 -W2 192.168.2.3", 60s);
  node("b").wait_until_succeeds("ping -c1 -W2 192.168.1.1", 60s);
  node("c").wait_until_succeeds("ping -c1 -W2 192.168.2.1", 60s);
}

TEST_F(Trio, RestoredTogetherTheNodesStillTalkAcrossTheVlans) {
  expect_vlans_work();
  for (auto* m : cluster().machines())
    m->succeed("mkdir -p /root && echo before-" + m->name() + " > /root/before && sync");
  cluster().snapshot("together");
  for (auto* m : cluster().machines())
    m->succeed("echo after > /root/after && rm /root/before && sync");
  auto pids_before = node("a").pid();

  cluster().restore("together");
  EXPECT_NE(node("a").pid(), pids_before) << "restore must start new QEMUs";
  for (auto* m : cluster().machines()) {
    EXPECT_EQ(m->succeed("cat /root/before"), "before-" + m->name() + "\n");
    EXPECT_EQ(m->execute("test -e /root/after").status, 1) << m->name();
  }
  expect_vlans_work();
}

TEST_F(Trio, TwoRestoresOfTheClusterAreIndependent) {
  for (auto* m : cluster().machines()) m->succeed("mkdir -p /root && rm -f /root/first && sync");
  cluster().snapshot("twice");
  cluster().restore("twice");
  for (auto* m : cluster().machines()) m->succeed("echo first > /root/first && sync");
  cluster().restore("twice");
  for (auto* m : cluster().machines())
    EXPECT_EQ(m->execute("test -e /root/first").status, 1) << m->name();
  expect_vlans_work();
}

TEST_F(Trio, EveryNodeClockFollowsTheHostAfterARestore) {
  cluster().snapshot("clock");
  std::this_thread::sleep_for(5s);
  cluster().restore("clock");
  for (auto* m : cluster().machines()) {
    auto host = std::chrono::duration_cast<std::chrono::seconds>(
                    std::chrono::system_clock::now().time_since_epoch())
                    .count();
    EXPECT_NEAR(static_cast<double>(std::stoll(m->succeed("date +%s"))), static_cast<double>(host),
                2.0)
        << m->name();
  }
}

}  // namespace
