#include "vmtest/k0s/check.hpp"

#include <vmtest/containerd/ctr.hpp>
#include <vmtest/machine.hpp>
#include <vmtest/retry.hpp>

#include <fmt/format.h>

namespace vmtest::k0s {

void require_no_findings(Machine& node, std::string summary,
                         const std::vector<std::string>& findings, std::string command) {
  if (findings.empty()) return;
  throw CheckFailed(std::move(summary), findings, node.context(std::move(command)));
}

std::string describe_seconds(Duration d) {
  double s = seconds(d);
  if (s == static_cast<double>(static_cast<long long>(s)))
    return fmt::format("{} s", static_cast<long long>(s));
  return fmt::format("{:.1f} s", s);
}

void poll(Machine& node, std::string_view what, Duration timeout, Duration interval,
          const std::function<std::vector<std::string>()>& probe, std::string command) {
  std::vector<std::string> last;
  try {
    // The probe's own CommandFailed / TimeoutError (the API not answering
    // yet) are findings of that try, so the only TimeoutError out of
    // retry_until is its deadline.
    retry_until(what, timeout, {.interval = interval}, [&] {
      try {
        last = probe();
      } catch (const CommandFailed& e) {
        last = {e.message()};
      } catch (const TimeoutError& e) {
        last = {e.message()};
      }
      return last.empty();
    });
  } catch (const TimeoutError&) {
    throw CheckFailed(
        fmt::format("{} not reached within {}; last seen:", what, describe_seconds(timeout)), last,
        node.context(std::move(command)));
  }
}

Transcript::Transcript() {
  // The containerd layer runs its own commands; keep them with ours.
  containerd::set_command_observer(
      [this](Machine& node, const std::string& command, const CommandResult& r) {
        add({node.name(), command, r.status, r.out, r.err, r.timed_out, {}});
      });
}

Transcript& Transcript::current() {
  static Transcript t;
  return t;
}

void Transcript::clear() {
  std::lock_guard lock(mutex_);
  records_.clear();
}

void Transcript::add(CommandRecord record) {
  std::lock_guard lock(mutex_);
  for (auto it = records_.rbegin(); it != records_.rend(); ++it) {
    if (it->node != record.node || it->command != record.command) continue;
    if (it->status == record.status && it->out == record.out && it->err == record.err &&
        it->timed_out == record.timed_out && it->error == record.error) {
      ++it->repeats;
      return;
    }
    break;
  }
  records_.push_back(std::move(record));
  if (records_.size() > kMaxRecords)
    records_.erase(records_.begin() + static_cast<std::ptrdiff_t>(kKeepFirst));
}

std::vector<CommandRecord> Transcript::records() const {
  std::lock_guard lock(mutex_);
  return records_;
}

CommandResult run_command(Machine& node, const std::string& command, Duration timeout) {
  auto& t = Transcript::current();
  try {
    auto r = node.execute(command, timeout);
    t.add({node.name(), command, r.status, r.out, r.err, r.timed_out, {}});
    return r;
  } catch (const Error& e) {
    t.add({node.name(), command, -1, {}, {}, false, e.message()});
    throw;
  }
}

std::string run_succeed(Machine& node, const std::string& command, Duration timeout) {
  auto r = run_command(node, command, timeout);
  if (r.status != 0) {
    auto err = r.err.size() > 600 ? r.err.substr(0, 600) + "..." : r.err;
    while (!err.empty() && (err.back() == '\n' || err.back() == ' ')) err.pop_back();
    throw CommandFailed(fmt::format("`{}` exited with status {}{}", command, r.status,
                                    err.empty() ? "" : ": " + err),
                        node.context(command), r.status, r.out, r.err);
  }
  return r.out;
}

std::string run_until(Machine& node, const std::string& command, Duration timeout) {
  auto& t = Transcript::current();
  try {
    auto out = node.wait_until_succeeds(command, timeout);
    t.add({node.name(), command, 0, out, {}, false, {}});
    return out;
  } catch (const Error& e) {
    t.add({node.name(), command, -1, {}, {}, true, e.message()});
    throw;
  }
}

std::string describe_shape(const nlohmann::json& doc) {
  if (doc.is_object()) {
    auto kind = doc.contains("kind") && doc["kind"].is_string() ? doc["kind"].get<std::string>()
                                                                : std::string();
    std::string name;
    if (doc.contains("metadata") && doc["metadata"].is_object() &&
        doc["metadata"].contains("name") && doc["metadata"]["name"].is_string())
      name = doc["metadata"]["name"].get<std::string>();
    if (doc.contains("items"))
      return doc["items"].is_array()
                 ? fmt::format("a {} of {} items", kind.empty() ? "List" : kind,
                               doc["items"].size())
                 : fmt::format("a {} whose items is not an array", kind.empty() ? "object" : kind);
    if (kind.empty()) return "an object without kind";
    return name.empty() ? fmt::format("one {}", kind) : fmt::format("one {} named {}", kind, name);
  }
  if (doc.is_array()) return fmt::format("an array of {}", doc.size());
  if (doc.is_string()) return "a string";
  if (doc.is_null()) return "null";
  return "a scalar";
}

nlohmann::json run_json(Machine& node, const std::string& command, Duration timeout) {
  auto out = run_succeed(node, command, timeout);
  try {
    return nlohmann::json::parse(out);
  } catch (const nlohmann::json::exception& e) {
    throw InvalidArgument(
        fmt::format("output of `{}` is not JSON ({}): {}", command, e.what(), out.substr(0, 300)),
        node.context(command));
  }
}

nlohmann::json run_json_list(Machine& node, const std::string& command, Duration timeout) {
  auto doc = run_json(node, command, timeout);
  bool list = doc.is_object() && doc.contains("items") && doc["items"].is_array() &&
              doc.contains("kind") && doc["kind"].is_string() &&
              doc["kind"].get<std::string>().ends_with("List");
  if (!list)
    throw InvalidArgument(fmt::format("`{}` answered {}, expected a List with an items array",
                                      command, describe_shape(doc)),
                          node.context(command));
  return doc;
}

nlohmann::json run_json_object(Machine& node, const std::string& command, std::string_view kind,
                               Duration timeout) {
  auto doc = run_json(node, command, timeout);
  bool ok = doc.is_object() && doc.contains("kind") && doc["kind"].is_string() &&
            doc["kind"].get<std::string>() == kind;
  if (!ok)
    throw InvalidArgument(
        fmt::format("`{}` answered {}, expected one {}", command, describe_shape(doc), kind),
        node.context(command));
  return doc;
}

}  // namespace vmtest::k0s
