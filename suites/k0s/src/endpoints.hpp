// File: suites/k0s/src/endpoints.hpp (internal, not installed)
//
// EndpointSlice readiness, one reading for the workload suite's Service
// (service_endpoint_findings) and the user's Services (apps.hpp).
#pragma once

#include "vmtest/k0s/kube.hpp"

#include <nlohmann/json.hpp>

#include <cstddef>
#include <string>
#include <string_view>

namespace vmtest::k0s::detail {

// An endpoint's first address, or "?" when it has none or it is not a
// string.
std::string endpoint_address(const nlohmann::json& endpoint);

struct EndpointReadiness {
  std::size_t endpoints = 0;  // all endpoints of all slices
  Findings not_ready;         // one line per endpoint that is not ready
};
// Counts the endpoints of `slices` (EndpointSlice objects) and names each
// whose ready condition is false: "<subject>: endpoint <address> (pod <pod>
// on <node>) is not ready". discovery/v1: a missing ready condition means
// ready.
EndpointReadiness endpoint_readiness(const nlohmann::json::array_t& slices,
                                     std::string_view subject);

}  // namespace vmtest::k0s::detail
