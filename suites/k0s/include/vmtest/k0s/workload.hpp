// File: vmtest/k0s/workload.hpp
//
// The workload checks (reference section 4): a Deployment and a NodePort
// Service from the manifest's airgapped image (fixed tag, imagePullPolicy
// Never), one pod per worker-side node; rollout; placement; the Service by
// ClusterIP from a worker and by NodePort from another node; pod to pod
// across nodes. A rollout that does not finish is reported with each pod's
// waiting reason and Warning events (ErrImageNeverPull, FailedScheduling,
// CrashLoopBackOff, FailedCreatePodSandBox, Unhealthy, ...).
//
// kubectl runs on the leader; curl runs on the nodes named (the k0s test
// nodes need curl); the image needs busybox's wget for pod-to-pod.
#pragma once

#include "vmtest/k0s/check.hpp"
#include "vmtest/k0s/config.hpp"
#include "vmtest/k0s/kube.hpp"

#include <string>
#include <vector>

namespace vmtest::k0s {

// Writes workload_objects(cfg) to the leader and `kubectl apply`s it.
void deploy_workload(Machine& leader, const K0sConfig& cfg);

// Polls the Deployment until rolled out (timeouts.rollout); on timeout, or
// Progressing=False, throws CheckFailed with pod_diagnosis of its pods.
void wait_rollout(Machine& leader, const K0sConfig& cfg);

// Every pod Running and Ready on the expected nodes; returns where they run.
std::vector<PodPlace> require_pods_placed(Machine& leader, const K0sConfig& cfg);

// The Service's ClusterIP, and that its EndpointSlices are ready.
std::string service_cluster_ip(Machine& leader, const K0sConfig& cfg);

// `curl -sSf http://<url>` from `client` until it answers (timeouts.network);
// returns the body. On timeout throws CheckFailed naming client, url and the
// last curl error.
std::string require_http(Machine& client, const K0sConfig& cfg, const std::string& url,
                         const std::string& what);

// From `pod_a`, wget the pod IP of `pod_b` (on another node) through
// `kubectl exec` on the leader; returns the body.
std::string require_pod_to_pod(Machine& leader, const K0sConfig& cfg, const PodPlace& pod_a,
                               const PodPlace& pod_b);

// Deletes the workload namespace and waits for it to go.
void delete_workload(Machine& leader, const K0sConfig& cfg);

}  // namespace vmtest::k0s
