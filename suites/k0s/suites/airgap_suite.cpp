// k0s.airgap: the airgap bundle is on every worker-side node, k0s imported
// it, every expected image is present, complete and pinned in containerd,
// the cluster comes up from it with nothing pulled, a registry pull fails,
// and k0s's workloads use the configured pull policy.
#include "k0s_suite.hpp"

#include <vmtest/k0s/airgap.hpp>

namespace vmtest::k0s {
namespace {

class K0sAirgap : public K0sTest {
 public:
  static void SetUpTestSuite() {
    set_up_suite(SuiteOptions{
        .label = "k0s",
        .requires_manifest = requires_k0s_airgap,
        .start_all = true,
        // Only joined: the image checks must run even when missing images
        // keep the nodes from becoming Ready.
        .after_boot =
            [](Cluster& cluster) {
              suite::load_config(cluster);
              bring_up(suite::lookup(cluster), suite::config(), BringUp::joined);
            },
    });
  }
};

TEST_F(K0sAirgap, BundlesArePresentOnWorkerSideNodes) {
  suite::for_each_worker_side([](Machine& node, const K0sNode&) {
    require_bundles_present(node, suite::config());
    require_bundles_cover(node, suite::config(), expected_images(node, suite::config()));
  });
}

TEST_F(K0sAirgap, K0sImportedTheBundles) {
  suite::for_each_worker_side([](Machine& node, const K0sNode&) {
    wait_bundles_imported(node, suite::config(), expected_images(node, suite::config()));
  });
}

TEST_F(K0sAirgap, ExpectedImagesArePresentCompleteAndPinned) {
  suite::for_each_worker_side([](Machine& node, const K0sNode&) {
    require_images_imported(node, suite::config(), expected_images(node, suite::config()));
  });
}

TEST_F(K0sAirgap, PullFromARegistryFails) {
  suite::for_each_worker_side([](Machine& node, const K0sNode&) {
    auto expected = expected_images(node, suite::config());
    ASSERT_FALSE(expected.empty()) << node.name() << ": no expected image to try a pull with";
    require_registry_unreachable(node, suite::config(), expected.front());
  });
}

TEST_F(K0sAirgap, ClusterComesUpFromTheBundle) {
  auto& leader = node(suite::config().leader().name);
  wait_nodes_ready(leader, suite::config());
  wait_daemonsets(leader, suite::config());
  wait_coredns(leader, suite::config());
}

TEST_F(K0sAirgap, NothingWasPulled) {
  require_no_pulls(node(suite::config().leader().name), suite::config());
}

TEST_F(K0sAirgap, K0sWorkloadsUseThePullPolicy) {
  require_pull_policy(node(suite::config().leader().name), suite::config());
}

}  // namespace
}  // namespace vmtest::k0s
