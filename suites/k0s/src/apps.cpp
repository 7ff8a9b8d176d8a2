#include "vmtest/k0s/apps.hpp"

#include "vmtest/k0s/kube.hpp"

#include "endpoints.hpp"
#include "kube_json.hpp"

#include <vmtest/machine.hpp>
#include <vmtest/protocol.hpp>
#include <vmtest/retry.hpp>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <set>

namespace vmtest::k0s {

using namespace detail;

namespace {

using protocol::shell_quote;

bool condition_true(const json& obj, std::string_view type) {
  return str(condition(obj, type), "status") == "True";
}
std::string reason_of(const json& c) {
  auto reason = str(c, "reason");
  auto message = str(c, "message");
  if (!reason.empty() && !message.empty()) return fmt::format("{}: {}", reason, message);
  return reason.empty() ? message : reason;
}
// spec.replicas, 1 when absent (the API server's default).
long long wanted_replicas(const json& obj) {
  const auto& r = member(member(obj, "spec"), "replicas");
  return r.is_number() ? r.get<long long>() : 1;
}
// "generation 3 not observed yet (at 2)" or "".
std::string generation_lag(const json& obj) {
  auto generation = num(member(obj, "metadata"), "generation");
  auto observed = num(member(obj, "status"), "observedGeneration");
  return observed < generation
             ? fmt::format("generation {} not observed yet (at {})", generation, observed)
             : std::string();
}

Findings deployment_findings(const json& obj, const std::string& ref) {
  auto s = rollout_state(obj);
  if (s.done) return {};
  return {fmt::format("{}: {}{}", ref, s.summary, s.stuck ? " (stopped progressing)" : "")};
}

Findings statefulset_findings(const json& obj, const std::string& ref) {
  const auto& st = member(obj, "status");
  auto want = wanted_replicas(obj);
  auto ready = num(st, "readyReplicas");
  auto updated = num(st, "updatedReplicas");
  auto lag = generation_lag(obj);
  // kubectl's StatefulSetStatusViewer: ready replicas, then (RollingUpdate) updated ones; a
  // rollout without partition is done when currentRevision reached updateRevision.
  bool revision_done = str(st, "currentRevision") == str(st, "updateRevision") || updated >= want;
  if (lag.empty() && ready >= want && revision_done) return {};
  auto text = fmt::format(
      "{}: {} of {} replicas ready (updated {}, current revision {}, update revision {})", ref,
      ready, want, updated, str(st, "currentRevision"), str(st, "updateRevision"));
  if (!lag.empty()) text += "; " + lag;
  return {text};
}

Findings daemonset_findings_of(const json& obj, const std::string& ref) {
  const auto& st = member(obj, "status");
  auto desired = num(st, "desiredNumberScheduled");
  auto updated = num(st, "updatedNumberScheduled");
  auto available = num(st, "numberAvailable");
  auto lag = generation_lag(obj);
  if (desired == 0 && lag.empty())
    return {fmt::format(
        "{}: scheduled on no node (no node matches its nodeSelector, affinity or tolerations)",
        ref)};
  if (lag.empty() && updated >= desired && available >= desired) return {};
  auto text = fmt::format(
      "{}: {} of {} pods available (updated {}, unavailable {}, misscheduled {})", ref, available,
      desired, updated, num(st, "numberUnavailable"), num(st, "numberMisscheduled"));
  if (!lag.empty()) text += "; " + lag;
  return {text};
}

Findings job_findings(const json& obj, const std::string& ref) {
  if (condition_true(obj, "Complete")) return {};
  if (terminally_failed(obj))
    return {fmt::format("{}: failed: {}", ref, reason_of(condition(obj, "Failed")))};
  const auto& st = member(obj, "status");
  const auto& completions = member(member(obj, "spec"), "completions");
  return {fmt::format("{}: not complete: {} of {} succeeded (active {}, failed {})", ref,
                      num(st, "succeeded"),
                      completions.is_number() ? completions.get<long long>() : 1, num(st, "active"),
                      num(st, "failed"))};
}

Findings pod_findings(const json& obj, const std::string& ref) {
  auto phase = str(member(obj, "status"), "phase");
  if (phase == "Succeeded" || (phase == "Running" && condition_true(obj, "Ready"))) return {};
  const auto& ready = condition(obj, "Ready");
  return {fmt::format(
      "{}: phase {}{}", ref, phase.empty() ? "(none)" : phase,
      ready.is_null() ? std::string()
                      : fmt::format(", Ready={} ({})", str(ready, "status"), reason_of(ready)))};
}

Findings service_findings(const json& obj, const std::string& ref, const json& slices) {
  if (!needs_endpoints(obj)) return {};
  if (slices.is_null()) return {fmt::format("{}: its EndpointSlices were not read", ref)};
  auto readiness = endpoint_readiness(listed_objects(slices), ref);
  Findings f = std::move(readiness.not_ready);
  if (readiness.endpoints == 0) {
    const auto& selector = member(member(obj, "spec"), "selector");
    if (selector.is_object() && !selector.empty()) {
      std::vector<std::string> pairs;
      for (auto& [k, v] : selector.items())
        pairs.push_back(fmt::format("{}={}", k, v.is_string() ? v.get<std::string>() : v.dump()));
      f.push_back(fmt::format("{}: no endpoints (no ready pod matches its selector {})", ref,
                              fmt::join(pairs, ",")));
    } else {
      f.push_back(fmt::format(
          "{}: no endpoints (it has no selector and nothing wrote an EndpointSlice for it)", ref));
    }
  }
  return f;
}

std::string slices_command(const K0sConfig& cfg, const json& svc) {
  auto ns = str(member(svc, "metadata"), "namespace");
  return fmt::format("{} get endpointslices -n {} -l kubernetes.io/service-name={} -o json",
                     cfg.kubectl(), shell_quote(ns.empty() ? "default" : ns),
                     shell_quote(str(member(svc, "metadata"), "name")));
}

std::string get_command(const K0sConfig& cfg) {
  return fmt::format("{} get -R -f {} -o json", cfg.kubectl(), kAppsGuestPath);
}

}  // namespace

std::vector<json> listed_objects(const json& doc) {
  if (!doc.is_object() || str(doc, "kind").empty())
    throw InvalidArgument(
        fmt::format("expected a Kubernetes object or List, got {}", describe_shape(doc)));
  auto kind = str(doc, "kind");
  if (kind.size() >= 4 && kind.compare(kind.size() - 4, 4, "List") == 0) {
    const auto& items = member(doc, "items");
    if (!items.is_array())
      throw InvalidArgument(
          fmt::format("expected a List with an items array, got {}", describe_shape(doc)));
    return std::vector<json>(items.begin(), items.end());
  }
  return {doc};
}

std::string object_ref(const json& obj) {
  auto ns = str(member(obj, "metadata"), "namespace");
  auto name = str(member(obj, "metadata"), "name");
  return fmt::format("{} {}", str(obj, "kind"), ns.empty() ? name : ns + "/" + name);
}

bool needs_endpoints(const json& obj) {
  return str(obj, "kind") == "Service" && str(member(obj, "spec"), "type") != "ExternalName";
}

bool terminally_failed(const json& obj) {
  return str(obj, "kind") == "Job" && condition_true(obj, "Failed");
}

Findings object_findings(const json& obj, const json& endpointslices) {
  auto kind = str(obj, "kind");
  auto ref = object_ref(obj);
  if (kind == "Deployment") return deployment_findings(obj, ref);
  if (kind == "StatefulSet") return statefulset_findings(obj, ref);
  if (kind == "DaemonSet") return daemonset_findings_of(obj, ref);
  if (kind == "Job") return job_findings(obj, ref);
  if (kind == "Pod") return pod_findings(obj, ref);
  if (kind == "Service") return service_findings(obj, ref, endpointslices);
  return {};
}

void deploy_apps(Machine& leader, const K0sConfig& cfg, const std::filesystem::path& host_path) {
  if (!std::filesystem::exists(host_path))
    throw NotFound(fmt::format(
        "the workload manifests {} (value workloadManifests) do not exist on the host; is the "
        "store path in the check's inputs?",
        host_path.string()));
  run_succeed(leader, fmt::format("rm -rf {}", kAppsGuestPath), cfg.timeouts.command);
  leader.copy_from_host(host_path, kAppsGuestPath, cfg.timeouts.command);
  auto command = fmt::format("{} apply -R -f {}", cfg.kubectl(), kAppsGuestPath);
  auto result = run_command(leader, command, cfg.timeouts.command);
  if (result.status != 0)
    throw CheckFailed(fmt::format("kubectl apply of the workload manifests {} failed (exit {}):",
                                  host_path.string(), result.status),
                      {std::string(result.err.empty() ? result.out : result.err)},
                      leader.context(command));
}

void wait_apps_ready(Machine& leader, const K0sConfig& cfg,
                     const std::filesystem::path& host_path) {
  auto get = get_command(cfg);
  Findings last;
  std::size_t total = 0, not_ready = 0;
  std::set<std::string> namespaces;
  bool failed_job = false;
  // Set while the probe runs: a TimeoutError of its own goes up as it is;
  // the one retry_until throws at the deadline leads to the diagnosis.
  bool in_probe = false;
  try {
    retry_until(fmt::format("the workload manifests {}", host_path.string()), cfg.timeouts.rollout,
                {.interval = cfg.timeouts.poll_interval}, [&] {
                  in_probe = true;
                  last.clear();
                  not_ready = 0;
                  bool stop = false;
                  try {
                    auto objects = listed_objects(run_json(leader, get, cfg.timeouts.command));
                    total = objects.size();
                    for (const auto& obj : objects) {
                      json slices;
                      if (needs_endpoints(obj))
                        slices =
                            run_json_list(leader, slices_command(cfg, obj), cfg.timeouts.command);
                      auto f = object_findings(obj, slices);
                      if (!f.empty()) {
                        ++not_ready;
                        auto ns = str(member(obj, "metadata"), "namespace");
                        if (!ns.empty()) namespaces.insert(ns);
                        failed_job = failed_job || terminally_failed(obj);
                      }
                      last.insert(last.end(), f.begin(), f.end());
                    }
                    // Ready, or a Job failed for good: no use waiting.
                    stop = last.empty() || failed_job;
                  } catch (const CommandFailed& e) {
                    last = {e.message()};
                  }
                  in_probe = false;
                  return stop;
                });
  } catch (const TimeoutError&) {
    if (in_probe) throw;
  }
  if (last.empty()) return;
  // Why: the pods of every namespace with something not ready.
  for (const auto& ns : namespaces) {
    auto pods = fmt::format("{} get pods -n {} -o json", cfg.kubectl(), shell_quote(ns));
    auto events = fmt::format("{} get events -n {} -o json", cfg.kubectl(), shell_quote(ns));
    try {
      auto more = pod_diagnosis(run_json_list(leader, pods, cfg.timeouts.command),
                                run_json_list(leader, events, cfg.timeouts.command));
      last.insert(last.end(), more.begin(), more.end());
    } catch (const std::exception& e) {
      last.push_back(fmt::format("cannot read the pods of namespace {}: {}", ns, e.what()));
    }
  }
  auto summary =
      total == 0
          ? fmt::format("the workload manifests {} declare nothing kubectl could get within {}:",
                        host_path.string(), describe_seconds(cfg.timeouts.rollout))
      : failed_job
          ? fmt::format(
                "{} of {} objects of the workload manifests {} are not ready, and a Job failed:",
                not_ready, total, host_path.string())
          : fmt::format(
                "{} of {} objects of the workload manifests {} are not ready within {}:", not_ready,
                total, host_path.string(), describe_seconds(cfg.timeouts.rollout));
  throw CheckFailed(summary, last, leader.context(get));
}

void delete_apps(Machine& leader, const K0sConfig& cfg) {
  run_succeed(
      leader,
      fmt::format("{} delete -R -f {} --ignore-not-found --wait=true --timeout={}s", cfg.kubectl(),
                  kAppsGuestPath,
                  std::chrono::duration_cast<std::chrono::seconds>(cfg.timeouts.rollout).count()),
      cfg.timeouts.rollout + cfg.timeouts.command);
}

}  // namespace vmtest::k0s
