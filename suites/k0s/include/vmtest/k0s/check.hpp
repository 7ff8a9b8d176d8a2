// File: vmtest/k0s/check.hpp
//
// What the k0s checks share: the error they throw (CheckFailed, the
// containerd layer's FindingsError: one finding per line, each naming the node, image, pod or
// condition and what was seen), how they reach nodes (NodeLookup, so unit tests hand in Machines
// over mocked channels), the host-side poll loop for JSON conditions, and
// the transcript: every command a check runs goes through run_command /
// run_succeed / run_until, which keep its raw stdout and stderr for the
// failure diagnostics (diagnostics.hpp).
#pragma once

#include <vmtest/command.hpp>
#include <vmtest/containerd/findings.hpp>
#include <vmtest/errors.hpp>
#include <vmtest/time.hpp>

#include <nlohmann/json.hpp>

#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace vmtest {
class Machine;
}

namespace vmtest::k0s {

// A k0s check saw something wrong: the one findings error of the k0s and
// containerd layers (vmtest/containerd/findings.hpp). message() is a summary
// line followed by one indented line per finding; summary() and findings()
// give the parts. containerd::ImagesMissing is one too.
using CheckFailed = containerd::FindingsError;

// Gives the Machine called `name` (ClusterTest::node in suites).
using NodeLookup = std::function<Machine&(std::string_view name)>;

// Throws CheckFailed(summary, findings) with `node`'s context unless
// `findings` is empty.
void require_no_findings(Machine& node, std::string summary,
                         const std::vector<std::string>& findings, std::string command = {});

// Evaluates `probe` on the host until it returns no findings or `timeout`
// has passed (at least once), sleeping `interval` between tries. A
// CommandFailed or TimeoutError inside the probe (the API not answering yet)
// counts as a finding and is retried. On timeout throws CheckFailed
// "<what> not reached within N s; last seen:" with the last findings.
void poll(Machine& node, std::string_view what, Duration timeout, Duration interval,
          const std::function<std::vector<std::string>()>& probe, std::string command = {});

// One command a check ran, as it came back.
struct CommandRecord {
  std::string node;
  std::string command;
  int status = 0;
  std::string out;
  std::string err;
  bool timed_out = false;
  // Set when no result came back (the wait ended, the machine died).
  std::string error;
  // How many runs in a row gave this same answer (a poll repeats commands).
  int repeats = 1;
};

// The commands the current check ran, in order. The suites write it out when
// a test fails and clear it after each test. The containerd layer's commands
// are recorded too (containerd::set_command_observer). A run whose answer is
// the same as the previous run of that command on that node only counts up
// `repeats`, so a long poll keeps one record per state it saw; beyond
// kMaxRecords the oldest records after the first kKeepFirst are dropped.
class Transcript {
 public:
  static constexpr std::size_t kMaxRecords = 5000;
  static constexpr std::size_t kKeepFirst = 200;

  static Transcript& current();
  void clear();
  void add(CommandRecord record);
  std::vector<CommandRecord> records() const;

 private:
  Transcript();
  mutable std::mutex mutex_;
  std::vector<CommandRecord> records_;
};

// node.execute(command), recorded.
CommandResult run_command(Machine& node, const std::string& command, Duration timeout);
// Like node.succeed: stdout, or CommandFailed naming the node, the command,
// its status and stderr. Recorded.
std::string run_succeed(Machine& node, const std::string& command, Duration timeout);
// node.wait_until_succeeds(command), recorded (stdout of the run that
// succeeded, or the TimeoutError's text).
std::string run_until(Machine& node, const std::string& command, Duration timeout);

// Runs `command` (kubectl ... -o json) and parses its stdout; throws
// CommandFailed when it exits non-zero and InvalidArgument naming the node
// and command when the output is not JSON.
nlohmann::json run_json(Machine& node, const std::string& command, Duration timeout);
// run_json, and the answer must be a List (kind "...List" with an items
// array, as `kubectl get <type>` prints): one object where a List is
// expected, or no items array, is an InvalidArgument naming the command and
// the shape seen, never "no items".
nlohmann::json run_json_list(Machine& node, const std::string& command, Duration timeout);
// run_json, and the answer must be one object of `kind` (as `kubectl get
// <type> <name>` prints); a List or another kind is an InvalidArgument naming
// the command and the shape seen.
nlohmann::json run_json_object(Machine& node, const std::string& command, std::string_view kind,
                               Duration timeout);

// "a List of 3 items", "one Node named wrkr1", "an array", "a string": what a
// JSON answer is, for shape errors.
std::string describe_shape(const nlohmann::json& doc);

// "2 s" / "1.5 s", for messages.
std::string describe_seconds(Duration d);

}  // namespace vmtest::k0s
