// Helper for the hygiene suite and the report's browser check: a VM suite
// whose tests fail on purpose (never registered as a passing suite), to check
// that a failure saves the serial logs, names the folder, and shows in the
// event log and its report.
#include <vmtest/cluster_test.hpp>
#include <vmtest/events.hpp>

#include <fmt/format.h>
#include <gtest/gtest.h>

namespace {

class Failing : public vmtest::ClusterTest {
 public:
  static void SetUpTestSuite() { set_up_suite({.label = "guest-minimal"}); }
};

TEST_F(Failing, FailsOnPurpose) {
  auto& first = *cluster().machines().front();
  first.succeed("echo vmtest-failing-marker > /dev/ttyS0");
  first.wait_for_console_text("vmtest-failing-marker", std::chrono::seconds(60));
  EXPECT_EQ(first.succeed("echo 1"), "2\n");
}

// Every node writes a marker on its console (inside a subtest block), then the
// last node's command fails: the event log must name that command and node,
// and the report (tools/report/check-report.mjs) finds each marker where its
// command's block scrolls the node's log.
TEST_F(Failing, CommandFailsOnPurpose) {
  {
    vmtest::events::Span markers("console markers");
    for (auto* m : cluster().machines()) {
      // Enough console lines before the marker that it is off screen until
      // its command is selected.
      m->succeed("for i in $(seq 1 80); do echo vmtest-filler-$i; done > /dev/ttyS0");
      m->wait_for_console_text("vmtest-filler-80", std::chrono::seconds(60));
      m->succeed(fmt::format("echo vmtest-report-marker-{} > /dev/ttyS0", m->name()));
      m->wait_for_console_text(fmt::format("vmtest-report-marker-{}", m->name()),
                               std::chrono::seconds(60));
    }
  }
  cluster().machines().back()->succeed("echo failing-on-purpose >&2; exit 3");
}

// Passes beside the failing one: its block in the report stays collapsed.
TEST_F(Failing, PassesBeside) {
  EXPECT_EQ(cluster().machines().front()->succeed("echo ok"), "ok\n");
}

// Run alone with a manifest whose global_timeout is short: the suite must end
// with the global-timeout message instead of hanging.
TEST_F(Failing, Stuck) {
  cluster().machines().front()->succeed("sleep 600", std::chrono::seconds(900));
}

}  // namespace
