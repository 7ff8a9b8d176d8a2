#include "vmtest/k0s/readiness.hpp"

#include "vmtest/k0s/kube.hpp"

#include <vmtest/machine.hpp>
#include <vmtest/protocol.hpp>

#include <fmt/format.h>

#include <cctype>
#include <filesystem>

namespace vmtest::k0s {

namespace {

using protocol::shell_quote;

std::string trimmed(std::string s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.pop_back();
  std::size_t i = 0;
  while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) ++i;
  return s.substr(i);
}

// `systemctl show` of the unit, hints and the journal tail, as findings.
Findings unit_diagnosis(Machine& node, const K0sConfig& cfg) {
  auto unit = shell_quote(cfg.unit_name());
  auto show = run_command(
      node,
      fmt::format("systemctl show -p ActiveState,SubState,Result,ConditionResult,NRestarts {}",
                  unit),
      cfg.timeouts.command);
  auto journal = run_command(node, fmt::format("journalctl -u {} --no-pager -o cat -n 40", unit),
                             cfg.timeouts.command);
  Findings f = unit_hints(show.out, journal.out, cfg);
  std::string props = trimmed(show.out);
  for (auto& c : props)
    if (c == '\n') c = ' ';
  f.push_back(fmt::format("systemctl show: {}", props.empty() ? trimmed(show.err) : props));
  auto tail = trimmed(journal.out);
  f.push_back(tail.empty() ? std::string("journal: (empty)") : "journal tail:\n" + tail);
  return f;
}

std::string short_output(const std::string& s) {
  auto t = trimmed(s);
  return t.size() > 400 ? t.substr(0, 400) + "..." : t;
}

}  // namespace

void wait_unit_active(Machine& node, const K0sConfig& cfg, Duration timeout) {
  auto unit = shell_quote(cfg.unit_name());
  // Stops on active or failed, so a failed unit is reported at once.
  auto command = fmt::format(
      "s=$(systemctl show -p ActiveState --value {}); echo \"$s\"; [ \"$s\" = active ] || [ \"$s\" "
      "= failed ]",
      unit);
  std::string out;
  try {
    out = trimmed(run_until(node, command, timeout));
  } catch (const TimeoutError&) {
    throw CheckFailed(
        fmt::format("{} is not active after {}:", cfg.unit_name(), describe_seconds(timeout)),
        unit_diagnosis(node, cfg), node.context(command));
  }
  if (out != "active")
    throw CheckFailed(fmt::format("{} is {}:", cfg.unit_name(), out), unit_diagnosis(node, cfg),
                      node.context(command));
}

void node_gates(Machine& node, const K0sConfig& cfg, const K0sNode& spec, Duration timeout) {
  auto deadline = Deadline::after(timeout);
  // 1. The unit is active.
  wait_unit_active(node, cfg, deadline.remaining());
  // 2. k0s serves its status socket.
  try {
    run_until(node, fmt::format("test -e {}", shell_quote(cfg.status_socket)),
              deadline.remaining());
  } catch (const TimeoutError& e) {
    throw CheckFailed(fmt::format("{} did not appear within {} ({} is active):", cfg.status_socket,
                                  describe_seconds(timeout), cfg.unit_name()),
                      {e.message()}, node.context(fmt::format("test -e {}", cfg.status_socket)));
  }
  // 3. `k0s status` answers, with the role the manifest gives the node.
  auto command = fmt::format("{} status", cfg.k0s);
  std::string status;
  try {
    status = run_until(node, command, deadline.remaining());
  } catch (const TimeoutError& e) {
    throw CheckFailed(
        fmt::format("`{}` did not succeed within {}:", command, describe_seconds(timeout)),
        {e.message()}, node.context(command));
  }
  require_no_findings(node, "k0s status does not match the manifest:",
                      status_findings(parse_k0s_status(status), spec), command);
}

void controller_gates(Machine& leader, const K0sConfig& cfg) {
  const auto& spec = cfg.leader();
  auto deadline = Deadline::after(cfg.timeouts.api);
  node_gates(leader, cfg, spec, deadline.remaining());
  // 4. The API server is ready (k0s's WaitForKubeAPI wants /readyz 200).
  auto readyz = fmt::format(
      "out=$({} get --raw /readyz 2>&1) || true; echo \"$out\"; [ \"$out\" = ok ]", cfg.kubectl());
  try {
    run_until(leader, readyz, deadline.remaining());
  } catch (const TimeoutError& e) {
    throw CheckFailed(fmt::format("the API server is not ready (/readyz) within {}:",
                                  describe_seconds(cfg.timeouts.api)),
                      {e.message()}, leader.context(readyz));
  }
  // 5. The join API is up: without a token it answers 401 (WaitJoinAPI).
  // A single-node cluster has no joining nodes, so it is not needed there.
  if (spec.role == Role::single) return;
  auto join = fmt::format(
      "command -v curl >/dev/null || {{ echo 'curl is not installed'; exit 0; }}; "
      "code=$(curl -sk -o /dev/null -w '%{{http_code}}' --max-time 5 https://{}:9443/v1beta1/ca) "
      "|| true; "
      "echo \"$code\"; [ \"$code\" = 401 ]",
      spec.ip);
  std::string out;
  try {
    out = trimmed(run_until(leader, join, deadline.remaining()));
  } catch (const TimeoutError& e) {
    throw CheckFailed(fmt::format("the join API on {}:9443 did not answer 401 within {}:", spec.ip,
                                  describe_seconds(cfg.timeouts.api)),
                      {e.message()}, leader.context(join));
  }
  if (out != "401")
    throw CheckFailed("cannot probe the join API:", {out + " (the k0s test nodes need curl)"},
                      leader.context(join));
}

void join_node(Machine& leader, Machine& node, const K0sConfig& cfg, const K0sNode& spec) {
  auto unit = shell_quote(cfg.unit_name());
  auto state = trimmed(run_succeed(
      node, fmt::format("systemctl show -p ActiveState --value {}", unit), cfg.timeouts.command));
  // active/activating: the node has a token already (placed by the Nix side,
  // or an earlier run); only the gates remain.
  if (state == "inactive" || state == "failed") {
    auto role = spec.role == Role::worker ? "worker" : "controller";
    auto create = fmt::format("{} token create --role={} --expiry=2h", cfg.k0s, role);
    auto token = trimmed(run_succeed(leader, create, cfg.timeouts.command));
    if (token.empty() || token.find_first_of(" \t\n") != std::string::npos)
      throw CheckFailed(fmt::format("`{}` did not print one token:", create), {short_output(token)},
                        leader.context(create));
    auto dir = std::filesystem::path(cfg.token_file).parent_path().string();
    run_succeed(node,
                fmt::format("install -d -m 0755 {} && (umask 077 && printf '%s' {} > {})",
                            shell_quote(dir.empty() ? "/" : dir), shell_quote(token),
                            shell_quote(cfg.token_file)),
                cfg.timeouts.command);
    run_succeed(node, fmt::format("systemctl start {}", unit), cfg.timeouts.command);
    // k0s-nix guards workers with ConditionPathExists=<token file>: a start
    // that skips the unit leaves it inactive without an error.
    auto show =
        run_command(node, fmt::format("systemctl show -p ActiveState,ConditionResult {}", unit),
                    cfg.timeouts.command);
    if (show.out.find("ActiveState=inactive") != std::string::npos &&
        show.out.find("ConditionResult=no") != std::string::npos)
      throw CheckFailed(fmt::format("{} stayed inactive after systemctl start:", cfg.unit_name()),
                        unit_diagnosis(node, cfg),
                        node.context("systemctl start " + cfg.unit_name()));
  }
  node_gates(node, cfg, spec, cfg.timeouts.node_ready);
}

void wait_worker_api_connection(Machine& leader, Machine& node, const K0sConfig& cfg,
                                const K0sNode& spec) {
  auto get_node = fmt::format("{} get node {} -o json", cfg.kubectl(), shell_quote(spec.name));
  auto get_lease = fmt::format("{} -n kube-node-lease get lease {} -o json", cfg.kubectl(),
                               shell_quote(spec.name));
  try {
    poll(
        leader,
        fmt::format("{}'s kubelet registered and heartbeating (Node Ready, Lease held)", spec.name),
        cfg.timeouts.node_ready, cfg.timeouts.poll_interval,
        [&] {
          return worker_registration_findings(
              run_json_object(leader, get_node, "Node", cfg.timeouts.command),
              run_json_object(leader, get_lease, "Lease", cfg.timeouts.command), spec);
        },
        get_node + "; " + get_lease);
  } catch (const CheckFailed& e) {
    // What the worker itself says, as a hint only: 1.35.0-1.35.3 report
    // false on healthy workers (k0s #7362).
    auto findings = e.findings();
    auto status_cmd = fmt::format("{} status -o json", cfg.k0s);
    try {
      for (auto& h : worker_api_findings(run_json(node, status_cmd, cfg.timeouts.command), spec))
        findings.push_back("hint: " + h);
    } catch (const std::exception& x) {
      findings.push_back(
          fmt::format("hint: `{}` on {} failed: {}", status_cmd, spec.name, x.what()));
    }
    throw CheckFailed(e.summary(), findings, e.context());
  }
}

void wait_nodes_ready(Machine& leader, const K0sConfig& cfg) {
  auto command = cfg.kubectl() + " get nodes -o json";
  poll(
      leader, "every node Ready", cfg.timeouts.node_ready, cfg.timeouts.poll_interval,
      [&] {
        return node_readiness_findings(run_json_list(leader, command, cfg.timeouts.command), cfg);
      },
      command);
}

void require_node_addresses(Machine& leader, const K0sConfig& cfg) {
  auto command = cfg.kubectl() + " get nodes -o json";
  require_no_findings(
      leader, "node addresses are not the VLAN addresses of the manifest:",
      node_address_findings(run_json_list(leader, command, cfg.timeouts.command), cfg), command);
}

void wait_daemonsets(Machine& leader, const K0sConfig& cfg) {
  auto command = cfg.kubectl() + " -n kube-system get daemonsets -o json";
  poll(
      leader, "kube-system DaemonSets available", cfg.timeouts.node_ready,
      cfg.timeouts.poll_interval,
      [&] { return daemonset_findings(run_json_list(leader, command, cfg.timeouts.command), cfg); },
      command);
}

void wait_coredns(Machine& leader, const K0sConfig& cfg) {
  auto deploy = cfg.kubectl() + " -n kube-system get deployment coredns -o json";
  auto slices = cfg.kubectl() + " -n kube-system get endpointslices -l k8s-app=kube-dns -o json";
  poll(
      leader, "CoreDNS available with ready endpoints", cfg.timeouts.node_ready,
      cfg.timeouts.poll_interval,
      [&] {
        return coredns_findings(run_json_object(leader, deploy, "Deployment", cfg.timeouts.command),
                                run_json_list(leader, slices, cfg.timeouts.command));
      },
      deploy + "; " + slices);
}

void wait_pod_logs(Machine& leader, const K0sConfig& cfg) {
  auto pods_cmd = cfg.kubectl() + " -n kube-system get pods -o json";
  poll(
      leader, "kube-system pod logs readable on every worker-side node (API -> kubelet)",
      cfg.timeouts.node_ready, cfg.timeouts.poll_interval,
      [&] {
        auto targets = log_targets(run_json_list(leader, pods_cmd, cfg.timeouts.command), cfg);
        Findings f = targets.findings;
        for (const auto& t : targets.pods) {
          auto logs = fmt::format("{} -n kube-system logs {} -c {} --tail=1", cfg.kubectl(),
                                  shell_quote(t.pod), shell_quote(t.container));
          auto r = run_command(leader, logs, cfg.timeouts.command);
          if (r.status != 0)
            f.push_back(
                fmt::format("logs of kube-system/{} (container {}) on {}: `{}` exited {}: {}",
                            t.pod, t.container, t.node, logs, r.status, short_output(r.err)));
        }
        return f;
      },
      pods_cmd);
}

void wait_metrics_api(Machine& leader, const K0sConfig& cfg) {
  auto command = cfg.kubectl() + " get apiservice v1beta1.metrics.k8s.io -o json";
  poll(
      leader, "the metrics API (APIService v1beta1.metrics.k8s.io) Available",
      cfg.timeouts.node_ready, cfg.timeouts.poll_interval,
      [&] {
        return metrics_api_findings(
            run_json_object(leader, command, "APIService", cfg.timeouts.command));
      },
      command);
}

void bring_up(const NodeLookup& nodes, const K0sConfig& cfg, BringUp level) {
  auto& leader = nodes(cfg.leader().name);
  controller_gates(leader, cfg);
  for (const auto* n : cfg.joining()) join_node(leader, nodes(n->name), cfg, *n);
  if (level == BringUp::joined) return;
  wait_nodes_ready(leader, cfg);
  wait_daemonsets(leader, cfg);
  wait_coredns(leader, cfg);
  wait_pod_logs(leader, cfg);
  wait_metrics_api(leader, cfg);
}

}  // namespace vmtest::k0s
