// Section 1: the per-command round trip, vmtest next to the Python-driver
// protocol and the channel floor, interleaved in batches.
#include "bench.hpp"

#include <fmt/format.h>

#include <cstdio>
#include <functional>
#include <vector>

namespace vmtest::bench {

RoundTrips measure_round_trips(Machine& m, BaselineClient& py, const Options& opt) {
  Samples rt_vmtest, rt_py, rt_py_nt, rt_echo;
  // ---- 1. round trips, interleaved in batches so drift hits all alike.
  const int warmup = 10;
  for (int i = 0; i < warmup; ++i) m.succeed("true");
  for (const char* v : {"py", "pynt", "echo"}) py.run(v, warmup);
  const int batches = 10;
  std::vector<std::function<void(int)>> variants = {
      [&](int n) {
        for (int i = 0; i < n; ++i) rt_vmtest.add(time_s([&] { m.succeed("true"); }));
      },
      [&](int n) {
        for (double t : py.run("py", n)) rt_py.add(t);
      },
      [&](int n) {
        for (double t : py.run("pynt", n)) rt_py_nt.add(t);
      },
      [&](int n) {
        for (double t : py.run("echo", n)) rt_echo.add(t);
      },
  };
  for (int b = 0; b < batches; ++b) {
    int count = opt.repetitions / batches + (b < opt.repetitions % batches ? 1 : 0);
    for (std::size_t k = 0; k < variants.size(); ++k)
      variants[(k + static_cast<std::size_t>(b)) % variants.size()](count);
  }
  RoundTrips result{peak_rss_kib(), rt_py.median()};

  heading(
      "1. Per-command round trip of succeed(\"true\") (same guest, two boots, interleaved "
      "batches)");
  columns();
  row_ms("vmtest protocol: Machine::succeed(\"true\")", rt_vmtest);
  row_ms("Python-driver protocol, re-implemented (timeout 900 …)", rt_py);
  row_ms("Python-driver protocol, re-implemented, no timeout wrapper", rt_py_nt);
  row_ms("channel floor: raw `echo` line over the same socket", rt_echo);
  fmt::print("  vmtest / Python-protocol (with timeout): {:.2f}  (target <= 0.33)\n",
             rt_vmtest.median() / rt_py.median());
  fmt::print("  vmtest / Python-protocol (no timeout):   {:.2f}\n",
             rt_vmtest.median() / rt_py_nt.median());
  fmt::print(
      "  The baseline is nixpkgs' wire protocol (as in nixpkgs' machine/__init__.py) driven from "
      "C++, not the Python\n"
      "  driver: it adds none of Python's own per-call overhead, so it is a lower bound for "
      "it.\n");
  std::fflush(stdout);
  return result;
}

}  // namespace vmtest::bench
