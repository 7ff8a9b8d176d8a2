// The airgap bundles as k0s and containerd show them: the bundle folder, the
// OCI bundle importer's journal lines, the images' labels in `k0s ctr images
// ls`, and `k0s airgap list-images`.
#include "vmtest/k0s/kube.hpp"

#include "kube_json.hpp"

#include <vmtest/text.hpp>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <set>

namespace vmtest::k0s {

using namespace detail;

namespace {

std::string unquote_logfmt(std::string_view line, std::string_view key) {
  auto needle = std::string(key) + "=";
  std::size_t pos = 0;
  while ((pos = line.find(needle, pos)) != std::string_view::npos) {
    if (pos == 0 || line[pos - 1] == ' ') break;
    pos += needle.size();
  }
  if (pos == std::string_view::npos) return {};
  pos += needle.size();
  if (pos >= line.size()) return {};
  std::string out;
  if (line[pos] != '"') {
    auto end = line.find(' ', pos);
    return std::string(
        line.substr(pos, end == std::string_view::npos ? std::string_view::npos : end - pos));
  }
  for (std::size_t i = pos + 1; i < line.size(); ++i) {
    char c = line[i];
    if (c == '\\' && i + 1 < line.size()) {
      char n = line[++i];
      out += n == 'n' ? '\n' : n == 't' ? '\t' : n;
    } else if (c == '"') {
      break;
    } else {
      out += c;
    }
  }
  return out;
}

}  // namespace

Findings bundle_label_findings(const std::vector<containerd::ImageRow>& rows, const K0sConfig& cfg,
                               const std::vector<std::string>& expected_images) {
  Findings f;
  std::set<std::string> bundles;
  for (const auto& b : cfg.airgap.bundles) bundles.insert(cfg.airgap.bundle_dir + "/" + b);
  std::set<std::string> named;  // bundle paths some image's label names
  std::map<std::string, const containerd::ImageRow*> by_ref;
  for (const auto& r : rows) {
    by_ref[r.ref] = &r;
    if (auto v = r.label(containerd::kBundlePathsLabel)) {
      try {
        auto doc = json::parse(*v);
        if (doc.is_object())
          for (const auto& [path, when] : doc.items()) named.insert(path);
      } catch (const json::exception&) {
      }
    }
  }
  std::vector<std::string> missing;
  for (const auto& ref : expected_images) {
    auto it = by_ref.find(ref);
    if (it == by_ref.end()) {
      missing.push_back(ref);
      continue;
    }
    const auto& row = *it->second;
    auto paths = row.label(containerd::kBundlePathsLabel);
    if (!paths) {
      f.push_back(fmt::format(
          "{}: no {} label (not imported by k0s from a bundle; labels: {})", ref,
          containerd::kBundlePathsLabel, row.labels.empty() ? "none" : [&] {
            std::vector<std::string> kv;
            for (const auto& [k, val] : row.labels) kv.push_back(k + "=" + val);
            return fmt::format("{}", fmt::join(kv, ","));
          }()));
      continue;
    }
    json doc;
    try {
      doc = json::parse(*paths);
    } catch (const json::exception&) {
      f.push_back(
          fmt::format("{}: label {} is not JSON: {}", ref, containerd::kBundlePathsLabel, *paths));
      continue;
    }
    bool from_bundle = false;
    if (doc.is_object())
      for (const auto& [path, when] : doc.items()) from_bundle = from_bundle || bundles.count(path);
    if (!from_bundle && !bundles.empty())
      f.push_back(fmt::format("{}: label {}={} names none of the manifest's bundles", ref,
                              containerd::kBundlePathsLabel, *paths));
    if (!row.pinned())
      f.push_back(fmt::format("{}: not pinned ({}={} missing)", ref, containerd::kPinnedLabel,
                              containerd::kPinnedValue));
  }
  if (!missing.empty())
    f.push_back(fmt::format("{} of {} expected images not in k8s.io yet: {}", missing.size(),
                            expected_images.size(), fmt::join(missing, ", ")));
  for (const auto& b : bundles)
    if (!named.count(b)) f.push_back(fmt::format("no image is labelled as imported from {}", b));
  // Exactly the declared images: one that came from a bundle but is in neither airgap.images nor
  // `list-images --all` was not declared (an archive carrying more than its image). Only with
  // list_images: otherwise k0s's own images are not in the list. Digest and config rows (the CRI
  // plugin's sha256:... and name@sha256:... names of a listed image) are no images of their own.
  if (cfg.airgap.list_images) {
    std::set<std::string> wanted(expected_images.begin(), expected_images.end());
    for (const auto& r : rows) {
      if (wanted.count(r.ref) || r.ref.rfind("sha256:", 0) == 0 ||
          r.ref.find("@sha256:") != std::string::npos)
        continue;
      auto v = r.label(containerd::kBundlePathsLabel);
      if (!v) continue;
      json doc;
      try {
        doc = json::parse(*v);
      } catch (const json::exception&) {
        continue;
      }
      if (!doc.is_object()) continue;
      for (const auto& [path, when] : doc.items())
        if (bundles.count(path)) {
          f.push_back(fmt::format(
              "{}: imported from {}, but not declared (neither in k0s.airgap.images nor in "
              "k0s airgap list-images --all)",
              r.ref, path));
          break;
        }
    }
  }
  return f;
}

ImportJournal parse_import_journal(std::string_view journal) {
  ImportJournal j;
  for (auto line : lines_of(journal)) {
    auto t = trim(line);
    if (t.empty()) continue;
    // k0s logs with logrus' text format (msg="..."); take the whole line
    // when it is not in that form.
    std::string msg = unquote_logfmt(t, "msg");
    if (msg.empty()) msg = std::string(t);
    auto rest = [&](std::string_view prefix) {
      return std::string(trim(std::string_view(msg).substr(prefix.size())));
    };
    if (starts_with(msg, "Imported image ")) {
      auto ref = rest("Imported image ");
      j.imported.push_back(ref.substr(0, ref.find(' ')));
    } else if (starts_with(msg, "Unpinning image ")) {
      auto ref = rest("Unpinning image ");
      j.unpinned.push_back(ref.substr(0, ref.find(' ')));
    } else if (starts_with(msg, "Failed to load OCI bundle")) {
      j.failed.emplace_back(t);
    } else if (starts_with(msg, "Loading OCI bundle ") &&
               !starts_with(msg, "Loading OCI bundles directory")) {
      j.loading.push_back(rest("Loading OCI bundle "));
    } else if (starts_with(msg, "OCI bundle ") && msg.size() > 7 &&
               msg.substr(msg.size() - 7) == " loaded") {
      j.loaded.emplace_back(trim(std::string_view(msg).substr(11, msg.size() - 11 - 7)));
    }
  }
  return j;
}

Findings import_journal_findings(const ImportJournal& journal, const K0sConfig& cfg,
                                 const std::vector<std::string>& expected_images) {
  Findings f;
  for (const auto& line : journal.failed)
    f.push_back(fmt::format("k0s failed to load a bundle: {}", line));
  for (const auto& bundle : cfg.airgap.bundles) {
    auto path = cfg.airgap.bundle_dir + "/" + bundle;
    if (std::find(journal.loaded.begin(), journal.loaded.end(), path) != journal.loaded.end())
      continue;
    bool failed =
        std::any_of(journal.failed.begin(), journal.failed.end(),
                    [&](const std::string& l) { return l.find(path) != std::string::npos; });
    if (failed) continue;  // already reported with k0s's error
    bool started =
        std::find(journal.loading.begin(), journal.loading.end(), path) != journal.loading.end();
    f.push_back(fmt::format("no \"OCI bundle {} loaded\" line in the journal{}", path,
                            started ? " (loading started but did not finish)" : ""));
  }
  std::set<std::string> imported(journal.imported.begin(), journal.imported.end());
  std::vector<std::string> missing;
  for (const auto& ref : expected_images)
    if (!imported.count(ref)) missing.push_back(ref);
  if (!missing.empty())
    f.push_back(fmt::format("no \"Imported image\" line for {} of {} expected images: {}",
                            missing.size(), expected_images.size(), fmt::join(missing, ", ")));
  for (const auto& ref : journal.unpinned)
    if (std::find(expected_images.begin(), expected_images.end(), ref) != expected_images.end())
      f.push_back(fmt::format("k0s unpinned {} (its bundle file was removed or changed)", ref));
  return f;
}

Findings bundle_dir_findings(std::string_view listing, const K0sConfig& cfg) {
  struct Entry {
    char type;
    long long size;
  };
  std::map<std::string, Entry> entries;
  for (auto line : lines_of(listing)) {
    if (trim(line).empty()) continue;
    auto t1 = line.find('\t');
    auto t2 = t1 == std::string_view::npos ? t1 : line.find('\t', t1 + 1);
    if (t2 == std::string_view::npos) continue;
    auto type = line.substr(t1 + 1, t2 - t1 - 1);
    long long size = 0;
    try {
      size = std::stoll(std::string(line.substr(t2 + 1)));
    } catch (const std::exception&) {
    }
    entries[std::string(line.substr(0, t1))] = Entry{type.empty() ? '?' : type.front(), size};
  }
  Findings f;
  for (const auto& bundle : cfg.airgap.bundles) {
    auto it = entries.find(bundle);
    auto path = cfg.airgap.bundle_dir + "/" + bundle;
    if (it == entries.end())
      f.push_back(fmt::format(
          "bundle {} is missing (present: {})", path,
          entries.empty() ? std::string("nothing") : [&] {
            std::vector<std::string> names;
            for (auto& [n, e] : entries) names.push_back(n);
            return fmt::format("{}", fmt::join(names, ", "));
          }()));
    else if (it->second.type != 'f')
      f.push_back(
          fmt::format("bundle {} is not a regular file (find type {})", path, it->second.type));
    else if (it->second.size == 0)
      f.push_back(fmt::format("bundle {} is empty", path));
  }
  for (const auto& [name, e] : entries)
    if (e.type == 'd')
      f.push_back(fmt::format(
          "{}/{} is a folder; k0s imports every entry of {} as a bundle and fails on it",
          cfg.airgap.bundle_dir, name, cfg.airgap.bundle_dir));
  if (cfg.airgap.bundles.empty() &&
      std::none_of(entries.begin(), entries.end(), [](auto& kv) { return kv.second.type == 'f'; }))
    f.push_back(fmt::format("{} holds no bundle file", cfg.airgap.bundle_dir));
  return f;
}

std::vector<std::string> parse_list_images(std::string_view text) {
  std::vector<std::string> out;
  for (auto line : lines_of(text)) {
    auto t = trim(line);
    if (!t.empty()) out.emplace_back(t);
  }
  return out;
}

}  // namespace vmtest::k0s
