// guest-minimal: a VM that dies is a typed error within seconds, naming the
// machine and showing its console; and it can be started again.
#include <vmtest/cluster_test.hpp>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <csignal>
#include <thread>

namespace {

using ::testing::AnyOf;
using ::testing::HasSubstr;
using namespace std::chrono_literals;

class Crash : public vmtest::ClusterTest {
 public:
  // Kills and restarts its VM: not for a cluster shared through VMTEST_ATTACH.
  static void SetUpTestSuite() { set_up_suite({.label = "guest-minimal", .disruptive = true}); }

 protected:
  vmtest::Machine& m() {
    auto& machine = node("machine");
    if (!machine.booted()) machine.start();
    return machine;
  }
};

TEST_F(Crash, QemuKilledMidCommandIsMachineDied) {
  auto& machine = m();
  machine.succeed("true");
  int pid = machine.pid();
  std::thread killer([pid] {
    std::this_thread::sleep_for(1s);
    ::kill(pid, SIGKILL);
  });
  auto t0 = vmtest::Clock::now();
  try {
    machine.execute("sleep 120", 300s);
    FAIL() << "no exception";
  } catch (const vmtest::MachineDied& e) {
    EXPECT_EQ(e.machine(), "machine");
    EXPECT_THAT(e.what(), HasSubstr("killed by signal 9"));
  }
  killer.join();
  EXPECT_LT(vmtest::seconds_since(t0), 10.0) << "death must be noticed at once, not at the timeout";
  EXPECT_THROW(machine.succeed("true"), vmtest::MachineDied);
  machine.wait_for_shutdown(30s);
}

TEST_F(Crash, GuestKernelPanicIsMachineDiedWithTheConsole) {
  auto& machine = m();
  machine.succeed("true");
  try {
    machine.execute("echo c > /proc/sysrq-trigger; sleep 60", 300s);
    FAIL() << "no exception";
  } catch (const vmtest::MachineDied& e) {
    EXPECT_THAT(e.serial_tail(),
                AnyOf(HasSubstr("Kernel panic"), HasSubstr("sysrq"), HasSubstr("SysRq")));
  }
  // panic=1 reboots, and -no-reboot turns that into QEMU exiting.
  machine.wait_for_shutdown(60s);
}

TEST_F(Crash, ShutdownPowersOff) {
  auto& machine = m();
  machine.succeed("true");
  machine.shutdown(120s);
  EXPECT_FALSE(machine.booted());
}

TEST_F(Crash, CrashEndsQemuAtOnce) {
  auto& machine = m();
  machine.succeed("true");
  machine.crash(60s);
  EXPECT_FALSE(machine.booted());
}

TEST_F(Crash, StartsAgainAfterItDied) {
  auto& machine = m();
  EXPECT_EQ(machine.succeed("echo back"), "back\n");
}

TEST_F(Crash, ConsoleWaitEndsWhenTheVmDies) {
  auto& machine = m();
  machine.succeed("true");
  std::thread quitter([&machine] {
    std::this_thread::sleep_for(1s);
    machine.qmp("quit");
  });
  EXPECT_THROW(machine.wait_for_console_text("this text never appears", 300s), vmtest::MachineDied);
  quitter.join();
}

TEST_F(Crash, QmpEventWaitEndsWhenQemuIsKilled) {
  auto& machine = m();
  machine.succeed("true");
  int pid = machine.pid();
  std::thread killer([pid] {
    std::this_thread::sleep_for(1s);
    ::kill(pid, SIGKILL);
  });
  auto t0 = vmtest::Clock::now();
  try {
    machine.wait_for_qmp_event("DEVICE_DELETED", 300s);
    FAIL() << "no exception";
  } catch (const vmtest::MachineDied& e) {
    EXPECT_EQ(e.machine(), "machine");
    EXPECT_THAT(e.what(), HasSubstr("QEMU ended while waiting for event DEVICE_DELETED"));
    EXPECT_THAT(e.what(), HasSubstr("killed by signal 9"));
  }
  killer.join();
  EXPECT_LT(vmtest::seconds_since(t0), 10.0) << "death must be noticed at once, not at the timeout";
  machine.wait_for_shutdown(30s);
}

// Each call holds the VM run it started on: a restore from another thread
// kills the old QEMU, and the call on it ends with MachineDied (before, the
// restore freed the channel that call was still reading).
TEST_F(Crash, RestoreDuringACommandEndsItWithMachineDied) {
  auto& machine = m();
  machine.succeed("true");
  machine.snapshot("lifecycle");
  std::string what;
  bool died = false;
  std::thread caller([&] {
    try {
      machine.execute("sleep 60", 120s);
    } catch (const vmtest::MachineDied& e) {
      died = true;
      what = e.what();
    } catch (const std::exception& e) {
      what = e.what();
    }
  });
  std::this_thread::sleep_for(1s);  // the command is running in the old VM
  auto t0 = vmtest::Clock::now();
  machine.restore("lifecycle");
  caller.join();
  EXPECT_TRUE(died) << what;
  EXPECT_LT(vmtest::seconds_since(t0), 30.0) << "the old call ended with its QEMU, not at 60 s";
  EXPECT_EQ(machine.succeed("echo back"), "back\n");
}

}  // namespace
