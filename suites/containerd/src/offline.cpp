// Offline proofs on a node: a registry pull fails for a network reason, and
// a container runs with loopback only.
#include "vmtest/containerd/ctr.hpp"

#include "ctr_text.hpp"
#include "node_exec.hpp"

#include <vmtest/machine.hpp>
#include <vmtest/protocol.hpp>
#include <vmtest/text.hpp>

#include <fmt/format.h>
#include <fmt/ranges.h>

namespace vmtest::containerd {

using namespace detail;
using protocol::shell_quote;

bool is_network_failure(std::string_view err) {
  if (err.find("containerd.sock") != std::string_view::npos) return false;
  for (std::string_view cause :
       {"dial tcp", "no such host", "network is unreachable", "no route to host",
        "connection refused", "i/o timeout", "Temporary failure in name resolution"})
    if (err.find(cause) != std::string_view::npos) return true;
  return false;
}

std::string require_pull_fails(Machine& node, const CtrCommand& ctr, std::string_view ref,
                               Duration timeout) {
  auto command = fmt::format("timeout -s KILL {} {} images pull {}", guest_seconds(timeout),
                             ctr.prefix(), shell_quote(ref));
  auto r = exec(node, command, timeout + std::chrono::seconds(30));
  if (r.status == 0)
    throw CommandFailed(
        fmt::format("pulling {} from its registry succeeded: this node reaches a registry, so "
                    "nothing here proves the images came from the bundle",
                    ref),
        node.context(command), r.status, r.out, r.err);
  if (r.status == 127)
    throw CommandFailed(fmt::format("cannot try to pull {}: the command was not found ({})", ref,
                                    excerpt(trim(r.err))),
                        node.context(command), r.status, r.out, r.err);
  if (r.status == 137 || r.status == 124)
    return fmt::format("no answer within {} s (pull stopped)", guest_seconds(timeout));
  // Any other failure counts only with a network cause: containerd being
  // down, a bad reference or a full disk fail the pull too and prove nothing
  // about the node's isolation.
  if (!is_network_failure(r.err))
    throw CommandFailed(
        fmt::format("pulling {} failed, but not for a network reason, so it proves nothing about "
                    "the node being offline: {}",
                    ref, excerpt(trim(r.err))),
        node.context(command), r.status, r.out, r.err);
  return std::string(trim(r.err));
}

RunResult run_container(Machine& node, const CtrCommand& ctr, std::string_view ref,
                        const std::vector<std::string>& argv, Duration timeout) {
  auto id = unique_container_id();
  std::string args;
  for (const auto& a : argv) args += " " + shell_quote(a);
  // No --net-host and no --cni: the container gets a fresh network
  // namespace with only loopback. The trailing cleanup removes the container
  // if ctr was killed before --rm could.
  auto command = fmt::format(
      "set +e; {0} run --rm {1} {2}{3}; s=$?; {0} containers rm {2} >/dev/null 2>&1; exit $s",
      ctr.prefix(), shell_quote(ref), id, args);
  auto r = exec(node, command, timeout);
  if (r.status != 0) {
    for (auto line : lines_of(r.err)) {
      if (trim(line).substr(0, 4) == "ctr:")
        throw CommandFailed(
            fmt::format("cannot run a container from image {}: {}", ref, trim(line)),
            node.context(command), r.status, r.out, r.err);
    }
  }
  return RunResult{r.status, std::move(r.out), std::move(r.err)};
}

void require_no_network(Machine& node, const CtrCommand& ctr, std::string_view ref,
                        Duration timeout) {
  auto r = run_container(node, ctr, ref, {"cat", "/proc/net/dev"}, timeout);
  if (r.status != 0)
    throw CommandFailed(
        fmt::format("cat /proc/net/dev in a container from {} exited with status {}: {}", ref,
                    r.status, excerpt(trim(r.err))),
        node.context(), r.status, r.out, r.err);
  auto names = parse_proc_net_dev(r.out);
  if (names != std::vector<std::string>{"lo"})
    throw FailedPrecondition(
        fmt::format(
            "a container from {} has network interfaces [{}]; expected only lo (no network)", ref,
            fmt::join(names, ", ")),
        node.context());
}

}  // namespace vmtest::containerd
