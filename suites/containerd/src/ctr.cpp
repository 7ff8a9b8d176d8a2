#include "vmtest/containerd/ctr.hpp"

#include <vmtest/text.hpp>

#include <vmtest/machine.hpp>
#include <vmtest/protocol.hpp>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include <unistd.h>
#include <algorithm>
#include <atomic>
#include <cctype>
#include <charconv>
#include <chrono>
#include <set>

namespace vmtest::containerd {

namespace {

using protocol::shell_quote;

// A word of a table row and where it starts and ends in the line.
struct Token {
  std::size_t begin;
  std::size_t end;
};

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

std::string_view word(std::string_view line, const Token& t) {
  return line.substr(t.begin, t.end - t.begin);
}

bool is_number(std::string_view s) {
  if (s.empty()) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return std::isdigit(static_cast<unsigned char>(c)) || c == '.';
  });
}

// Short excerpt of output for error messages.
std::string excerpt(std::string_view text, std::size_t max = 600) {
  std::string s(text.substr(0, max));
  if (text.size() > max) s += "...";
  return s;
}

[[noreturn]] void bad_table(std::string_view what, std::string_view line, std::string_view why) {
  throw Error(
      fmt::format("{}: cannot parse ctr output ({}) in line: {}", what, why, excerpt(line, 300)));
}

// Finds the header line ("REF ..."), skipping ctr's log lines that may be
// mixed in when stderr is merged. Returns its index or lines.size().
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
    if (t.substr(0, 5) == "time=" || t.substr(0, 4) == "ctr:") continue;
    bad_table(what, t, "expected the REF TYPE DIGEST header first");
  }
  return lines.size();
}

bool is_log_line(std::string_view t) {
  return t.substr(0, 5) == "time=" || t.substr(0, 4) == "ctr:";
}

std::string unique_container_id() {
  static std::atomic<unsigned> counter{0};
  auto now = std::chrono::steady_clock::now().time_since_epoch();
  auto micros = std::chrono::duration_cast<std::chrono::microseconds>(now).count();
  return fmt::format("vmtest-{}-{}-{}", ::getpid(), counter.fetch_add(1), micros % 1000000);
}

CommandObserver& observer() {
  static CommandObserver o;
  return o;
}

// node.execute, shown to the observer (the k0s suites' transcript).
CommandResult exec(Machine& node, const std::string& command, Duration timeout) {
  auto r = node.execute(command, timeout);
  if (observer()) observer()(node, command, r);
  return r;
}

// node.succeed through exec.
std::string exec_ok(Machine& node, const std::string& command, Duration timeout) {
  auto r = exec(node, command, timeout);
  if (r.status != 0)
    throw CommandFailed(
        fmt::format("`{}` exited with status {}: {}", command, r.status, excerpt(trim(r.err))),
        node.context(command), r.status, r.out, r.err);
  return r.out;
}

std::string guest_seconds(Duration d) {
  auto s = std::chrono::duration_cast<std::chrono::seconds>(d).count();
  return std::to_string(std::max<long long>(s, 1));
}

}  // namespace

void set_command_observer(CommandObserver o) {
  observer() = std::move(o);
}

std::string CtrCommand::prefix() const {
  std::string s = binary;
  if (!address.empty()) s += " --address " + shell_quote(address);
  if (!ns.empty()) s += " -n " + shell_quote(ns);
  return s;
}

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

std::vector<std::string> parse_import_output(std::string_view text) {
  std::vector<std::string> refs;
  for (auto line : lines_of(text)) {
    auto t = trim(line);
    constexpr std::string_view kPrefix = "unpacking ";
    if (t.substr(0, kPrefix.size()) != kPrefix) continue;
    auto rest = t.substr(kPrefix.size());
    auto space = rest.find(' ');
    refs.emplace_back(rest.substr(0, space));
  }
  return refs;
}

std::string transfer_display_name(std::string_view ref) {
  // ctr's displayName: split at '-', shorten sha256 digests, join with ' ';
  // the table cell is "%-40.40s".
  std::string out;
  std::size_t start = 0;
  for (;;) {
    auto dash = ref.find('-', start);
    auto part =
        ref.substr(start, dash == std::string_view::npos ? std::string_view::npos : dash - start);
    if (!out.empty() || start > 0) out += ' ';
    if (part.substr(0, 7) == "sha256:" && part.size() == 71)
      out += fmt::format("({})", part.substr(7, 12));
    else
      out += part;
    if (dash == std::string_view::npos) break;
    start = dash + 1;
  }
  if (out.size() > 40) out.resize(40);
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

ImportOutput parse_import(std::string_view text) {
  ImportOutput out;
  // containerd 1.x (and 2.x with --local): one "unpacking <ref> (<digest>)...done" per image.
  for (auto line : lines_of(text)) {
    auto t = trim(line);
    constexpr std::string_view kPrefix = "unpacking ";
    if (t.substr(0, kPrefix.size()) != kPrefix) continue;
    auto rest = t.substr(kPrefix.size());
    auto space = rest.find(' ');
    if (space == std::string_view::npos)
      bad_table("ctr images import", t, "no digest after the ref");
    out.refs.emplace_back(rest.substr(0, space));
    auto open = rest.find('(', space);
    auto close = rest.find(')', space);
    if (open != std::string_view::npos && close != std::string_view::npos && close > open)
      out.digests.emplace_back(rest.substr(open + 1, close - open - 1));
    out.format = ImportFormat::unpack_lines;
  }
  if (out.format != ImportFormat::none) return out;
  // containerd 2.x (transfer service): a progress table redrawn in place;
  // every redraw first clears the previous one with ESC[1A ESC[2K CR, so
  // the last frame is what follows the last clear.
  auto frame = text;
  if (auto pos = frame.rfind("\x1b[2K\r"); pos != std::string_view::npos)
    frame = frame.substr(pos + 5);
  for (auto line : lines_of(frame)) {
    if (trim(line).empty()) continue;
    auto tab = line.find('\t');
    if (tab != std::string_view::npos) {
      auto first = line.substr(0, tab);
      auto rest = line.substr(tab + 1);
      auto tab2 = rest.find('\t');
      auto event = trim(rest.substr(0, tab2));
      if (event.substr(0, 8) == "elapsed:") {
        out.status = std::string(trim(first));
        continue;
      }
      if (event == "saved") {
        std::string name(first);
        while (!name.empty() && name.back() == ' ') name.pop_back();
        out.saved.push_back(std::move(name));
        out.format = ImportFormat::transfer_progress;
        continue;
      }
      continue;  // other progress rows (none for an import today)
    }
    // "<media type> <digest>" under the rows.
    auto t = trim(line);
    auto space = t.find(' ');
    if (space != std::string_view::npos && t.substr(0, 12) == "application/" &&
        t.substr(space + 1, 7) == "sha256:")
      out.digests.emplace_back(t.substr(space + 1));
  }
  if (out.format == ImportFormat::none)
    throw Error(
        fmt::format("ctr images import: the output has neither containerd 1.x's \"unpacking <ref> "
                    "(<digest>)...done\" lines nor containerd 2.x's \"saved\" rows: {}",
                    excerpt(text, 300)));
  return out;
}

std::vector<std::string> parse_bundle_refs(std::string_view json_text, std::string_view source) {
  nlohmann::json doc;
  try {
    doc = nlohmann::json::parse(json_text);
  } catch (const nlohmann::json::exception& e) {
    throw Error(fmt::format("{}: not JSON ({}): {}", source, e.what(), excerpt(json_text, 200)));
  }
  std::vector<std::string> refs;
  if (doc.is_object() && doc.contains("manifests") && doc["manifests"].is_array()) {
    // OCI image layout (what `k0s airgap bundle-artifacts` writes).
    for (const auto& m : doc["manifests"]) {
      const auto& ann = m.value("annotations", nlohmann::json::object());
      for (const char* key : {"org.opencontainers.image.ref.name", "io.containerd.image.name"}) {
        if (ann.contains(key) && ann[key].is_string()) {
          refs.push_back(ann[key].get<std::string>());
          break;
        }
      }
    }
  } else if (doc.is_array()) {
    // Docker archive (`docker image save`).
    for (const auto& m : doc) {
      if (!m.is_object() || !m.contains("RepoTags") || !m["RepoTags"].is_array()) continue;
      for (const auto& tag : m["RepoTags"])
        if (tag.is_string()) refs.push_back(tag.get<std::string>());
    }
  } else {
    throw Error(fmt::format(
        "{}: neither an OCI index (manifests[]) nor a Docker manifest.json (array)", source));
  }
  return refs;
}

std::vector<std::string> parse_proc_net_dev(std::string_view text) {
  std::vector<std::string> names;
  for (auto line : lines_of(text)) {
    auto colon = line.find(':');
    // The two header lines have '|' before any ':'.
    if (colon == std::string_view::npos || line.find('|') != std::string_view::npos) continue;
    auto name = trim(line.substr(0, colon));
    if (!name.empty()) names.emplace_back(name);
  }
  return names;
}

ImportResult import_bundle(Machine& node, const CtrCommand& ctr, std::string_view tar_path,
                           const ImportOptions& options) {
  std::string flags;
  if (options.all_platforms) flags += " --all-platforms";
  if (!options.platform.empty()) flags += " --platform " + shell_quote(options.platform);
  auto command = fmt::format("{} images import{} {}", ctr.prefix(), flags, shell_quote(tar_path));
  auto r = exec(node, command, options.timeout);
  if (r.status != 0) {
    throw CommandFailed(
        fmt::format("importing the bundle {} into namespace {} failed with exit status {}: {}",
                    tar_path, ctr.ns, r.status, excerpt(trim(r.err.empty() ? r.out : r.err))),
        node.context(command), r.status, r.out, r.err);
  }
  ImportResult result;
  result.output = r.out + r.err;
  ImportOutput parsed;
  try {
    parsed = parse_import(r.out);
  } catch (const Error& e) {
    throw Error(e.message(), node.context(command));
  }
  result.format = parsed.format;
  result.rows = parsed.format == ImportFormat::transfer_progress ? parsed.saved : parsed.refs;
  if (parsed.format == ImportFormat::unpack_lines) {
    result.refs = parsed.refs;
    return result;
  }
  // containerd 2.x shows each ref shortened: match the rows against the
  // namespace's refs. A row that matches none is not an image we can name.
  auto listed = list_image_refs(node, ctr, options.timeout);
  std::set<std::string> seen;
  for (const auto& row : parsed.saved) {
    bool matched = false;
    for (const auto& ref : listed)
      if (transfer_display_name(ref) == row) {
        matched = true;
        if (seen.insert(ref).second) result.refs.push_back(ref);
      }
    if (!matched)
      throw Error(
          fmt::format(
              "ctr images import of {} reported \"{}\" saved, but no image in namespace {} is "
              "shown that way",
              tar_path, row, ctr.ns),
          node.context(command));
  }
  return result;
}

std::vector<std::string> bundle_refs(Machine& node, std::string_view tar_path, Duration timeout) {
  // An OCI layout has index.json, a Docker archive manifest.json; either may
  // carry a "./" prefix depending on how the tar was made.
  auto command = fmt::format(
      "f={}; for n in index.json ./index.json manifest.json ./manifest.json; do "
      "if out=$(tar -xOf \"$f\" \"$n\" 2>/dev/null); then printf '%s\\n%s' \"$n\" \"$out\"; exit "
      "0; fi; done; "
      "echo \"neither index.json nor manifest.json is in $f\" >&2; exit 1",
      shell_quote(tar_path));
  auto r = exec(node, command, timeout);
  if (r.status != 0)
    throw CommandFailed(
        fmt::format("cannot read the image index of bundle {}: {}", tar_path, excerpt(trim(r.err))),
        node.context(command), r.status, r.out, r.err);
  auto nl = r.out.find('\n');
  auto member = r.out.substr(0, nl);
  auto json = nl == std::string::npos ? std::string() : r.out.substr(nl + 1);
  return parse_bundle_refs(json, fmt::format("{}: {} of {}", node.name(), member, tar_path));
}

std::vector<ImageRow> list_images(Machine& node, const CtrCommand& ctr, std::string_view filter,
                                  Duration timeout) {
  auto command = fmt::format("{} images ls", ctr.prefix());
  if (!filter.empty()) command += " " + shell_quote(filter);
  auto out = exec_ok(node, command, timeout);
  try {
    return parse_images_ls(out);
  } catch (const Error& e) {
    throw Error(e.message(), node.context(command));
  }
}

std::vector<std::string> list_image_refs(Machine& node, const CtrCommand& ctr, Duration timeout) {
  return parse_images_ls_quiet(
      exec_ok(node, fmt::format("{} images ls -q", ctr.prefix()), timeout));
}

std::vector<CheckRow> check_images(Machine& node, const CtrCommand& ctr, std::string_view filter,
                                   Duration timeout) {
  auto command = fmt::format("{} images check", ctr.prefix());
  if (!filter.empty()) command += " " + shell_quote(filter);
  // ctr exits 1 when it cannot check one image (content missing) but still
  // prints the table; the rows say what is wrong, so keep them.
  auto r = exec(node, command, timeout);
  std::vector<CheckRow> rows;
  try {
    rows = parse_images_check(r.out);
  } catch (const Error& e) {
    throw Error(e.message(), node.context(command));
  }
  if (r.status != 0 && rows.empty())
    throw CommandFailed(fmt::format("ctr images check failed with exit status {}: {}", r.status,
                                    excerpt(trim(r.err))),
                        node.context(command), r.status, r.out, r.err);
  return rows;
}

std::map<std::string, std::string> image_labels(Machine& node, const CtrCommand& ctr,
                                                std::string_view ref, Duration timeout) {
  auto filter = fmt::format("name=={}", ref);
  for (auto& row : list_images(node, ctr, filter, timeout))
    if (row.ref == ref) return row.labels;
  throw Error(fmt::format("image {} is not in namespace {}", ref, ctr.ns),
              node.context(fmt::format("{} images ls {}", ctr.prefix(), shell_quote(filter))));
}

std::vector<ImageProblem> evaluate_images(const std::vector<std::string>& expected,
                                          const std::vector<ImageRow>& listed,
                                          const std::vector<CheckRow>& checked,
                                          const ImageExpectations& expectations) {
  std::vector<ImageProblem> problems;
  std::set<std::string> seen;
  for (const auto& ref : expected) {
    if (!seen.insert(ref).second) continue;
    auto row =
        std::find_if(listed.begin(), listed.end(), [&](const ImageRow& r) { return r.ref == ref; });
    if (row == listed.end()) {
      problems.push_back({ref, "not listed by ctr images ls"});
      continue;
    }
    if (expectations.complete) {
      auto check = std::find_if(checked.begin(), checked.end(),
                                [&](const CheckRow& r) { return r.ref == ref; });
      if (check == checked.end())
        problems.push_back({ref, "listed, but ctr images check did not report it"});
      else if (!check->complete())
        problems.push_back(
            {ref, fmt::format(
                      "status {} (content missing: wrong architecture or truncated bundle?), "
                      "platforms {}",
                      check->status_text(),
                      row->platforms.empty() ? "-"
                                             : fmt::format("{}", fmt::join(row->platforms, ",")))});
    }
    auto labels_text = [&] {
      if (row->labels.empty()) return std::string("-");
      std::vector<std::string> kv;
      for (const auto& [k, v] : row->labels) kv.push_back(k + "=" + v);
      return fmt::format("{}", fmt::join(kv, ","));
    };
    if (expectations.pinned && !row->pinned())
      problems.push_back({ref, fmt::format("not pinned ({}={} missing; labels: {})", kPinnedLabel,
                                           kPinnedValue, labels_text())});
    for (const auto& [key, value] : expectations.labels) {
      auto have = row->label(key);
      if (!have)
        problems.push_back({ref, fmt::format("label {} missing (labels: {})", key, labels_text())});
      else if (!value.empty() && *have != value)
        problems.push_back({ref, fmt::format("label {}={}, expected {}", key, *have, value)});
    }
  }
  return problems;
}

std::vector<ImageProblem> image_problems(Machine& node, const CtrCommand& ctr,
                                         const std::vector<std::string>& expected,
                                         const ImageExpectations& expectations) {
  auto listed = list_images(node, ctr);
  std::vector<CheckRow> checked;
  if (expectations.complete) checked = check_images(node, ctr);
  return evaluate_images(expected, listed, checked, expectations);
}

void require_images(Machine& node, const CtrCommand& ctr, const std::vector<std::string>& expected,
                    const ImageExpectations& expectations) {
  auto problems = image_problems(node, ctr, expected, expectations);
  if (problems.empty()) return;
  std::set<std::string> refs;
  for (const auto& p : problems) refs.insert(p.ref);
  std::string message =
      fmt::format("{} of {} expected images in namespace {} are not usable:", refs.size(),
                  std::set<std::string>(expected.begin(), expected.end()).size(), ctr.ns);
  for (const auto& p : problems) message += fmt::format("\n  {}: {}", p.ref, p.problem);
  throw ImagesMissing(
      std::move(message),
      node.context(fmt::format("{} images ls; {} images check", ctr.prefix(), ctr.prefix())),
      std::move(problems));
}

bool is_network_failure(std::string_view err) {
  if (err.find("containerd.sock") != std::string_view::npos) return false;
  for (std::string_view cause :
       {"dial tcp", "no such host", "network is unreachable", "no route to host",
        "connection refused", "i/o timeout", "Temporary failure in name resolution"})
    if (err.find(cause) != std::string_view::npos) return true;
  return false;
}

std::string require_pull_fails(Machine& node, const CtrCommand& ctr, std::string_view ref,
                               Duration timeout) {
  auto command = fmt::format("timeout -s KILL {} {} images pull {}", guest_seconds(timeout),
                             ctr.prefix(), shell_quote(ref));
  auto r = exec(node, command, timeout + std::chrono::seconds(30));
  if (r.status == 0)
    throw CommandFailed(
        fmt::format("pulling {} from its registry succeeded: this node reaches a registry, so "
                    "nothing here proves the images came from the bundle",
                    ref),
        node.context(command), r.status, r.out, r.err);
  if (r.status == 127)
    throw CommandFailed(fmt::format("cannot try to pull {}: the command was not found ({})", ref,
                                    excerpt(trim(r.err))),
                        node.context(command), r.status, r.out, r.err);
  if (r.status == 137 || r.status == 124)
    return fmt::format("no answer within {} s (pull stopped)", guest_seconds(timeout));
  // Any other failure counts only with a network cause: containerd being
  // down, a bad reference or a full disk fail the pull too and prove nothing
  // about the node's isolation.
  if (!is_network_failure(r.err))
    throw CommandFailed(
        fmt::format("pulling {} failed, but not for a network reason, so it proves nothing about "
                    "the node being offline: {}",
                    ref, excerpt(trim(r.err))),
        node.context(command), r.status, r.out, r.err);
  return std::string(trim(r.err));
}

RunResult run_container(Machine& node, const CtrCommand& ctr, std::string_view ref,
                        const std::vector<std::string>& argv, Duration timeout) {
  auto id = unique_container_id();
  std::string args;
  for (const auto& a : argv) args += " " + shell_quote(a);
  // No --net-host and no --cni: the container gets a fresh network
  // namespace with only loopback. The trailing cleanup removes the container
  // if ctr was killed before --rm could.
  auto command = fmt::format(
      "set +e; {0} run --rm {1} {2}{3}; s=$?; {0} containers rm {2} >/dev/null 2>&1; exit $s",
      ctr.prefix(), shell_quote(ref), id, args);
  auto r = exec(node, command, timeout);
  if (r.status != 0) {
    for (auto line : lines_of(r.err)) {
      if (trim(line).substr(0, 4) == "ctr:")
        throw CommandFailed(
            fmt::format("cannot run a container from image {}: {}", ref, trim(line)),
            node.context(command), r.status, r.out, r.err);
    }
  }
  return RunResult{r.status, std::move(r.out), std::move(r.err)};
}

void require_no_network(Machine& node, const CtrCommand& ctr, std::string_view ref,
                        Duration timeout) {
  auto r = run_container(node, ctr, ref, {"cat", "/proc/net/dev"}, timeout);
  if (r.status != 0)
    throw CommandFailed(
        fmt::format("cat /proc/net/dev in a container from {} exited with status {}: {}", ref,
                    r.status, excerpt(trim(r.err))),
        node.context(), r.status, r.out, r.err);
  auto names = parse_proc_net_dev(r.out);
  if (names != std::vector<std::string>{"lo"})
    throw Error(
        fmt::format(
            "a container from {} has network interfaces [{}]; expected only lo (no network)", ref,
            fmt::join(names, ", ")),
        node.context());
}

}  // namespace vmtest::containerd
