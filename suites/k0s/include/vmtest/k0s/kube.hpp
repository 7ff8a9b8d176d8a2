// File: vmtest/k0s/kube.hpp
//
// Pure evaluations of what k0s and kubectl print (JSON from `-o json`, the
// text of `k0s status`, the k0s journal). Each returns findings: one line
// per problem, naming the node, pod, image or condition and what was seen;
// an empty list means healthy. The suites poll these; unit tests feed them
// recorded outputs.
#pragma once

#include "vmtest/k0s/config.hpp"

#include <vmtest/containerd/findings.hpp>

#include <nlohmann/json.hpp>

#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace vmtest::k0s {

using Findings = containerd::Findings;

// --- k0s itself ---

// `k0s status` text: "Key: value" per line.
std::map<std::string, std::string> parse_k0s_status(std::string_view text);
// The Role and Workloads `k0s status` must print for `node`'s manifest role.
Findings status_findings(const std::map<std::string, std::string>& status, const K0sNode& node);
// `k0s status -o json` on a worker: WorkerToAPIConnectionStatus.Success.
// Not a gate: k0s 1.35.0 to 1.35.3 probe by listing all nodes, which a
// worker's kubelet identity may not do (k0s #7362, fixed by #7400 in
// 1.35.4), so a healthy worker reports false there. Used as a hint.
Findings worker_api_findings(const nlohmann::json& status, const K0sNode& node);
// The worker's gate: its kubelet reached the API with its own credentials.
// `node_obj` is `kubectl get node <name> -o json` (Ready=True), `lease`
// `kubectl -n kube-node-lease get lease <name> -o json` (held by the node,
// renewed at least once): what k0s's own tests wait for (WaitForNodeReady)
// plus the heartbeat behind it.
Findings worker_registration_findings(const nlohmann::json& node_obj, const nlohmann::json& lease,
                                      const K0sNode& node);

// The bundle import as containerd shows it (`k0s ctr images ls`): every
// expected image listed, pinned and carrying k0s's io.k0sproject.ocibundle-paths
// label (JSON {path: mtime}, set by OCIBundleReconciler.unpackBundle) that
// names one of the manifest's bundles; every bundle named by some image; and
// (with airgap.list_images) no image from a bundle that was not expected.
Findings bundle_label_findings(const std::vector<containerd::ImageRow>& rows, const K0sConfig& cfg,
                               const std::vector<std::string>& expected_images);

// Hints for a k0s unit that is not active, from `systemctl show` and its
// journal (no token file, a bad token, the API unreachable, ...).
Findings unit_hints(std::string_view show_output, std::string_view journal, const K0sConfig& cfg);

// What the OCI bundle importer logged (component=OCIBundleReconciler;
// pkg/component/worker/ocibundle.go, loadAll and unpackBundle, identical in
// k0s 1.34.10 and 1.35.7). k0s prints logrus text lines
// (time="2006-01-02 15:04:05" level=info msg="..." component=...); the
// parser reads msg="..." or, for other renderings, the whole line.
struct ImportJournal {
  std::vector<std::string> loading;   // bundle paths it started on
  std::vector<std::string> loaded;    // "OCI bundle <path> loaded"
  std::vector<std::string> failed;    // whole lines of "Failed to load OCI bundle"
  std::vector<std::string> imported;  // refs of "Imported image <ref>"
  std::vector<std::string> unpinned;  // refs of "Unpinning image <ref>"
};
ImportJournal parse_import_journal(std::string_view journal);
// Every expected bundle loaded (none failed) and every expected image
// imported, on `node`.
Findings import_journal_findings(const ImportJournal& journal, const K0sConfig& cfg,
                                 const std::vector<std::string>& expected_images);

// `find -L <dir> -mindepth 1 -maxdepth 1 -printf '%f\t%y\t%s\n'` of the
// bundle folder: each expected bundle is a non-empty regular file; a folder
// inside is reported (k0s fails on it).
Findings bundle_dir_findings(std::string_view listing, const K0sConfig& cfg);

// `k0s airgap list-images --all`: one ref per line.
std::vector<std::string> parse_list_images(std::string_view text);

// --- Nodes (kubectl get nodes -o json) ---

// Every worker-side node of the manifest has a Node object that is
// Ready=True with no pressure condition and no not-ready, unreachable or
// pressure taint; no pure controller has a Node object.
Findings node_readiness_findings(const nlohmann::json& node_list, const K0sConfig& cfg);
// Every worker-side node reports the manifest's VLAN address as InternalIP
// (not QEMU's user-net 10.0.2.15), and no two share one.
Findings node_address_findings(const nlohmann::json& node_list, const K0sConfig& cfg);

// --- kube-system (kubectl -n kube-system get ...) ---

// kube-proxy, konnectivity-agent (unless single) and the CNI DaemonSet
// (kube-router or calico-node) scheduled on every worker-side node and all
// available.
Findings daemonset_findings(const nlohmann::json& daemonset_list, const K0sConfig& cfg);
// Deployment coredns Available=True and every kube-dns EndpointSlice
// endpoint ready and serving (at least one).
Findings coredns_findings(const nlohmann::json& deployment,
                          const nlohmann::json& endpointslice_list);
// Where wait_pod_logs reads logs: one Running kube-system pod (and its first
// container) per worker-side node; a node without one is a finding.
struct LogTarget {
  std::string node;
  std::string pod;
  std::string container;
};
struct LogTargets {
  std::vector<LogTarget> pods;
  Findings findings;
};
LogTargets log_targets(const nlohmann::json& pod_list, const K0sConfig& cfg);
// APIService v1beta1.metrics.k8s.io: Available=True.
Findings metrics_api_findings(const nlohmann::json& apiservice);

// Every container and init container of the listed DaemonSets and
// Deployments has imagePullPolicy == `policy`.
Findings pull_policy_findings(const nlohmann::json& workload_list, std::string_view policy);

// --- Events (kubectl get events -A -o json) ---

// Any Pulling event is a finding (an image came from the network).
Findings pulling_event_findings(const nlohmann::json& event_list);
// Pulled events whose message lacks "already present on machine" (both
// wordings: up to Kubernetes 1.34 the message ends at "machine", 1.35 adds
// " and can be accessed by the pod").
Findings pulled_event_findings(const nlohmann::json& event_list);

// --- Workload ---

// The Namespace, Deployment and NodePort Service of the workload suite, as
// one List for `kubectl apply -f` (JSON is valid YAML).
nlohmann::json workload_objects(const K0sConfig& cfg);

struct RolloutState {
  bool done = false;
  bool stuck = false;   // Progressing=False (ProgressDeadlineExceeded)
  std::string summary;  // "1 of 2 replicas available (updated 2, ready 1)"
};
// `kubectl get deploy <name> -o json`: done when observedGeneration >=
// generation and updated == available == spec.replicas (missing integer
// fields are 0).
RolloutState rollout_state(const nlohmann::json& deployment);

// Why pods are not Running and Ready: waiting reasons with their messages
// (ErrImageNeverPull, CrashLoopBackOff with the last exit, ...), and the
// Warning events of each pod (FailedScheduling, FailedCreatePodSandBox,
// Unhealthy, ...). `events` is an event List of the namespace.
Findings pod_diagnosis(const nlohmann::json& pod_list, const nlohmann::json& events);

struct PodPlace {
  std::string name;
  std::string node;
  std::string ip;
};
// Every pod Running and Ready with the workload image and pull policy Never,
// on a distinct worker-side node, `replicas` of them; with one replica per
// worker-side node, every worker-side node has one.
Findings pod_placement_findings(const nlohmann::json& pod_list, const K0sConfig& cfg);
std::vector<PodPlace> pod_places(const nlohmann::json& pod_list);

// EndpointSlices of the workload Service: at least one endpoint, all ready.
Findings service_endpoint_findings(const nlohmann::json& endpointslice_list,
                                   const std::string& service);

// `kubectl apply` output mentions each object as created, configured or
// unchanged.
Findings apply_findings(std::string_view output, const std::vector<std::string>& objects);

}  // namespace vmtest::k0s
