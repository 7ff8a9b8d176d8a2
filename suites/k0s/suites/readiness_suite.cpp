// k0s.readiness: the controller passes its gates in order, the other nodes
// join with a token, every node is Ready with its VLAN address, and
// kube-router/kube-proxy/konnectivity and CoreDNS are ready, as k0s's own
// integration tests wait for them. The tests run in this order and each
// builds on the previous one.
#include "k0s_suite.hpp"

namespace vmtest::k0s {
namespace {

class K0sReadiness : public K0sTest {
 public:
  static void SetUpTestSuite() {
    set_up_suite(SuiteOptions{
        .label = "k0s",
        .requires_manifest = requires_k0s,
        .start_all = true,
        .after_boot = [](Cluster& cluster) { suite::load_config(cluster); },
    });
  }
  static Machine& leader() { return node(suite::config().leader().name); }
};

TEST_F(K0sReadiness, ControllerPassesItsGatesInOrder) {
  controller_gates(leader(), suite::config());
}

TEST_F(K0sReadiness, NodesJoinWithAToken) {
  for (const auto* n : suite::config().joining()) {
    try {
      join_node(leader(), node(n->name), suite::config(), *n);
    } catch (const std::exception& e) {
      ADD_FAILURE() << e.what();
    }
  }
}

TEST_F(K0sReadiness, WorkersReachTheApi) {
  suite::for_each_worker_side([](Machine& machine, const K0sNode& n) {
    wait_worker_api_connection(leader(), machine, suite::config(), n);
  });
}

TEST_F(K0sReadiness, EveryNodeIsReady) {
  wait_nodes_ready(leader(), suite::config());
}

TEST_F(K0sReadiness, NodeAddressesAreTheVlanAddresses) {
  require_node_addresses(leader(), suite::config());
}

TEST_F(K0sReadiness, SystemDaemonSetsAreAvailable) {
  wait_daemonsets(leader(), suite::config());
}

TEST_F(K0sReadiness, CoreDnsIsAvailable) {
  wait_coredns(leader(), suite::config());
}

TEST_F(K0sReadiness, PodLogsAreReadableOnEveryNode) {
  wait_pod_logs(leader(), suite::config());
}

TEST_F(K0sReadiness, MetricsApiIsAvailable) {
  wait_metrics_api(leader(), suite::config());
}

}  // namespace
}  // namespace vmtest::k0s
