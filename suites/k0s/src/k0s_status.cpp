// k0s itself: `k0s status` (text and JSON) and the hints a k0s unit that is
// not active leaves in `systemctl show` and its journal.
#include "vmtest/k0s/kube.hpp"

#include "kube_json.hpp"

#include <vmtest/text.hpp>

#include <fmt/format.h>

#include <set>

namespace vmtest::k0s {

using namespace detail;

std::map<std::string, std::string> parse_k0s_status(std::string_view text) {
  std::map<std::string, std::string> out;
  for (auto line : lines_of(text)) {
    auto colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    auto key = trim(line.substr(0, colon));
    if (key.empty()) continue;
    out.emplace(std::string(key), std::string(trim(line.substr(colon + 1))));
  }
  return out;
}

Findings status_findings(const std::map<std::string, std::string>& status, const K0sNode& node) {
  Findings f;
  auto get = [&](const char* key) -> std::string {
    auto it = status.find(key);
    return it == status.end() ? std::string("(missing)") : it->second;
  };
  auto role = get("Role");
  if (role != node.status_role())
    f.push_back(fmt::format("k0s status on {}: Role: {}, expected {} (manifest role {})", node.name,
                            role, node.status_role(), role_name(node.role)));
  auto workloads = get("Workloads");
  std::string want = node.runs_workloads() ? "true" : "false";
  if (workloads != want)
    f.push_back(fmt::format("k0s status on {}: Workloads: {}, expected {} (manifest role {})",
                            node.name, workloads, want, role_name(node.role)));
  return f;
}

Findings worker_api_findings(const json& status, const K0sNode& node) {
  const auto& conn = member(status, "WorkerToAPIConnectionStatus");
  if (!conn.is_object())
    return {fmt::format("k0s status -o json on {}: no WorkerToAPIConnectionStatus (Role {})",
                        node.name, str(status, "Role"))};
  const auto& ok = member(conn, "Success");
  if (ok.is_boolean() && ok.get<bool>()) return {};
  auto message = str(conn, "Message");
  return {fmt::format("k0s status -o json on {}: WorkerToAPIConnectionStatus.Success is false{}",
                      node.name, message.empty() ? std::string() : ": " + message)};
}

Findings unit_hints(std::string_view show_output, std::string_view journal, const K0sConfig& cfg) {
  Findings f;
  std::map<std::string, std::string> props;
  for (auto line : lines_of(show_output)) {
    auto eq = line.find('=');
    if (eq != std::string_view::npos)
      props.emplace(std::string(line.substr(0, eq)), std::string(trim(line.substr(eq + 1))));
  }
  auto prop = [&](const char* k) {
    auto it = props.find(k);
    return it == props.end() ? std::string() : it->second;
  };
  if (prop("ActiveState") == "inactive" && prop("ConditionResult") == "no")
    f.push_back(fmt::format(
        "{} is inactive with ConditionResult=no: its start condition failed; on a worker that is "
        "ConditionPathExists={} (no token file)",
        cfg.unit_name(), cfg.token_file));
  if (prop("SubState") == "auto-restart")
    f.push_back(
        fmt::format("{} crashed and waits to restart (NRestarts={}; k0s-nix uses RestartSec=120)",
                    cfg.unit_name(), prop("NRestarts")));
  std::set<std::string> seen;
  auto hint = [&](std::string text) {
    if (seen.insert(text).second) f.push_back(std::move(text));
  };
  for (auto line : lines_of(journal)) {
    if (line.find("failed to decode join token") != std::string_view::npos)
      hint(fmt::format("the join token in {} is bad or blank: {}", cfg.token_file, trim(line)));
    else if (line.find(":6443") != std::string_view::npos &&
             (line.find("connection refused") != std::string_view::npos ||
              line.find("x509") != std::string_view::npos ||
              line.find("no route to host") != std::string_view::npos ||
              line.find("i/o timeout") != std::string_view::npos))
      hint(fmt::format("the API server is not reachable (spec.api.address/sans, firewall?): {}",
                       trim(line)));
  }
  return f;
}

}  // namespace vmtest::k0s
