// Helper for the hygiene suite: a VM suite with one failing test, to check
// that a failure saves the serial logs and names the folder.
#include <vmtest/cluster_test.hpp>

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

// Run alone with a manifest whose global_timeout is short: the suite must end
// with the global-timeout message instead of hanging.
TEST_F(Failing, Stuck) { cluster().machines().front()->succeed("sleep 600", std::chrono::seconds(900)); }

}  // namespace
