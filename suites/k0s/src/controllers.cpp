// DaemonSets and Deployments: kube-system's DaemonSets and pull policies,
// the workload suite's objects, its rollout, and what `kubectl apply` said.
#include "vmtest/k0s/kube.hpp"

#include "kube_json.hpp"

#include <vmtest/errors.hpp>
#include <vmtest/text.hpp>

#include <fmt/format.h>

namespace vmtest::k0s {

using namespace detail;

Findings daemonset_findings(const json& daemonset_list, const K0sConfig& cfg) {
  Findings f;
  auto workers = static_cast<long long>(cfg.worker_side().size());
  bool single = cfg.nodes.size() == 1 && cfg.nodes.front().role == Role::single;
  auto check = [&](const json& ds) {
    auto name = name_of(ds);
    const auto& st = member(ds, "status");
    auto desired = num(st, "desiredNumberScheduled");
    auto available = num(st, "numberAvailable");
    auto ready = num(st, "numberReady");
    if (desired != workers)
      f.push_back(fmt::format(
          "DaemonSet kube-system/{}: scheduled on {} nodes, expected {} (the worker-side nodes)",
          name, desired, workers));
    if (available < desired || desired == 0)
      f.push_back(
          fmt::format("DaemonSet kube-system/{}: {} of {} available (ready {}, unavailable {})",
                      name, available, desired, ready, num(st, "numberUnavailable")));
  };
  std::vector<std::string> required = {"kube-proxy"};
  if (!single) required.push_back("konnectivity-agent");
  for (const auto& name : required) {
    if (const json* ds = find_by_name(daemonset_list, name))
      check(*ds);
    else
      f.push_back(fmt::format("DaemonSet kube-system/{}: missing", name));
  }
  const json* cni = find_by_name(daemonset_list, "kube-router");
  if (!cni) cni = find_by_name(daemonset_list, "calico-node");
  if (cni)
    check(*cni);
  else
    f.push_back(
        "no CNI DaemonSet: neither kube-system/kube-router nor kube-system/calico-node exists");
  return f;
}

Findings pull_policy_findings(const json& workload_list, std::string_view policy) {
  Findings f;
  for (const auto& w : items_of(workload_list)) {
    auto kind = str(w, "kind");
    const auto& spec = member(member(member(w, "spec"), "template"), "spec");
    for (const char* field : {"initContainers", "containers"}) {
      const auto& cs = member(spec, field);
      if (!cs.is_array()) continue;
      for (const auto& c : cs) {
        auto p = str(c, "imagePullPolicy");
        if (p != policy)
          f.push_back(fmt::format(
              "{} {}/{} {} {} (image {}): imagePullPolicy {}, expected {}", kind, ns_of(w),
              name_of(w),
              std::string_view(field) == "initContainers" ? "init container" : "container",
              str(c, "name"), str(c, "image"), p.empty() ? "(unset)" : p, policy));
      }
    }
  }
  return f;
}

json workload_objects(const K0sConfig& cfg) {
  if (!cfg.workload) throw FailedPrecondition("the manifest's k0s section has no workload");
  const auto& w = *cfg.workload;
  json labels = {{"app", w.name}};
  json container = {
      {"name", "web"},
      {"image", w.image},
      {"imagePullPolicy", "Never"},
      {"ports", json::array({{{"name", "http"}, {"containerPort", w.port}, {"protocol", "TCP"}}})},
      {"readinessProbe",
       {{"httpGet", {{"path", "/"}, {"port", w.port}}},
        {"periodSeconds", 2},
        {"failureThreshold", 3}}},
  };
  json pod_spec = {
      // One pod per node, so the pods land on every worker and pod-to-pod
      // traffic crosses nodes.
      {"affinity",
       {{"podAntiAffinity",
         {{"requiredDuringSchedulingIgnoredDuringExecution",
           json::array({{{"labelSelector", {{"matchLabels", labels}}},
                         {"topologyKey", "kubernetes.io/hostname"}}})}}}}},
      {"terminationGracePeriodSeconds", 5},
      {"containers", json::array({container})},
  };
  json deployment = {
      {"apiVersion", "apps/v1"},
      {"kind", "Deployment"},
      {"metadata", {{"name", w.name}, {"namespace", w.ns}, {"labels", labels}}},
      {"spec",
       {{"replicas", cfg.replicas()},
        {"selector", {{"matchLabels", labels}}},
        {"template", {{"metadata", {{"labels", labels}}}, {"spec", pod_spec}}}}},
  };
  json service = {
      {"apiVersion", "v1"},
      {"kind", "Service"},
      {"metadata", {{"name", w.name}, {"namespace", w.ns}, {"labels", labels}}},
      {"spec",
       {{"type", "NodePort"},
        {"selector", labels},
        {"ports", json::array({{{"name", "http"},
                                {"protocol", "TCP"},
                                {"port", 80},
                                {"targetPort", w.port},
                                {"nodePort", w.node_port}}})}}},
  };
  json ns = {{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", w.ns}}}};
  return {
      {"apiVersion", "v1"}, {"kind", "List"}, {"items", json::array({ns, deployment, service})}};
}

RolloutState rollout_state(const json& deployment) {
  RolloutState s;
  const auto& meta = member(deployment, "metadata");
  const auto& st = member(deployment, "status");
  auto want = member(member(deployment, "spec"), "replicas").is_number()
                  ? member(member(deployment, "spec"), "replicas").get<long long>()
                  : 1;
  auto generation = num(meta, "generation");
  auto observed = num(st, "observedGeneration");
  auto updated = num(st, "updatedReplicas");
  auto available = num(st, "availableReplicas");
  auto ready = num(st, "readyReplicas");
  s.done =
      observed >= generation && updated == want && available == want && num(st, "replicas") == want;
  s.summary = fmt::format("{} of {} replicas available (updated {}, ready {})", available, want,
                          updated, ready);
  if (observed < generation)
    s.summary += fmt::format("; generation {} not observed yet (at {})", generation, observed);
  const auto& progressing = condition(deployment, "Progressing");
  if (!progressing.is_null() && str(progressing, "status") == "False") {
    s.stuck = true;
    s.summary += "; " + describe_condition(progressing);
  }
  return s;
}

Findings apply_findings(std::string_view output, const std::vector<std::string>& objects) {
  Findings f;
  for (const auto& obj : objects) {
    bool ok = false;
    for (auto line : lines_of(output)) {
      auto t = trim(line);
      if (!starts_with(t, obj + " ")) continue;
      auto verb = trim(t.substr(obj.size()));
      if (verb == "created" || verb == "configured" || verb == "unchanged" ||
          starts_with(verb, "serverside-applied"))
        ok = true;
    }
    if (!ok)
      f.push_back(fmt::format("kubectl apply did not report {} (output: {})", obj, trim(output)));
  }
  return f;
}

}  // namespace vmtest::k0s
