// File: vmtest/k0s/diagnostics.hpp
//
// What a failed k0s check leaves behind, so the first run on a real host
// can be diagnosed from the folder alone (docs/k0s-failures.md):
//
//   <dir>/<node>/commands/NNN.command|.stdout|.stderr   every command the check ran, raw
//   <dir>/<node>/commands/index.txt                     NNN, exit status, command
//   <dir>/<node>/k0s-status.txt, k0s-status.json        `k0s status` (text, -o json)
//   <dir>/<node>/k0s-journal.txt                        journalctl -u <unit>
//   <dir>/<leader>/kubectl-get-nodes-pods-wide.txt      get nodes,pods -A -o wide
//   <dir>/<leader>/events.txt, events.json              get events -A
//   <dir>/<leader>/describe-not-ready.txt               describe of every node, pod,
//                                                       DaemonSet and Deployment not ready
//
// Collecting never throws: a command that fails writes its error into the
// file instead. The diagnostics' own commands are not added to the transcript.
#pragma once

#include "vmtest/k0s/check.hpp"
#include "vmtest/k0s/config.hpp"

#include <filesystem>
#include <string>
#include <vector>

namespace vmtest::k0s {

// Writes `records` and the cluster's state under `dir` (created); returns
// the absolute folder.
std::filesystem::path write_diagnostics(const NodeLookup& nodes, const K0sConfig& cfg,
                                        const std::vector<CommandRecord>& records,
                                        const std::filesystem::path& dir);

// What a failed k0s test does (K0sTest::TearDown): writes the current
// Transcript and the cluster's state under `dir` and returns the failure
// line that names the folder.
std::string save_failure_diagnostics(const NodeLookup& nodes, const K0sConfig& cfg,
                                     const std::filesystem::path& dir);

}  // namespace vmtest::k0s
