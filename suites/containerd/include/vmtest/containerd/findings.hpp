// File: vmtest/containerd/findings.hpp
//
// The error of a check that looked and saw something wrong, for the
// containerd layer and the k0s layer above it (k0s::CheckFailed is this
// type): a summary line and one finding per problem, each naming the node,
// image, pod or condition and what was seen.
//
//   throw FindingsError("2 of 5 expected images are not usable:",
//                       {"quay.io/k0sproject/pause:3.10.1: not listed"},
//                       node.context(command));
//
// Its kind() is kFailedPrecondition: the system is not in the state the test
// needs.
#pragma once

#include <vmtest/errors.hpp>

#include <string>
#include <vector>

namespace vmtest::containerd {

// One line per problem; empty means healthy.
using Findings = std::vector<std::string>;

class FindingsError : public FailedPrecondition {
 public:
  // message() is `summary` followed by one indented line per finding
  // (render()).
  FindingsError(std::string summary, Findings findings, ErrorContext context = {});
  const std::string& summary() const noexcept { return summary_; }
  const Findings& findings() const noexcept { return findings_; }

  // "<summary>\n  <finding 1>\n  <finding 2>"; continuation lines of a
  // multi-line finding are indented further.
  static std::string render(const std::string& summary, const Findings& findings);

 private:
  std::string summary_;
  Findings findings_;
};

}  // namespace vmtest::containerd
