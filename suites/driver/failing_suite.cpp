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

}  // namespace
