// vmtest: keep a cluster up while developing, and work with it.
//
//   vmtest up MANIFEST          boot, print `export VMTEST_ATTACH=...`, serve
//   vmtest exec NODE -- CMD     run one command, exit with its status
//   vmtest shell NODE           a line-at-a-time root shell
//   vmtest status               nodes, state, uptime
//   vmtest logs NODE [-f]       the serial console log
//   vmtest down                 stop the cluster
//   vmtest report EVENTS.jsonl  the HTML report of an event log
//
// The cluster is found in the folder given by --state-dir, else
// $VMTEST_ATTACH, else the per-user default (vmtest/broker.hpp). Each command
// is in a file of its own; this one only picks it.
#include "cli.hpp"

#include <vmtest/report.hpp>

#include <cstdio>
#include <exception>
#include <string_view>

namespace vmtest::cli {

extern const char* const kUsage;
const char* const kUsage = R"(usage:
  vmtest up [--state-dir DIR] [--keep-state] [--window] MANIFEST
      Boots the manifest's cluster, prints `export VMTEST_ATTACH=DIR` and keeps
      the cluster up until Ctrl-C, SIGTERM or `vmtest down`; then stops it all.
      --keep-state keeps the cluster's state (serial logs, disks) until the
      next `vmtest up` in the same folder. --window (or VMTEST_WINDOW=1) opens
      a QEMU window per VM on DISPLAY or WAYLAND_DISPLAY (docs/nix.md).
  vmtest exec [--state-dir DIR] [--timeout SECONDS] [-i] NODE -- COMMAND...
      Runs COMMAND (words joined by spaces, run by bash) on NODE; prints its
      stdout and stderr byte for byte and exits with its status (124: timed out,
      255: vmtest could not run it). Its stdin is /dev/null, or with -i all of
      vmtest's stdin (read to the end first).
  vmtest shell [--state-dir DIR] [--timeout SECONDS] NODE
      A root shell on NODE, one line at a time (no terminal: see README.md).
  vmtest status [--state-dir DIR]
      Nodes, their state and uptime; exits 1 when no cluster is up.
  vmtest logs [--state-dir DIR] [-f] NODE
      NODE's serial console log; -f follows it until the cluster stops.
  vmtest down [--state-dir DIR]
      Stops the cluster and waits until everything of it is gone.
  vmtest report EVENTS.jsonl [-o FILE]
      Renders an event log (a suite's, or DIR/events.jsonl of `vmtest up`) as
      one self-contained HTML page (docs/events.md).

The folder: --state-dir DIR, else $VMTEST_ATTACH, else $XDG_RUNTIME_DIR/vmtest-up
(or /tmp/vmtest-up-<uid>). Test suites use the cluster when VMTEST_ATTACH is set.
)";

namespace {

struct Command {
  std::string_view name;
  int (*run)(const Options&);
  unsigned accepts;
};

constexpr Command kCommands[] = {
    {"up", cmd_up, kStateDir | kKeepState | kWindow},
    {"exec", cmd_exec, kStateDir | kTimeout | kStdin},
    {"shell", cmd_shell, kStateDir | kTimeout},
    {"status", cmd_status, kStateDir},
    {"logs", cmd_logs, kStateDir | kFollow},
    {"down", cmd_down, kStateDir},
};

}  // namespace

}  // namespace vmtest::cli

int main(int argc, char** argv) {
  using namespace vmtest::cli;
  if (argc > 1 && std::string_view(argv[1]) == "report")
    return vmtest::report::main(argc - 1, argv + 1);
  auto name = command_of(argc, argv);
  if (name.empty()) usage_error("which command?");
  const Command* command = nullptr;
  for (const auto& c : kCommands)
    if (c.name == name) command = &c;
  if (!command) {
    parse(argc, argv, name, ~0u);  // a bad option is reported first, as before
    usage_error("unknown command " + name);
  }
  auto o = parse(argc, argv, name, command->accepts);
  try {
    return command->run(o);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "vmtest %s: %s\n", o.command.c_str(), e.what());
    return 255;
  }
}
