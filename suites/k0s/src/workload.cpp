#include "vmtest/k0s/workload.hpp"

#include <vmtest/machine.hpp>
#include <vmtest/protocol.hpp>
#include <vmtest/retry.hpp>

#include <fmt/format.h>

namespace vmtest::k0s {

namespace {

using protocol::shell_quote;

const WorkloadConfig& workload_of(const K0sConfig& cfg) {
  if (!cfg.workload) throw FailedPrecondition("the manifest's k0s section has no workload");
  return *cfg.workload;
}

std::string in_ns(const K0sConfig& cfg) {
  return fmt::format("{} -n {}", cfg.kubectl(), shell_quote(workload_of(cfg).ns));
}

}  // namespace

void deploy_workload(Machine& leader, const K0sConfig& cfg) {
  const auto& w = workload_of(cfg);
  auto path = "/tmp/vmtest-k0s-workload.json";
  run_succeed(
      leader,
      fmt::format("printf '%s\\n' {} > {}", shell_quote(workload_objects(cfg).dump()), path),
      cfg.timeouts.command);
  auto command = fmt::format("{} apply -f {}", cfg.kubectl(), path);
  auto out = run_succeed(leader, command, cfg.timeouts.command);
  require_no_findings(
      leader, "kubectl apply of the workload did not go through:",
      apply_findings(out, {"namespace/" + w.ns, "deployment.apps/" + w.name, "service/" + w.name}),
      command);
}

void wait_rollout(Machine& leader, const K0sConfig& cfg) {
  const auto& w = workload_of(cfg);
  auto deploy = fmt::format("{} get deployment {} -o json", in_ns(cfg), shell_quote(w.name));
  RolloutState last;
  std::string error;
  // Set while the probe runs: a TimeoutError of its own goes up as it is;
  // the one retry_until throws at the deadline leads to the diagnosis.
  bool in_probe = false;
  try {
    retry_until(fmt::format("the rollout of Deployment {}/{}", w.ns, w.name), cfg.timeouts.rollout,
                {.interval = cfg.timeouts.poll_interval}, [&] {
                  in_probe = true;
                  try {
                    last = rollout_state(
                        run_json_object(leader, deploy, "Deployment", cfg.timeouts.command));
                    error.clear();
                  } catch (const CommandFailed& e) {
                    error = e.message();
                  }
                  in_probe = false;
                  return last.done || last.stuck;
                });
  } catch (const TimeoutError&) {
    if (in_probe) throw;
  }
  if (last.done) return;
  // Say why: each pod's state and its Warning events.
  auto pods_cmd = fmt::format("{} get pods -l app={} -o json", in_ns(cfg), w.name);
  auto events_cmd = fmt::format("{} get events -o json", in_ns(cfg));
  Findings f;
  if (!error.empty()) f.push_back(error);
  try {
    auto more = pod_diagnosis(run_json_list(leader, pods_cmd, cfg.timeouts.command),
                              run_json_list(leader, events_cmd, cfg.timeouts.command));
    f.insert(f.end(), more.begin(), more.end());
  } catch (const CommandFailed& e) {
    f.push_back("cannot read the pods: " + e.message());
  }
  auto summary =
      last.stuck
          ? fmt::format("Deployment {}/{} stopped progressing: {}", w.ns, w.name, last.summary)
          : fmt::format("Deployment {}/{} did not roll out within {}: {}", w.ns, w.name,
                        describe_seconds(cfg.timeouts.rollout),
                        last.summary.empty() ? std::string("no status") : last.summary);
  throw CheckFailed(summary, f, leader.context(deploy));
}

std::vector<PodPlace> require_pods_placed(Machine& leader, const K0sConfig& cfg) {
  const auto& w = workload_of(cfg);
  auto command = fmt::format("{} get pods -l app={} -o json", in_ns(cfg), w.name);
  auto pods = run_json_list(leader, command, cfg.timeouts.command);
  require_no_findings(leader, "the workload pods are not where they should be:",
                      pod_placement_findings(pods, cfg), command);
  return pod_places(pods);
}

std::string service_cluster_ip(Machine& leader, const K0sConfig& cfg) {
  const auto& w = workload_of(cfg);
  auto slices = fmt::format("{} get endpointslices -l kubernetes.io/service-name={} -o json",
                            in_ns(cfg), w.name);
  poll(
      leader, fmt::format("ready endpoints of Service {}/{}", w.ns, w.name), cfg.timeouts.network,
      cfg.timeouts.poll_interval,
      [&] {
        return service_endpoint_findings(run_json_list(leader, slices, cfg.timeouts.command),
                                         w.ns + "/" + w.name);
      },
      slices);
  auto command = fmt::format("{} get service {} -o json", in_ns(cfg), shell_quote(w.name));
  auto svc = run_json_object(leader, command, "Service", cfg.timeouts.command);
  auto ip = svc.value("spec", nlohmann::json::object()).value("clusterIP", std::string());
  if (ip.empty() || ip == "None")
    throw CheckFailed(fmt::format("Service {}/{} has no ClusterIP:", w.ns, w.name),
                      {svc.dump().substr(0, 300)}, leader.context(command));
  return ip;
}

std::string require_http(Machine& client, const K0sConfig& cfg, const std::string& url,
                         const std::string& what) {
  auto command = fmt::format("curl -sS -f --max-time 5 {}", shell_quote(url));
  // Retried in the guest: service rules and routes settle a little after
  // the pods are Ready.
  try {
    return run_until(client, command, cfg.timeouts.network);
  } catch (const TimeoutError& e) {
    throw CheckFailed(fmt::format("{} did not answer {} from {} within {}:", what, url,
                                  client.name(), describe_seconds(cfg.timeouts.network)),
                      {e.message()}, client.context(command));
  }
}

std::string require_pod_to_pod(Machine& leader, const K0sConfig& cfg, const PodPlace& pod_a,
                               const PodPlace& pod_b) {
  const auto& w = workload_of(cfg);
  auto url = fmt::format("http://{}:{}/", pod_b.ip, w.port);
  auto command = fmt::format("{} exec {} -- wget -q -T 5 -O- {}", in_ns(cfg),
                             shell_quote(pod_a.name), shell_quote(url));
  try {
    return run_until(leader, command, cfg.timeouts.network);
  } catch (const TimeoutError& e) {
    throw CheckFailed(fmt::format("pod {} on {} cannot reach pod {} on {} at {} within {}:",
                                  pod_a.name, pod_a.node, pod_b.name, pod_b.node, url,
                                  describe_seconds(cfg.timeouts.network)),
                      {e.message()}, leader.context(command));
  }
}

void delete_workload(Machine& leader, const K0sConfig& cfg) {
  const auto& w = workload_of(cfg);
  run_succeed(
      leader,
      fmt::format("{} delete namespace {} --ignore-not-found --wait=true --timeout={}s",
                  cfg.kubectl(), shell_quote(w.ns),
                  std::chrono::duration_cast<std::chrono::seconds>(cfg.timeouts.rollout).count()),
      cfg.timeouts.rollout + cfg.timeouts.command);
}

}  // namespace vmtest::k0s
