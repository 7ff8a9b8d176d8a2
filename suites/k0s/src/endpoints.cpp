// EndpointSlices: the workload Service's and kube-dns's (with CoreDNS's
// Deployment), all read through endpoint_readiness / endpoint_address.
#include "endpoints.hpp"

#include "kube_json.hpp"

#include <fmt/format.h>

namespace vmtest::k0s {

using namespace detail;

namespace detail {

std::string endpoint_address(const json& endpoint) {
  const auto& addrs = member(endpoint, "addresses");
  return addrs.is_array() && !addrs.empty() && addrs[0].is_string() ? addrs[0].get<std::string>()
                                                                    : "?";
}

EndpointReadiness endpoint_readiness(const json::array_t& slices, std::string_view subject) {
  EndpointReadiness r;
  for (const auto& slice : slices) {
    const auto& eps = member(slice, "endpoints");
    if (!eps.is_array()) continue;
    for (const auto& ep : eps) {
      ++r.endpoints;
      const auto& ready = member(member(ep, "conditions"), "ready");
      if (ready.is_boolean() && !ready.get<bool>())
        r.not_ready.push_back(fmt::format(
            "{}: endpoint {} (pod {} on {}) is not ready", subject, endpoint_address(ep),
            str(member(ep, "targetRef"), "name"), str(ep, "nodeName")));
    }
  }
  return r;
}

}  // namespace detail

Findings coredns_findings(const json& deployment, const json& endpointslice_list) {
  Findings f;
  const auto& available = condition(deployment, "Available");
  if (available.is_null())
    f.push_back("Deployment kube-system/coredns: no Available condition yet");
  else if (str(available, "status") != "True")
    f.push_back(fmt::format("Deployment kube-system/coredns: {}", describe_condition(available)));
  std::size_t endpoints = 0;
  for (const auto& slice : items_of(endpointslice_list)) {
    const auto& eps = member(slice, "endpoints");
    if (!eps.is_array()) continue;
    for (const auto& ep : eps) {
      ++endpoints;
      const auto& cond = member(ep, "conditions");
      // Per the EndpointSlice API a missing condition means true.
      auto flag = [&](const char* k) {
        const auto& v = member(cond, k);
        return !v.is_boolean() || v.get<bool>();
      };
      if (!flag("ready") || !flag("serving"))
        f.push_back(fmt::format(
            "EndpointSlice kube-system/{}: endpoint {} (pod {}, node {}) ready={} serving={}",
            name_of(slice), endpoint_address(ep), str(member(ep, "targetRef"), "name"),
            str(ep, "nodeName"), flag("ready"), flag("serving")));
    }
  }
  if (endpoints == 0) f.push_back("EndpointSlices with k8s-app=kube-dns: no endpoints");
  return f;
}

Findings service_endpoint_findings(const json& endpointslice_list, const std::string& service) {
  auto r = endpoint_readiness(items_of(endpointslice_list).get_ref<const json::array_t&>(),
                              "Service " + service);
  if (r.endpoints == 0)
    r.not_ready.push_back(fmt::format(
        "Service {}: no endpoints (selector matches no ready pod, or the pods are not Ready)",
        service));
  return std::move(r.not_ready);
}

}  // namespace vmtest::k0s
