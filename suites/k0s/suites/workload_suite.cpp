// k0s.workload: a Deployment and NodePort Service from the airgapped image
// roll out one pod per worker-side node; the Service answers by ClusterIP
// from a worker and by NodePort from another node; pods reach each other
// across nodes. With the value `workloadManifests`, the user's own
// manifests are applied and everything they declare must become ready
// (vmtest/k0s/apps.hpp); without `k0s.workload` only those tests run.
#include "k0s_suite.hpp"

#include <vmtest/k0s/apps.hpp>
#include <vmtest/k0s/workload.hpp>

#include <fmt/format.h>

namespace vmtest::k0s {
namespace {

class K0sWorkload : public K0sTest {
 public:
  static void SetUpTestSuite() {
    places().clear();
    set_up_suite(SuiteOptions{
        .label = "k0s",
        .requires_manifest = requires_k0s_workload,
        .start_all = true,
        .after_boot =
            [](Cluster& cluster) {
              suite::load_config(cluster);
              bring_up(suite::lookup(cluster), suite::config(), BringUp::ready);
            },
        // Change the version when bring_up's idea of "ready" changes.
        .snapshot_setup = suite::snapshot_setup("k0s-workload-ready-v2"),
    });
    suite::load_config_if_up();
  }
  // The namespace must not outlive the suite on a real cluster, also when
  // a filter or a failure skipped DeletesTheWorkload.
  static void TearDownTestSuite() {
    if (applied()) {
      try {
        delete_workload(leader(), suite::config());
      } catch (const std::exception& e) {
        fmt::print(stderr, "vmtest: could not delete the workload namespace: {}\n", e.what());
      }
      applied() = false;
    }
    if (apps_applied()) {
      try {
        delete_apps(leader(), suite::config());
      } catch (const std::exception& e) {
        fmt::print(stderr, "vmtest: could not delete the workload manifests' objects: {}\n",
                   e.what());
      }
      apps_applied() = false;
    }
    ClusterTest::TearDownTestSuite();
  }
  static bool& applied() {
    static bool a = false;
    return a;
  }
  static Machine& leader() { return node(suite::config().leader().name); }
  // Each half needs its part of the manifest; the suite runs when either is there.
  void SetUp() override {
    K0sTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    std::string_view test = ::testing::UnitTest::GetInstance()->current_test_info()->name();
    bool user = test.starts_with("UserManifests");
    if (user && !suite::config().apps)
      GTEST_SKIP() << "the manifest has no value workloadManifests (the user's own manifests)";
    if (!user && !suite::config().workload)
      GTEST_SKIP() << "the manifest's k0s section has no workload (the echo workload)";
  }
  static bool& apps_applied() {
    static bool a = false;
    return a;
  }
  // Where the pods run, from PodsRunOnEveryWorker.
  static std::vector<PodPlace>& places() {
    static std::vector<PodPlace> p;
    return p;
  }
  static std::vector<PodPlace>& require_places() {
    if (places().empty()) places() = require_pods_placed(leader(), suite::config());
    return places();
  }
};

TEST_F(K0sWorkload, AppliesTheWorkload) {
  applied() = true;  // a partial apply also needs the cleanup
  deploy_workload(leader(), suite::config());
}

TEST_F(K0sWorkload, RolloutCompletes) {
  wait_rollout(leader(), suite::config());
}

TEST_F(K0sWorkload, PodsRunOnEveryWorker) {
  places() = require_pods_placed(leader(), suite::config());
}

TEST_F(K0sWorkload, ServiceAnswersOnItsClusterIpFromAWorker) {
  const auto& cfg = suite::config();
  auto ip = service_cluster_ip(leader(), cfg);
  // ClusterIPs route only where kube-proxy runs: from a worker-side node.
  auto& worker = node(cfg.worker_side().front()->name);
  require_http(worker, cfg, fmt::format("http://{}:80/", ip), "the Service's ClusterIP");
}

TEST_F(K0sWorkload, NodePortAnswersFromAnotherNode) {
  const auto& cfg = suite::config();
  for (const auto* target : cfg.worker_side()) {
    // A client other than the target: the leader when it is not the target,
    // else another node (a one-node cluster can only ask itself).
    const K0sNode* client = &cfg.leader();
    if (client == target)
      for (const auto& n : cfg.nodes)
        if (&n != target) {
          client = &n;
          break;
        }
    try {
      require_http(node(client->name), cfg,
                   fmt::format("http://{}:{}/", target->ip, cfg.workload->node_port),
                   fmt::format("the NodePort on {}", target->name));
    } catch (const std::exception& e) {
      ADD_FAILURE() << e.what();
    }
  }
}

TEST_F(K0sWorkload, PodsReachEachOtherAcrossNodes) {
  const auto& cfg = suite::config();
  auto& pods = require_places();
  const PodPlace* a = nullptr;
  const PodPlace* b = nullptr;
  for (const auto& p : pods)
    for (const auto& q : pods)
      if (!a && p.node != q.node && !p.node.empty() && !q.node.empty()) {
        a = &p;
        b = &q;
      }
  if (!a) GTEST_SKIP() << "all workload pods run on one node; nothing crosses nodes";
  require_pod_to_pod(leader(), cfg, *a, *b);
  // And from the host of one pod to the pod on the other node (routes set
  // up by the CNI).
  require_http(node(a->node), cfg, fmt::format("http://{}:{}/", b->ip, cfg.workload->port),
               fmt::format("pod {} on {}", b->name, b->node));
}

TEST_F(K0sWorkload, DeletesTheWorkload) {
  delete_workload(leader(), suite::config());
  applied() = false;
}

TEST_F(K0sWorkload, UserManifestsApply) {
  apps_applied() = true;  // a partial apply also needs the cleanup
  deploy_apps(leader(), suite::config(), *suite::config().apps);
}

TEST_F(K0sWorkload, UserManifestsBecomeReady) {
  wait_apps_ready(leader(), suite::config(), *suite::config().apps);
}

TEST_F(K0sWorkload, UserManifestsDelete) {
  delete_apps(leader(), suite::config());
  apps_applied() = false;
}

}  // namespace
}  // namespace vmtest::k0s
