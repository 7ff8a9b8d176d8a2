// The shop on its own cluster: k0s up (vmtest::k0s::bring_up), our manifests applied and ready
// (the value workloadManifests), then the shop answers on its NodePort with the greeting that
// cluster.nix gives as a value.
#include "shop_checks.hpp"

#include <vmtest/cluster_test.hpp>
#include <vmtest/k0s/apps.hpp>
#include <vmtest/k0s/readiness.hpp>

namespace {

vmtest::k0s::K0sConfig& config() {
  static vmtest::k0s::K0sConfig cfg;
  return cfg;
}

class Shop : public vmtest::ClusterTest {
 public:
  static void SetUpTestSuite() {
    set_up_suite({
        .label = "k0s",
        .requires_manifest = vmtest::k0s::requires_k0s_workload,
        .start_all = true,
        .after_boot =
            [](vmtest::Cluster& cluster) {
              config() = vmtest::k0s::K0sConfig::from_manifest(cluster.manifest());
              vmtest::k0s::bring_up(
                  [&cluster](std::string_view name) -> vmtest::Machine& {
                    return cluster.machine(name);
                  },
                  config());
            },
    });
  }
  static vmtest::Machine& leader() { return node(config().leader().name); }
};

TEST_F(Shop, ManifestsBecomeReady) {
  vmtest::k0s::deploy_apps(leader(), config(), *config().apps);
  vmtest::k0s::wait_apps_ready(leader(), config(), *config().apps);
}

TEST_F(Shop, AnswersWithTheGreetingOnEveryWorker) {
  auto expected = shop::expectation_from(manifest());
  for (const auto* worker : config().worker_side())
    shop::require_greeting(leader(), worker->ip, expected, config().timeouts.network);
}

}  // namespace
