// guest-minimal: every Machine method against one real VM (Debian cloud
// kernel + busybox/bash initramfs running NixOS's backdoor), including the
// cases where nixpkgs' Python driver hangs or loses data.
#include <vmtest/cluster_test.hpp>
#include <vmtest/scope.hpp>
#include <vmtest/files.hpp>
#include <vmtest/protocol.hpp>

#include <fmt/format.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <unistd.h>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <thread>

namespace {

using ::testing::HasSubstr;
using ::testing::MatchesRegex;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

// A guest path unique to this run (an attached cluster is shared with
// other runs, and earlier tests leave their files).
std::string unique_path(std::string_view name) {
  static int counter = 0;
  return fmt::format("/tmp/vmtest-{}-{}-{}", name, ::getpid(), ++counter);
}

// bash that prints the pids of the guest's processes whose command line
// (words joined by spaces) is exactly `cmdline`. Read from /proc: the
// minimal guest has no pgrep (Debian's busybox-static lacks it).
std::string pids_of(std::string_view cmdline) {
  return fmt::format(
      "for d in /proc/[0-9]*; do {{ mapfile -d '' -t a < \"$d/cmdline\"; }} 2>/dev/null || "
      "continue; "
      "if [[ \"${{a[*]}}\" == {} ]]; then echo \"${{d#/proc/}}\"; fi; done",
      vmtest::protocol::shell_quote(cmdline));
}

// A sleep duration no other process in the guest has.
std::string unique_seconds() {
  static int counter = 0;
  return std::to_string(700000 + (::getpid() % 1000) * 100 + ++counter);
}

class Minimal : public vmtest::ClusterTest {
 public:
  static void SetUpTestSuite() { set_up_suite({.label = "guest-minimal"}); }

 protected:
  vmtest::Machine& m() { return node("machine"); }
};

TEST_F(Minimal, ExecuteReturnsStdoutStderrAndStatus) {
  auto r = m().execute("echo out; echo err >&2; exit 3");
  EXPECT_EQ(r.status, 3);
  EXPECT_EQ(r.out, "out\n");
  EXPECT_EQ(r.err, "err\n");
}

TEST_F(Minimal, SucceedReturnsStdout) {
  EXPECT_EQ(m().succeed("uname -s"), "Linux\n");
}

TEST_F(Minimal, SucceedFailureCarriesCommandStatusStderrAndSerialTail) {
  try {
    m().succeed("echo oops >&2; exit 7");
    FAIL() << "no exception";
  } catch (const vmtest::CommandFailed& e) {
    EXPECT_EQ(e.status(), 7);
    EXPECT_EQ(e.err(), "oops\n");
    EXPECT_EQ(e.machine(), "machine");
    EXPECT_THAT(e.what(), HasSubstr("exit 7"));
    EXPECT_FALSE(e.serial_tail().empty()) << "the error should show the console";
  }
}

TEST_F(Minimal, FailExpectsNonZero) {
  EXPECT_EQ(m().fail("echo no; false"), "no\n");
  EXPECT_THROW(m().fail("true"), vmtest::CommandFailed);
}

TEST_F(Minimal, Status124IsNotATimeout) {
  EXPECT_EQ(m().execute("exit 124").status, 124);
}

TEST_F(Minimal, CatReadsDevNullInsteadOfTheProtocol) {
  EXPECT_EQ(m().succeed("cat; echo after", 30s), "after\n");
  EXPECT_EQ(m().succeed("read -r line || echo eof"), "eof\n");
  EXPECT_EQ(m().succeed("echo in sync"), "in sync\n");
}

TEST_F(Minimal, EveryByteValueSurvives) {
  std::string expected;
  for (int i = 0; i < 256; ++i) expected += static_cast<char>(i);
  auto out = m().succeed("for i in $(seq 0 255); do printf \"\\\\x$(printf %02x $i)\"; done");
  EXPECT_EQ(out, expected);
}

TEST_F(Minimal, EightMebibytesOfOutputAreExact) {
  std::string expected;
  for (int i = 1; i <= 1200000; ++i) expected += std::to_string(i) + "\n";
  ASSERT_GT(expected.size(), 8u << 20);
  auto out = m().succeed("seq 1 1200000", 300s);
  EXPECT_EQ(out.size(), expected.size());
  EXPECT_TRUE(out == expected);
  EXPECT_EQ(m().succeed("echo after big output"), "after big output\n");
}

TEST_F(Minimal, OutputWithoutTrailingNewline) {
  EXPECT_EQ(m().succeed("printf abc"), "abc");
}

TEST_F(Minimal, QuotesAndNewlinesInCommands) {
  EXPECT_EQ(m().succeed("echo \"it's\"\necho 'a\nb'\nx='$y `z`'; echo \"$x\""),
            "it's\na\nb\n$y `z`\n");
}

TEST_F(Minimal, BackgroundChildHoldingStdoutDoesNotHang) {
  auto r = m().execute("(sleep 20; echo late) & echo now", 60s);
  EXPECT_EQ(r.status, 0);
  EXPECT_EQ(r.out, "now\n");
  EXPECT_EQ(m().succeed("echo next"), "next\n");
}

TEST_F(Minimal, TimeoutKillsTheCommandAndTheMachineStaysUsable) {
  auto a = unique_seconds(), b = unique_seconds();
  // The check sees a sleep that runs (else "none left" below proves nothing).
  auto control = unique_seconds();
  auto pid = m().succeed(fmt::format("sleep {} >/dev/null 2>&1 & echo $!", control));
  EXPECT_EQ(m().succeed(pids_of("sleep " + control)), pid);
  m().succeed("kill " + pid.substr(0, pid.size() - 1));
  m().wait_until_succeeds(fmt::format("test -z \"$({})\"", pids_of("sleep " + control)), 30s);

  EXPECT_THROW(m().execute(fmt::format("sleep {} & sleep {}", a, b), 2s), vmtest::TimeoutError);
  // Both sleeps (background and foreground) are killed (they would run for
  // days); a loaded guest may take a moment to finish the exits.
  EXPECT_NO_THROW(m().wait_until_succeeds(
      fmt::format("test -z \"$({}; {})\"", pids_of("sleep " + a), pids_of("sleep " + b)), 30s));
}

TEST_F(Minimal, WaitUntilSucceedsSeesALateCondition) {
  auto flag = unique_path("flag");
  m().succeed(fmt::format("(sleep 1; echo ready > {}) >/dev/null 2>&1 &", flag));
  EXPECT_EQ(m().wait_until_succeeds("cat " + flag, 60s), "ready\n");
  m().succeed("rm " + flag);
}

TEST_F(Minimal, WaitUntilSucceedsTimesOutWithTheLastTry) {
  try {
    m().wait_until_succeeds("echo not yet >&2; false", 2s);
    FAIL() << "no timeout";
  } catch (const vmtest::TimeoutError& e) {
    EXPECT_THAT(e.what(), HasSubstr("last try exited with status 1"));
  }
}

TEST_F(Minimal, WaitUntilFails) {
  auto gone = unique_path("gone");
  m().succeed(fmt::format("touch {0}; (sleep 1; rm {0}) >/dev/null 2>&1 &", gone));
  m().wait_until_fails("test -e " + gone, 60s);
}

TEST_F(Minimal, WaitForFile) {
  auto later = unique_path("later");
  m().succeed(fmt::format("(sleep 1; touch {}) >/dev/null 2>&1 &", later));
  m().wait_for_file(later, 60s);
  m().succeed("rm " + later);
}

TEST_F(Minimal, WaitForOpenAndClosedPort) {
  // busybox nc serves one connection (the open-port probe's) and exits, so
  // a loop keeps the port open until the test stops it: the port closes
  // only because of the kill below.
  auto loop = m().succeed(
      "(while :; do nc -l -p 8080 </dev/null >/dev/null 2>&1; done) >/dev/null 2>&1 & echo $!");
  m().wait_for_open_port(8080, "127.0.0.1", 60s);
  m().succeed(fmt::format("kill {}; p=$({}); if [ -n \"$p\" ]; then kill $p; fi",
                          loop.substr(0, loop.size() - 1), pids_of("nc -l -p 8080")));
  m().wait_for_closed_port(8080, "127.0.0.1", 60s);
}

TEST_F(Minimal, WaitForConsoleText) {
  m().succeed("echo vmtest-console-marker-42 > /dev/ttyS0");
  EXPECT_EQ(m().wait_for_console_text("vmtest-console-marker-\\d+", 60s),
            "vmtest-console-marker-42");
  // The match is consumed: the same text does not match twice.
  EXPECT_THROW(m().wait_for_console_text("vmtest-console-marker-42", 1s), vmtest::TimeoutError);
}

TEST_F(Minimal, MonitorCommand) {
  EXPECT_THAT(m().send_monitor_command("info status"), HasSubstr("running"));
}

TEST_F(Minimal, QmpCommand) {
  auto status = m().qmp("query-status");
  EXPECT_EQ(status.value("status", ""), "running");
  auto hmp = m().qmp("human-monitor-command", {{"command-line", "info name"}});
  EXPECT_THAT(hmp.get<std::string>(), HasSubstr("machine"));
}

// Attached to `vmtest up` too (tools/vmtest/tests/cli_test.sh runs it so):
// the events of the node's QEMU reach the suite's filter.
TEST_F(Minimal, WaitForQmpEventSeesStopAndResume) {
  auto resume = vmtest::ScopeGuard([&] {
    try {
      m().qmp("cont");
    } catch (const vmtest::Error&) {
    }
  });
  // QEMU stamps events with the host's clock; earlier ones (another suite's
  // on a shared cluster) do not count.
  auto since = std::chrono::duration_cast<std::chrono::seconds>(
                   std::chrono::system_clock::now().time_since_epoch())
                   .count() -
               1;
  auto fresh = [&](const nlohmann::json& e, const char* name) {
    return e.value("event", "") == name && e["timestamp"].value("seconds", 0LL) >= since;
  };
  m().qmp("stop");
  auto stop = m().wait_for_qmp_event([&](const nlohmann::json& e) { return fresh(e, "STOP"); },
                                     30s, "STOP");
  EXPECT_EQ(stop["event"], "STOP");
  m().qmp("cont");
  auto resumed = m().wait_for_qmp_event(
      [&](const nlohmann::json& e) { return fresh(e, "RESUME"); }, 30s, "RESUME");
  EXPECT_EQ(resumed["event"], "RESUME");
  EXPECT_EQ(m().succeed("echo back"), "back\n");
}

TEST_F(Minimal, QmpErrorIsTyped) {
  try {
    m().qmp("no-such-command");
    FAIL() << "no exception";
  } catch (const vmtest::QmpError& e) {
    EXPECT_EQ(e.error_class(), "CommandNotFound");
    EXPECT_EQ(e.machine(), "machine");
  }
}

TEST_F(Minimal, CopyFilesBothWaysByteExact) {
  auto dir = fs::path(::testing::TempDir()) / "vmtest-copy";
  fs::remove_all(dir);
  fs::create_directories(dir / "tree" / "sub");
  std::string blob;
  std::mt19937 rng(42);
  for (int i = 0; i < (1 << 20); ++i) blob += static_cast<char>(rng() & 0xff);
  std::ofstream(dir / "blob", std::ios::binary) << blob;
  std::ofstream(dir / "tree" / "sub" / "f.txt") << "hello\n";

  m().copy_from_host(dir / "blob", "/tmp/blob");
  m().copy_from_host(dir / "tree", "/tmp/tree");
  EXPECT_EQ(m().succeed("wc -c < /tmp/blob | tr -d ' '"), std::to_string(blob.size()) + "\n");
  EXPECT_EQ(m().succeed("cat /tmp/tree/sub/f.txt"), "hello\n");

  m().copy_from_vm("/tmp/blob", dir / "back" / "blob");
  m().copy_from_vm("/tmp/tree", dir / "back" / "tree");
  EXPECT_TRUE(vmtest::read_file(dir / "back" / "blob") == blob)
      << "1 MiB of random bytes did not round-trip";
  std::ifstream txt(dir / "back" / "tree" / "sub" / "f.txt");
  std::string line;
  std::getline(txt, line);
  EXPECT_EQ(line, "hello");
  EXPECT_EQ(m().succeed("echo still in sync"), "still in sync\n");
}

TEST_F(Minimal, CopyFromHostIntoAMissingFolderFailsCleanly) {
  auto f = fs::path(::testing::TempDir()) / "vmtest-small";
  std::ofstream(f) << "x";
  EXPECT_THROW(
      m().copy_from_host(f, "/nonexistent/dir/file", 60s, vmtest::Machine::Parents::must_exist),
      vmtest::CommandFailed);
  EXPECT_EQ(m().succeed("echo in sync"), "in sync\n");
}

}  // namespace
