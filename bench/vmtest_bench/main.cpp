// vmtest_bench: what the driver costs, measured on a real guest.
//
//   vmtest_bench --manifest build/guests/minimal/topo/single/manifest.json [--repetitions N]
//   [--quick]
//
// Prints medians (and p90) over repeated runs of:
//   1. the per-command round trip of succeed("true") with vmtest's protocol,
//      side by side with nixpkgs' Python-driver wire protocol re-implemented
//      here (two round trips: `timeout 900 bash -c '...' | (base64 -w 0; echo)`
//      then `echo ${PIPESTATUS[0]}`), on a second boot of the same guest;
//   2. output throughput (8 MiB from `head -c`) and upload throughput
//      (copy_from_host of 4 MiB);
//   3. wait latency: condition true -> wait_until_succeeds' probe sees it;
//   4. boot-to-shell time, and parallel boot of 1, 2 and 3 nodes;
//   5. the driver's peak RSS.
//
// The baseline is NOT the Python driver: it is its wire protocol driven from
// C++, so it leaves out the Python interpreter's own overhead (logging, the
// nested-block machinery) and is a lower bound of what the Python driver
// costs. See bench/README.md.
//
// A small harness of our own rather than Google Benchmark: the figures are
// distributions of single operations (a boot, one command), several of them
// need long-lived VMs shared across measurements and interleaved with each
// other, and the report is one side-by-side table.
//
// One file per section (round_trip, throughput, wait_latency, boot), the
// baseline, the options and the report's rows beside this one; bench.hpp
// ties them together.
#include "bench.hpp"

#include <fmt/format.h>

#include <sys/utsname.h>
#include <unistd.h>
#include <cstdio>
#include <filesystem>
#include <optional>
#include <string>

namespace fs = std::filesystem;
using namespace vmtest;
using namespace vmtest::bench;

int main(int argc, char** argv) try {
  if (argc == 5 && std::string(argv[1]) == "--baseline-worker")
    return baseline_worker(argv[2], argv[3], std::stol(argv[4]));
  Options opt = parse_options(argc, argv);
  log::set_level(opt.verbose ? log::Level::info : log::Level::quiet);
  auto bench_start = Clock::now();
  auto manifest = Manifest::load(opt.manifest);
  if (manifest.vms().empty()) throw InvalidArgument("the manifest has no VMs");
  const VmSpec& spec = manifest.vms().front();

  utsname un{};
  ::uname(&un);
  fmt::print("vmtest_bench: {} (machine \"{}\")\n", fs::absolute(opt.manifest).string(), spec.name);
  fmt::print("host: {} {}, {} CPUs online, load average {} at start\n", un.sysname, un.release,
             ::sysconf(_SC_NPROCESSORS_ONLN), loadavg());
  fmt::print(
      "counts: {} round trips per variant, {} transfers, {} wait trials, {} cold boots, {} "
      "start_all per size{}\n",
      opt.repetitions, opt.transfers, opt.wait_trials, opt.boots, opt.cluster_boots,
      opt.quick ? " (--quick)" : "");
  std::fflush(stdout);

  RoundTrips round_trips;

  // ------------------------------------------------------------------
  // 1-3 on one vmtest-driven VM (plus the baseline VM for 1 and 2).
  {
    Cluster cluster{manifest};
    Machine& m = cluster.machine(spec.name);
    m.connect();
    auto guest_kernel = m.succeed("uname -r");
    if (!guest_kernel.empty() && guest_kernel.back() == '\n') guest_kernel.pop_back();
    fmt::print("guest: kernel {}, QEMU accel as set by its start script\n", guest_kernel);

    std::optional<BaselineClient> py;
    py.emplace(spec, manifest.boot_timeout());

    round_trips = measure_round_trips(m, *py, opt);
    measure_throughput(cluster, m, py, opt);
    measure_wait_latency(m, round_trips.py_median_s, opt);
  }

  // ------------------------------------------------------------------
  // 4. boots.
  if (!opt.skip_boot) measure_boots(manifest, spec, opt);

  // ------------------------------------------------------------------
  heading("5. Driver memory (getrusage RUSAGE_SELF ru_maxrss; QEMU not included)");
  fmt::print("  peak RSS after section 1 (round trips only):     {:>8.1f} MiB\n",
             round_trips.rss_after_kib / 1024.0);
  fmt::print("  peak RSS after everything (8 MiB outputs held):  {:>8.1f} MiB\n",
             peak_rss_kib() / 1024.0);
  fmt::print("\ntotal bench time: {:.0f} s; load average {} at the end\n",
             seconds_since(bench_start), loadavg());
  return 0;
} catch (const std::exception& e) {
  std::fflush(stdout);
  std::fprintf(stderr, "vmtest_bench: %s\n", e.what());
  return 1;
}
