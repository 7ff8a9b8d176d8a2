// Pods: where wait_pod_logs reads logs, why pods are not Running and Ready
// (their container states and Warning events), and where the workload's
// pods run.
#include "vmtest/k0s/kube.hpp"

#include "kube_json.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <map>
#include <set>

namespace vmtest::k0s {

using namespace detail;

LogTargets log_targets(const json& pod_list, const K0sConfig& cfg) {
  LogTargets t;
  for (const auto* n : cfg.worker_side()) {
    const json* pick = nullptr;
    for (const auto& pod : items_of(pod_list)) {
      if (str(member(pod, "spec"), "nodeName") != n->name) continue;
      if (str(member(pod, "status"), "phase") != "Running") continue;
      const auto& cs = member(member(pod, "spec"), "containers");
      if (!cs.is_array() || cs.empty()) continue;
      pick = &pod;
      break;
    }
    if (!pick) {
      t.findings.push_back(
          fmt::format("node {}: no Running kube-system pod to read logs from", n->name));
      continue;
    }
    t.pods.push_back(
        {n->name, name_of(*pick), str(member(*pick, "spec")["containers"][0], "name")});
  }
  return t;
}

Findings pod_diagnosis(const json& pod_list, const json& events) {
  Findings f;
  for (const auto& pod : items_of(pod_list)) {
    auto name = name_of(pod);
    auto node = str(member(pod, "spec"), "nodeName");
    const auto& st = member(pod, "status");
    auto phase = str(st, "phase");
    std::string where = node.empty() ? fmt::format("pod {} (not scheduled)", name)
                                     : fmt::format("pod {} on {}", name, node);
    bool healthy = phase == "Running" && str(condition(pod, "Ready"), "status") == "True";
    std::vector<std::string> lines;
    for (const char* field : {"initContainerStatuses", "containerStatuses"}) {
      const auto& cs = member(st, field);
      if (!cs.is_array()) continue;
      for (const auto& c : cs) {
        const auto& state = member(c, "state");
        auto restarts = num(c, "restartCount");
        if (const auto& waiting = member(state, "waiting"); waiting.is_object()) {
          auto reason = str(waiting, "reason");
          auto message = str(waiting, "message");
          std::string text = fmt::format("container {} waiting: {}{}", str(c, "name"), reason,
                                         message.empty() ? std::string() : ": " + message);
          if (restarts > 0) text += fmt::format("; restarts {}", restarts);
          const auto& term = member(member(c, "lastState"), "terminated");
          if (term.is_object())
            text += fmt::format("; last terminated: {} (exit code {})", str(term, "reason"),
                                num(term, "exitCode"));
          lines.push_back(std::move(text));
        } else if (const auto& term = member(state, "terminated");
                   term.is_object() && std::string_view(field) == "containerStatuses") {
          lines.push_back(fmt::format("container {} terminated: {} (exit code {})", str(c, "name"),
                                      str(term, "reason"), num(term, "exitCode")));
        } else if (member(state, "running").is_object() &&
                   !(member(c, "ready").is_boolean() && member(c, "ready").get<bool>()) &&
                   std::string_view(field) == "containerStatuses") {
          lines.push_back(fmt::format("container {} running but not ready", str(c, "name")));
        }
      }
    }
    if (!healthy && lines.empty()) {
      const auto& scheduled = condition(pod, "PodScheduled");
      if (!scheduled.is_null() && str(scheduled, "status") != "True")
        lines.push_back(describe_condition(scheduled));
      else
        lines.push_back(fmt::format("phase {}", phase.empty() ? "(none)" : phase));
    }
    // The pod's Warning events, newest wording once each.
    std::set<std::string> seen;
    for (const auto& e : items_of(events)) {
      const auto& obj = member(e, "involvedObject");
      if (str(obj, "kind") != "Pod" || str(obj, "name") != name || str(e, "type") != "Warning")
        continue;
      auto text = fmt::format("event {}: {}", str(e, "reason"), str(e, "message"));
      auto count = event_count(e);
      if (seen.insert(text).second)
        lines.push_back(count > 1 ? fmt::format("{} (x{})", text, count) : text);
    }
    if (healthy) continue;  // a Ready pod's old warnings are noise here
    for (auto& l : lines) f.push_back(fmt::format("{}: {}", where, l));
  }
  return f;
}

std::vector<PodPlace> pod_places(const json& pod_list) {
  std::vector<PodPlace> out;
  for (const auto& pod : items_of(pod_list))
    out.push_back(
        {name_of(pod), str(member(pod, "spec"), "nodeName"), str(member(pod, "status"), "podIP")});
  return out;
}

Findings pod_placement_findings(const json& pod_list, const K0sConfig& cfg) {
  Findings f;
  const auto& w = cfg.workload.value();
  std::set<std::string> worker_names;
  for (const auto* n : cfg.worker_side()) worker_names.insert(n->name);
  std::map<std::string, std::vector<std::string>> by_node;
  std::size_t count = 0;
  for (const auto& pod : items_of(pod_list)) {
    if (!member(member(pod, "metadata"), "deletionTimestamp").is_null()) continue;  // terminating
    ++count;
    auto name = name_of(pod);
    auto node = str(member(pod, "spec"), "nodeName");
    const auto& st = member(pod, "status");
    if (str(st, "phase") != "Running")
      f.push_back(fmt::format("pod {} on {}: phase {}", name, node.empty() ? "(no node)" : node,
                              str(st, "phase")));
    else if (str(condition(pod, "Ready"), "status") != "True")
      f.push_back(fmt::format("pod {} on {}: Running but {}", name, node,
                              describe_condition(condition(pod, "Ready"))));
    if (!node.empty()) {
      by_node[node].push_back(name);
      if (!worker_names.count(node))
        f.push_back(fmt::format(
            "pod {} runs on {}, which is not a worker-side node of the manifest", name, node));
    }
    const auto& cs = member(member(pod, "spec"), "containers");
    if (cs.is_array())
      for (const auto& c : cs) {
        if (str(c, "image") != w.image)
          f.push_back(fmt::format("pod {}: container {} has image {}, expected {}", name,
                                  str(c, "name"), str(c, "image"), w.image));
        if (str(c, "imagePullPolicy") != "Never")
          f.push_back(fmt::format("pod {}: container {} has imagePullPolicy {}, expected Never",
                                  name, str(c, "name"), str(c, "imagePullPolicy")));
      }
    if (str(st, "phase") == "Running" && str(st, "podIP").empty())
      f.push_back(fmt::format("pod {} on {}: Running without a pod IP", name, node));
  }
  auto want = static_cast<std::size_t>(cfg.replicas());
  if (count != want)
    f.push_back(fmt::format("{} pods with app={}, expected {}", count, w.name, want));
  for (const auto& [node, pods] : by_node)
    if (pods.size() > 1)
      f.push_back(fmt::format("node {} runs {} pods ({}); the anti-affinity spreads one per node",
                              node, pods.size(), fmt::join(pods, ", ")));
  if (want == worker_names.size())
    for (const auto& n : worker_names)
      if (!by_node.count(n)) f.push_back(fmt::format("no pod on worker-side node {}", n));
  return f;
}

}  // namespace vmtest::k0s
