#include "vmtest/mocks/recording.hpp"

#include <vmtest/errors.hpp>

#include <fmt/format.h>

#include <fstream>
#include <optional>
#include <sstream>

namespace vmtest::mocks {

namespace fs = std::filesystem;

namespace {

std::optional<std::string> slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string trim(std::string s) {
  auto b = s.find_first_not_of(" \t");
  auto e = s.find_last_not_of(" \t\r");
  return b == std::string::npos ? "" : s.substr(b, e - b + 1);
}

// The README row that names `name`: `name` in backticks anywhere in the row
// (rows may list several files), or a first cell that is the name or its
// stem (tables of recorded commands name `<stem>.stdout` by its stem).
std::optional<std::string> row_naming(const std::string& readme, const std::string& name) {
  std::istringstream lines(readme);
  std::string line;
  auto stem = fs::path(name).stem().string();
  while (std::getline(lines, line)) {
    if (line.rfind('|', 0) != 0) continue;
    if (line.find("`" + name + "`") != std::string::npos) return line;
    auto second = line.find('|', 1);
    if (second == std::string::npos) continue;
    auto first_cell = trim(line.substr(1, second - 1));
    if (first_cell == name || first_cell == stem) return line;
  }
  return std::nullopt;
}

}  // namespace

Recordings::Recordings(fs::path dir) : dir_(std::move(dir)) {}

Recording Recordings::load(const std::string& name) const {
  auto text = slurp(dir_ / name);
  if (!text) throw NotFound(fmt::format("test data {} does not exist", (dir_ / name).string()));
  auto readme = slurp(dir_ / "README.md");
  if (!readme)
    throw FailedPrecondition(fmt::format(
        "test data {}: {} has no README.md to say where its files come from", name, dir_.string()));
  auto row = row_naming(*readme, name);
  if (!row)
    throw FailedPrecondition(fmt::format("test data {}: no row of {} says where it comes from",
                                         name, (dir_ / "README.md").string()));
  return Recording{name, std::move(*text), std::move(*row)};
}

}  // namespace vmtest::mocks
