#include "kube_json.hpp"

#include "vmtest/k0s/check.hpp"

#include <vmtest/errors.hpp>

#include <fmt/format.h>

#include <algorithm>

namespace vmtest::k0s::detail {

const json& member(const json& obj, const char* key) {
  static const json null_value;
  if (!obj.is_object()) return null_value;
  auto it = obj.find(key);
  return it == obj.end() ? null_value : *it;
}

std::string str(const json& obj, const char* key) {
  const auto& v = member(obj, key);
  return v.is_string() ? v.get<std::string>() : std::string();
}

long long num(const json& obj, const char* key) {
  const auto& v = member(obj, key);
  return v.is_number() ? v.get<long long>() : 0;
}

const json& items_of(const json& list) {
  const auto& items = member(list, "items");
  if (!items.is_array())
    throw InvalidArgument(
        fmt::format("expected a List with an items array, got {}", describe_shape(list)));
  return items;
}

const json* find_by_name(const json& list, std::string_view name) {
  for (const auto& item : items_of(list))
    if (name_of(item) == name) return &item;
  return nullptr;
}

std::string name_of(const json& obj) {
  return str(member(obj, "metadata"), "name");
}

std::string ns_of(const json& obj) {
  return str(member(obj, "metadata"), "namespace");
}

const json& condition(const json& obj, std::string_view type) {
  static const json null_value;
  const auto& conds = member(member(obj, "status"), "conditions");
  if (!conds.is_array()) return null_value;
  for (const auto& c : conds)
    if (str(c, "type") == type) return c;
  return null_value;
}

std::string describe_condition(const json& c) {
  auto reason = str(c, "reason");
  auto message = str(c, "message");
  std::string detail;
  if (!reason.empty() && !message.empty())
    detail = fmt::format(" ({}: {})", reason, message);
  else if (!reason.empty())
    detail = fmt::format(" ({})", reason);
  else if (!message.empty())
    detail = fmt::format(" ({})", message);
  return fmt::format("{}={}{}", str(c, "type"), str(c, "status"), detail);
}

long long event_count(const json& e) {
  const auto& series = member(e, "series");
  if (series.is_object() && member(series, "count").is_number())
    return member(series, "count").get<long long>();
  return std::max<long long>(num(e, "count"), 1);
}

}  // namespace vmtest::k0s::detail
