// The image checks on a node: import a bundle, list and check images, read
// their labels, and require the expected ones usable (evaluate_images is
// the pure part).
#include "vmtest/containerd/ctr.hpp"

#include "ctr_text.hpp"
#include "node_exec.hpp"

#include <vmtest/machine.hpp>
#include <vmtest/protocol.hpp>
#include <vmtest/text.hpp>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <set>

namespace vmtest::containerd {

using namespace detail;
using protocol::shell_quote;

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
  } catch (const InvalidArgument& e) {
    // The parser's error, with the node and the command.
    throw InvalidArgument(e.message(), node.context(command));
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
      throw NotFound(
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
  } catch (const InvalidArgument& e) {
    // The parser's error, with the node and the command.
    throw InvalidArgument(e.message(), node.context(command));
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
  } catch (const InvalidArgument& e) {
    // The parser's error, with the node and the command.
    throw InvalidArgument(e.message(), node.context(command));
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
  throw NotFound(fmt::format("image {} is not in namespace {}", ref, ctr.ns),
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
  throw ImagesMissing(
      fmt::format("{} of {} expected images in namespace {} are not usable:", refs.size(),
                  std::set<std::string>(expected.begin(), expected.end()).size(), ctr.ns),
      node.context(fmt::format("{} images ls; {} images check", ctr.prefix(), ctr.prefix())),
      std::move(problems));
}

Findings problem_lines(const std::vector<ImageProblem>& problems) {
  Findings f;
  for (const auto& p : problems) f.push_back(fmt::format("{}: {}", p.ref, p.problem));
  return f;
}

ImagesMissing::ImagesMissing(std::string summary, ErrorContext context,
                             std::vector<ImageProblem> problems)
    : FindingsError(std::move(summary), problem_lines(problems), std::move(context)),
      problems_(std::move(problems)) {}

}  // namespace vmtest::containerd
