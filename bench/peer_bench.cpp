// vmtest_peer_bench: vmtest's side of bench/peer_bench.sh, which runs it in
// turns with nixpkgs' real Python driver (its benchmark script drives
// test_driver.machine.QemuMachine) on the same start script. It measures
// what that script measures, the same way, so the figures sit side by side:
//
//   boot      Machine::connect() from a cold start
//   latency   N x succeed("true") and N x execute("true"), per call
//   output    succeed("head -c SIZE /dev/zero | tr '\0' a"), exactness checked
//   wait      a flag file appears DELAY s after a background `sleep`;
//             wait_until_succeeds("test -e FLAG") returns LATE s after it
//
// usage: vmtest_peer_bench --manifest PATH [--n-cmds N] [--flag-delay S] [--wait-trials N] [--sizes
// A B ...] Prints one JSON object (medians, p90) on stdout.
#include "bench_stats.hpp"

#include <vmtest/vmtest.hpp>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <cstdio>
#include <string>
#include <vector>

using namespace vmtest;
using namespace vmtest::bench;

namespace {

nlohmann::json stats_ms(const Samples& s) {
  return {{"median", s.median() * 1e3}, {"p90", s.p90() * 1e3}, {"n", s.n()}};
}

}  // namespace

int main(int argc, char** argv) {
  std::string manifest_path;
  int n_cmds = 300;
  double flag_delay = 2.0;
  int wait_trials = 1;
  std::vector<long> sizes = {1'000'000, 10'000'000};
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&] {
      if (i + 1 >= argc) throw std::runtime_error(a + " needs a value");
      return std::string(argv[++i]);
    };
    if (a == "--manifest")
      manifest_path = value();
    else if (a == "--n-cmds")
      n_cmds = std::stoi(value());
    else if (a == "--flag-delay")
      flag_delay = std::stod(value());
    else if (a == "--wait-trials")
      wait_trials = std::stoi(value());
    else if (a == "--sizes") {
      sizes.clear();
      while (i + 1 < argc && argv[i + 1][0] != '-') sizes.push_back(std::stol(argv[++i]));
    } else {
      std::fprintf(stderr,
                   "usage: vmtest_peer_bench --manifest PATH [--n-cmds N] [--flag-delay S] "
                   "[--sizes N...]\n");
      return 2;
    }
  }
  if (manifest_path.empty()) {
    std::fprintf(stderr, "vmtest_peer_bench: --manifest is required\n");
    return 2;
  }
  log::set_level(log::Level::quiet);
  auto manifest = Manifest::load(manifest_path);
  Cluster cluster{manifest};
  Machine& m = cluster.machine(manifest.vms().front().name);
  nlohmann::json out;
  out["load_before"] = loadavg();
  out["boot_s"] = time_s([&] { m.connect(); });
  m.succeed("true");

  Samples lat, lat_x;
  for (int i = 0; i < n_cmds; ++i) lat.add(time_s([&] { m.succeed("true"); }));
  for (int i = 0; i < n_cmds; ++i) lat_x.add(time_s([&] { m.execute("true"); }));
  out["succeed_true_ms"] = stats_ms(lat);
  out["execute_true_ms"] = stats_ms(lat_x);

  for (long size : sizes) {
    std::string got;
    double s =
        time_s([&] { got = m.succeed(fmt::format("head -c {} /dev/zero | tr '\\0' a", size)); });
    bool exact = got.size() == static_cast<std::size_t>(size) &&
                 got.find_first_not_of('a') == std::string::npos;
    out["throughput"][std::to_string(size)] = {
        {"seconds", s}, {"MB_per_s", static_cast<double>(size) / 1e6 / s}, {"exact", exact}};
  }

  // The same probe as the Python script: flag time = midpoint of the
  // scheduling call + delay; trial k uses delay + 0.2 k s (the script's
  // sweep, so both see the retry phase at several offsets).
  nlohmann::json delays = nlohmann::json::array();
  for (int k = 0; k < wait_trials; ++k) {
    double delay = flag_delay + 0.2 * k;
    m.succeed("rm -f /tmp/flag-peer");
    auto a = Clock::now();
    m.succeed(fmt::format("(sleep {}; touch /tmp/flag-peer) >/dev/null 2>&1 &", delay));
    auto b = Clock::now();
    auto t_flag = a + (b - a) / 2 +
                  std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(delay));
    m.wait_until_succeeds("test -e /tmp/flag-peer", 60s);
    delays.push_back(std::chrono::duration<double>(Clock::now() - t_flag).count());
  }
  out["wait"] = {{"flag_after_s", flag_delay}, {"delays_s", delays}};
  out["load_after"] = loadavg();
  std::printf("%s\n", out.dump(2).c_str());
  return 0;
}
