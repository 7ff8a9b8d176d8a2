// Section 4: cold boot of one node, and start_all() of 1, 2 and 3 nodes.
#include "bench.hpp"

#include <fmt/format.h>

#include <cstdio>
#include <filesystem>

namespace vmtest::bench {

namespace fs = std::filesystem;

void measure_boots(const Manifest& manifest, const VmSpec& spec, const Options& opt) {
  Samples cold;
  for (int i = 0; i < opt.boots; ++i) {
    Cluster cluster{manifest};
    Machine& m = cluster.machine(spec.name);
    cold.add(time_s([&] { m.connect(); }));
  }
  heading("4. Boot");
  columns();
  row_s("cold boot to backdoor shell, single node (Machine::connect)", cold);
  struct Topo {
    const char* what;
    fs::path path;
  };
  for (const Topo& t :
       {Topo{"1 node ", opt.manifest}, Topo{"2 nodes", opt.pair}, Topo{"3 nodes", opt.trio}}) {
    if (!fs::exists(t.path)) {
      fmt::print("  {:<58} skipped: {} not found\n",
                 fmt::format("Cluster::start_all(), {}", t.what), t.path.string());
      continue;
    }
    auto mf = Manifest::load(t.path);
    Samples s;
    for (int i = 0; i < opt.cluster_boots; ++i) {
      Cluster cluster{mf};
      s.add(time_s([&] { cluster.start_all(); }));
    }
    row_s(fmt::format("Cluster::start_all(), {} ({})", t.what,
                      t.path.parent_path().filename().string()),
          s);
  }
  std::fflush(stdout);
}

}  // namespace vmtest::bench
