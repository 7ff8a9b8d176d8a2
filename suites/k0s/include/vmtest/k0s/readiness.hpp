// File: vmtest/k0s/readiness.hpp
//
// Bringing a k0s cluster up and proving it ready, step by step in the order
// of k0s's own tests (reference section 3):
//
//   controller_gates(ctrl, cfg)      unit active, status socket, k0s status,
//                                    /readyz == ok, join API answers 401
//   join_node(ctrl, wrkr1, cfg, n)   token create, token file, unit start,
//                                    the same node gates on the worker
//   wait_worker_api_connection(...)  the worker's Node Ready, its Lease held
//   wait_nodes_ready(ctrl, cfg)      Ready=True, no pressure, no bad taints
//   require_node_addresses(...)      InternalIP on the VLAN and distinct
//   wait_daemonsets / wait_coredns   kube-proxy, konnectivity, CNI
//                                    DaemonSets; CoreDNS and its endpoints
//   wait_pod_logs / wait_metrics_api kubelet logs through the API on every
//                                    node; the metrics APIService
//
// suites/k0s/README.md compares these with k0s's inttest/common.
//
// Every step throws CheckFailed (or TimeoutError/CommandFailed from the
// machine) naming the node and what was seen.
#pragma once

#include "vmtest/k0s/check.hpp"
#include "vmtest/k0s/config.hpp"

namespace vmtest::k0s {

// Waits until the k0s unit is active. Fails at once when it is `failed`;
// on timeout the CheckFailed carries `systemctl show`, hints (no token file,
// bad token, API unreachable) and the journal tail.
void wait_unit_active(Machine& node, const K0sConfig& cfg, Duration timeout);

// The per-node gates, in order: unit active, status socket, `k0s status`
// exits 0 and prints the Role/Workloads of `spec`'s role.
void node_gates(Machine& node, const K0sConfig& cfg, const K0sNode& spec, Duration timeout);

// node_gates on the leader, then `k0s kubectl get --raw /readyz` prints
// "ok", then the join API (https://<ip>:9443/v1beta1/ca) answers 401.
void controller_gates(Machine& leader, const K0sConfig& cfg);

// Joins `spec` (not the leader): unless its unit is already active, checks
// it is inactive, creates a token on the leader (role worker, or controller
// for control-plane nodes), writes it to cfg.token_file on the node, starts
// the unit and runs node_gates.
void join_node(Machine& leader, Machine& node, const K0sConfig& cfg, const K0sNode& spec);

// The worker reaches the API: on the leader, its Node is Ready and its
// kubelet holds and renews Lease kube-node-lease/<name> (polled up to
// node_ready). Not `k0s status`'s WorkerToAPIConnectionStatus, which is
// false on healthy 1.35.0-1.35.3 workers (k0s #7362); on a timeout the
// worker's `k0s status -o json` is added as a hint.
void wait_worker_api_connection(Machine& leader, Machine& node, const K0sConfig& cfg,
                                const K0sNode& spec);

// Polls `kubectl get nodes -o json` on the leader until
// node_readiness_findings is empty (timeouts.node_ready).
void wait_nodes_ready(Machine& leader, const K0sConfig& cfg);
// One evaluation of node_address_findings.
void require_node_addresses(Machine& leader, const K0sConfig& cfg);

// Polls the kube-system DaemonSets until available (timeouts.node_ready).
void wait_daemonsets(Machine& leader, const K0sConfig& cfg);
// Polls CoreDNS's Deployment and EndpointSlices (timeouts.node_ready).
void wait_coredns(Machine& leader, const K0sConfig& cfg);

// Polls until a Running kube-system pod on every worker-side node has
// readable logs (`kubectl logs`: API server -> kubelet, through
// konnectivity), as k0s's tests do (WaitForPodLogs), but per node.
void wait_pod_logs(Machine& leader, const K0sConfig& cfg);
// Polls APIService v1beta1.metrics.k8s.io until Available=True
// (metrics-server scrapes every kubelet; k0s's WaitForMetricsReady).
void wait_metrics_api(Machine& leader, const K0sConfig& cfg);

// How far bring_up goes.
enum class BringUp {
  joined,  // leader gates, every other node joined
  ready,   // and every node Ready, DaemonSets available, CoreDNS ready, pod
           // logs readable on every node, the metrics API available
};

// The whole sequence for suites that need a running cluster first.
void bring_up(const NodeLookup& nodes, const K0sConfig& cfg, BringUp level = BringUp::ready);

}  // namespace vmtest::k0s
