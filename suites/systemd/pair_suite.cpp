// guest-systemd, two nodes on VLAN 1 (a: 192.168.1.1, b: 192.168.1.2),
// both booted from the one read-only base image through their own overlays.
#include <vmtest/cluster_test.hpp>
#include <vmtest/log.hpp>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace {

using ::testing::HasSubstr;
using namespace std::chrono_literals;

class SystemdPair : public vmtest::ClusterTest {
 public:
  static void SetUpTestSuite() {
    auto t0 = vmtest::Clock::now();
    set_up_suite({.label = "guest-systemd"});
    vmtest::log::info("guest-systemd: pair booted to the backdoor in {:.1f} s",
                      vmtest::seconds_since(t0));
  }
};

TEST_F(SystemdPair, BothNodesHaveTheirOwnIdentity) {
  EXPECT_EQ(node("a").succeed("hostname"), "a\n");
  EXPECT_EQ(node("b").succeed("hostname"), "b\n");
  // The shared base has an empty machine-id; each overlay gets its own.
  auto id_a = node("a").succeed("cat /etc/machine-id");
  auto id_b = node("b").succeed("cat /etc/machine-id");
  EXPECT_EQ(id_a.size(), 33u) << id_a;
  EXPECT_NE(id_a, id_b);
}

TEST_F(SystemdPair, AddressesFollowNodeNumbers) {
  // The network unit runs before the backdoor, but wait for it by name: it
  // is what a NixOS test would do, and it must not hang on a oneshot.
  for (const char* n : {"a", "b"}) node(n).wait_for_unit("vmtest-network.service", 300s);
  EXPECT_THAT(node("a").succeed("ip -4 -o addr show dev eth1"), HasSubstr("192.168.1.1/24"));
  EXPECT_THAT(node("b").succeed("ip -4 -o addr show dev eth1"), HasSubstr("192.168.1.2/24"));
}

TEST_F(SystemdPair, NodesReachEachOtherByAddress) {
  node("a").wait_until_succeeds("ping -c1 -W2 192.168.1.2", 120s);
  node("b").wait_until_succeeds("ping -c1 -W2 192.168.1.1", 120s);
}

TEST_F(SystemdPair, NodesReachEachOtherByName) {
  node("a").wait_until_succeeds("ping -c1 -W2 b", 120s);
  node("b").wait_until_succeeds("ping -c1 -W2 a", 120s);
}

// TCP across the VLAN, with the listener as a transient systemd unit.
TEST_F(SystemdPair, TcpAcrossTheVlanToATransientUnit) {
  auto& b = node("b");
  b.execute(
      "systemctl stop vmtest-listen.service 2>/dev/null; systemctl reset-failed "
      "vmtest-listen.service "
      "2>/dev/null; rm -f /tmp/received");
  // -k: keep listening, so the port probe's own connection does not end it.
  b.succeed("systemd-run --unit=vmtest-listen /bin/sh -c 'nc -lk 7777 > /tmp/received'");
  b.wait_for_unit("vmtest-listen.service", 300s);
  b.wait_for_open_port(7777, "localhost", 120s);
  node("a").succeed("echo over the vlan | nc -N -w 10 b 7777", 60s);
  b.wait_until_succeeds("grep -qx 'over the vlan' /tmp/received", 60s);
  EXPECT_EQ(b.succeed("cat /tmp/received"), "over the vlan\n");
}

}  // namespace
