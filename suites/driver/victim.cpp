// Helper for the hygiene suite: boots the manifest's cluster, prints
// "READY <state root>" and waits to be killed. vmtest::init gives it the same
// SIGINT/SIGTERM handling as every suite binary.
#include <vmtest/cluster_test.hpp>
#include <vmtest/vmtest.hpp>

#include <cstdio>
#include <thread>

int main(int argc, char** argv) {
  vmtest::init(argc, argv);
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s MANIFEST\n", argv[0]);
    return 2;
  }
  vmtest::Cluster cluster{vmtest::Manifest::load(argv[1])};
  cluster.start_all();
  std::printf("READY %s\n", cluster.state_root().c_str());
  std::fflush(stdout);
  for (;;) std::this_thread::sleep_for(std::chrono::hours(1));
}
