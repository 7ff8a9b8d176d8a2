#include "vmtest/k0s/airgap.hpp"

#include "vmtest/k0s/kube.hpp"

#include <vmtest/containerd/ctr.hpp>
#include <vmtest/machine.hpp>
#include <vmtest/protocol.hpp>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <set>

namespace vmtest::k0s {

namespace {

using protocol::shell_quote;

std::string journal_command(const K0sConfig& cfg) {
  // grep only shortens what crosses the channel; the lines are parsed in
  // C++. No line is grep's status 1, not an error; a failing journalctl
  // still fails the pipeline (pipefail).
  return fmt::format(
      "journalctl -u {} --no-pager -o cat | {{ grep -E 'OCI bundle|Imported image|Unpinning image' "
      "|| test $? -eq 1; }}",
      shell_quote(cfg.unit_name()));
}

}  // namespace

void require_bundles_present(Machine& node, const K0sConfig& cfg) {
  auto command = fmt::format("find -L {} -mindepth 1 -maxdepth 1 -printf '%f\\t%y\\t%s\\n'",
                             shell_quote(cfg.airgap.bundle_dir));
  auto r = run_command(node, command, cfg.timeouts.command);
  if (r.status != 0)
    throw CheckFailed(fmt::format("the bundle folder {} cannot be listed:", cfg.airgap.bundle_dir),
                      {fmt::format("find exited with status {}: {}", r.status, r.err)},
                      node.context(command));
  require_no_findings(node, "the airgap bundles are not in place:", bundle_dir_findings(r.out, cfg),
                      command);
}

std::vector<std::string> expected_images(Machine& node, const K0sConfig& cfg) {
  std::vector<std::string> out;
  std::set<std::string> seen;
  for (const auto& ref : cfg.airgap.images)
    if (seen.insert(ref).second) out.push_back(ref);
  if (cfg.airgap.list_images) {
    auto listed = parse_list_images(
        run_succeed(node, cfg.k0s + " airgap list-images --all", cfg.timeouts.command));
    for (auto& ref : listed)
      if (seen.insert(ref).second) out.push_back(ref);
  }
  return out;
}

void require_bundles_cover(Machine& node, const K0sConfig& cfg,
                           const std::vector<std::string>& expected) {
  std::set<std::string> named;
  for (const auto& bundle : cfg.airgap.bundles) {
    auto refs =
        containerd::bundle_refs(node, cfg.airgap.bundle_dir + "/" + bundle, cfg.timeouts.command);
    named.insert(refs.begin(), refs.end());
  }
  Findings f;
  for (const auto& ref : expected)
    if (!named.count(ref))
      f.push_back(fmt::format(
          "image {} is in none of the bundles ({}); wrong tag, or a bundle of another k0s version",
          ref, fmt::join(cfg.airgap.bundles, ", ")));
  require_no_findings(node, "the bundles lack expected images:", f, "tar -xOf <bundle> index.json");
}

void wait_bundles_imported(Machine& node, const K0sConfig& cfg,
                           const std::vector<std::string>& expected) {
  // The evidence is what containerd holds: k0s labels every image it
  // imports from a bundle with io.k0sproject.ocibundle-paths and pins it.
  // The journal only stops the wait early when k0s logged a failed load
  // (its lines may also have rotated away on a long-running node).
  auto ctr = cfg.ctr();
  auto journal_cmd = journal_command(cfg);
  auto list_cmd = ctr.prefix() + " images ls";
  poll(
      node, "the airgap bundle import (k0s ctr images ls, labels)", cfg.timeouts.node_ready,
      cfg.timeouts.poll_interval,
      [&] {
        auto journal = parse_import_journal(run_succeed(node, journal_cmd, cfg.timeouts.command));
        if (!journal.failed.empty()) {
          Findings f;
          for (const auto& line : journal.failed)
            f.push_back("k0s failed to load a bundle: " + line);
          throw CheckFailed("k0s did not import the airgap bundles:", f, node.context(journal_cmd));
        }
        auto f = bundle_label_findings(containerd::list_images(node, ctr, {}, cfg.timeouts.command),
                                       cfg, expected);
        // What k0s logged, to tell "not started" from "still importing".
        if (!f.empty())
          for (const auto& b : cfg.airgap.bundles) {
            auto path = cfg.airgap.bundle_dir + "/" + b;
            bool started = std::find(journal.loading.begin(), journal.loading.end(), path) !=
                           journal.loading.end();
            bool loaded = std::find(journal.loaded.begin(), journal.loaded.end(), path) !=
                          journal.loaded.end();
            f.push_back(fmt::format(
                "journal: {}", loaded ? "\"OCI bundle " + path + " loaded\" logged"
                               : started
                                   ? "\"Loading OCI bundle " + path + "\" logged, not loaded yet"
                                   : "no \"Loading OCI bundle " + path + "\" line"));
          }
        return f;
      },
      list_cmd + "; " + journal_cmd);
}

void require_images_imported(Machine& node, const K0sConfig& cfg,
                             const std::vector<std::string>& expected) {
  auto ctr = cfg.ctr();
  containerd::ImageExpectations want{.complete = true,
                                     .pinned = true,
                                     .labels = {{std::string(containerd::kBundlePathsLabel), ""}}};
  auto problems = containerd::image_problems(node, ctr, expected, want);
  if (problems.empty()) return;
  std::set<std::string> refs;
  for (const auto& p : problems) refs.insert(p.ref);
  // ImagesMissing is a CheckFailed whose findings are "<ref>: <problem>".
  throw containerd::ImagesMissing(
      fmt::format("{} of {} expected images are not imported, complete and pinned in k8s.io:",
                  refs.size(), expected.size()),
      node.context(fmt::format("{0} images ls; {0} images check", ctr.prefix())),
      std::move(problems));
}

void require_no_pulls(Machine& leader, const K0sConfig& cfg) {
  auto pulling = cfg.kubectl() + " get events -A --field-selector reason=Pulling -o json";
  auto pulled = cfg.kubectl() +
                " get events -A --field-selector involvedObject.kind=Pod,reason=Pulled -o json";
  Findings f = pulling_event_findings(run_json_list(leader, pulling, cfg.timeouts.command));
  auto more = pulled_event_findings(run_json_list(leader, pulled, cfg.timeouts.command));
  f.insert(f.end(), more.begin(), more.end());
  require_no_findings(leader, "images came from the network:", f, pulling + "; " + pulled);
}

void require_registry_unreachable(Machine& node, const K0sConfig& cfg, std::string_view ref) {
  containerd::require_pull_fails(node, cfg.ctr(), ref, cfg.timeouts.command);
  // Only curl's network exits count as "offline": 6 cannot resolve, 7 cannot
  // connect, 28 timed out. A missing curl (127) proves nothing, and any other
  // failure (a TLS error, say) means something answered.
  auto command = "curl -sS -o /dev/null --max-time 5 https://quay.io/";
  auto r = run_command(node, command, cfg.timeouts.command);
  if (r.status == 0)
    throw CheckFailed("the node reaches the internet:", {"curl https://quay.io/ succeeded"},
                      node.context(command));
  if (r.status != 6 && r.status != 7 && r.status != 28)
    throw CheckFailed(
        fmt::format("`{}` failed, but not for a network reason:", command),
        {fmt::format(
             "exit status {}{}", r.status,
             r.status == 127 ? " (curl is not installed; the k0s test nodes need curl)" : ""),
         "stderr: " + r.err.substr(0, 400)},
        node.context(command));
}

void require_pull_policy(Machine& leader, const K0sConfig& cfg) {
  auto command = cfg.kubectl() + " -n kube-system get daemonsets,deployments -o json";
  require_no_findings(
      leader,
      fmt::format(
          "k0s-managed workloads do not use pull policy {} (spec.images.default_pull_policy):",
          cfg.airgap.pull_policy),
      pull_policy_findings(run_json_list(leader, command, cfg.timeouts.command),
                           cfg.airgap.pull_policy),
      command);
}

}  // namespace vmtest::k0s
