#include "node_exec.hpp"

#include "ctr_text.hpp"
#include "vmtest/containerd/ctr.hpp"

#include <vmtest/machine.hpp>
#include <vmtest/protocol.hpp>
#include <vmtest/text.hpp>

#include <fmt/format.h>

#include <unistd.h>
#include <algorithm>
#include <atomic>
#include <chrono>

namespace vmtest::containerd {

namespace {

CommandObserver& observer() {
  static CommandObserver o;
  return o;
}

}  // namespace

namespace detail {

CommandResult exec(Machine& node, const std::string& command, Duration timeout) {
  auto r = node.execute(command, timeout);
  if (observer()) observer()(node, command, r);
  return r;
}

std::string exec_ok(Machine& node, const std::string& command, Duration timeout) {
  auto r = exec(node, command, timeout);
  if (r.status != 0)
    throw CommandFailed(
        fmt::format("`{}` exited with status {}: {}", command, r.status, excerpt(trim(r.err))),
        node.context(command), r.status, r.out, r.err);
  return r.out;
}

std::string guest_seconds(Duration d) {
  auto s = std::chrono::duration_cast<std::chrono::seconds>(d).count();
  return std::to_string(std::max<long long>(s, 1));
}

std::string unique_container_id() {
  static std::atomic<unsigned> counter{0};
  auto now = std::chrono::steady_clock::now().time_since_epoch();
  auto micros = std::chrono::duration_cast<std::chrono::microseconds>(now).count();
  return fmt::format("vmtest-{}-{}-{}", ::getpid(), counter.fetch_add(1), micros % 1000000);
}

}  // namespace detail

void set_command_observer(CommandObserver o) {
  observer() = std::move(o);
}

std::string CtrCommand::prefix() const {
  std::string s = binary;
  if (!address.empty()) s += " --address " + protocol::shell_quote(address);
  if (!ns.empty()) s += " -n " + protocol::shell_quote(ns);
  return s;
}

}  // namespace vmtest::containerd
