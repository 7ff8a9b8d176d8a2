// vmtest_snapshot_bench: restore from a snapshot vs cold boot (issue 8,
// The target: a restore should take at most a tenth of a cold boot).
//
//   vmtest_snapshot_bench --manifest M [--manifest M2 ...] [--boots N] [--restores N] [--ready CMD]
//
// For each manifest: N cold boots (a new Cluster, start_all(), then CMD on
// every node until it succeeds: "ready"), one snapshot of the booted
// cluster, then N restores (Cluster::restore_snapshot of that snapshot, which
// ends with a backdoor round trip and the clock set on every node, then CMD
// once per node). Prints medians and p90 of both, their ratio, the time to
// save, and the snapshot's size on disk (memory files and frozen disks).
//
// Same small harness style as vmtest_bench (see its header for why).
#include "bench_stats.hpp"

#include <vmtest/vmtest.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

namespace fs = std::filesystem;
using namespace vmtest;
using vmtest::bench::loadavg;
using vmtest::bench::Samples;
using vmtest::bench::time_s;

namespace {

// Bytes the files take on disk (sparse memory files count what is allocated).
std::uintmax_t disk_usage(const fs::path& dir, const std::string& suffix) {
  std::uintmax_t total = 0;
  for (const auto& e : fs::directory_iterator(dir)) {
    if (!e.is_regular_file()) continue;
    auto name = e.path().filename().string();
    if (name.size() < suffix.size() ||
        name.compare(name.size() - suffix.size(), suffix.size(), suffix) != 0)
      continue;
    total += e.file_size();
  }
  return total;
}

void ready(Cluster& c, const std::string& cmd) {
  if (cmd.empty()) return;
  for (auto* m : c.machines()) m->wait_until_succeeds(cmd, 600s);
}

int usage() {
  fmt::print(stderr,
             "usage: vmtest_snapshot_bench --manifest PATH [--manifest PATH ...] [--boots N] "
             "[--restores N]\n"
             "                             [--ready CMD] [--verbose]\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) try {
  std::vector<std::string> manifests;
  int boots = 5, restores = 5;
  std::string ready_cmd;
  bool verbose = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) throw std::runtime_error(a + " needs a value");
      return argv[++i];
    };
    if (a == "--manifest")
      manifests.push_back(next());
    else if (a == "--boots")
      boots = std::stoi(next());
    else if (a == "--restores")
      restores = std::stoi(next());
    else if (a == "--ready")
      ready_cmd = next();
    else if (a == "--verbose")
      verbose = true;
    else
      return usage();
  }
  if (manifests.empty() || boots < 1 || restores < 1) return usage();
  if (!verbose) log::set_level(log::Level::quiet);

  fmt::print("vmtest_snapshot_bench: {} cold boots and {} restores per manifest; load average {}\n",
             boots, restores, loadavg());
  if (!ready_cmd.empty()) fmt::print("ready = `{}` succeeds on every node\n", ready_cmd);
  fmt::print("\n  {:<44} {:>5} {:>10} {:>10} {:>10} {:>10} {:>8} {:>9} {:>12} {:>11}\n", "manifest",
             "nodes", "boot med", "boot p90", "rest. med", "rest. p90", "ratio", "save", "memory",
             "disks");
  for (const auto& path : manifests) {
    auto manifest = Manifest::load(path);
    Samples boot, restore;
    for (int i = 0; i < boots; ++i) {
      Cluster c(manifest);
      boot.add(time_s([&] {
        c.start_all();
        ready(c, ready_cmd);
      }));
    }
    Cluster c(manifest);
    c.start_all();
    ready(c, ready_cmd);
    auto dir = c.state_root() / "bench-snapshot";
    double save = time_s([&] { c.save_snapshot(dir); });
    for (int i = 0; i < restores; ++i)
      restore.add(time_s([&] {
        c.restore_snapshot(dir);
        ready(c, ready_cmd);
      }));
    auto mem = disk_usage(dir, ".mem");
    auto disks = disk_usage(dir, ".qcow2");
    auto label = fs::path(path).parent_path().filename().string();
    label =
        fs::path(path).parent_path().parent_path().parent_path().filename().string() + "/" + label;
    fmt::print(
        "  {:<44} {:>5} {:>9.2f}s {:>9.2f}s {:>9.2f}s {:>9.2f}s {:>7.1f}% {:>8.2f}s {:>8.1f} MiB "
        "{:>7.1f} MiB\n",
        label, manifest.vms().size(), boot.median(), boot.pct(90), restore.median(),
        restore.pct(90), 100.0 * restore.median() / boot.median(), save,
        static_cast<double>(mem) / (1 << 20), static_cast<double>(disks) / (1 << 20));
    std::fflush(stdout);
  }
  fmt::print(
      "\nratio = restore median / cold boot median (target: at most 10%). memory and disks are "
      "the\n"
      "snapshot's files (all nodes); disks are the frozen qcow2 overlays, on top of the guest "
      "image.\n");
  return 0;
} catch (const std::exception& e) {
  fmt::print(stderr, "vmtest_snapshot_bench: {}\n", e.what());
  return 1;
}
