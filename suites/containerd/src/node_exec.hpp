// File: suites/containerd/src/node_exec.hpp (internal, not installed)
//
// How the containerd layer runs commands on a node: through the command
// observer (the k0s suites' transcript), with ctr's errors cut short.
#pragma once

#include <vmtest/command.hpp>
#include <vmtest/time.hpp>

#include <string>

namespace vmtest {
class Machine;
}

namespace vmtest::containerd::detail {

// node.execute, shown to the observer.
CommandResult exec(Machine& node, const std::string& command, Duration timeout);
// node.succeed through exec: stdout, or CommandFailed with the command, its
// status and (an excerpt of) stderr.
std::string exec_ok(Machine& node, const std::string& command, Duration timeout);
// Whole seconds for coreutils timeout in the guest, at least 1.
std::string guest_seconds(Duration d);
// "vmtest-<pid>-<n>-<micros>": a container id no other run uses.
std::string unique_container_id();

}  // namespace vmtest::containerd::detail
