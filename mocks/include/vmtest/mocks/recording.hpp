// File: vmtest/mocks/recording.hpp
//
// Test data files with their provenance. A testdata folder holds the files
// and a README.md whose table has one row per file saying where it came
// from (a real run: tool and version; or written from its producer's
// source). load() returns the file and that row, and refuses a file the
// README does not account for, so no test reads data of unknown origin.
//
//   vmtest::mocks::Recordings data(VMTEST_TESTDATA "/qmp");
//   auto session = data.load("qemu-7.2-session.txt");  // .text, .provenance
#pragma once

#include <filesystem>
#include <string>

namespace vmtest::mocks {

struct Recording {
  std::string name;
  std::string text;        // the file, byte for byte
  std::string provenance;  // the README.md row that names it
};

class Recordings {
 public:
  explicit Recordings(std::filesystem::path dir);
  const std::filesystem::path& dir() const { return dir_; }

  // Throws NotFound when the file is absent, FailedPrecondition when the
  // README.md has no row naming it (as `name`, or as its first cell).
  Recording load(const std::string& name) const;
  // The file's text alone (load(name).text).
  std::string text(const std::string& name) const { return load(name).text; }

 private:
  std::filesystem::path dir_;
};

}  // namespace vmtest::mocks
