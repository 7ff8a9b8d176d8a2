// Node and Lease objects: each worker-side node registered, Ready, without
// pressure or bad taints, on its VLAN address, and its kubelet's Lease held
// and renewed.
#include "vmtest/k0s/kube.hpp"

#include "kube_json.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <map>
#include <set>

namespace vmtest::k0s {

using namespace detail;

namespace {

std::string internal_ip(const json& node) {
  const auto& addrs = member(member(node, "status"), "addresses");
  if (!addrs.is_array()) return {};
  for (const auto& a : addrs)
    if (str(a, "type") == "InternalIP") return str(a, "address");
  return {};
}

}  // namespace

Findings worker_registration_findings(const json& node_obj, const json& lease,
                                      const K0sNode& node) {
  Findings f;
  const auto& ready = condition(node_obj, "Ready");
  if (ready.is_null())
    f.push_back(fmt::format("node {}: no Ready condition yet (kubelet has not posted its status)",
                            node.name));
  else if (str(ready, "status") != "True")
    f.push_back(fmt::format("node {}: {}", node.name, describe_condition(ready)));
  const auto& spec = member(lease, "spec");
  auto holder = str(spec, "holderIdentity");
  if (holder != node.name)
    f.push_back(
        fmt::format("Lease kube-node-lease/{}: holderIdentity {}, expected {} (its kubelet)",
                    node.name, holder.empty() ? "(unset)" : holder, node.name));
  if (str(spec, "renewTime").empty())
    f.push_back(
        fmt::format("Lease kube-node-lease/{}: never renewed (no spec.renewTime)", node.name));
  return f;
}

Findings node_readiness_findings(const json& node_list, const K0sConfig& cfg) {
  Findings f;
  static const std::set<std::string> bad_taints = {
      "node.kubernetes.io/not-ready",     "node.kubernetes.io/unreachable",
      "node.kubernetes.io/disk-pressure", "node.kubernetes.io/memory-pressure",
      "node.kubernetes.io/pid-pressure",  "node.kubernetes.io/network-unavailable"};
  for (const auto& n : cfg.nodes) {
    const json* node = find_by_name(node_list, n.name);
    if (!n.runs_workloads()) {
      if (node)
        f.push_back(fmt::format(
            "node {}: the manifest says role controller (no kubelet), but it has a Node object",
            n.name));
      continue;
    }
    if (!node) {
      f.push_back(fmt::format("node {}: no Node object (kubelet has not registered)", n.name));
      continue;
    }
    const auto& ready = condition(*node, "Ready");
    if (ready.is_null())
      f.push_back(fmt::format("node {}: no Ready condition yet", n.name));
    else if (str(ready, "status") != "True")
      f.push_back(fmt::format("node {}: {}", n.name, describe_condition(ready)));
    for (const char* type : {"MemoryPressure", "DiskPressure", "PIDPressure"}) {
      const auto& c = condition(*node, type);
      if (!c.is_null() && str(c, "status") != "False")
        f.push_back(fmt::format("node {}: {}", n.name, describe_condition(c)));
    }
    const auto& taints = member(member(*node, "spec"), "taints");
    if (taints.is_array())
      for (const auto& t : taints)
        if (bad_taints.count(str(t, "key")))
          f.push_back(fmt::format("node {}: taint {}:{}", n.name, str(t, "key"), str(t, "effect")));
  }
  return f;
}

Findings node_address_findings(const json& node_list, const K0sConfig& cfg) {
  Findings f;
  std::map<std::string, std::vector<std::string>> by_ip;
  for (const auto& n : cfg.nodes) {
    if (!n.runs_workloads()) continue;
    const json* node = find_by_name(node_list, n.name);
    if (!node) {
      f.push_back(fmt::format("node {}: no Node object", n.name));
      continue;
    }
    auto ip = internal_ip(*node);
    if (ip.empty()) {
      f.push_back(fmt::format("node {}: no InternalIP address", n.name));
      continue;
    }
    by_ip[ip].push_back(n.name);
    if (ip != n.ip) {
      std::string why = ip == "10.0.2.15" ? "; 10.0.2.15 is QEMU's user-net address: pin kubelet's "
                                            "--node-ip to the VLAN address"
                                          : "";
      f.push_back(
          fmt::format("node {}: InternalIP {}, expected {} (its VLAN {} address in the manifest){}",
                      n.name, ip, n.ip, cfg.vlan, why));
    }
  }
  for (const auto& [ip, names] : by_ip)
    if (names.size() > 1)
      f.push_back(fmt::format("nodes {} share InternalIP {}", fmt::join(names, ", "), ip));
  return f;
}

}  // namespace vmtest::k0s
