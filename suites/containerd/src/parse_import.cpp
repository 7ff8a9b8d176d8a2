// Parsers of what `ctr images import` prints (both containerd forms), of a
// bundle's index, and of /proc/net/dev.
#include "vmtest/containerd/ctr.hpp"

#include "ctr_text.hpp"

#include <vmtest/errors.hpp>
#include <vmtest/text.hpp>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace vmtest::containerd {

using namespace detail;

namespace {

// The "unpacking <ref> (<digest>)...done" lines of containerd 1.x (and 2.x
// with --local): each trimmed line and what follows "unpacking ".
struct UnpackLine {
  std::string_view line;
  std::string_view rest;
};

std::vector<UnpackLine> unpack_lines(std::string_view text) {
  constexpr std::string_view kPrefix = "unpacking ";
  std::vector<UnpackLine> out;
  for (auto line : lines_of(text)) {
    auto t = trim(line);
    if (t.substr(0, kPrefix.size()) == kPrefix) out.push_back({t, t.substr(kPrefix.size())});
  }
  return out;
}

}  // namespace

std::vector<std::string> parse_import_output(std::string_view text) {
  std::vector<std::string> refs;
  for (auto [line, rest] : unpack_lines(text)) refs.emplace_back(rest.substr(0, rest.find(' ')));
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
  for (auto [line, rest] : unpack_lines(text)) {
    auto space = rest.find(' ');
    if (space == std::string_view::npos)
      bad_table("ctr images import", line, "no digest after the ref");
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
    throw InvalidArgument(
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
    throw InvalidArgument(
        fmt::format("{}: not JSON ({}): {}", source, e.what(), excerpt(json_text, 200)));
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
    throw InvalidArgument(fmt::format(
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

}  // namespace vmtest::containerd
