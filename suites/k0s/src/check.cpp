#include "vmtest/k0s/check.hpp"

#include <vmtest/machine.hpp>

#include <fmt/format.h>

#include <thread>

namespace vmtest::k0s {

namespace {

std::string render(const std::string& summary, const std::vector<std::string>& findings) {
  std::string s = summary;
  for (const auto& f : findings) {
    s += "\n  ";
    // Indent continuation lines of multi-line findings too.
    for (char c : f) {
      s += c;
      if (c == '\n') s += "    ";
    }
  }
  return s;
}

}  // namespace

CheckFailed::CheckFailed(std::string summary, std::vector<std::string> findings, ErrorContext context)
    : Error(render(summary, findings), std::move(context)),
      summary_(std::move(summary)),
      findings_(std::move(findings)) {}

void require_no_findings(Machine& node, std::string summary, const std::vector<std::string>& findings,
                         std::string command) {
  if (findings.empty()) return;
  throw CheckFailed(std::move(summary), findings, node.context(std::move(command)));
}

std::string describe_seconds(Duration d) {
  double s = seconds(d);
  if (s == static_cast<double>(static_cast<long long>(s))) return fmt::format("{} s", static_cast<long long>(s));
  return fmt::format("{:.1f} s", s);
}

void poll(Machine& node, std::string_view what, Duration timeout, Duration interval,
          const std::function<std::vector<std::string>()>& probe, std::string command) {
  auto deadline = Deadline::after(timeout);
  std::vector<std::string> last;
  for (;;) {
    try {
      last = probe();
    } catch (const CommandFailed& e) {
      last = {e.message()};
    } catch (const TimeoutError& e) {
      last = {e.message()};
    }
    if (last.empty()) return;
    if (deadline.expired() || deadline.remaining() < interval) break;
    std::this_thread::sleep_for(interval);
  }
  throw CheckFailed(fmt::format("{} not reached within {}; last seen:", what, describe_seconds(timeout)), last,
                    node.context(std::move(command)));
}

nlohmann::json run_json(Machine& node, const std::string& command, Duration timeout) {
  auto out = node.succeed(command, timeout);
  try {
    return nlohmann::json::parse(out);
  } catch (const nlohmann::json::exception& e) {
    throw Error(fmt::format("output is not JSON ({}): {}", e.what(), out.substr(0, 300)), node.context(command));
  }
}

}  // namespace vmtest::k0s
