// guest-minimal: a machine's life while other threads use it. reboot() on a
// machine whose manifest entry allows it (Ctrl-Alt-Delete, the same QEMU, the
// disk kept, the backdoor reconnected); shutdown() then start() keeping the
// disk; booted(), state() and pid() answering while another thread waits for
// the boot. (A restore during a command: crash_suite.cpp, whose machine has
// no raw disk, which a snapshot refuses.)
//
// The manifest (written by suites/driver/CMakeLists.txt) is the single
// minimal topology's machine with "allow_reboot": true; QEMU_OPTS in the
// suite's environment adds a raw scratch disk, /dev/vda in the guest, which
// SetUpTestSuite creates before the boot.
#include <vmtest/cluster_test.hpp>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <thread>

namespace {

using ::testing::HasSubstr;
using namespace std::chrono_literals;
using vmtest::Machine;

class Lifecycle : public vmtest::ClusterTest {
 public:
  static void SetUpTestSuite() {
    // 1 MiB of zeros, the guest's /dev/vda (QEMU_OPTS names it).
    if (const char* disk = std::getenv("VMTEST_SCRATCH_DISK")) {
      std::ofstream f(disk, std::ios::binary | std::ios::trunc);
      std::string zeros(1 << 20, '\0');
      f.write(zeros.data(), static_cast<std::streamsize>(zeros.size()));
    }
    set_up_suite({.label = "guest-minimal", .disruptive = true});
  }

 protected:
  Machine& m() {
    auto& machine = node("machine");
    if (!machine.booted()) machine.start();
    return machine;
  }
  static std::string boot_id(Machine& machine) {
    return machine.succeed("cat /proc/sys/kernel/random/boot_id");
  }
  // The first bytes of the scratch disk, as text.
  static std::string disk_text(Machine& machine) {
    return machine.succeed("head -c 16 /dev/vda | tr -d '\\000'");
  }
};

TEST_F(Lifecycle, RebootKeepsQemuAndTheDiskAndReconnects) {
  auto& machine = m();
  ASSERT_NE(std::getenv("VMTEST_SCRATCH_DISK"), nullptr) << "the suite's CMake entry sets it";
  // This guest's init never asks for the key (C_A_D stays 1): the kernel restarts.
  EXPECT_EQ(machine.succeed("cat /proc/sys/kernel/ctrl-alt-del"), "1\n");
  auto before = boot_id(machine);
  int pid = machine.pid();
  // On the minimal guest Ctrl-Alt-Delete restarts the kernel at once, with
  // no sync: the write goes to the disk directly.
  machine.succeed("printf reboot-kept | dd of=/dev/vda bs=512 conv=sync oflag=direct 2>/dev/null");
  machine.succeed("echo gone > /tmp/in-ram");
  auto t0 = vmtest::Clock::now();
  machine.reboot(120s);
  EXPECT_LT(vmtest::seconds_since(t0), 120.0);
  EXPECT_EQ(machine.state(), Machine::State::connected);
  EXPECT_EQ(machine.pid(), pid) << "the same QEMU runs on";
  EXPECT_NE(boot_id(machine), before) << "the guest booted again";
  machine.fail("test -e /tmp/in-ram");           // the old boot's RAM is gone ...
  EXPECT_EQ(disk_text(machine), "reboot-kept");  // ... its disk is not
  EXPECT_THAT(machine.serial_tail(200), HasSubstr("reboot: Restarting system"));
  // Twice in a row: the channel re-syncs every time.
  machine.reboot(120s);
  EXPECT_EQ(disk_text(machine), "reboot-kept");
}

TEST_F(Lifecycle, ShutdownThenStartKeepsTheDisk) {
  auto& machine = m();
  machine.succeed(
      "printf shutdown-kept | dd of=/dev/vda bs=512 conv=sync oflag=direct 2>/dev/null");
  int old_pid = machine.pid();
  machine.shutdown(60s);
  EXPECT_EQ(machine.state(), Machine::State::off);
  machine.start();
  EXPECT_NE(machine.pid(), old_pid);
  EXPECT_EQ(disk_text(machine), "shutdown-kept");
}

TEST_F(Lifecycle, QueriesAnswerWhileAnotherThreadWaitsForTheBoot) {
  auto& machine = m();
  machine.crash(60s);
  ASSERT_EQ(machine.state(), Machine::State::off);
  std::thread booter([&] { machine.connect(120s); });
  // Wait (polling; each query must come back at once) for QEMU to be up and
  // the guest still booting.
  auto deadline = vmtest::Deadline::after(60s);
  double slowest = 0;
  while (machine.state() != Machine::State::booting && !deadline.expired()) {
    auto t = vmtest::Clock::now();
    (void)machine.booted();
    (void)machine.pid();
    slowest = std::max(slowest, vmtest::seconds_since(t));
    std::this_thread::sleep_for(5ms);
  }
  bool saw_booting = machine.state() == Machine::State::booting;
  auto t = vmtest::Clock::now();
  bool booted = machine.booted();
  int pid = machine.pid();
  machine.start();  // a second start while the first waits for the backdoor: returns at once
  auto answered = vmtest::seconds_since(t);
  bool still_booting = machine.state() == Machine::State::booting;
  // QMP works before the guest has booted.
  auto status = machine.qmp("query-status");
  booter.join();
  ASSERT_TRUE(saw_booting) << "never saw the booting state";
  EXPECT_TRUE(booted);
  EXPECT_GT(pid, 0);
  EXPECT_EQ(machine.pid(), pid) << "the second start() started no second QEMU";
  EXPECT_LT(answered, 0.5) << "booted(), pid() and start() waited for the boot";
  EXPECT_LT(slowest, 0.5);
  EXPECT_TRUE(still_booting) << "the guest booted within the queries; nothing was shown";
  EXPECT_EQ(status.value("status", ""), "running");
  EXPECT_EQ(machine.state(), Machine::State::connected);
  machine.succeed("true");
}

}  // namespace
