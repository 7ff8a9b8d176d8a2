#include "vmtest/k0s/diagnostics.hpp"

#include <vmtest/machine.hpp>
#include <vmtest/protocol.hpp>

#include <fmt/format.h>

#include <chrono>
#include <fstream>
#include <map>
#include <set>

namespace vmtest::k0s {

namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using protocol::shell_quote;
using namespace std::chrono_literals;

// Short: a sick node must not hold up the report.
constexpr Duration kDiagTimeout = 60s;

void write(const fs::path& path, std::string_view data) {
  std::ofstream out(path, std::ios::binary);
  out.write(data.data(), static_cast<std::streamsize>(data.size()));
}

// stdout of `command`, or what went wrong, for a diagnostics file.
std::string capture(Machine& node, const std::string& command) {
  try {
    auto r = node.execute(command, kDiagTimeout);
    if (r.status == 0) return r.out;
    return fmt::format("# `{}` exited with status {}\n# stderr:\n{}\n# stdout:\n{}", command,
                       r.status, r.err, r.out);
  } catch (const std::exception& e) {
    return fmt::format("# `{}` could not run: {}\n", command, e.what());
  }
}

std::string str_at(const json& j, std::initializer_list<const char*> path) {
  const json* cur = &j;
  for (const char* k : path) {
    if (!cur->is_object() || !cur->contains(k)) return {};
    cur = &(*cur)[k];
  }
  return cur->is_string() ? cur->get<std::string>() : std::string();
}

long long num_at(const json& j, std::initializer_list<const char*> path) {
  const json* cur = &j;
  for (const char* k : path) {
    if (!cur->is_object() || !cur->contains(k)) return 0;
    cur = &(*cur)[k];
  }
  return cur->is_number() ? cur->get<long long>() : 0;
}

std::string condition_status(const json& obj, std::string_view type) {
  const auto* conds =
      obj.contains("status") && obj["status"].is_object() && obj["status"].contains("conditions")
          ? &obj["status"]["conditions"]
          : nullptr;
  if (!conds || !conds->is_array()) return {};
  for (const auto& c : *conds)
    if (c.value("type", "") == type) return c.value("status", "");
  return {};
}

// "kubectl describe" arguments for every object of `list` that is not ready.
std::vector<std::string> not_ready(const json& list) {
  std::vector<std::string> out;
  if (!list.is_object() || !list.contains("items") || !list["items"].is_array()) return out;
  for (const auto& o : list["items"]) {
    auto kind = o.value("kind", "");
    auto name = str_at(o, {"metadata", "name"});
    auto ns = str_at(o, {"metadata", "namespace"});
    bool bad = false;
    if (kind == "Node") {
      bad = condition_status(o, "Ready") != "True";
    } else if (kind == "Pod") {
      auto phase = str_at(o, {"status", "phase"});
      bad = phase != "Succeeded" && (phase != "Running" || condition_status(o, "Ready") != "True");
    } else if (kind == "DaemonSet") {
      auto desired = num_at(o, {"status", "desiredNumberScheduled"});
      bad = desired == 0 || num_at(o, {"status", "numberAvailable"}) < desired;
    } else if (kind == "Deployment") {
      bad = condition_status(o, "Available") != "True";
    }
    if (!bad) continue;
    std::string lower = kind;
    for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    out.push_back(ns.empty()
                      ? fmt::format("{} {}", lower, shell_quote(name))
                      : fmt::format("-n {} {} {}", shell_quote(ns), lower, shell_quote(name)));
  }
  return out;
}

void write_commands(const fs::path& dir, const std::vector<const CommandRecord*>& records) {
  fs::create_directories(dir);
  std::string index;
  int n = 0;
  for (const auto* r : records) {
    auto id = fmt::format("{:03}", ++n);
    write(dir / (id + ".command"), r->command + "\n");
    write(dir / (id + ".stdout"), r->out);
    write(dir / (id + ".stderr"), r->err);
    std::string status =
        r->error.empty() ? fmt::format("exit {}{}", r->status, r->timed_out ? " (timed out)" : "")
                         : "no result: " + r->error;
    if (r->repeats > 1) status += fmt::format(" (same answer {} times in a row)", r->repeats);
    for (auto& c : status)
      if (c == '\n') c = ' ';
    index += fmt::format("{}\t{}\t{}\n", id, status, r->command);
  }
  write(dir / "index.txt", index);
}

}  // namespace

fs::path write_diagnostics(const NodeLookup& nodes, const K0sConfig& cfg,
                           const std::vector<CommandRecord>& records, const fs::path& dir) {
  auto root = fs::absolute(dir);
  std::error_code ec;
  fs::create_directories(root, ec);
  std::map<std::string, std::vector<const CommandRecord*>> by_node;
  for (const auto& r : records) by_node[r.node].push_back(&r);
  std::set<std::string> names;
  for (const auto& n : cfg.nodes) names.insert(n.name);
  for (const auto& [name, _] : by_node) names.insert(name);

  for (const auto& name : names) {
    auto nd = root / name;
    fs::create_directories(nd, ec);
    if (auto it = by_node.find(name); it != by_node.end())
      write_commands(nd / "commands", it->second);
    Machine* m = nullptr;
    try {
      m = &nodes(name);
    } catch (const std::exception& e) {
      write(nd / "unreachable.txt", fmt::format("no machine {}: {}\n", name, e.what()));
      continue;
    }
    write(nd / "k0s-status.txt", capture(*m, cfg.k0s + " status"));
    write(nd / "k0s-status.json", capture(*m, cfg.k0s + " status -o json"));
    write(nd / "k0s-journal.txt",
          capture(*m, fmt::format("journalctl -u {} --no-pager -o short-iso -n 20000",
                                  shell_quote(cfg.unit_name()))));
  }

  // The cluster as the leader's API sees it.
  Machine* leader = nullptr;
  try {
    leader = &nodes(cfg.leader().name);
  } catch (const std::exception&) {
    return root;
  }
  auto ld = root / cfg.leader().name;
  fs::create_directories(ld, ec);
  auto k = cfg.kubectl();
  write(ld / "kubectl-get-nodes-pods-wide.txt", capture(*leader, k + " get nodes,pods -A -o wide"));
  write(ld / "events.txt", capture(*leader, k + " get events -A"));
  write(ld / "events.json", capture(*leader, k + " get events -A -o json"));
  std::string describe;
  for (const char* what : {"nodes", "pods -A", "daemonsets -A", "deployments -A"}) {
    auto command = fmt::format("{} get {} -o json", k, what);
    auto out = capture(*leader, command);
    json list;
    try {
      list = json::parse(out);
    } catch (const json::exception&) {
      describe += fmt::format("# `{}` gave no JSON:\n{}\n", command, out);
      continue;
    }
    for (const auto& args : not_ready(list)) {
      auto d = fmt::format("{} describe {}", k, args);
      describe += fmt::format("# {}\n{}\n", d, capture(*leader, d));
    }
  }
  write(ld / "describe-not-ready.txt",
        describe.empty() ? "# every node, pod, DaemonSet and Deployment is ready\n" : describe);
  return root;
}

std::string save_failure_diagnostics(const NodeLookup& nodes, const K0sConfig& cfg,
                                     const fs::path& dir) {
  auto out = write_diagnostics(nodes, cfg, Transcript::current().records(), dir);
  return fmt::format(
      "k0s diagnostics (every command this test ran, k0s status, k0s journal, kubectl state) are "
      "saved in {} (docs/k0s-failures.md says what to send)",
      out.string());
}

}  // namespace vmtest::k0s
