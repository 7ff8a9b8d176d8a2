#include "bench.hpp"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <string>

namespace vmtest::bench {

namespace fs = std::filesystem;

namespace {

[[noreturn]] void usage(int code) {
  std::fprintf(
      code ? stderr : stdout,
      "usage: vmtest_bench --manifest PATH [--repetitions N] [--quick]\n"
      "  --manifest PATH     single-node manifest "
      "(build/guests/minimal/topo/single/manifest.json)\n"
      "  --pair PATH         2-node manifest (default: ../pair/manifest.json next to --manifest)\n"
      "  --trio PATH         3-node manifest (default: ../trio/manifest.json)\n"
      "  --repetitions N     round trips per protocol variant (default 200, quick 40)\n"
      "  --transfers N       throughput repetitions (default 5, quick 2)\n"
      "  --wait-trials N     wait-latency trials (default 20, quick 6)\n"
      "  --boots N           single-node cold boots (default 5, quick 2)\n"
      "  --cluster-boots N   start_all() runs per cluster size (default 3, quick 1)\n"
      "  --skip-boot         leave out section 4\n"
      "  --quick             small counts for a smoke run\n"
      "  --verbose           vmtest's progress log on stderr\n");
  std::exit(code);
}

}  // namespace

Options parse_options(int argc, char** argv) {
  Options o;
  std::optional<int> reps, transfers, waits, boots, cboots;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (auto eq = a.find('='); eq != std::string::npos) return a.substr(eq + 1);
      if (i + 1 >= argc) usage(2);
      return argv[++i];
    };
    auto key = a.substr(0, a.find('='));
    if (key == "--manifest")
      o.manifest = value();
    else if (key == "--pair")
      o.pair = value();
    else if (key == "--trio")
      o.trio = value();
    else if (key == "--repetitions")
      reps = std::stoi(value());
    else if (key == "--transfers")
      transfers = std::stoi(value());
    else if (key == "--wait-trials")
      waits = std::stoi(value());
    else if (key == "--boots")
      boots = std::stoi(value());
    else if (key == "--cluster-boots")
      cboots = std::stoi(value());
    else if (a == "--skip-boot")
      o.skip_boot = true;
    else if (a == "--quick")
      o.quick = true;
    else if (a == "--verbose")
      o.verbose = true;
    else if (a == "-h" || a == "--help")
      usage(0);
    else {
      std::fprintf(stderr, "unknown argument: %s\n", a.c_str());
      usage(2);
    }
  }
  if (o.manifest.empty()) usage(2);
  if (o.quick) {
    o.repetitions = 40;
    o.transfers = 2;
    o.wait_trials = 6;
    o.boots = 2;
    o.cluster_boots = 1;
  }
  o.repetitions = std::max(10, reps.value_or(o.repetitions));
  o.transfers = std::max(1, transfers.value_or(o.transfers));
  o.wait_trials = std::max(1, waits.value_or(o.wait_trials));
  o.boots = std::max(1, boots.value_or(o.boots));
  o.cluster_boots = std::max(1, cboots.value_or(o.cluster_boots));
  auto topo = fs::absolute(o.manifest).parent_path().parent_path();
  if (o.pair.empty()) o.pair = topo / "pair" / "manifest.json";
  if (o.trio.empty()) o.trio = topo / "trio" / "manifest.json";
  return o;
}

}  // namespace vmtest::bench
