// File: suites/k0s/src/kube_json.hpp (internal, not installed)
//
// Reading kubectl's JSON the way every k0s evaluation does: kubectl omits
// empty fields and zero counts, so an absent member reads as "", 0 or null
// instead of throwing; a List that is not a List is a shape error.
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <string_view>

namespace vmtest::k0s::detail {

using nlohmann::json;

// The member `key` of an object, or null (also when `obj` is no object).
const json& member(const json& obj, const char* key);
// A string member, or "".
std::string str(const json& obj, const char* key);
// An integer member, or 0: Kubernetes omits zero counts.
long long num(const json& obj, const char* key);

// The items of a List. Anything else is an InvalidArgument naming the shape
// seen, never "no items": one object where a List was asked for would read
// as "nothing there".
const json& items_of(const json& list);
// The first item of a List named `name`, or nullptr.
const json* find_by_name(const json& list, std::string_view name);

std::string name_of(const json& obj);
std::string ns_of(const json& obj);

// The condition of `type` in status.conditions, or null.
const json& condition(const json& obj, std::string_view type);
// "Ready=False (KubeletNotReady: container runtime network not ready: ...)"
std::string describe_condition(const json& c);

// An event's repeat count: events.k8s.io/v1 producers (the scheduler) set
// series.count, core/v1 recorders (the kubelet) count; 1 when neither.
long long event_count(const json& e);

inline bool starts_with(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

}  // namespace vmtest::k0s::detail
