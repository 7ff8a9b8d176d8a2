// guest-minimal: what one command leaves for the next on a real VM (issue
// 16): a background child's output stays out of later commands, the
// guest's helper files stay bounded, a command that execs or sets its own
// EXIT trap returns promptly, and text.hpp on real command output.
#include <vmtest/cluster_test.hpp>
#include <vmtest/text.hpp>

#include <fmt/format.h>
#include <gtest/gtest.h>

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
  for (int i = 0; i < 5; ++i) EXPECT_EQ(m().succeed(fmt::format("echo round{}", i)), fmt::format("round{}\n", i));
}

TEST_F(Channel, HelperFilesStayBounded) {
  for (int i = 0; i < 230; ++i) ASSERT_EQ(m().succeed(fmt::format("echo {}", i)), fmt::format("{}\n", i));
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
