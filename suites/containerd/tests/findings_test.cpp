// FindingsError, the findings error of the containerd and k0s layers: how it
// renders, its kind, and ImagesMissing as one of it.
#include "vmtest/containerd/findings.hpp"

#include "vmtest/containerd/ctr.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace vmtest::containerd {
namespace {

using ::testing::ElementsAre;

TEST(CtrFindings, SummaryThenOneIndentedLinePerFinding) {
  FindingsError e("2 problems on wrkr1:", {"first", "second\nwith a second line"},
                  ErrorContext{.machine = "wrkr1", .command = "ctr images ls"});
  EXPECT_EQ(e.message(), "2 problems on wrkr1:\n  first\n  second\n    with a second line");
  EXPECT_EQ(e.summary(), "2 problems on wrkr1:");
  EXPECT_THAT(e.findings(), ElementsAre("first", "second\nwith a second line"));
  EXPECT_EQ(e.machine(), "wrkr1");
  EXPECT_EQ(e.command(), "ctr images ls");
  EXPECT_EQ(FindingsError("nothing:", {}).message(), "nothing:");
}

TEST(CtrFindings, KindIsFailedPreconditionAndTheTypeSurvivesContext) {
  try {
    with_context("checking wrkr1", [] { throw FindingsError("bad:", {"a"}); });
    FAIL() << "no throw";
  } catch (const FindingsError& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kFailedPrecondition);
    EXPECT_THAT(e.findings(), ElementsAre("a"));
    EXPECT_EQ(e.message(), "checking wrkr1: bad:\n  a");
  }
  FindingsError e("bad:", {"a"});
  const FailedPrecondition& base = e;
  EXPECT_EQ(base.kind(), ErrorKind::kFailedPrecondition);
}

TEST(CtrFindings, ImagesMissingIsAFindingsErrorWithItsProblems) {
  ImagesMissing e("1 of 2 expected images are not usable:", ErrorContext{.machine = "wrkr1"},
                  {{"docker.io/vmtest/echo:1", "not listed by ctr images ls"}});
  const FindingsError& f = e;
  EXPECT_THAT(f.findings(), ElementsAre("docker.io/vmtest/echo:1: not listed by ctr images ls"));
  EXPECT_EQ(f.summary(), "1 of 2 expected images are not usable:");
  EXPECT_EQ(e.message(),
            "1 of 2 expected images are not usable:\n"
            "  docker.io/vmtest/echo:1: not listed by ctr images ls");
  ASSERT_EQ(e.problems().size(), 1u);
  EXPECT_EQ(e.problems()[0].ref, "docker.io/vmtest/echo:1");
  EXPECT_THAT(problem_lines(e.problems()),
              ElementsAre("docker.io/vmtest/echo:1: not listed by ctr images ls"));
}

}  // namespace
}  // namespace vmtest::containerd
