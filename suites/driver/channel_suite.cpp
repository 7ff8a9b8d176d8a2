// guest-minimal: what one command leaves for the next on a real VM (issue
// 16): a background child's output stays out of later commands, the
// guest's helper files stay bounded, a command that execs or sets its own
// EXIT trap returns promptly, and text.hpp on real command output.
#include <vmtest/cluster_test.hpp>
#include <vmtest/scope.hpp>
#include <vmtest/subtest.hpp>
#include <vmtest/text.hpp>

#include <fmt/format.h>
#include <gtest/gtest-spi.h>
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

namespace {

using namespace std::chrono_literals;

class Channel : public vmtest::ClusterTest {
 public:
  static void SetUpTestSuite() { set_up_suite({.label = "guest-minimal"}); }

 protected:
  vmtest::Machine& m() { return node("machine"); }
};

// The report: out was "next\nout\n" and err "late-err\n" before each
// command had its own output files (fails 3/3 on the old code).
TEST_F(Channel, BackgroundChildOutputStaysOutOfLaterCommands) {
  EXPECT_EQ(m().succeed("(sleep 0.5; echo late-out; echo late-err >&2) & echo first"), "first\n");
  auto next = m().execute("sleep 1.5; echo next");
  EXPECT_EQ(next.out, "next\n");
  EXPECT_EQ(next.err, "");
  // A daemon-style child that keeps writing for a while.
  m().succeed("(for i in $(seq 20); do echo tick$i; sleep 0.1; done) & true");
  for (int i = 0; i < 5; ++i)
    EXPECT_EQ(m().succeed(fmt::format("echo round{}", i)), fmt::format("round{}\n", i));
}

TEST_F(Channel, HelperFilesStayBounded) {
  for (int i = 0; i < 230; ++i)
    ASSERT_EQ(m().succeed(fmt::format("echo {}", i)), fmt::format("{}\n", i));
  auto count = vmtest::trim(m().succeed("ls -A \"$__vmtest_d\" | wc -l"));
  EXPECT_LE(std::stoi(count), 110) << "files of old commands are not cleaned up";
}

TEST_F(Channel, ExecAndOwnExitTrapReturnPromptly) {
  auto t0 = vmtest::Clock::now();
  EXPECT_EQ(m().succeed("exec echo via-exec"), "via-exec\n");
  EXPECT_EQ(m().succeed("trap 'echo own-trap' EXIT; echo body"), "body\nown-trap\n");
  EXPECT_LT(vmtest::seconds_since(t0), 3.0);
}

TEST_F(Channel, LinesAndTrimOfCommandOutputAreSafe) {
  auto lines = vmtest::lines_of(m().succeed("printf 'alpha\\nbeta\\r\\ngamma\\n'"));
  m().succeed("head -c 100000 /dev/zero >/dev/null");  // churns the host's heap
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[0], "alpha");
  EXPECT_EQ(lines[1], "beta");
  EXPECT_EQ(lines[2], "gamma");
  EXPECT_EQ(vmtest::trim(m().succeed("echo '  spaced  '")), "spaced");
}

}  // namespace

// ---- vocabulary of the Python driver (issue 16) -------------------------

namespace {

TEST_F(Channel, SucceedAndFailOfSeveralCommandsConcatenate) {
  EXPECT_EQ(m().succeed({"echo one", "echo two", "printf three"}), "one\ntwo\nthree");
  EXPECT_EQ(m().fail({"echo a; false", "echo b; exit 3"}), "a\nb\n");
  // Stops at the first that fails: the third never runs.
  EXPECT_THROW(m().succeed({"true", "false", "touch /tmp/third-ran"}), vmtest::CommandFailed);
  EXPECT_NE(m().execute("test -e /tmp/third-ran").status, 0);
}

TEST_F(Channel, ExecuteReportsATimeoutAsStatusWhenAsked) {
  auto r = m().execute("echo started; sleep 30", 1s, vmtest::Machine::OnTimeout::report);
  EXPECT_TRUE(r.timed_out);
  EXPECT_EQ(r.status, -1);
  EXPECT_EQ(r.out, "started\n");
  EXPECT_THROW(m().execute("sleep 30", 1s), vmtest::TimeoutError);
  EXPECT_EQ(m().succeed("echo after"), "after\n");
}

TEST_F(Channel, SleepIsGuestTime) {
  auto t0 = vmtest::Clock::now();
  m().sleep(1500ms);
  EXPECT_GE(vmtest::seconds_since(t0), 1.5);
}

// As the Python driver: by default (fails 1/1 on the old default, must_exist).
TEST_F(Channel, CopyFromHostCreatesTheParentFolder) {
  auto host = std::filesystem::temp_directory_path() / fmt::format("vmtest-cfh-{}", ::getpid());
  { std::ofstream(host) << "payload\n"; }
  m().succeed("rm -rf /tmp/new");
  EXPECT_THROW(m().copy_from_host(host, "/tmp/new/deeper/file.txt", 60s,
                                  vmtest::Machine::Parents::must_exist),
               vmtest::CommandFailed);
  m().copy_from_host(host, "/tmp/new/deeper/file.txt");
  EXPECT_EQ(m().succeed("cat /tmp/new/deeper/file.txt"), "payload\n");
  m().copy_from_host(host, "/tmp/new/deeper/again.txt");  // the folder exists now
  std::filesystem::remove(host);
  EXPECT_EQ(m().succeed("cat /tmp/new/deeper/again.txt"), "payload\n");
}

TEST_F(Channel, SharedDirIsTheGuestsSharedDir) {
  auto dir = m().shared_dir();
  ASSERT_FALSE(dir.empty());
  EXPECT_TRUE(std::filesystem::is_directory(dir)) << dir;
}

// Host loopback port -> guest port through the user-mode NIC.
TEST_F(Channel, ForwardPortReachesAGuestServer) {
  int host_port = 20000 + ::getpid() % 20000;
  m().forward_port(host_port, 8080);
  m().succeed("(busybox nc -l -p 8080 -e echo hello-from-guest >/dev/null 2>&1 &) ; sleep 0.3");
  // Reads what the guest's server sends on a connection to the host port.
  std::string got;
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(host_port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0)
      << std::strerror(errno);
  timeval tv{10, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  char buf[256];
  for (ssize_t n; (n = ::read(fd, buf, sizeof buf)) > 0;)
    got.append(buf, static_cast<std::size_t>(n));
  ::close(fd);
  EXPECT_EQ(got, "hello-from-guest\n");
}

}  // namespace

namespace {

// The default since issue 16 (fails 1/1 on the old default, literal).
TEST_F(Channel, WaitForFileExpandsLikeThePythonDriver) {
  m().succeed(
      "rm -rf /tmp/wff; mkdir -p /tmp/wff; (sleep 0.5; touch /tmp/wff/sock-42) >/dev/null 2>&1 &");
  m().wait_for_file("/tmp/wff/sock-*", 30s);
  m().wait_for_file("$(echo /tmp)/wff/sock-42", 10s);
  // Literal: the same pattern names no file.
  EXPECT_THROW(m().wait_for_file("/tmp/wff/sock-*", 1s, vmtest::Machine::Path::literal),
               vmtest::TimeoutError);
  m().succeed("touch '/tmp/wff/a b'");
  m().wait_for_file("/tmp/wff/a b", 5s, vmtest::Machine::Path::literal);
}

// A command that is not safe to repeat (it appends a line per try): with a
// 1 s interval it runs about once a second; the default in-guest loop runs
// it dozens of times in the same time.
TEST_F(Channel, AnIntervalBoundsHowOftenAWaitRetries) {
  m().succeed("rm -f /tmp/tries /tmp/tries-default");
  auto t0 = vmtest::Clock::now();
  auto out = m().wait_until_succeeds(
      "echo try >>/tmp/tries; n=$(wc -l </tmp/tries); echo $n; (( n >= 3 ))", 60s, 1s);
  auto took = vmtest::seconds_since(t0);
  EXPECT_EQ(out, "3\n");
  EXPECT_GE(took, 2.0) << "two 1 s pauses between three tries";
  EXPECT_LT(took, 5.0);
  EXPECT_THROW(m().wait_until_succeeds("echo try >>/tmp/tries; false", 3s, 1s),
               vmtest::TimeoutError);
  auto tries = std::stoi(vmtest::trim(m().succeed("wc -l </tmp/tries")));
  EXPECT_GE(tries, 3 + 2);
  EXPECT_LE(tries, 3 + 4) << "3 s at 1 s apart is about 3 tries";
  // The default: retried in the guest, every 80 ms after a fast start.
  EXPECT_THROW(m().wait_until_succeeds("echo try >>/tmp/tries-default; false", 3s),
               vmtest::TimeoutError);
  auto fast = std::stoi(vmtest::trim(m().succeed("wc -l </tmp/tries-default")));
  EXPECT_GE(fast, 12) << "the in-guest loop retries far more often";
  std::cout << "tries in 3 s: interval 1 s " << tries - 3 << ", default " << fast << "\n";
}

// Python's wait_for_qmp_event on real QEMU events: STOP and RESUME of
// qmp("stop") / qmp("cont"). QEMU sends STOP before its reply to `stop`,
// so a wait after the command still sees it.
TEST_F(Channel, WaitForQmpEventSeesStopAndResume) {
  auto resume = vmtest::ScopeGuard([&] {
    try {
      m().qmp("cont");
    } catch (const vmtest::Error&) {
    }
  });
  m().qmp("stop");
  auto stop = m().wait_for_qmp_event("STOP", 30s);
  EXPECT_EQ(stop["event"], "STOP");
  EXPECT_TRUE(stop["timestamp"].contains("seconds")) << stop.dump();
  // A filter wait while another thread runs the command that causes it.
  std::thread cont([&] {
    std::this_thread::sleep_for(300ms);
    m().qmp("cont");
  });
  std::vector<std::string> seen;
  auto resumed = m().wait_for_qmp_event(
      [&](const nlohmann::json& e) {
        seen.push_back(e.value("event", ""));
        return e.value("event", "") == "RESUME";
      },
      30s, "RESUME");
  cont.join();
  EXPECT_EQ(resumed["event"], "RESUME");
  EXPECT_EQ(seen.back(), "RESUME");
  EXPECT_EQ(m().succeed("echo running"), "running\n");
  // Used up: no second STOP, and a timeout names the machine and the wait.
  try {
    m().wait_for_qmp_event("STOP", 1s);
    FAIL() << "a second STOP";
  } catch (const vmtest::TimeoutError& e) {
    EXPECT_EQ(e.machine(), "machine");
    EXPECT_NE(std::string(e.what()).find("no QMP event matched event STOP within 1.0 s"),
              std::string::npos)
        << e.what();
  }
}

}  // namespace

namespace {

// A guest command failing inside a subtest: the failure names the subtest.
TEST_F(Channel, SubtestNamesAFailingGuestCommand) {
  vmtest::Subtest outer("guest checks");
  EXPECT_EQ(m().succeed("echo inside"), "inside\n");
  EXPECT_NONFATAL_FAILURE(
      {
        try {
          vmtest::subtest("status file", [&] { m().succeed("cat /nonexistent/status"); });
        } catch (const vmtest::CommandFailed&) {
        }
      },
      "subtest \"status file\" failed: machine: command failed with exit status 1");
}

}  // namespace
