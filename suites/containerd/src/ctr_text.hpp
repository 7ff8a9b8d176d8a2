// File: suites/containerd/src/ctr_text.hpp (internal, not installed)
//
// Reading ctr's tables: words of a row, the REF TYPE DIGEST header, ctr's
// own log lines mixed in, and the error for text that is not a table.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace vmtest::containerd::detail {

// A word of a table row and where it starts and ends in the line.
struct Token {
  std::size_t begin;
  std::size_t end;
};

std::vector<Token> tokenize(std::string_view line);
inline std::string_view word(std::string_view line, const Token& t) {
  return line.substr(t.begin, t.end - t.begin);
}
// Digits and dots only ("21.7").
bool is_number(std::string_view s);
// ctr's log lines ("time=..." from logrus, "ctr: ..." errors).
bool is_log_line(std::string_view trimmed);

// Short excerpt of output for error messages.
std::string excerpt(std::string_view text, std::size_t max = 600);

// Throws InvalidArgument "<what>: cannot parse ctr output (<why>) in line: <line>".
[[noreturn]] void bad_table(std::string_view what, std::string_view line, std::string_view why);

// Finds the header line ("REF ..."), skipping ctr's log lines that may be
// mixed in when stderr is merged. Returns its index or lines.size().
std::size_t find_header(const std::vector<std::string_view>& lines, std::string_view what);

}  // namespace vmtest::containerd::detail
