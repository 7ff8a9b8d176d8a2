// Section 3: how late wait_until_succeeds notices a condition, next to the
// Python driver's computed lateness.
#include "bench.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

namespace vmtest::bench {

void measure_wait_latency(Machine& m, double py_rt_median, const Options& opt) {
  // A background job sleeps a random 200-700 ms, stamps the guest clock
  // into a temporary file and renames it to /tmp/flag (the condition turns
  // true at the rename). The probe prints the flag and its own guest time.
  // The delays are stratified over 200-700 ms (one random point per
  // stratum, shuffled) so that they cover every phase of the guest's poll
  // cycle evenly instead of aliasing with it.
  Samples lateness, wait_call, probe_rt;
  const std::string probe = "cat /tmp/flag; echo \"$EPOCHREALTIME\"";
  std::mt19937 rng(std::random_device{}());
  std::vector<int> delays;
  for (int i = 0; i < opt.wait_trials; ++i) {
    double lo = 200.0 + 500.0 * i / opt.wait_trials, width = 500.0 / opt.wait_trials;
    delays.push_back(static_cast<int>(lo + std::uniform_real_distribution<double>(0, width)(rng)));
  }
  std::shuffle(delays.begin(), delays.end(), rng);
  for (int d : delays) {
    m.succeed(fmt::format(
        "rm -f /tmp/flag /tmp/flag.tmp; "
        "( sleep {}.{:03d}; echo \"$EPOCHREALTIME\" >/tmp/flag.tmp; mv /tmp/flag.tmp /tmp/flag ) "
        "</dev/null >/dev/null 2>&1 &",
        d / 1000, d % 1000));
    std::string out;
    wait_call.add(time_s([&] { out = m.wait_until_succeeds(probe, 30s); }));
    double flag = 0, seen = 0;
    if (std::sscanf(out.c_str(), "%lf %lf", &flag, &seen) != 2)
      throw ProtocolError("wait probe: cannot parse " + protocol::printable(out));
    lateness.add(seen - flag);
  }
  // One try of the probe, host-side, with the condition already true.
  for (int i = 0; i < std::max(5, opt.wait_trials / 2); ++i)
    probe_rt.add(time_s([&] { m.succeed(probe); }));
  heading("3. Wait latency: condition true -> wait_until_succeeds notices");
  columns();
  row_ms("vmtest: guest side, flag created -> probe saw it (guest clock)", lateness);
  row_ms("vmtest: one try of the probe, host round trip (flag present)", probe_rt);
  fmt::print("  {:<58} {:>9.2f} ms {:>12} {:>5}  (sum of the two medians; counts `cat` twice)\n",
             "vmtest: condition true -> host has the answer, at most",
             (lateness.median() + probe_rt.median()) * 1e3, "-", "-");
  {
    double py_mean = (1.0 + py_rt_median) / 2 + py_rt_median;
    fmt::print("  {:<58} {:>9.2f} ms {:>12} {:>5}  (computed, not measured)\n",
               "Python driver: 1 s sleep between tries, mean lateness", py_mean * 1e3, "-", "-");
    fmt::print(
        "    = (1 s + one try) / 2 + one try, one try = Python-protocol round trip of section "
        "1\n");
  }
  fmt::print("  (wait_until_succeeds call itself, incl. the {}..{} ms delay: median {:.0f} ms)\n",
             200, 700, wait_call.median() * 1e3);
  std::fflush(stdout);
}

}  // namespace vmtest::bench
