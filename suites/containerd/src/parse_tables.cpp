// Parsers of ctr's image tables: `ctr images ls` (and -q), `ctr images
// check`, and the LABELS cell.
#include "vmtest/containerd/ctr.hpp"

#include "ctr_text.hpp"

#include <vmtest/text.hpp>

#include <fmt/format.h>

#include <charconv>

namespace vmtest::containerd {

using namespace detail;

bool ImageRow::pinned() const {
  auto v = label(kPinnedLabel);
  return v && *v == kPinnedValue;
}

std::optional<std::string> ImageRow::label(std::string_view key) const {
  auto it = labels.find(std::string(key));
  if (it == labels.end()) return std::nullopt;
  return it->second;
}

std::string CheckRow::status_text() const {
  if (present < 0) return status;
  return fmt::format("{} ({}/{})", status, present,
                     required < 0 ? std::string("?") : std::to_string(required));
}

std::map<std::string, std::string> parse_labels(std::string_view cell) {
  std::map<std::string, std::string> out;
  cell = trim(cell);
  if (cell.empty() || cell == "-") return out;
  // Split on commas outside JSON braces, brackets and strings.
  int depth = 0;
  bool in_string = false;
  std::size_t start = 0;
  auto flush = [&](std::size_t end) {
    auto pair = trim(cell.substr(start, end - start));
    if (pair.empty()) return;
    auto eq = pair.find('=');
    if (eq == std::string_view::npos)
      out.emplace(std::string(pair), "");
    else
      out.emplace(std::string(pair.substr(0, eq)), std::string(pair.substr(eq + 1)));
  };
  for (std::size_t i = 0; i < cell.size(); ++i) {
    char c = cell[i];
    if (in_string) {
      if (c == '\\')
        ++i;
      else if (c == '"')
        in_string = false;
      continue;
    }
    if (c == '"')
      in_string = true;
    else if (c == '{' || c == '[')
      ++depth;
    else if ((c == '}' || c == ']') && depth > 0)
      --depth;
    else if (c == ',' && depth == 0) {
      flush(i);
      start = i + 1;
    }
  }
  flush(cell.size());
  return out;
}

std::vector<ImageRow> parse_images_ls(std::string_view text) {
  constexpr std::string_view what = "ctr images ls";
  auto lines = lines_of(text);
  std::vector<ImageRow> rows;
  auto header = find_header(lines, what);
  for (std::size_t i = header + 1; i < lines.size(); ++i) {
    auto line = lines[i];
    if (trim(line).empty() || is_log_line(trim(line))) continue;
    // REF TYPE DIGEST are one word each; SIZE is two ("21.7 MiB");
    // PLATFORMS one (comma-joined or "-"); LABELS the rest. Padding between
    // columns may be any number of spaces, so words are what counts.
    auto toks = tokenize(line);
    if (toks.size() < 6)
      bad_table(what, line, fmt::format("{} words, expected at least 6", toks.size()));
    ImageRow row;
    row.ref = word(line, toks[0]);
    row.type = word(line, toks[1]);
    row.digest = word(line, toks[2]);
    if (row.digest.find(':') == std::string::npos)
      bad_table(what, line, "DIGEST is not algorithm:hex");
    if (!is_number(word(line, toks[3]))) bad_table(what, line, "SIZE does not start with a number");
    row.size = fmt::format("{} {}", word(line, toks[3]), word(line, toks[4]));
    auto platforms = word(line, toks[5]);
    if (platforms != "-") {
      std::size_t start = 0;
      while (start <= platforms.size()) {
        auto comma = platforms.find(',', start);
        if (comma == std::string_view::npos) comma = platforms.size();
        if (comma > start) row.platforms.emplace_back(platforms.substr(start, comma - start));
        start = comma + 1;
      }
    }
    if (toks.size() > 6) row.labels = parse_labels(line.substr(toks[6].begin));
    rows.push_back(std::move(row));
  }
  return rows;
}

std::vector<std::string> parse_images_ls_quiet(std::string_view text) {
  std::vector<std::string> refs;
  for (auto line : lines_of(text)) {
    auto t = trim(line);
    if (t.empty() || is_log_line(t)) continue;
    refs.emplace_back(t);
  }
  return refs;
}

std::vector<CheckRow> parse_images_check(std::string_view text) {
  constexpr std::string_view what = "ctr images check";
  auto lines = lines_of(text);
  std::vector<CheckRow> rows;
  auto header = find_header(lines, what);
  for (std::size_t i = header + 1; i < lines.size(); ++i) {
    auto line = lines[i];
    if (trim(line).empty() || is_log_line(trim(line))) continue;
    // REF TYPE DIGEST STATUS SIZE UNPACKED, where STATUS is "complete (3/3)"
    // and SIZE "2.0 MiB/2.0 MiB" or "0.0 B/?": the words between STATUS and
    // the last one (UNPACKED) are SIZE.
    auto toks = tokenize(line);
    if (toks.size() < 5)
      bad_table(what, line, fmt::format("{} words, expected at least 5", toks.size()));
    CheckRow row;
    row.ref = word(line, toks[0]);
    row.type = word(line, toks[1]);
    row.digest = word(line, toks[2]);
    row.status = word(line, toks[3]);
    std::size_t next = 4;
    auto counts = word(line, toks[4]);
    if (counts.size() >= 5 && counts.front() == '(' && counts.back() == ')') {
      auto inner = counts.substr(1, counts.size() - 2);
      auto slash = inner.find('/');
      if (slash == std::string_view::npos) bad_table(what, line, "STATUS counts are not (n/m)");
      auto a = inner.substr(0, slash);
      auto b = inner.substr(slash + 1);
      int present = 0;
      if (std::from_chars(a.data(), a.data() + a.size(), present).ec != std::errc{})
        bad_table(what, line, "STATUS count is not a number");
      row.present = present;
      int required = -1;
      if (b != "?" && std::from_chars(b.data(), b.data() + b.size(), required).ec != std::errc{})
        bad_table(what, line, "STATUS total is not a number");
      row.required = required;
      next = 5;
    }
    if (toks.size() < next + 2) bad_table(what, line, "missing SIZE or UNPACKED");
    auto unpacked = word(line, toks.back());
    if (unpacked != "true" && unpacked != "false")
      bad_table(what, line, "UNPACKED is not true or false");
    row.unpacked = unpacked == "true";
    row.size = std::string(
        trim(line.substr(toks[next].begin, toks[toks.size() - 2].end - toks[next].begin)));
    rows.push_back(std::move(row));
  }
  return rows;
}

}  // namespace vmtest::containerd
