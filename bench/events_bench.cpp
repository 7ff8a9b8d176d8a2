// The event log's own cost (docs/events.md): nanoseconds per event for the
// two kinds that dominate a log (console lines, commands), written to a real
// file through vmtest::events, and, given a suite's log, what writing that
// log cost in total. The suite-level side-by-side (log on vs off) is
// bench/events_bench.sh.
//
//   build/bench/vmtest_events_bench [--log build/Testing/junit/driver.cluster.events.jsonl] [--n
//   200000]
#include <vmtest/events.hpp>

#include <fmt/format.h>

#include <unistd.h>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <map>
#include <string>
#include <vector>

namespace {

using namespace std::chrono;

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

template <class F>
double ns_per_event(int n, F&& one) {
  std::vector<double> rounds;
  for (int r = 0; r < 5; ++r) {
    auto t0 = steady_clock::now();
    for (int i = 0; i < n; ++i) one(i);
    vmtest::events::flush();
    rounds.push_back(duration<double, std::nano>(steady_clock::now() - t0).count() / n);
  }
  return median(rounds);
}

}  // namespace

int main(int argc, char** argv) {
  std::string log;
  int n = 200000;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--log" && i + 1 < argc)
      log = argv[++i];
    else if (a == "--n" && i + 1 < argc)
      n = std::stoi(argv[++i]);
    else {
      std::fprintf(stderr, "usage: vmtest_events_bench [--log EVENTS.jsonl] [--n N]\n");
      return 2;
    }
  }
  auto path = fmt::format("/tmp/vmtest-events-bench-{}.jsonl", ::getpid());
  vmtest::events::open(path, "vmtest_events_bench");
  // A typical console line of a booting kernel.
  const std::string line =
      "[    1.234567] virtio_net virtio1 enp0s4: renamed from eth0 (while UP), link is up";
  double serial = ns_per_event(n, [&](int) { vmtest::events::serial_line("node-a", line); });
  vmtest::CommandResult r{0, std::string(1024, 'x'), "", false};
  double command = ns_per_event(n / 4, [&](int) {
    vmtest::events::CommandScope scope("node-a", "systemctl is-active k0scontroller.service",
                                       vmtest::Repeat::once, std::chrono::seconds(900));
    (void)scope.done(r);
  });
  vmtest::events::close("passed");
  std::remove(path.c_str());
  std::printf("per event (median of 5 rounds): serial line %.0f ns, command %.0f ns\n", serial,
              command);

  if (!log.empty()) {
    std::ifstream in(log);
    std::map<std::string, long> count;
    long total = 0;
    for (std::string l; std::getline(in, l);) {
      auto p = l.find("\"type\":\"");
      if (p == std::string::npos) continue;
      auto e = l.find('"', p + 8);
      ++count[l.substr(p + 8, e - p - 8)];
      ++total;
    }
    // Events other than serial lines and commands are smaller than a command.
    double cost_ns = count["serial"] * serial + (total - count["serial"]) * command;
    std::printf("%s: %ld events (%ld serial lines, %ld commands): writing them cost %.2f ms\n",
                log.c_str(), total, count["serial"], count["command"], cost_ns / 1e6);
  }
}
