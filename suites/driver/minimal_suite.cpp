// guest-minimal: every Machine method against one real VM (Debian cloud
// kernel + busybox/bash initramfs running NixOS's backdoor), including the
// cases where nixpkgs' Python driver hangs or loses data.
#include <vmtest/cluster_test.hpp>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

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

TEST_F(Minimal, SucceedReturnsStdout) { EXPECT_EQ(m().succeed("uname -s"), "Linux\n"); }

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

TEST_F(Minimal, Status124IsNotATimeout) { EXPECT_EQ(m().execute("exit 124").status, 124); }

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

TEST_F(Minimal, OutputWithoutTrailingNewline) { EXPECT_EQ(m().succeed("printf abc"), "abc"); }

TEST_F(Minimal, QuotesAndNewlinesInCommands) {
  EXPECT_EQ(m().succeed("echo \"it's\"\necho 'a\nb'\nx='$y `z`'; echo \"$x\""), "it's\na\nb\n$y `z`\n");
}

TEST_F(Minimal, BackgroundChildHoldingStdoutDoesNotHang) {
  auto r = m().execute("(sleep 20; echo late) & echo now", 60s);
  EXPECT_EQ(r.status, 0);
  EXPECT_EQ(r.out, "now\n");
  EXPECT_EQ(m().succeed("echo next"), "next\n");
}

TEST_F(Minimal, TimeoutKillsTheCommandAndTheMachineStaysUsable) {
  EXPECT_THROW(m().execute("sleep 600 & sleep 601", 2s), vmtest::TimeoutError);
  // Both sleeps (background and foreground) are killed; exits may take a moment.
  EXPECT_EQ(m().succeed("for i in $(seq 50); do pgrep -f 'sleep 60[01]' >/dev/null || { echo clean; exit 0; }; "
                        "sleep 0.1; done; echo leftover; ps"),
            "clean\n");
}

TEST_F(Minimal, WaitUntilSucceedsSeesALateCondition) {
  m().succeed("rm -f /tmp/flag; (sleep 1; echo ready > /tmp/flag) >/dev/null 2>&1 &");
  EXPECT_EQ(m().wait_until_succeeds("cat /tmp/flag", 60s), "ready\n");
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
  m().succeed("touch /tmp/gone; (sleep 1; rm -f /tmp/gone) >/dev/null 2>&1 &");
  m().wait_until_fails("test -e /tmp/gone", 60s);
}

TEST_F(Minimal, WaitForFile) {
  m().succeed("(sleep 1; touch /tmp/later) >/dev/null 2>&1 &");
  m().wait_for_file("/tmp/later", 60s);
}

TEST_F(Minimal, WaitForOpenAndClosedPort) {
  m().succeed("(nc -l -p 8080 </dev/null >/dev/null 2>&1 &)");
  m().wait_for_open_port(8080, "127.0.0.1", 60s);
  m().succeed("pkill -f 'nc -l -p 8080' || true");
  m().wait_for_closed_port(8080, "127.0.0.1", 60s);
}

TEST_F(Minimal, WaitForConsoleText) {
  m().succeed("echo vmtest-console-marker-42 > /dev/ttyS0");
  EXPECT_EQ(m().wait_for_console_text("vmtest-console-marker-\\d+", 60s), "vmtest-console-marker-42");
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
  std::ifstream in(dir / "back" / "blob", std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  EXPECT_TRUE(ss.str() == blob) << "1 MiB of random bytes did not round-trip";
  std::ifstream txt(dir / "back" / "tree" / "sub" / "f.txt");
  std::string line;
  std::getline(txt, line);
  EXPECT_EQ(line, "hello");
  EXPECT_EQ(m().succeed("echo still in sync"), "still in sync\n");
}

TEST_F(Minimal, CopyFromHostIntoAMissingFolderFailsCleanly) {
  auto f = fs::path(::testing::TempDir()) / "vmtest-small";
  std::ofstream(f) << "x";
  EXPECT_THROW(m().copy_from_host(f, "/nonexistent/dir/file"), vmtest::CommandFailed);
  EXPECT_EQ(m().succeed("echo in sync"), "in sync\n");
}

}  // namespace
