#include "vmtest/k0s/config.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <set>

namespace vmtest::k0s {

namespace {

Duration seconds_at(const JsonPath& section, std::string_view key, Duration fallback) {
  auto v = section.find(key);
  if (!v) return fallback;
  double s = v->as_number();
  if (!(s > 0) || !std::isfinite(s))
    v->fail(fmt::format("expected a positive number of seconds, got {}", s));
  return std::chrono::duration_cast<Duration>(std::chrono::duration<double>(s));
}

Role parse_role(const JsonPath& v) {
  auto s = v.as_string();
  if (s == "controller") return Role::controller;
  if (s == "controller+worker") return Role::controller_worker;
  if (s == "worker") return Role::worker;
  if (s == "single") return Role::single;
  v.fail(
      fmt::format("expected one of controller, controller+worker, worker, single, got \"{}\"", s));
}

int port_at(const JsonPath& section, std::string_view key, int fallback, int lo, int hi) {
  auto v = section.find(key);
  if (!v) return fallback;
  auto n = v->as_int();
  if (n < lo || n > hi) v->fail(fmt::format("expected an integer in {}..{}, got {}", lo, hi, n));
  return static_cast<int>(n);
}

// A workload image must carry a fixed tag: untagged or :latest defaults the
// pull policy to Always, which fails offline even when the image is present.
bool has_fixed_tag(std::string_view ref) {
  if (ref.find('@') != std::string_view::npos) return true;
  auto slash = ref.rfind('/');
  auto colon = ref.rfind(':');
  if (colon == std::string_view::npos || (slash != std::string_view::npos && colon < slash))
    return false;
  return ref.substr(colon + 1) != "latest";
}

}  // namespace

std::string_view role_name(Role role) {
  switch (role) {
    case Role::controller:
      return "controller";
    case Role::controller_worker:
      return "controller+worker";
    case Role::worker:
      return "worker";
    case Role::single:
      return "single";
  }
  return "?";
}

K0sConfig K0sConfig::from_manifest(const Manifest& manifest) {
  auto root = manifest.root();
  auto cfg = parse(root.at("k0s"), manifest.vlans(), manifest.machine_names());
  // A store path from Nix; a relative path (hand-written manifests) is the manifest's.
  if (manifest.has_value("workloadManifests"))
    cfg.apps = manifest.value<std::filesystem::path>("workloadManifests");
  return cfg;
}

K0sConfig K0sConfig::parse(const JsonPath& section, const std::vector<int>& vlans,
                           const std::vector<std::string>& machines) {
  K0sConfig cfg;
  if (!section.json().is_object())
    section.fail(fmt::format("expected an object, got {}", json_type_name(section.json())));
  cfg.unit = section.string_or("unit", cfg.unit);
  cfg.k0s = section.string_or("k0s", cfg.k0s);
  cfg.token_file = section.string_or("token_file", cfg.token_file);
  if (cfg.unit.empty()) section.at("unit").fail("must not be empty");
  if (cfg.k0s.empty()) section.at("k0s").fail("must not be empty");
  if (auto v = section.find("vlan")) {
    cfg.vlan = static_cast<int>(v->as_int());
    if (cfg.vlan < 1 || cfg.vlan > 255)
      v->fail(fmt::format("expected a VLAN number in 1..255, got {}", cfg.vlan));
  } else if (!vlans.empty()) {
    cfg.vlan = vlans.front();
  } else {
    throw ManifestError(section.file(), section.path() + ".vlan",
                        "missing, and the manifest has no vlans to take it from");
  }

  auto nodes = section.at("nodes");
  auto members = nodes.members();
  if (members.empty()) nodes.fail("expected at least one node");
  std::set<std::string> ips;
  for (auto& [name, node] : members) {
    K0sNode n;
    n.name = name;
    n.role = parse_role(node.at("role"));
    n.ip = node.at("ip").as_string();
    if (n.ip.empty()) node.at("ip").fail("must not be empty");
    if (!ips.insert(n.ip).second)
      node.at("ip").fail(fmt::format("{} is given to another node too", n.ip));
    if (!machines.empty() && std::find(machines.begin(), machines.end(), name) == machines.end())
      node.fail("not a machine of the manifest (vms or hosts)");
    cfg.nodes.push_back(std::move(n));
  }
  std::sort(cfg.nodes.begin(), cfg.nodes.end(), [](auto& a, auto& b) { return a.name < b.name; });
  if (std::none_of(cfg.nodes.begin(), cfg.nodes.end(), [](auto& n) { return n.is_controller(); }))
    nodes.fail("expected a node with role controller, controller+worker or single");
  auto singles = std::count_if(cfg.nodes.begin(), cfg.nodes.end(),
                               [](auto& n) { return n.role == Role::single; });
  if (singles > 0 && cfg.nodes.size() > 1) nodes.fail("a single node cluster has exactly one node");

  if (auto airgap = section.find("airgap")) {
    auto& a = cfg.airgap;
    a.bundle_dir = airgap->string_or("bundle_dir", a.bundle_dir);
    a.bundles = airgap->strings_or("bundles", {});
    a.images = airgap->strings_or("images", {});
    a.list_images = airgap->bool_or("list_images", a.list_images);
    if (auto p = airgap->find("pull_policy")) {
      a.pull_policy = p->as_string();
      if (a.pull_policy != "Never" && a.pull_policy != "IfNotPresent" && a.pull_policy != "Always")
        p->fail(fmt::format("expected Never, IfNotPresent or Always, got \"{}\"", a.pull_policy));
    }
    for (auto& b : a.bundles)
      if (b.empty() || b.find('/') != std::string::npos)
        airgap->at("bundles").fail(fmt::format("\"{}\" is not a file name", b));
  }

  if (auto workload = section.find("workload")) {
    WorkloadConfig w;
    auto image = workload->at("image");
    w.image = image.as_string();
    if (!has_fixed_tag(w.image))
      image.fail(fmt::format(
          "\"{}\" needs a fixed tag (untagged or :latest means pull policy Always)", w.image));
    w.port = port_at(*workload, "port", w.port, 1, 65535);
    w.node_port = port_at(*workload, "node_port", w.node_port, 30000, 32767);
    w.ns = workload->string_or("namespace", w.ns);
    if (w.ns.empty()) workload->at("namespace").fail("must not be empty");
    if (auto r = workload->find("replicas")) {
      auto n = r->as_int();
      if (n < 1 || n > 100) r->fail(fmt::format("expected an integer in 1..100, got {}", n));
      w.replicas = static_cast<int>(n);
    }
    cfg.workload = std::move(w);
  }

  if (auto t = section.find("timeouts")) {
    cfg.timeouts.api = seconds_at(*t, "api", cfg.timeouts.api);
    cfg.timeouts.node_ready = seconds_at(*t, "node_ready", cfg.timeouts.node_ready);
    cfg.timeouts.rollout = seconds_at(*t, "rollout", cfg.timeouts.rollout);
  }
  return cfg;
}

const K0sNode& K0sConfig::leader() const {
  for (auto& n : nodes)
    if (n.is_controller()) return n;
  throw FailedPrecondition("the k0s cluster has no control-plane node");
}

std::vector<const K0sNode*> K0sConfig::worker_side() const {
  std::vector<const K0sNode*> out;
  for (auto& n : nodes)
    if (n.runs_workloads()) out.push_back(&n);
  return out;
}

std::vector<const K0sNode*> K0sConfig::joining() const {
  std::vector<const K0sNode*> out;
  const auto* lead = &leader();
  for (auto& n : nodes)
    if (&n != lead) out.push_back(&n);
  return out;
}

const K0sNode* K0sConfig::find(std::string_view name) const {
  for (auto& n : nodes)
    if (n.name == name) return &n;
  return nullptr;
}

containerd::CtrCommand K0sConfig::ctr() const {
  // k0s ctr already defaults to /run/k0s/containerd.sock.
  return containerd::CtrCommand{.binary = k0s + " ctr", .address = "", .ns = "k8s.io"};
}

std::string K0sConfig::unit_name() const {
  return unit.find('.') == std::string::npos ? unit + ".service" : unit;
}

int K0sConfig::replicas() const {
  if (workload && workload->replicas > 0) return workload->replicas;
  return static_cast<int>(worker_side().size());
}

namespace {

// The raw `k0s` member, when present (no validation: a malformed section is
// reported by K0sConfig::from_manifest, as a failure rather than a skip).
const nlohmann::json* k0s_section(const Manifest& manifest) {
  const auto& doc = manifest.root().json();
  if (!doc.is_object()) return nullptr;
  auto it = doc.find("k0s");
  if (it == doc.end() || it->is_null()) return nullptr;
  return &*it;
}

}  // namespace

std::string requires_k0s(const Manifest& manifest) {
  return k0s_section(manifest) ? std::string() : std::string("the manifest has no k0s section");
}

std::string requires_k0s_airgap(const Manifest& manifest) {
  const auto* k = k0s_section(manifest);
  if (!k) return "the manifest has no k0s section";
  if (!k->is_object()) return {};
  auto a = k->find("airgap");
  if (a == k->end() || !a->is_object()) return "the manifest's k0s section has no airgap settings";
  auto b = a->find("bundles");
  auto i = a->find("images");
  bool no_bundles = b == a->end() || (b->is_array() && b->empty());
  bool no_images = i == a->end() || (i->is_array() && i->empty());
  if (no_bundles && no_images) return "the manifest's k0s.airgap lists no bundles and no images";
  return {};
}

std::string requires_k0s_workload(const Manifest& manifest) {
  const auto* k = k0s_section(manifest);
  if (!k) return "the manifest has no k0s section";
  if (k->is_object() && (!k->contains("workload") || (*k)["workload"].is_null()) &&
      !manifest.has_value("workloadManifests"))
    return "the manifest's k0s section has no workload and its values no workloadManifests";
  return {};
}

}  // namespace vmtest::k0s
