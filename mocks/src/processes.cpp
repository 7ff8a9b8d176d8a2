#include "vmtest/mocks/processes.hpp"

#include <filesystem>
#include <fstream>
#include <sstream>

namespace vmtest::mocks {

namespace fs = std::filesystem;

std::vector<std::string> processes_mentioning(const std::string& needle) {
  std::vector<std::string> found;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator("/proc", ec)) {
    std::ifstream f(entry.path() / "cmdline", std::ios::binary);
    std::stringstream ss;
    ss << f.rdbuf();
    auto cmd = ss.str();
    std::ifstream stat(entry.path() / "stat");
    std::string st;
    std::getline(stat, st);
    auto close = st.rfind(')');
    bool zombie = close != std::string::npos && close + 2 < st.size() && st[close + 2] == 'Z';
    if (zombie) continue;
    for (auto& c : cmd)
      if (c == '\0') c = ' ';
    while (!cmd.empty() && cmd.back() == ' ') cmd.pop_back();
    // Matched on the joined words, so a needle may span arguments.
    if (cmd.find(needle) == std::string::npos) continue;
    found.push_back(entry.path().filename().string() + ": " + cmd);
  }
  return found;
}

}  // namespace vmtest::mocks
