// File: vmtest/k0s/apps.hpp
//
// The user's own applications in the workload suite: the manifests named by
// the manifest value `workloadManifests` (a store path: one YAML/JSON file
// or a folder of them, read recursively) are copied to the leader,
// `kubectl apply`ed, and waited for until everything they declare is ready:
//
//   Deployment   observed generation, updated == available == spec.replicas
//   StatefulSet  observed generation, ready == updated == spec.replicas
//   DaemonSet    observed generation, at least one node desired, updated ==
//                available == desired
//   Job          condition Complete=True (Failed=True fails at once)
//   Pod          Running and Ready, or Succeeded
//   Service      (not ExternalName) at least one endpoint, all ready
//   other kinds  exist (kubectl get finds them)
//
// These are the rules of `kubectl rollout status` (kubectl's
// polymorphichelpers/rollout_status.go) plus the Job, Pod and Service ones.
// What is not ready is named with why, and a timeout adds the diagnosis of
// the pods in the namespaces involved (waiting reasons, Warning events).
#pragma once

#include "vmtest/k0s/check.hpp"
#include "vmtest/k0s/config.hpp"
#include "vmtest/k0s/kube.hpp"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <string>
#include <vector>

namespace vmtest::k0s {

// Where deploy_apps puts the user's manifests on the leader.
inline constexpr const char* kAppsGuestPath = "/tmp/vmtest-k0s-apps";

// The objects of `kubectl get -f ... -o json`: the items of a List, or the
// one object it prints for a single one. Anything else is an Error.
std::vector<nlohmann::json> listed_objects(const nlohmann::json& doc);

// "Deployment shop/web" (cluster-scoped objects without the namespace).
std::string object_ref(const nlohmann::json& obj);

// True for a Service whose readiness depends on endpoints (not ExternalName).
bool needs_endpoints(const nlohmann::json& obj);

// Why `obj` is not ready, empty when it is. `endpointslices` is the
// EndpointSlice List of a Service (ignored for other kinds).
Findings object_findings(const nlohmann::json& obj, const nlohmann::json& endpointslices = nullptr);

// A Job with Failed=True: nothing will make it complete, so waiting stops.
bool terminally_failed(const nlohmann::json& obj);

// Copies `host_path` (file or folder) to kAppsGuestPath on the leader and
// applies it; CheckFailed when kubectl refuses any of it.
void deploy_apps(Machine& leader, const K0sConfig& cfg, const std::filesystem::path& host_path);

// Polls everything deploy_apps applied until ready (timeouts.rollout). On
// timeout, or a failed Job, throws CheckFailed "<n> of <m> objects of
// <path> are not ready ..." with each object's findings and the pod
// diagnosis of their namespaces.
void wait_apps_ready(Machine& leader, const K0sConfig& cfg, const std::filesystem::path& host_path);

// Deletes what deploy_apps applied (kubectl delete -f, waiting).
void delete_apps(Machine& leader, const K0sConfig& cfg);

}  // namespace vmtest::k0s
