// Reads recordings from suites/containerd/testdata/ for the unit tests.
#pragma once

#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>

namespace vmtest::containerd::testing {

inline std::string recording(const std::string& name) {
  std::ifstream in(std::string(VMTEST_CTR_TESTDATA) + "/" + name, std::ios::binary);
  if (!in) throw std::runtime_error("missing recording " + name);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace vmtest::containerd::testing
