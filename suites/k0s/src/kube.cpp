#include "vmtest/k0s/kube.hpp"

#include "vmtest/k0s/check.hpp"

#include <vmtest/text.hpp>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cctype>
#include <set>

namespace vmtest::k0s {

namespace {

using nlohmann::json;

// A string member, or "" (kubectl omits empty fields).
std::string str(const json& obj, const char* key) {
  if (!obj.is_object()) return {};
  auto it = obj.find(key);
  return it != obj.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// An integer member, or 0: Kubernetes omits zero counts.
long long num(const json& obj, const char* key) {
  if (!obj.is_object()) return 0;
  auto it = obj.find(key);
  return it != obj.end() && it->is_number() ? it->get<long long>() : 0;
}

const json& member(const json& obj, const char* key) {
  static const json null_value;
  if (!obj.is_object()) return null_value;
  auto it = obj.find(key);
  return it == obj.end() ? null_value : *it;
}

// The items of a List. Anything else is a shape error, never "no items":
// one object where a List was asked for would read as "nothing there".
const json& items_of(const json& list) {
  const auto& items = member(list, "items");
  if (!items.is_array())
    throw Error(fmt::format("expected a List with an items array, got {}", describe_shape(list)));
  return items;
}

// An event's repeat count: events.k8s.io/v1 producers (the scheduler) set
// series.count, core/v1 recorders (the kubelet) count; 1 when neither.
long long event_count(const json& e) {
  const auto& series = member(e, "series");
  if (series.is_object() && member(series, "count").is_number())
    return member(series, "count").get<long long>();
  return std::max<long long>(num(e, "count"), 1);
}

std::string name_of(const json& obj) {
  return str(member(obj, "metadata"), "name");
}
std::string ns_of(const json& obj) {
  return str(member(obj, "metadata"), "namespace");
}

// The condition of `type` in status.conditions, or null.
const json& condition(const json& obj, std::string_view type) {
  static const json null_value;
  const auto& conds = member(member(obj, "status"), "conditions");
  if (!conds.is_array()) return null_value;
  for (const auto& c : conds)
    if (str(c, "type") == type) return c;
  return null_value;
}

// "Ready=False (KubeletNotReady: container runtime network not ready: ...)"
std::string describe_condition(const json& c) {
  auto reason = str(c, "reason");
  auto message = str(c, "message");
  std::string detail;
  if (!reason.empty() && !message.empty())
    detail = fmt::format(" ({}: {})", reason, message);
  else if (!reason.empty())
    detail = fmt::format(" ({})", reason);
  else if (!message.empty())
    detail = fmt::format(" ({})", message);
  return fmt::format("{}={}{}", str(c, "type"), str(c, "status"), detail);
}

const json* find_by_name(const json& list, std::string_view name) {
  for (const auto& item : items_of(list))
    if (name_of(item) == name) return &item;
  return nullptr;
}

std::string internal_ip(const json& node) {
  const auto& addrs = member(member(node, "status"), "addresses");
  if (!addrs.is_array()) return {};
  for (const auto& a : addrs)
    if (str(a, "type") == "InternalIP") return str(a, "address");
  return {};
}

// Short "k=v" description of an event's subject: "kube-system/coredns-abc".
std::string event_subject(const json& e) {
  const auto& obj = member(e, "involvedObject");
  auto ns = str(obj, "namespace");
  auto name = str(obj, "name");
  auto kind = str(obj, "kind");
  std::string who = ns.empty() ? name : ns + "/" + name;
  return kind.empty() ? who : fmt::format("{} {}", kind, who);
}

std::string event_host(const json& e) {
  // kubelet (core/v1 recorder) sets source.host; the scheduler (events/v1)
  // only reportingInstance ("default-scheduler-<host>").
  auto host = str(member(e, "source"), "host");
  if (host.empty()) host = str(e, "reportingInstance");
  if (host.empty()) host = str(e, "reportingComponent");
  return host;
}

std::string unquote_logfmt(std::string_view line, std::string_view key) {
  auto needle = std::string(key) + "=";
  std::size_t pos = 0;
  while ((pos = line.find(needle, pos)) != std::string_view::npos) {
    if (pos == 0 || line[pos - 1] == ' ') break;
    pos += needle.size();
  }
  if (pos == std::string_view::npos) return {};
  pos += needle.size();
  if (pos >= line.size()) return {};
  std::string out;
  if (line[pos] != '"') {
    auto end = line.find(' ', pos);
    return std::string(
        line.substr(pos, end == std::string_view::npos ? std::string_view::npos : end - pos));
  }
  for (std::size_t i = pos + 1; i < line.size(); ++i) {
    char c = line[i];
    if (c == '\\' && i + 1 < line.size()) {
      char n = line[++i];
      out += n == 'n' ? '\n' : n == 't' ? '\t' : n;
    } else if (c == '"') {
      break;
    } else {
      out += c;
    }
  }
  return out;
}

bool starts_with(std::string_view s, std::string_view p) {
  return s.substr(0, p.size()) == p;
}

}  // namespace

// ---------------------------------------------------------------- k0s ---

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

Findings worker_registration_findings(const json& node_obj, const json& lease,
                                      const K0sNode& node) {
  Findings f;
  const auto& ready = condition(node_obj, "Ready");
  if (ready.is_null())
    f.push_back(fmt::format("node {}: no Ready condition yet (kubelet has not posted its status)",
                            node.name));
  else if (str(ready, "status") != "True")
    f.push_back(fmt::format("node {}: {}", node.name, describe_condition(ready)));
  const auto& spec = member(lease, "spec");
  auto holder = str(spec, "holderIdentity");
  if (holder != node.name)
    f.push_back(
        fmt::format("Lease kube-node-lease/{}: holderIdentity {}, expected {} (its kubelet)",
                    node.name, holder.empty() ? "(unset)" : holder, node.name));
  if (str(spec, "renewTime").empty())
    f.push_back(
        fmt::format("Lease kube-node-lease/{}: never renewed (no spec.renewTime)", node.name));
  return f;
}

Findings bundle_label_findings(const std::vector<containerd::ImageRow>& rows, const K0sConfig& cfg,
                               const std::vector<std::string>& expected_images) {
  Findings f;
  std::set<std::string> bundles;
  for (const auto& b : cfg.airgap.bundles) bundles.insert(cfg.airgap.bundle_dir + "/" + b);
  std::set<std::string> named;  // bundle paths some image's label names
  std::map<std::string, const containerd::ImageRow*> by_ref;
  for (const auto& r : rows) {
    by_ref[r.ref] = &r;
    if (auto v = r.label(containerd::kBundlePathsLabel)) {
      try {
        auto doc = json::parse(*v);
        if (doc.is_object())
          for (const auto& [path, when] : doc.items()) named.insert(path);
      } catch (const json::exception&) {
      }
    }
  }
  std::vector<std::string> missing;
  for (const auto& ref : expected_images) {
    auto it = by_ref.find(ref);
    if (it == by_ref.end()) {
      missing.push_back(ref);
      continue;
    }
    const auto& row = *it->second;
    auto paths = row.label(containerd::kBundlePathsLabel);
    if (!paths) {
      f.push_back(fmt::format(
          "{}: no {} label (not imported by k0s from a bundle; labels: {})", ref,
          containerd::kBundlePathsLabel, row.labels.empty() ? "none" : [&] {
            std::vector<std::string> kv;
            for (const auto& [k, val] : row.labels) kv.push_back(k + "=" + val);
            return fmt::format("{}", fmt::join(kv, ","));
          }()));
      continue;
    }
    json doc;
    try {
      doc = json::parse(*paths);
    } catch (const json::exception&) {
      f.push_back(
          fmt::format("{}: label {} is not JSON: {}", ref, containerd::kBundlePathsLabel, *paths));
      continue;
    }
    bool from_bundle = false;
    if (doc.is_object())
      for (const auto& [path, when] : doc.items()) from_bundle = from_bundle || bundles.count(path);
    if (!from_bundle && !bundles.empty())
      f.push_back(fmt::format("{}: label {}={} names none of the manifest's bundles", ref,
                              containerd::kBundlePathsLabel, *paths));
    if (!row.pinned())
      f.push_back(fmt::format("{}: not pinned ({}={} missing)", ref, containerd::kPinnedLabel,
                              containerd::kPinnedValue));
  }
  if (!missing.empty())
    f.push_back(fmt::format("{} of {} expected images not in k8s.io yet: {}", missing.size(),
                            expected_images.size(), fmt::join(missing, ", ")));
  for (const auto& b : bundles)
    if (!named.count(b)) f.push_back(fmt::format("no image is labelled as imported from {}", b));
  // Exactly the declared images: one that came from a bundle but is in neither airgap.images nor
  // `list-images --all` was not declared (an archive carrying more than its image). Only with
  // list_images: otherwise k0s's own images are not in the list. Digest and config rows (the CRI
  // plugin's sha256:... and name@sha256:... names of a listed image) are no images of their own.
  if (cfg.airgap.list_images) {
    std::set<std::string> wanted(expected_images.begin(), expected_images.end());
    for (const auto& r : rows) {
      if (wanted.count(r.ref) || r.ref.rfind("sha256:", 0) == 0 ||
          r.ref.find("@sha256:") != std::string::npos)
        continue;
      auto v = r.label(containerd::kBundlePathsLabel);
      if (!v) continue;
      json doc;
      try {
        doc = json::parse(*v);
      } catch (const json::exception&) {
        continue;
      }
      if (!doc.is_object()) continue;
      for (const auto& [path, when] : doc.items())
        if (bundles.count(path)) {
          f.push_back(fmt::format(
              "{}: imported from {}, but not declared (neither in k0s.airgap.images nor in "
              "k0s airgap list-images --all)",
              r.ref, path));
          break;
        }
    }
  }
  return f;
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

ImportJournal parse_import_journal(std::string_view journal) {
  ImportJournal j;
  for (auto line : lines_of(journal)) {
    auto t = trim(line);
    if (t.empty()) continue;
    // k0s logs with logrus' text format (msg="..."); take the whole line
    // when it is not in that form.
    std::string msg = unquote_logfmt(t, "msg");
    if (msg.empty()) msg = std::string(t);
    auto rest = [&](std::string_view prefix) {
      return std::string(trim(std::string_view(msg).substr(prefix.size())));
    };
    if (starts_with(msg, "Imported image ")) {
      auto ref = rest("Imported image ");
      j.imported.push_back(ref.substr(0, ref.find(' ')));
    } else if (starts_with(msg, "Unpinning image ")) {
      auto ref = rest("Unpinning image ");
      j.unpinned.push_back(ref.substr(0, ref.find(' ')));
    } else if (starts_with(msg, "Failed to load OCI bundle")) {
      j.failed.emplace_back(t);
    } else if (starts_with(msg, "Loading OCI bundle ") &&
               !starts_with(msg, "Loading OCI bundles directory")) {
      j.loading.push_back(rest("Loading OCI bundle "));
    } else if (starts_with(msg, "OCI bundle ") && msg.size() > 7 &&
               msg.substr(msg.size() - 7) == " loaded") {
      j.loaded.emplace_back(trim(std::string_view(msg).substr(11, msg.size() - 11 - 7)));
    }
  }
  return j;
}

Findings import_journal_findings(const ImportJournal& journal, const K0sConfig& cfg,
                                 const std::vector<std::string>& expected_images) {
  Findings f;
  for (const auto& line : journal.failed)
    f.push_back(fmt::format("k0s failed to load a bundle: {}", line));
  for (const auto& bundle : cfg.airgap.bundles) {
    auto path = cfg.airgap.bundle_dir + "/" + bundle;
    if (std::find(journal.loaded.begin(), journal.loaded.end(), path) != journal.loaded.end())
      continue;
    bool failed =
        std::any_of(journal.failed.begin(), journal.failed.end(),
                    [&](const std::string& l) { return l.find(path) != std::string::npos; });
    if (failed) continue;  // already reported with k0s's error
    bool started =
        std::find(journal.loading.begin(), journal.loading.end(), path) != journal.loading.end();
    f.push_back(fmt::format("no \"OCI bundle {} loaded\" line in the journal{}", path,
                            started ? " (loading started but did not finish)" : ""));
  }
  std::set<std::string> imported(journal.imported.begin(), journal.imported.end());
  std::vector<std::string> missing;
  for (const auto& ref : expected_images)
    if (!imported.count(ref)) missing.push_back(ref);
  if (!missing.empty())
    f.push_back(fmt::format("no \"Imported image\" line for {} of {} expected images: {}",
                            missing.size(), expected_images.size(), fmt::join(missing, ", ")));
  for (const auto& ref : journal.unpinned)
    if (std::find(expected_images.begin(), expected_images.end(), ref) != expected_images.end())
      f.push_back(fmt::format("k0s unpinned {} (its bundle file was removed or changed)", ref));
  return f;
}

Findings bundle_dir_findings(std::string_view listing, const K0sConfig& cfg) {
  struct Entry {
    char type;
    long long size;
  };
  std::map<std::string, Entry> entries;
  for (auto line : lines_of(listing)) {
    if (trim(line).empty()) continue;
    auto t1 = line.find('\t');
    auto t2 = t1 == std::string_view::npos ? t1 : line.find('\t', t1 + 1);
    if (t2 == std::string_view::npos) continue;
    auto type = line.substr(t1 + 1, t2 - t1 - 1);
    long long size = 0;
    try {
      size = std::stoll(std::string(line.substr(t2 + 1)));
    } catch (const std::exception&) {
    }
    entries[std::string(line.substr(0, t1))] = Entry{type.empty() ? '?' : type.front(), size};
  }
  Findings f;
  for (const auto& bundle : cfg.airgap.bundles) {
    auto it = entries.find(bundle);
    auto path = cfg.airgap.bundle_dir + "/" + bundle;
    if (it == entries.end())
      f.push_back(fmt::format(
          "bundle {} is missing (present: {})", path,
          entries.empty() ? std::string("nothing") : [&] {
            std::vector<std::string> names;
            for (auto& [n, e] : entries) names.push_back(n);
            return fmt::format("{}", fmt::join(names, ", "));
          }()));
    else if (it->second.type != 'f')
      f.push_back(
          fmt::format("bundle {} is not a regular file (find type {})", path, it->second.type));
    else if (it->second.size == 0)
      f.push_back(fmt::format("bundle {} is empty", path));
  }
  for (const auto& [name, e] : entries)
    if (e.type == 'd')
      f.push_back(fmt::format(
          "{}/{} is a folder; k0s imports every entry of {} as a bundle and fails on it",
          cfg.airgap.bundle_dir, name, cfg.airgap.bundle_dir));
  if (cfg.airgap.bundles.empty() &&
      std::none_of(entries.begin(), entries.end(), [](auto& kv) { return kv.second.type == 'f'; }))
    f.push_back(fmt::format("{} holds no bundle file", cfg.airgap.bundle_dir));
  return f;
}

std::vector<std::string> parse_list_images(std::string_view text) {
  std::vector<std::string> out;
  for (auto line : lines_of(text)) {
    auto t = trim(line);
    if (!t.empty()) out.emplace_back(t);
  }
  return out;
}

// -------------------------------------------------------------- nodes ---

Findings node_readiness_findings(const json& node_list, const K0sConfig& cfg) {
  Findings f;
  static const std::set<std::string> bad_taints = {
      "node.kubernetes.io/not-ready",     "node.kubernetes.io/unreachable",
      "node.kubernetes.io/disk-pressure", "node.kubernetes.io/memory-pressure",
      "node.kubernetes.io/pid-pressure",  "node.kubernetes.io/network-unavailable"};
  for (const auto& n : cfg.nodes) {
    const json* node = find_by_name(node_list, n.name);
    if (!n.runs_workloads()) {
      if (node)
        f.push_back(fmt::format(
            "node {}: the manifest says role controller (no kubelet), but it has a Node object",
            n.name));
      continue;
    }
    if (!node) {
      f.push_back(fmt::format("node {}: no Node object (kubelet has not registered)", n.name));
      continue;
    }
    const auto& ready = condition(*node, "Ready");
    if (ready.is_null())
      f.push_back(fmt::format("node {}: no Ready condition yet", n.name));
    else if (str(ready, "status") != "True")
      f.push_back(fmt::format("node {}: {}", n.name, describe_condition(ready)));
    for (const char* type : {"MemoryPressure", "DiskPressure", "PIDPressure"}) {
      const auto& c = condition(*node, type);
      if (!c.is_null() && str(c, "status") != "False")
        f.push_back(fmt::format("node {}: {}", n.name, describe_condition(c)));
    }
    const auto& taints = member(member(*node, "spec"), "taints");
    if (taints.is_array())
      for (const auto& t : taints)
        if (bad_taints.count(str(t, "key")))
          f.push_back(fmt::format("node {}: taint {}:{}", n.name, str(t, "key"), str(t, "effect")));
  }
  return f;
}

Findings node_address_findings(const json& node_list, const K0sConfig& cfg) {
  Findings f;
  std::map<std::string, std::vector<std::string>> by_ip;
  for (const auto& n : cfg.nodes) {
    if (!n.runs_workloads()) continue;
    const json* node = find_by_name(node_list, n.name);
    if (!node) {
      f.push_back(fmt::format("node {}: no Node object", n.name));
      continue;
    }
    auto ip = internal_ip(*node);
    if (ip.empty()) {
      f.push_back(fmt::format("node {}: no InternalIP address", n.name));
      continue;
    }
    by_ip[ip].push_back(n.name);
    if (ip != n.ip) {
      std::string why = ip == "10.0.2.15" ? "; 10.0.2.15 is QEMU's user-net address: pin kubelet's "
                                            "--node-ip to the VLAN address"
                                          : "";
      f.push_back(
          fmt::format("node {}: InternalIP {}, expected {} (its VLAN {} address in the manifest){}",
                      n.name, ip, n.ip, cfg.vlan, why));
    }
  }
  for (const auto& [ip, names] : by_ip)
    if (names.size() > 1)
      f.push_back(fmt::format("nodes {} share InternalIP {}", fmt::join(names, ", "), ip));
  return f;
}

// ------------------------------------------------------- kube-system ---

Findings daemonset_findings(const json& daemonset_list, const K0sConfig& cfg) {
  Findings f;
  auto workers = static_cast<long long>(cfg.worker_side().size());
  bool single = cfg.nodes.size() == 1 && cfg.nodes.front().role == Role::single;
  auto check = [&](const json& ds) {
    auto name = name_of(ds);
    const auto& st = member(ds, "status");
    auto desired = num(st, "desiredNumberScheduled");
    auto available = num(st, "numberAvailable");
    auto ready = num(st, "numberReady");
    if (desired != workers)
      f.push_back(fmt::format(
          "DaemonSet kube-system/{}: scheduled on {} nodes, expected {} (the worker-side nodes)",
          name, desired, workers));
    if (available < desired || desired == 0)
      f.push_back(
          fmt::format("DaemonSet kube-system/{}: {} of {} available (ready {}, unavailable {})",
                      name, available, desired, ready, num(st, "numberUnavailable")));
  };
  std::vector<std::string> required = {"kube-proxy"};
  if (!single) required.push_back("konnectivity-agent");
  for (const auto& name : required) {
    if (const json* ds = find_by_name(daemonset_list, name))
      check(*ds);
    else
      f.push_back(fmt::format("DaemonSet kube-system/{}: missing", name));
  }
  const json* cni = find_by_name(daemonset_list, "kube-router");
  if (!cni) cni = find_by_name(daemonset_list, "calico-node");
  if (cni)
    check(*cni);
  else
    f.push_back(
        "no CNI DaemonSet: neither kube-system/kube-router nor kube-system/calico-node exists");
  return f;
}

Findings coredns_findings(const json& deployment, const json& endpointslice_list) {
  Findings f;
  const auto& available = condition(deployment, "Available");
  if (available.is_null())
    f.push_back("Deployment kube-system/coredns: no Available condition yet");
  else if (str(available, "status") != "True")
    f.push_back(fmt::format("Deployment kube-system/coredns: {}", describe_condition(available)));
  std::size_t endpoints = 0;
  for (const auto& slice : items_of(endpointslice_list)) {
    const auto& eps = member(slice, "endpoints");
    if (!eps.is_array()) continue;
    for (const auto& ep : eps) {
      ++endpoints;
      const auto& cond = member(ep, "conditions");
      // Per the EndpointSlice API a missing condition means true.
      auto flag = [&](const char* k) {
        const auto& v = member(cond, k);
        return !v.is_boolean() || v.get<bool>();
      };
      if (!flag("ready") || !flag("serving")) {
        const auto& addrs = member(ep, "addresses");
        std::string addr = addrs.is_array() && !addrs.empty() && addrs[0].is_string()
                               ? addrs[0].get<std::string>()
                               : "?";
        f.push_back(fmt::format(
            "EndpointSlice kube-system/{}: endpoint {} (pod {}, node {}) ready={} serving={}",
            name_of(slice), addr, str(member(ep, "targetRef"), "name"), str(ep, "nodeName"),
            flag("ready"), flag("serving")));
      }
    }
  }
  if (endpoints == 0) f.push_back("EndpointSlices with k8s-app=kube-dns: no endpoints");
  return f;
}

LogTargets log_targets(const json& pod_list, const K0sConfig& cfg) {
  LogTargets t;
  for (const auto* n : cfg.worker_side()) {
    const json* pick = nullptr;
    for (const auto& pod : items_of(pod_list)) {
      if (str(member(pod, "spec"), "nodeName") != n->name) continue;
      if (str(member(pod, "status"), "phase") != "Running") continue;
      const auto& cs = member(member(pod, "spec"), "containers");
      if (!cs.is_array() || cs.empty()) continue;
      pick = &pod;
      break;
    }
    if (!pick) {
      t.findings.push_back(
          fmt::format("node {}: no Running kube-system pod to read logs from", n->name));
      continue;
    }
    t.pods.push_back(
        {n->name, name_of(*pick), str(member(*pick, "spec")["containers"][0], "name")});
  }
  return t;
}

Findings metrics_api_findings(const json& apiservice) {
  const auto& available = condition(apiservice, "Available");
  if (available.is_null()) return {"APIService v1beta1.metrics.k8s.io: no Available condition yet"};
  if (str(available, "status") != "True")
    return {fmt::format("APIService v1beta1.metrics.k8s.io: {}", describe_condition(available))};
  return {};
}

Findings pull_policy_findings(const json& workload_list, std::string_view policy) {
  Findings f;
  for (const auto& w : items_of(workload_list)) {
    auto kind = str(w, "kind");
    const auto& spec = member(member(member(w, "spec"), "template"), "spec");
    for (const char* field : {"initContainers", "containers"}) {
      const auto& cs = member(spec, field);
      if (!cs.is_array()) continue;
      for (const auto& c : cs) {
        auto p = str(c, "imagePullPolicy");
        if (p != policy)
          f.push_back(fmt::format(
              "{} {}/{} {} {} (image {}): imagePullPolicy {}, expected {}", kind, ns_of(w),
              name_of(w),
              std::string_view(field) == "initContainers" ? "init container" : "container",
              str(c, "name"), str(c, "image"), p.empty() ? "(unset)" : p, policy));
      }
    }
  }
  return f;
}

// ------------------------------------------------------------ events ---

Findings pulling_event_findings(const json& event_list) {
  Findings f;
  for (const auto& e : items_of(event_list)) {
    if (str(e, "reason") != "Pulling") continue;
    f.push_back(fmt::format("Pulling event for {} on {}: {}", event_subject(e), event_host(e),
                            str(e, "message")));
  }
  return f;
}

Findings pulled_event_findings(const json& event_list) {
  Findings f;
  for (const auto& e : items_of(event_list)) {
    if (str(e, "reason") != "Pulled") continue;
    auto message = str(e, "message");
    if (message.find("already present on machine") != std::string::npos) continue;
    f.push_back(fmt::format("Pulled event for {} on {} is not \"already present\": {}",
                            event_subject(e), event_host(e), message));
  }
  return f;
}

// ---------------------------------------------------------- workload ---

json workload_objects(const K0sConfig& cfg) {
  if (!cfg.workload) throw Error("the manifest's k0s section has no workload");
  const auto& w = *cfg.workload;
  json labels = {{"app", w.name}};
  json container = {
      {"name", "web"},
      {"image", w.image},
      {"imagePullPolicy", "Never"},
      {"ports", json::array({{{"name", "http"}, {"containerPort", w.port}, {"protocol", "TCP"}}})},
      {"readinessProbe",
       {{"httpGet", {{"path", "/"}, {"port", w.port}}},
        {"periodSeconds", 2},
        {"failureThreshold", 3}}},
  };
  json pod_spec = {
      // One pod per node, so the pods land on every worker and pod-to-pod
      // traffic crosses nodes.
      {"affinity",
       {{"podAntiAffinity",
         {{"requiredDuringSchedulingIgnoredDuringExecution",
           json::array({{{"labelSelector", {{"matchLabels", labels}}},
                         {"topologyKey", "kubernetes.io/hostname"}}})}}}}},
      {"terminationGracePeriodSeconds", 5},
      {"containers", json::array({container})},
  };
  json deployment = {
      {"apiVersion", "apps/v1"},
      {"kind", "Deployment"},
      {"metadata", {{"name", w.name}, {"namespace", w.ns}, {"labels", labels}}},
      {"spec",
       {{"replicas", cfg.replicas()},
        {"selector", {{"matchLabels", labels}}},
        {"template", {{"metadata", {{"labels", labels}}}, {"spec", pod_spec}}}}},
  };
  json service = {
      {"apiVersion", "v1"},
      {"kind", "Service"},
      {"metadata", {{"name", w.name}, {"namespace", w.ns}, {"labels", labels}}},
      {"spec",
       {{"type", "NodePort"},
        {"selector", labels},
        {"ports", json::array({{{"name", "http"},
                                {"protocol", "TCP"},
                                {"port", 80},
                                {"targetPort", w.port},
                                {"nodePort", w.node_port}}})}}},
  };
  json ns = {{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", w.ns}}}};
  return {
      {"apiVersion", "v1"}, {"kind", "List"}, {"items", json::array({ns, deployment, service})}};
}

RolloutState rollout_state(const json& deployment) {
  RolloutState s;
  const auto& meta = member(deployment, "metadata");
  const auto& st = member(deployment, "status");
  auto want = member(member(deployment, "spec"), "replicas").is_number()
                  ? member(member(deployment, "spec"), "replicas").get<long long>()
                  : 1;
  auto generation = num(meta, "generation");
  auto observed = num(st, "observedGeneration");
  auto updated = num(st, "updatedReplicas");
  auto available = num(st, "availableReplicas");
  auto ready = num(st, "readyReplicas");
  s.done =
      observed >= generation && updated == want && available == want && num(st, "replicas") == want;
  s.summary = fmt::format("{} of {} replicas available (updated {}, ready {})", available, want,
                          updated, ready);
  if (observed < generation)
    s.summary += fmt::format("; generation {} not observed yet (at {})", generation, observed);
  const auto& progressing = condition(deployment, "Progressing");
  if (!progressing.is_null() && str(progressing, "status") == "False") {
    s.stuck = true;
    s.summary += "; " + describe_condition(progressing);
  }
  return s;
}

Findings pod_diagnosis(const json& pod_list, const json& events) {
  Findings f;
  for (const auto& pod : items_of(pod_list)) {
    auto name = name_of(pod);
    auto node = str(member(pod, "spec"), "nodeName");
    const auto& st = member(pod, "status");
    auto phase = str(st, "phase");
    std::string where = node.empty() ? fmt::format("pod {} (not scheduled)", name)
                                     : fmt::format("pod {} on {}", name, node);
    bool healthy = phase == "Running" && str(condition(pod, "Ready"), "status") == "True";
    std::vector<std::string> lines;
    for (const char* field : {"initContainerStatuses", "containerStatuses"}) {
      const auto& cs = member(st, field);
      if (!cs.is_array()) continue;
      for (const auto& c : cs) {
        const auto& state = member(c, "state");
        auto restarts = num(c, "restartCount");
        if (const auto& waiting = member(state, "waiting"); waiting.is_object()) {
          auto reason = str(waiting, "reason");
          auto message = str(waiting, "message");
          std::string text = fmt::format("container {} waiting: {}{}", str(c, "name"), reason,
                                         message.empty() ? std::string() : ": " + message);
          if (restarts > 0) text += fmt::format("; restarts {}", restarts);
          const auto& term = member(member(c, "lastState"), "terminated");
          if (term.is_object())
            text += fmt::format("; last terminated: {} (exit code {})", str(term, "reason"),
                                num(term, "exitCode"));
          lines.push_back(std::move(text));
        } else if (const auto& term = member(state, "terminated");
                   term.is_object() && std::string_view(field) == "containerStatuses") {
          lines.push_back(fmt::format("container {} terminated: {} (exit code {})", str(c, "name"),
                                      str(term, "reason"), num(term, "exitCode")));
        } else if (member(state, "running").is_object() &&
                   !(member(c, "ready").is_boolean() && member(c, "ready").get<bool>()) &&
                   std::string_view(field) == "containerStatuses") {
          lines.push_back(fmt::format("container {} running but not ready", str(c, "name")));
        }
      }
    }
    if (!healthy && lines.empty()) {
      const auto& scheduled = condition(pod, "PodScheduled");
      if (!scheduled.is_null() && str(scheduled, "status") != "True")
        lines.push_back(describe_condition(scheduled));
      else
        lines.push_back(fmt::format("phase {}", phase.empty() ? "(none)" : phase));
    }
    // The pod's Warning events, newest wording once each.
    std::set<std::string> seen;
    for (const auto& e : items_of(events)) {
      const auto& obj = member(e, "involvedObject");
      if (str(obj, "kind") != "Pod" || str(obj, "name") != name || str(e, "type") != "Warning")
        continue;
      auto text = fmt::format("event {}: {}", str(e, "reason"), str(e, "message"));
      auto count = event_count(e);
      if (seen.insert(text).second)
        lines.push_back(count > 1 ? fmt::format("{} (x{})", text, count) : text);
    }
    if (healthy) continue;  // a Ready pod's old warnings are noise here
    for (auto& l : lines) f.push_back(fmt::format("{}: {}", where, l));
  }
  return f;
}

std::vector<PodPlace> pod_places(const json& pod_list) {
  std::vector<PodPlace> out;
  for (const auto& pod : items_of(pod_list))
    out.push_back(
        {name_of(pod), str(member(pod, "spec"), "nodeName"), str(member(pod, "status"), "podIP")});
  return out;
}

Findings pod_placement_findings(const json& pod_list, const K0sConfig& cfg) {
  Findings f;
  const auto& w = cfg.workload.value();
  std::set<std::string> worker_names;
  for (const auto* n : cfg.worker_side()) worker_names.insert(n->name);
  std::map<std::string, std::vector<std::string>> by_node;
  std::size_t count = 0;
  for (const auto& pod : items_of(pod_list)) {
    if (!member(member(pod, "metadata"), "deletionTimestamp").is_null()) continue;  // terminating
    ++count;
    auto name = name_of(pod);
    auto node = str(member(pod, "spec"), "nodeName");
    const auto& st = member(pod, "status");
    if (str(st, "phase") != "Running")
      f.push_back(fmt::format("pod {} on {}: phase {}", name, node.empty() ? "(no node)" : node,
                              str(st, "phase")));
    else if (str(condition(pod, "Ready"), "status") != "True")
      f.push_back(fmt::format("pod {} on {}: Running but {}", name, node,
                              describe_condition(condition(pod, "Ready"))));
    if (!node.empty()) {
      by_node[node].push_back(name);
      if (!worker_names.count(node))
        f.push_back(fmt::format(
            "pod {} runs on {}, which is not a worker-side node of the manifest", name, node));
    }
    const auto& cs = member(member(pod, "spec"), "containers");
    if (cs.is_array())
      for (const auto& c : cs) {
        if (str(c, "image") != w.image)
          f.push_back(fmt::format("pod {}: container {} has image {}, expected {}", name,
                                  str(c, "name"), str(c, "image"), w.image));
        if (str(c, "imagePullPolicy") != "Never")
          f.push_back(fmt::format("pod {}: container {} has imagePullPolicy {}, expected Never",
                                  name, str(c, "name"), str(c, "imagePullPolicy")));
      }
    if (str(st, "phase") == "Running" && str(st, "podIP").empty())
      f.push_back(fmt::format("pod {} on {}: Running without a pod IP", name, node));
  }
  auto want = static_cast<std::size_t>(cfg.replicas());
  if (count != want)
    f.push_back(fmt::format("{} pods with app={}, expected {}", count, w.name, want));
  for (const auto& [node, pods] : by_node)
    if (pods.size() > 1)
      f.push_back(fmt::format("node {} runs {} pods ({}); the anti-affinity spreads one per node",
                              node, pods.size(), fmt::join(pods, ", ")));
  if (want == worker_names.size())
    for (const auto& n : worker_names)
      if (!by_node.count(n)) f.push_back(fmt::format("no pod on worker-side node {}", n));
  return f;
}

Findings service_endpoint_findings(const json& endpointslice_list, const std::string& service) {
  Findings f;
  std::size_t endpoints = 0;
  for (const auto& slice : items_of(endpointslice_list)) {
    const auto& eps = member(slice, "endpoints");
    if (!eps.is_array()) continue;
    for (const auto& ep : eps) {
      ++endpoints;
      const auto& ready = member(member(ep, "conditions"), "ready");
      if (ready.is_boolean() && !ready.get<bool>()) {
        const auto& addrs = member(ep, "addresses");
        f.push_back(
            fmt::format("Service {}: endpoint {} (pod {} on {}) is not ready", service,
                        addrs.is_array() && !addrs.empty() ? addrs[0].get<std::string>() : "?",
                        str(member(ep, "targetRef"), "name"), str(ep, "nodeName")));
      }
    }
  }
  if (endpoints == 0)
    f.push_back(fmt::format(
        "Service {}: no endpoints (selector matches no ready pod, or the pods are not Ready)",
        service));
  return f;
}

Findings apply_findings(std::string_view output, const std::vector<std::string>& objects) {
  Findings f;
  for (const auto& obj : objects) {
    bool ok = false;
    for (auto line : lines_of(output)) {
      auto t = trim(line);
      if (!starts_with(t, obj + " ")) continue;
      auto verb = trim(t.substr(obj.size()));
      if (verb == "created" || verb == "configured" || verb == "unchanged" ||
          starts_with(verb, "serverside-applied"))
        ok = true;
    }
    if (!ok)
      f.push_back(fmt::format("kubectl apply did not report {} (output: {})", obj, trim(output)));
  }
  return f;
}

}  // namespace vmtest::k0s
