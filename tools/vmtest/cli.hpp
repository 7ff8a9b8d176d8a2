// The `vmtest` command's parts: one file per command (up.cpp, exec.cpp,
// shell.cpp, status.cpp, logs.cpp, down.cpp), the dispatcher (main.cpp) and
// the options every command parses with (options.cpp).
#pragma once

#include <vmtest/broker.hpp>
#include <vmtest/time.hpp>

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace vmtest::cli {

namespace broker = vmtest::broker;

// The options a command takes (a bit set).
enum Accepts : unsigned {
  kStateDir = 1,   // --state-dir DIR
  kTimeout = 2,    // --timeout SECONDS
  kKeepState = 4,  // --keep-state
  kStdin = 8,      // -i, --stdin
  kFollow = 16,    // -f, --follow
  kWindow = 32,    // --window
};

struct Options {
  std::string command;
  std::filesystem::path state_dir;
  bool keep_state = false;
  bool window = false;
  bool follow = false;
  bool stdin_data = false;
  Duration timeout = kCommandTimeout;
  std::vector<std::string> args;  // positional, in order
  std::vector<std::string> rest;  // after `--`
};

// Prints the message and the usage to stderr, exits 2.
[[noreturn]] void usage_error(const std::string& message);
// Prints the usage to stdout, exits 0.
[[noreturn]] void usage();

// The command word of a command line (options may come before it), or ""
// when there is none.
std::string command_of(int argc, char** argv);
// The options of `command`: those it does not take are a usage error.
Options parse(int argc, char** argv, const std::string& command, unsigned accepts);

// Writes all of `bytes` (a reader that went away is not an error).
void write_out(int fd, const std::string& bytes);
// "42s", "3m07s", "2h05m".
std::string human_duration(double seconds);
// The node of that name; Error listing the nodes when there is none.
const broker::NodeInfo& find_node(const broker::ClusterInfo& info, const std::string& name);

int cmd_up(const Options& o);
int cmd_exec(const Options& o);
int cmd_shell(const Options& o);
int cmd_status(const Options& o);
int cmd_logs(const Options& o);
int cmd_down(const Options& o);

}  // namespace vmtest::cli
