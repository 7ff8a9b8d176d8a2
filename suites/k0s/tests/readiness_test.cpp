// The readiness steps over a mocked fleet: controller gates in order, the
// token join, node conditions and addresses, kube-system workloads; each
// failure mode of reference section 3.6 gives its exact finding.
#include "vmtest/k0s/readiness.hpp"

#include "support.hpp"

#include "vmtest/k0s/kube.hpp"

namespace vmtest::k0s {
namespace {

using ::testing::_;
using ::testing::AllOf;
using testing::check_failure;
using ::testing::ElementsAre;
using testing::file;
using ::testing::HasSubstr;
using ::testing::InSequence;
using testing::ok;
using testing::recording;
using ::testing::Return;
using ::testing::SizeIs;
using ::testing::StartsWith;
using testing::timed_out;

const char* kIsActivePrefix = "s=$(systemctl show -p ActiveState --value 'k0s.service')";

class K0sReadinessChecks : public testing::Fleet {
 protected:
  // A healthy controller: every gate passes.
  void healthy_controller() {
    on("ctrl", kIsActivePrefix, ok("active\n"));
    on("ctrl", "test -e '/run/k0s/status.sock'", ok(""));
    ON_CALL(channel("ctrl"), run("k0s status", _, _))
        .WillByDefault(Return(file("k0s-status-controller.txt")));
    on("ctrl", "get --raw /readyz", ok("ok\n"));
    on("ctrl", "9443/v1beta1/ca", ok("401\n"));
    on("ctrl", "token create --role=worker", file("token.txt"));
    on("ctrl", "get nodes -o json", file("nodes-ready.json"));
    on("ctrl", "get daemonsets -o json", file("ds-ready.json"));
    on("ctrl", "get deployment coredns -o json", file("coredns-available.json"));
    on("ctrl", "get endpointslices -l k8s-app=kube-dns -o json",
       file("kube-dns-slices-ready.json"));
    on("ctrl", "-n kube-system get pods -o json", file("kube-system-pods.json"));
    on("ctrl", "-n kube-system logs",
       ok("I0820 10:05:01.000000       1 client.go:203] \"Connect to server\"\n"));
    on("ctrl", "get apiservice v1beta1.metrics.k8s.io -o json",
       file("apiservice-metrics-available.json"));
  }
  // A worker waiting for its token, that starts once it has one.
  void joinable_worker(const std::string& name) {
    ON_CALL(channel(name), run("systemctl show -p ActiveState --value 'k0s.service'", _, _))
        .WillByDefault(Return(ok("inactive\n")));
    on(name, "printf '%s'", ok(""));
    on(name, "systemctl start 'k0s.service'", ok(""));
    on(name, "systemctl show -p ActiveState,ConditionResult",
       ok("ActiveState=active\nConditionResult=yes\n"));
    on(name, kIsActivePrefix, ok("active\n"));
    on(name, "test -e '/run/k0s/status.sock'", ok(""));
    ON_CALL(channel(name), run("k0s status", _, _))
        .WillByDefault(Return(file("k0s-status-worker.txt")));
    on(name, "k0s status -o json", file("k0s-status-worker.json"));
  }
};

TEST_F(K0sReadinessChecks, ControllerGatesRunInOrder) {
  InSequence order;
  EXPECT_CALL(channel("ctrl"), run(StartsWith(kIsActivePrefix), _, Repeat::until_success))
      .WillOnce(Return(ok("active\n")));
  EXPECT_CALL(channel("ctrl"), run("test -e '/run/k0s/status.sock'", _, Repeat::until_success))
      .WillOnce(Return(ok("")));
  EXPECT_CALL(channel("ctrl"), run("k0s status", _, Repeat::until_success))
      .WillOnce(Return(file("k0s-status-controller.txt")));
  EXPECT_CALL(channel("ctrl"),
              run(HasSubstr("k0s kubectl get --raw /readyz"), _, Repeat::until_success))
      .WillOnce(Return(ok("ok\n")));
  EXPECT_CALL(channel("ctrl"),
              run(HasSubstr("https://192.168.1.1:9443/v1beta1/ca"), _, Repeat::until_success))
      .WillOnce(Return(ok("401\n")));
  controller_gates(node("ctrl"), cfg);
}

TEST_F(K0sReadinessChecks, FailedUnitIsReportedAtOnceWithItsJournal) {
  on("ctrl", kIsActivePrefix, ok("failed\n"));
  on("ctrl", "systemctl show -p ActiveState,SubState",
     ok("ActiveState=failed\nSubState=failed\nResult=exit-code\nConditionResult=yes\nNRestarts="
        "0\n"));
  on("ctrl", "journalctl -u 'k0s.service'",
     ok("Error: invalid configuration: spec.api.address: invalid IP\n"));
  auto e = check_failure([&] { controller_gates(node("ctrl"), cfg); });
  EXPECT_EQ(e.machine(), "ctrl");
  EXPECT_EQ(e.summary(), "k0s.service is failed:");
  EXPECT_THAT(
      e.findings(),
      ElementsAre("systemctl show: ActiveState=failed SubState=failed Result=exit-code "
                  "ConditionResult=yes NRestarts=0",
                  "journal tail:\nError: invalid configuration: spec.api.address: invalid IP"));
}

TEST_F(K0sReadinessChecks, MissingStatusSocketIsTheSecondGate) {
  on("ctrl", kIsActivePrefix, ok("active\n"));
  on("ctrl", "test -e '/run/k0s/status.sock'", timed_out(1));
  auto e = check_failure([&] { controller_gates(node("ctrl"), cfg); });
  EXPECT_EQ(e.summary(), "/run/k0s/status.sock did not appear within 0 s (k0s.service is active):");
}

TEST_F(K0sReadinessChecks, K0sStatusThatCannotReachTheDaemon) {
  on("ctrl", kIsActivePrefix, ok("active\n"));
  on("ctrl", "test -e '/run/k0s/status.sock'", ok(""));
  ON_CALL(channel("ctrl"), run("k0s status", _, _))
      .WillByDefault(Return(timed_out(1, "", recording("k0s-status-not-running.stderr"))));
  auto e = check_failure([&] { controller_gates(node("ctrl"), cfg); });
  EXPECT_EQ(e.summary(), "`k0s status` did not succeed within 0 s:");
  ASSERT_EQ(e.findings().size(), 1u);
  EXPECT_THAT(e.findings()[0],
              AllOf(HasSubstr("/run/k0s/status.sock"), HasSubstr("no such file or directory")));
}

TEST_F(K0sReadinessChecks, K0sStatusWithAnotherRoleThanTheManifest) {
  healthy_controller();
  ON_CALL(channel("ctrl"), run("k0s status", _, _))
      .WillByDefault(Return(file("k0s-status-worker.txt")));
  auto e = check_failure([&] { controller_gates(node("ctrl"), cfg); });
  EXPECT_EQ(e.summary(), "k0s status does not match the manifest:");
  EXPECT_THAT(
      e.findings(),
      ElementsAre(
          "k0s status on ctrl: Role: worker, expected controller (manifest role controller)",
          "k0s status on ctrl: Workloads: true, expected false (manifest role controller)"));
}

TEST_F(K0sReadinessChecks, ApiThatNeverGetsReady) {
  healthy_controller();
  on("ctrl", "get --raw /readyz",
     timed_out(1, "[-]etcd failed: reason withheld\nreadyz check failed\n"));
  auto e = check_failure([&] { controller_gates(node("ctrl"), cfg); });
  EXPECT_EQ(e.summary(), "the API server is not ready (/readyz) within 0 s:");
  EXPECT_THAT(e.findings()[0], HasSubstr("[-]etcd failed"));
}

TEST_F(K0sReadinessChecks, JoinApiNeedsCurl) {
  healthy_controller();
  on("ctrl", "9443/v1beta1/ca", ok("curl is not installed\n"));
  auto e = check_failure([&] { controller_gates(node("ctrl"), cfg); });
  EXPECT_EQ(e.summary(), "cannot probe the join API:");
  EXPECT_THAT(e.findings(), ElementsAre("curl is not installed (the k0s test nodes need curl)"));
}

TEST_F(K0sReadinessChecks, WorkerJoinsWithAFreshToken) {
  healthy_controller();
  joinable_worker("wrkr1");
  auto token = recording("token.txt");
  token.pop_back();
  {
    InSequence order;
    EXPECT_CALL(channel("wrkr1"), run("systemctl show -p ActiveState --value 'k0s.service'", _, _))
        .WillOnce(Return(ok("inactive\n")));
    EXPECT_CALL(channel("ctrl"), run("k0s token create --role=worker --expiry=2h", _, _))
        .WillOnce(Return(file("token.txt")));
    EXPECT_CALL(channel("wrkr1"),
                run(AllOf(HasSubstr("install -d -m 0755 '/etc/k0s'"), HasSubstr("'" + token + "'"),
                          HasSubstr("> '/etc/k0s/k0stoken'")),
                    _, _))
        .WillOnce(Return(ok("")));
    EXPECT_CALL(channel("wrkr1"), run("systemctl start 'k0s.service'", _, _))
        .WillOnce(Return(ok("")));
    EXPECT_CALL(channel("wrkr1"), run(StartsWith(kIsActivePrefix), _, _))
        .WillOnce(Return(ok("active\n")));
    EXPECT_CALL(channel("wrkr1"), run("k0s status", _, _))
        .WillOnce(Return(file("k0s-status-worker.txt")));
  }
  join_node(node("ctrl"), node("wrkr1"), cfg, *cfg.find("wrkr1"));
}

TEST_F(K0sReadinessChecks, AlreadyRunningWorkerGetsNoNewToken) {
  healthy_controller();
  joinable_worker("wrkr2");
  ON_CALL(channel("wrkr2"), run("systemctl show -p ActiveState --value 'k0s.service'", _, _))
      .WillByDefault(Return(ok("active\n")));
  EXPECT_CALL(channel("ctrl"), run(HasSubstr("token create"), _, _)).Times(0);
  EXPECT_CALL(channel("wrkr2"), run(HasSubstr("systemctl start"), _, _)).Times(0);
  join_node(node("ctrl"), node("wrkr2"), cfg, *cfg.find("wrkr2"));
}

TEST_F(K0sReadinessChecks, WorkerWithoutTokenFileStaysInactive) {
  healthy_controller();
  joinable_worker("wrkr1");
  on("wrkr1", "systemctl show -p ActiveState,ConditionResult", file("systemctl-show-no-token.txt"));
  on("wrkr1", "systemctl show -p ActiveState,SubState", file("systemctl-show-no-token.txt"));
  on("wrkr1", "journalctl -u 'k0s.service'", ok("-- No entries --\n"));
  auto e = check_failure([&] { join_node(node("ctrl"), node("wrkr1"), cfg, *cfg.find("wrkr1")); });
  EXPECT_EQ(e.machine(), "wrkr1");
  EXPECT_EQ(e.summary(), "k0s.service stayed inactive after systemctl start:");
  EXPECT_EQ(e.findings()[0],
            "k0s.service is inactive with ConditionResult=no: its start condition failed; on a "
            "worker that is "
            "ConditionPathExists=/etc/k0s/k0stoken (no token file)");
}

TEST_F(K0sReadinessChecks, BadTokenCrashLoopIsNamed) {
  healthy_controller();
  joinable_worker("wrkr1");
  on("wrkr1", kIsActivePrefix, timed_out(1, "activating\n"));
  on("wrkr1", "systemctl show -p ActiveState,SubState", file("systemctl-show-auto-restart.txt"));
  on("wrkr1", "journalctl -u 'k0s.service'", file("journal-bad-token.txt"));
  auto e = check_failure([&] { join_node(node("ctrl"), node("wrkr1"), cfg, *cfg.find("wrkr1")); });
  EXPECT_EQ(e.summary(), "k0s.service is not active after 0 s:");
  ASSERT_GE(e.findings().size(), 4u);
  EXPECT_EQ(e.findings()[0],
            "k0s.service crashed and waits to restart (NRestarts=2; k0s-nix uses RestartSec=120)");
  EXPECT_EQ(e.findings()[1],
            "the join token in /etc/k0s/k0stoken is bad or blank: Error: failed to decode join "
            "token: illegal base64 "
            "data at input byte 0");
  EXPECT_THAT(e.findings()[3], StartsWith("journal tail:\nStarting k0s"));
}

TEST_F(K0sReadinessChecks, WorkerThatCannotReachTheApiServer) {
  healthy_controller();
  joinable_worker("wrkr1");
  on("wrkr1", kIsActivePrefix, timed_out(1, "activating\n"));
  on("wrkr1", "systemctl show -p ActiveState,SubState",
     ok("ActiveState=activating\nSubState=start\n"));
  on("wrkr1", "journalctl -u 'k0s.service'", file("journal-api-unreachable.txt"));
  auto e = check_failure([&] { join_node(node("ctrl"), node("wrkr1"), cfg, *cfg.find("wrkr1")); });
  EXPECT_THAT(e.findings()[0],
              StartsWith("the API server is not reachable (spec.api.address/sans, firewall?): "));
  EXPECT_THAT(e.findings()[0], HasSubstr("dial tcp 192.168.1.1:6443: connect: connection refused"));
}

TEST_F(K0sReadinessChecks, WorkerApiGateIsTheNodeAndItsLease) {
  on("ctrl", "get node 'wrkr1' -o json", file("node-wrkr1.json"));
  on("ctrl", "-n kube-node-lease get lease 'wrkr1' -o json", file("lease-wrkr1.json"));
  joinable_worker("wrkr1");
  wait_worker_api_connection(node("ctrl"), node("wrkr1"), cfg, *cfg.find("wrkr1"));
}

TEST_F(K0sReadinessChecks, WorkerApiGateHoldsOnA1352WorkerWhoseK0sStatusSaysFalse) {
  // k0s 1.35.0-1.35.3 (k0s #7362): the status probe lists all nodes, which
  // the worker may not; the worker is healthy all the same. The old gate
  // (WorkerToAPIConnectionStatus) timed out here.
  on("ctrl", "get node 'wrkr1' -o json", file("node-wrkr1.json"));
  on("ctrl", "-n kube-node-lease get lease 'wrkr1' -o json", file("lease-wrkr1.json"));
  on("wrkr1", "k0s status -o json", file("k0s-status-worker-1.35.2-forbidden.json"));
  EXPECT_CALL(channel("wrkr1"), run(HasSubstr("k0s status"), _, _)).Times(0);
  wait_worker_api_connection(node("ctrl"), node("wrkr1"), cfg, *cfg.find("wrkr1"));
}

TEST_F(K0sReadinessChecks, WorkerApiGateFailsOnANotReadyNodeWithoutLease) {
  on("ctrl", "get node 'wrkr2' -o json", file("node-wrkr2-notready.json"));
  on("ctrl", "-n kube-node-lease get lease 'wrkr2' -o json", file("lease-wrkr2-unheld.json"));
  on("wrkr2", "k0s status -o json", file("k0s-status-worker-noapi.json"));
  auto e = check_failure(
      [&] { wait_worker_api_connection(node("ctrl"), node("wrkr2"), cfg, *cfg.find("wrkr2")); });
  EXPECT_EQ(e.summary(),
            "wrkr2's kubelet registered and heartbeating (Node Ready, Lease held) not reached "
            "within 0 s; last seen:");
  ASSERT_THAT(e.findings(), SizeIs(4));
  EXPECT_THAT(e.findings()[0], StartsWith("node wrkr2: Ready=False (KubeletNotReady: "));
  EXPECT_EQ(e.findings()[1],
            "Lease kube-node-lease/wrkr2: holderIdentity (unset), expected wrkr2 (its kubelet)");
  EXPECT_EQ(e.findings()[2], "Lease kube-node-lease/wrkr2: never renewed (no spec.renewTime)");
  EXPECT_THAT(
      e.findings()[3],
      StartsWith("hint: k0s status -o json on wrkr2: WorkerToAPIConnectionStatus.Success is "
                 "false: Get \"https://192.168.1.1:6443/version\""));
}

TEST_F(K0sReadinessChecks, WorkerApiGateRefusesAListWhereOneNodeIsExpected) {
  on("ctrl", "get node 'wrkr1' -o json", file("nodes-ready.json"));
  on("ctrl", "-n kube-node-lease get lease 'wrkr1' -o json", file("lease-wrkr1.json"));
  try {
    wait_worker_api_connection(node("ctrl"), node("wrkr1"), cfg, *cfg.find("wrkr1"));
    FAIL() << "no throw";
  } catch (const CheckFailed&) {
    FAIL() << "a shape error must not be retried as a finding";
  } catch (const Error& e) {
    EXPECT_THAT(
        e.message(),
        HasSubstr("`k0s kubectl get node 'wrkr1' -o json` answered a List of 2 items, expected "
                  "one Node"));
  }
}

TEST_F(K0sReadinessChecks, OneObjectWhereAListIsExpectedIsAnErrorNotNoItems) {
  // Before: items_of() read a lone Node as an empty list, so wrkr1 and wrkr2
  // were reported "not registered".
  healthy_controller();
  on("ctrl", "get nodes -o json", file("node-wrkr1.json"));
  try {
    wait_nodes_ready(node("ctrl"), cfg);
    FAIL() << "no throw";
  } catch (const CheckFailed& e) {
    FAIL() << "read as findings: " << e.what();
  } catch (const Error& e) {
    EXPECT_EQ(e.machine(), "ctrl");
    EXPECT_EQ(e.message(),
              "`k0s kubectl get nodes -o json` answered one Node named wrkr1, expected a List with "
              "an items array");
  }
  // The pure evaluation refuses it too.
  EXPECT_THROW(node_readiness_findings(nlohmann::json::parse(recording("node-wrkr1.json")), cfg),
               Error);
}

TEST_F(K0sReadinessChecks, NodesReadyAtBothEndsOfTheSupportedRange) {
  // k0s 1.34 (kubelet v1.34.10+k0s) and 1.35 (v1.35.7+k0s) Node objects.
  healthy_controller();
  for (const char* rec : {"nodes-ready-1.34.json", "nodes-ready.json"}) {
    on("ctrl", "get nodes -o json", file(rec));
    EXPECT_NO_THROW(wait_nodes_ready(node("ctrl"), cfg)) << rec;
  }
}

TEST_F(K0sReadinessChecks, NodesReady) {
  healthy_controller();
  wait_nodes_ready(node("ctrl"), cfg);
  require_node_addresses(node("ctrl"), cfg);
}

TEST_F(K0sReadinessChecks, NodeNotReadyWithoutCni) {
  on("ctrl", "get nodes -o json", file("nodes-notready-cni.json"));
  auto e = check_failure([&] { wait_nodes_ready(node("ctrl"), cfg); });
  EXPECT_EQ(e.summary(), "every node Ready not reached within 0 s; last seen:");
  EXPECT_THAT(
      e.findings(),
      ElementsAre("node wrkr2: Ready=False (KubeletNotReady: container runtime network not ready: "
                  "NetworkReady=false reason:NetworkPluginNotReady message:Network plugin returns "
                  "error: cni "
                  "plugin not initialized)",
                  "node wrkr2: taint node.kubernetes.io/not-ready:NoSchedule"));
}

TEST_F(K0sReadinessChecks, LostNode) {
  on("ctrl", "get nodes -o json", file("nodes-lost.json"));
  auto e = check_failure([&] { wait_nodes_ready(node("ctrl"), cfg); });
  EXPECT_THAT(
      e.findings(),
      ElementsAre(
          "node wrkr2: Ready=Unknown (NodeStatusUnknown: Kubelet stopped posting node status.)",
          "node wrkr2: MemoryPressure=Unknown (NodeStatusUnknown: Kubelet stopped posting node "
          "status.)",
          "node wrkr2: DiskPressure=Unknown (NodeStatusUnknown: Kubelet stopped posting node "
          "status.)",
          "node wrkr2: PIDPressure=Unknown (NodeStatusUnknown: Kubelet stopped posting node "
          "status.)",
          "node wrkr2: taint node.kubernetes.io/unreachable:NoSchedule",
          "node wrkr2: taint node.kubernetes.io/unreachable:NoExecute"));
}

TEST_F(K0sReadinessChecks, DiskPressure) {
  on("ctrl", "get nodes -o json", file("nodes-disk-pressure.json"));
  auto e = check_failure([&] { wait_nodes_ready(node("ctrl"), cfg); });
  EXPECT_THAT(
      e.findings(),
      ElementsAre(
          "node wrkr1: DiskPressure=True (KubeletHasDiskPressure: kubelet has disk pressure)",
          "node wrkr1: taint node.kubernetes.io/disk-pressure:NoSchedule"));
}

TEST_F(K0sReadinessChecks, NodeNotRegistered) {
  on("ctrl", "get nodes -o json", file("nodes-missing-wrkr2.json"));
  auto e = check_failure([&] { wait_nodes_ready(node("ctrl"), cfg); });
  EXPECT_THAT(e.findings(), ElementsAre("node wrkr2: no Node object (kubelet has not registered)"));
}

TEST_F(K0sReadinessChecks, ApiErrorsAreRetriedUntilReady) {
  cfg.timeouts.node_ready = std::chrono::seconds(30);
  EXPECT_CALL(channel("ctrl"), run(HasSubstr("get nodes -o json"), _, _))
      .WillOnce(
          Return(mocks::result(1, "", "The connection to the server localhost:6443 was refused")))
      .WillOnce(Return(file("nodes-notready-cni.json")))
      .WillOnce(Return(file("nodes-ready.json")));
  wait_nodes_ready(node("ctrl"), cfg);
}

TEST_F(K0sReadinessChecks, PureControllerWithANodeObject) {
  auto nodes = nlohmann::json::parse(recording("nodes-ready.json"));
  auto ctrl = nodes["items"][0];
  ctrl["metadata"]["name"] = "ctrl";
  nodes["items"].push_back(ctrl);
  on("ctrl", "get nodes -o json", ok(nodes.dump()));
  auto e = check_failure([&] { wait_nodes_ready(node("ctrl"), cfg); });
  EXPECT_THAT(
      e.findings(),
      ElementsAre(
          "node ctrl: the manifest says role controller (no kubelet), but it has a Node object"));
}

TEST_F(K0sReadinessChecks, QemuUserNetAddresses) {
  on("ctrl", "get nodes -o json", file("nodes-qemu-ip.json"));
  auto e = check_failure([&] { require_node_addresses(node("ctrl"), cfg); });
  EXPECT_EQ(e.summary(), "node addresses are not the VLAN addresses of the manifest:");
  EXPECT_THAT(
      e.findings(),
      ElementsAre(
          "node wrkr1: InternalIP 10.0.2.15, expected 192.168.1.2 (its VLAN 1 address in the "
          "manifest); 10.0.2.15 is QEMU's user-net address: pin kubelet's --node-ip to the VLAN "
          "address",
          "node wrkr2: InternalIP 10.0.2.15, expected 192.168.1.3 (its VLAN 1 address in the "
          "manifest); 10.0.2.15 is QEMU's user-net address: pin kubelet's --node-ip to the VLAN "
          "address",
          "nodes wrkr1, wrkr2 share InternalIP 10.0.2.15"));
}

TEST_F(K0sReadinessChecks, SystemDaemonSets) {
  healthy_controller();
  wait_daemonsets(node("ctrl"), cfg);
  on("ctrl", "get daemonsets -o json", file("ds-kube-router-unavailable.json"));
  auto e = check_failure([&] { wait_daemonsets(node("ctrl"), cfg); });
  EXPECT_THAT(
      e.findings(),
      ElementsAre("DaemonSet kube-system/kube-router: 1 of 2 available (ready 1, unavailable 1)"));
}

TEST_F(K0sReadinessChecks, MissingDaemonSets) {
  on("ctrl", "get daemonsets -o json",
     ok(R"({"apiVersion":"v1","items":[],"kind":"List","metadata":{"resourceVersion":""}})"));
  auto e = check_failure([&] { wait_daemonsets(node("ctrl"), cfg); });
  EXPECT_THAT(
      e.findings(),
      ElementsAre(
          "DaemonSet kube-system/kube-proxy: missing",
          "DaemonSet kube-system/konnectivity-agent: missing",
          "no CNI DaemonSet: neither kube-system/kube-router nor kube-system/calico-node exists"));
}

TEST_F(K0sReadinessChecks, CoreDns) {
  healthy_controller();
  wait_coredns(node("ctrl"), cfg);
  on("ctrl", "get deployment coredns -o json", file("coredns-unavailable.json"));
  on("ctrl", "get endpointslices -l k8s-app=kube-dns -o json",
     file("kube-dns-slices-notready.json"));
  auto e = check_failure([&] { wait_coredns(node("ctrl"), cfg); });
  EXPECT_THAT(e.findings(), ElementsAre("Deployment kube-system/coredns: Available=False "
                                        "(MinimumReplicasUnavailable: Deployment does "
                                        "not have minimum availability.)",
                                        "EndpointSlice kube-system/kube-dns-x7tqp: endpoint "
                                        "10.244.2.2 (pod coredns-5b8c4d6b9f-qlz4k, "
                                        "node wrkr2) ready=false serving=false"));
}

TEST_F(K0sReadinessChecks, PodLogsAreReadOnePodPerWorker) {
  healthy_controller();
  Transcript::current().clear();
  wait_pod_logs(node("ctrl"), cfg);
  std::vector<std::string> logs;
  for (const auto& r : Transcript::current().records())
    if (r.command.find(" logs ") != std::string::npos) logs.push_back(r.command);
  EXPECT_THAT(
      logs,
      ElementsAre(
          "k0s kubectl -n kube-system logs 'konnectivity-agent-x2kqv' -c 'konnectivity-agent' "
          "--tail=1",
          "k0s kubectl -n kube-system logs 'konnectivity-agent-m8w4d' -c 'konnectivity-agent' "
          "--tail=1"));
  on("ctrl", "-n kube-system logs 'konnectivity-agent-m8w4d'",
     mocks::result(
         1, "",
         "Error from server: Get \"https://192.168.1.3:10250/containerLogs/kube-system/"
         "konnectivity-agent-m8w4d/konnectivity-agent?tailLines=1\": No agent available\n"));
  auto e = check_failure([&] { wait_pod_logs(node("ctrl"), cfg); });
  ASSERT_THAT(e.findings(), SizeIs(1));
  EXPECT_THAT(e.findings()[0],
              AllOf(StartsWith("logs of kube-system/konnectivity-agent-m8w4d (container "
                               "konnectivity-agent) on wrkr2: "),
                    HasSubstr("No agent available")));
}

TEST_F(K0sReadinessChecks, MetricsApiMustBeAvailable) {
  healthy_controller();
  wait_metrics_api(node("ctrl"), cfg);
  on("ctrl", "get apiservice v1beta1.metrics.k8s.io -o json",
     file("apiservice-metrics-unavailable.json"));
  auto e = check_failure([&] { wait_metrics_api(node("ctrl"), cfg); });
  EXPECT_THAT(e.findings(),
              ElementsAre(StartsWith(
                  "APIService v1beta1.metrics.k8s.io: Available=False (MissingEndpoints: ")));
}

TEST_F(K0sReadinessChecks, BringUpDrivesTheWholeSequence) {
  healthy_controller();
  joinable_worker("wrkr1");
  joinable_worker("wrkr2");
  EXPECT_CALL(channel("ctrl"), run(HasSubstr("token create --role=worker"), _, _)).Times(2);
  bring_up(lookup(), cfg, BringUp::ready);
}

}  // namespace
}  // namespace vmtest::k0s
