#include "vmtest/containerd/findings.hpp"

#include <utility>

namespace vmtest::containerd {

std::string FindingsError::render(const std::string& summary, const Findings& findings) {
  std::string s = summary;
  for (const auto& f : findings) {
    s += "\n  ";
    for (char c : f) {
      s += c;
      if (c == '\n') s += "    ";
    }
  }
  return s;
}

FindingsError::FindingsError(std::string summary, Findings findings, ErrorContext context)
    : FailedPrecondition(render(summary, findings), std::move(context)),
      summary_(std::move(summary)),
      findings_(std::move(findings)) {}

}  // namespace vmtest::containerd
