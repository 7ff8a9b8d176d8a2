// Glue shared by the three k0s suite binaries: the cluster's K0sConfig
// (parsed once the cluster is up) and per-node loops that report every
// failing node rather than stopping at the first.
#pragma once

#include <vmtest/cluster_test.hpp>
#include <vmtest/env.hpp>
#include <vmtest/k0s/config.hpp>
#include <vmtest/k0s/diagnostics.hpp>
#include <vmtest/k0s/readiness.hpp>

#include <gtest/gtest.h>

#include <cctype>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <string>
#include <string_view>

namespace vmtest::k0s::suite {

inline K0sConfig& config() {
  static K0sConfig cfg;
  return cfg;
}

inline NodeLookup lookup(Cluster& cluster) {
  return [&cluster](std::string_view name) -> Machine& { return cluster.machine(name); };
}

inline NodeLookup lookup() {
  return [](std::string_view name) -> Machine& { return ClusterTest::node(name); };
}

// Reads the manifest's k0s section into config() (a malformed one fails
// the suite, with the key path).
inline void load_config(Cluster& cluster) {
  config() = K0sConfig::from_manifest(cluster.manifest());
}

// The snapshot_setup of a suite (docs/snapshots.md), opted into with
// VMTEST_K0S_SNAPSHOT=1: the first run saves the cluster after its set-up,
// later runs with the same inputs restore it instead of bringing k0s up
// again. The nodes must be snapshot-capable (no 9p mounts: the Nix side's
// k0s-manifest-snapshot). Empty (off) otherwise.
inline std::string snapshot_setup(std::string id) {
  auto v = env_get("VMTEST_K0S_SNAPSHOT");
  return v && *v == "1" ? id : std::string();
}

// A set-up restored from the snapshot cache did not run after_boot, which
// loads the config: load it from the running cluster. Without a cluster
// (skipped, or the set-up failed) there is nothing to do; SetUp reports why.
inline void load_config_if_up() {
  Cluster* cluster = nullptr;
  try {
    cluster = &ClusterTest::cluster();
  } catch (const Error&) {
    return;
  }
  load_config(*cluster);
}

// Runs `fn(machine, node)` on every worker-side node; each node's failure
// is its own gtest failure, so one run shows them all.
template <class Fn>
void for_each_worker_side(Fn fn) {
  for (const auto* n : config().worker_side()) {
    try {
      fn(ClusterTest::node(n->name), *n);
    } catch (const std::exception& e) {
      ADD_FAILURE() << e.what();
    }
  }
}

// Where ClusterTest keeps the current test's artifacts
// ($VMTEST_ARTIFACTS/<Suite>.<Test>/, as cluster_test.cpp names it); the
// k0s diagnostics go into its k0s/ folder.
inline std::filesystem::path diagnostics_dir() {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  std::string name = std::string(info->test_suite_name()) + "." + info->name();
  for (auto& c : name)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.') c = '_';
  return std::filesystem::path(env_or("VMTEST_ARTIFACTS", "Testing/vmtest-artifacts")) / name /
         "k0s";
}

}  // namespace vmtest::k0s::suite

namespace vmtest::k0s {

// Base of the k0s suites: a failed test leaves the k0s diagnostics
// (diagnostics.hpp) of every node before ClusterTest saves serial logs and
// journals. The transcript is cleared after each test, so the first test's
// also holds the suite set-up's commands (bring_up).
class K0sTest : public ClusterTest {
 protected:
  void TearDown() override {
    if (HasFailure() && !suite::config().nodes.empty()) {
      try {
        ADD_FAILURE() << save_failure_diagnostics(suite::lookup(), suite::config(),
                                                  suite::diagnostics_dir());
      } catch (const std::exception& e) {
        ADD_FAILURE() << "could not save the k0s diagnostics: " << e.what();
      }
    }
    Transcript::current().clear();
    ClusterTest::TearDown();
  }
};

}  // namespace vmtest::k0s
