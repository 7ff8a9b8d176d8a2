#include "ctr_text.hpp"

#include <vmtest/errors.hpp>
#include <vmtest/text.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <cctype>

namespace vmtest::containerd::detail {

std::vector<Token> tokenize(std::string_view line) {
  std::vector<Token> out;
  std::size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && std::isspace(static_cast<unsigned char>(line[i]))) ++i;
    if (i >= line.size()) break;
    std::size_t start = i;
    while (i < line.size() && !std::isspace(static_cast<unsigned char>(line[i]))) ++i;
    out.push_back({start, i});
  }
  return out;
}

bool is_number(std::string_view s) {
  if (s.empty()) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return std::isdigit(static_cast<unsigned char>(c)) || c == '.';
  });
}

std::string excerpt(std::string_view text, std::size_t max) {
  std::string s(text.substr(0, max));
  if (text.size() > max) s += "...";
  return s;
}

void bad_table(std::string_view what, std::string_view line, std::string_view why) {
  throw InvalidArgument(
      fmt::format("{}: cannot parse ctr output ({}) in line: {}", what, why, excerpt(line, 300)));
}

bool is_log_line(std::string_view t) {
  return t.substr(0, 5) == "time=" || t.substr(0, 4) == "ctr:";
}

std::size_t find_header(const std::vector<std::string_view>& lines, std::string_view what) {
  for (std::size_t i = 0; i < lines.size(); ++i) {
    auto t = trim(lines[i]);
    if (t.empty()) continue;
    if (t.substr(0, 4) == "REF " || t == "REF") {
      auto toks = tokenize(t);
      if (toks.size() < 3 || word(t, toks[1]) != "TYPE" || word(t, toks[2]) != "DIGEST")
        bad_table(what, t, "the header is not REF TYPE DIGEST ...");
      return i;
    }
    if (is_log_line(t)) continue;
    bad_table(what, t, "expected the REF TYPE DIGEST header first");
  }
  return lines.size();
}

}  // namespace vmtest::containerd::detail
