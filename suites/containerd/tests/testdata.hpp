// Reads recordings from suites/containerd/testdata/ for the unit tests.
#pragma once

#include <vmtest/files.hpp>

#include <filesystem>
#include <string>

namespace vmtest::containerd::testing {

// A file of testdata/; NotFound naming its path when it is not there.
inline std::string recording(const std::string& name) {
  return read_file(std::filesystem::path(VMTEST_CTR_TESTDATA) / name);
}

}  // namespace vmtest::containerd::testing
