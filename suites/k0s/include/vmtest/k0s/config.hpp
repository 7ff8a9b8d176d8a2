// File: vmtest/k0s/config.hpp
//
// The k0s cluster a manifest describes (its `k0s` section, docs/manifest.md):
// which node runs which role, the systemd unit, the airgap bundle and
// expected images, the test workload and the timeouts.
//
//   auto cfg = vmtest::k0s::K0sConfig::from_manifest(manifest);
//   auto& ctrl = cluster.machine(cfg.leader().name);
//   ctrl.succeed(cfg.kubectl() + " get nodes -o json");
//
// Defaults match the NixOS topology of the Nix side (k0s-nix, unit `k0s`,
// data under /var/lib/k0s). Errors are vmtest::ManifestError naming the key
// path ("k0s.nodes.wrkr1.role: expected one of ...").
#pragma once

#include <vmtest/containerd/ctr.hpp>
#include <vmtest/json_path.hpp>
#include <vmtest/manifest.hpp>
#include <vmtest/time.hpp>

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace vmtest::k0s {

enum class Role {
  controller,         // control plane only: no kubelet, no Node object
  controller_worker,  // control plane and kubelet (--enable-worker)
  worker,             // kubelet only; joins with a token
  single,             // one-node cluster (--single)
};

// "controller", "controller+worker", "worker", "single".
std::string_view role_name(Role role);

struct K0sNode {
  std::string name;
  Role role = Role::worker;
  std::string ip;  // the VLAN address kubelet must report as InternalIP

  // Runs kubelet and k0s's bundle importer (has a Node object).
  bool runs_workloads() const { return role != Role::controller; }
  // Runs the control plane.
  bool is_controller() const { return role != Role::worker; }
  // What `k0s status` prints as Role ("controller" for every control-plane role).
  std::string_view status_role() const { return is_controller() ? "controller" : "worker"; }
};

struct AirgapConfig {
  std::string bundle_dir = "/var/lib/k0s/images";
  std::vector<std::string> bundles;  // file names in bundle_dir
  std::vector<std::string> images;   // references that must be imported
  bool list_images = true;           // also `k0s airgap list-images --all`
  std::string pull_policy = "Never";
};

struct WorkloadConfig {
  std::string image;
  int port = 8080;
  int node_port = 30080;
  int replicas = 0;  // default: the number of worker-side nodes
  std::string ns = "vmtest-workload";
  // Names of the Deployment, Service and app label.
  std::string name = "vmtest-web";
};

struct K0sTimeouts {
  Duration api = std::chrono::seconds(900);
  Duration node_ready = std::chrono::seconds(1500);
  Duration rollout = std::chrono::seconds(900);
  // Not in the manifest: one command, and reachability retries.
  Duration command = std::chrono::seconds(300);
  Duration network = std::chrono::seconds(300);
  // Host-side polling interval of JSON waits (unit tests set 0).
  Duration poll_interval = std::chrono::seconds(2);
};

struct K0sConfig {
  std::string unit = "k0s";
  std::string k0s = "k0s";
  std::string token_file = "/etc/k0s/k0stoken";
  int vlan = 0;
  std::vector<K0sNode> nodes;  // name order
  AirgapConfig airgap;
  std::optional<WorkloadConfig> workload;
  // The user's own manifests (manifest value `workloadManifests`: a store
  // path of a YAML/JSON file or a folder of them), for vmtest/k0s/apps.hpp.
  std::optional<std::filesystem::path> apps;
  K0sTimeouts timeouts;

  // Fixed k0s paths (reference section 0).
  std::string status_socket = "/run/k0s/status.sock";

  // Parses the manifest's `k0s` section; throws ManifestError when it is
  // absent or malformed.
  static K0sConfig from_manifest(const Manifest& manifest);
  // Parses `section` (the value of "k0s"); `vlans` gives the default vlan,
  // `machines` the names nodes must come from (empty: not checked).
  static K0sConfig parse(const JsonPath& section, const std::vector<int>& vlans,
                         const std::vector<std::string>& machines);

  // The node the cluster is driven from: the first control-plane node in
  // name order (k0s-nix's isLeader). Every kubectl runs there.
  const K0sNode& leader() const;
  // Nodes that run kubelet (worker, controller+worker, single).
  std::vector<const K0sNode*> worker_side() const;
  // Nodes that join with a token: every node but the leader.
  std::vector<const K0sNode*> joining() const;
  const K0sNode* find(std::string_view name) const;

  // "k0s kubectl", "k0s ctr" (namespace k8s.io).
  std::string kubectl() const { return k0s + " kubectl"; }
  containerd::CtrCommand ctr() const;
  // The unit as systemctl wants it ("k0s" -> "k0s.service").
  std::string unit_name() const;
  // workload->replicas, or the number of worker-side nodes.
  int replicas() const;
};

// For SuiteOptions::requires_manifest: "" when the manifest has a `k0s`
// section, else "the manifest has no k0s section".
std::string requires_k0s(const Manifest& manifest);
// Same, and the airgap suite also needs bundles to check.
std::string requires_k0s_airgap(const Manifest& manifest);
// Same, and the workload suite also needs `k0s.workload` (the echo workload)
// or the value `workloadManifests` (the user's own; vmtest/k0s/apps.hpp).
std::string requires_k0s_workload(const Manifest& manifest);

}  // namespace vmtest::k0s
