// guest-systemd: reboot() on the Debian systemd guest, whose systemd turns
// Ctrl-Alt-Delete into an orderly reboot (ctrl-alt-del.target): the same
// QEMU runs on, the guest boots again (new boot id, RAM gone), the root
// disk's writes are kept, and the backdoor reconnects to the new boot's
// shell, with systemd up again. The minimal guest's kernel-level reboot is
// driver.lifecycle's.
//
// The manifest (written by suites/systemd/CMakeLists.txt) is the single
// systemd topology's machine with "allow_reboot": true.
#include <vmtest/cluster_test.hpp>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace {

using ::testing::AnyOf;
using namespace std::chrono_literals;
using vmtest::Machine;

class SystemdReboot : public vmtest::ClusterTest {
 public:
  static void SetUpTestSuite() { set_up_suite({.label = "guest-systemd", .disruptive = true}); }

 protected:
  Machine& m() { return node("machine"); }
  static std::string boot_id(Machine& machine) {
    return machine.succeed("cat /proc/sys/kernel/random/boot_id");
  }
};

TEST_F(SystemdReboot, RebootKeepsQemuAndTheRootDiskAndSystemdComesBack) {
  auto& machine = m();
  machine.wait_for_unit("multi-user.target");
  auto before = boot_id(machine);
  int pid = machine.pid();
  machine.succeed("echo reboot-kept > /root/kept && sync");
  machine.succeed("echo gone > /run/in-ram");
  auto t0 = vmtest::Clock::now();
  machine.reboot(600s);
  EXPECT_EQ(machine.state(), Machine::State::connected);
  EXPECT_EQ(machine.pid(), pid) << "the same QEMU runs on";
  EXPECT_NE(boot_id(machine), before) << "the guest booted again";
  machine.fail("test -e /run/in-ram");  // the old boot's tmpfs is gone ...
  EXPECT_EQ(machine.succeed("cat /root/kept"), "reboot-kept\n");  // ... the disk is not
  // systemd brings the new boot up (degraded: a unit of the image may fail
  // under TCG; starting or stopping would mean the boot did not finish).
  machine.wait_for_unit("multi-user.target");
  EXPECT_THAT(machine.execute("systemctl is-system-running --wait", 300s).out,
              AnyOf("running\n", "degraded\n"));
  RecordProperty("reboot_s", std::to_string(vmtest::seconds_since(t0)));
}

}  // namespace
