// File: vmtest/k0s/check.hpp
//
// What the k0s checks share: the error they throw (CheckFailed, one finding
// per line, each naming the node, image, pod or condition and what was
// seen), how they reach nodes (NodeLookup, so unit tests hand in Machines
// over mocked channels), and the host-side poll loop for JSON conditions.
#pragma once

#include <vmtest/errors.hpp>
#include <vmtest/time.hpp>

#include <nlohmann/json.hpp>

#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace vmtest {
class Machine;
}

namespace vmtest::k0s {

// A k0s check saw something wrong. message() is a summary line followed by
// one indented line per finding.
class CheckFailed : public Error {
 public:
  CheckFailed(std::string summary, std::vector<std::string> findings, ErrorContext context = {});
  const std::string& summary() const noexcept { return summary_; }
  const std::vector<std::string>& findings() const noexcept { return findings_; }

 private:
  std::string summary_;
  std::vector<std::string> findings_;
};

// Gives the Machine called `name` (ClusterTest::node in suites).
using NodeLookup = std::function<Machine&(std::string_view name)>;

// Throws CheckFailed(summary, findings) with `node`'s context unless
// `findings` is empty.
void require_no_findings(Machine& node, std::string summary, const std::vector<std::string>& findings,
                         std::string command = {});

// Evaluates `probe` on the host until it returns no findings or `timeout`
// has passed (at least once), sleeping `interval` between tries. A
// CommandFailed or TimeoutError inside the probe (the API not answering yet)
// counts as a finding and is retried. On timeout throws CheckFailed
// "<what> not reached within N s; last seen:" with the last findings.
void poll(Machine& node, std::string_view what, Duration timeout, Duration interval,
          const std::function<std::vector<std::string>()>& probe, std::string command = {});

// Runs `command` (kubectl ... -o json) and parses its stdout; throws
// CommandFailed when it exits non-zero and Error naming the node and command
// when the output is not JSON.
nlohmann::json run_json(Machine& node, const std::string& command, Duration timeout);

// "2 s" / "1.5 s", for messages.
std::string describe_seconds(Duration d);

}  // namespace vmtest::k0s
