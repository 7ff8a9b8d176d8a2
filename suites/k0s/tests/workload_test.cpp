// The workload checks over a mocked fleet: apply, rollout (with the pod
// diagnosis of each failure mode of reference section 4.4), placement,
// Service reachability and pod to pod.
#include "vmtest/k0s/workload.hpp"

#include "support.hpp"

namespace vmtest::k0s {
namespace {

using ::testing::_;
using ::testing::AllOf;
using testing::check_failure;
using ::testing::ElementsAre;
using testing::file;
using ::testing::HasSubstr;
using testing::ok;
using testing::recording;
using ::testing::Return;
using ::testing::SizeIs;
using ::testing::StartsWith;
using testing::timed_out;

const char* kPodA = "vmtest-web-6d4cf56db6-x7k2p";
const char* kPodB = "vmtest-web-6d4cf56db6-m4n8r";

class K0sWorkloadChecks : public testing::Fleet {
 protected:
  K0sWorkloadChecks() {
    on("ctrl", "printf '%s\\n'", ok(""));
    on("ctrl", "k0s kubectl apply -f /tmp/vmtest-k0s-workload.json", file("apply.txt"));
    on("ctrl", "get deployment 'vmtest-web' -o json", file("deploy-web-rolled.json"));
    on("ctrl", "get pods -l app=vmtest-web -o json", file("pods-web-running.json"));
    on("ctrl", "get events -o json", file("events-none.json"));
    on("ctrl", "get endpointslices -l kubernetes.io/service-name=vmtest-web -o json",
       file("slices-web-ready.json"));
    on("ctrl", "get service 'vmtest-web' -o json", file("svc-web.json"));
  }
  // The rollout failure with `pods` and `events` recorded.
  CheckFailed rollout_failure(const std::string& deploy, const std::string& pods,
                              const std::string& events) {
    on("ctrl", "get deployment 'vmtest-web' -o json", file(deploy));
    on("ctrl", "get pods -l app=vmtest-web -o json", file(pods));
    on("ctrl", "get events -o json", file(events));
    return check_failure([&] { wait_rollout(node("ctrl"), cfg); });
  }
};

TEST_F(K0sWorkloadChecks, AppliesTheObjectsAsJson) {
  EXPECT_CALL(channel("ctrl"),
              run(AllOf(StartsWith("printf '%s\\n' '{\"apiVersion\":\"v1\",\"items\":["),
                        HasSubstr("\"imagePullPolicy\":\"Never\""),
                        HasSubstr("> /tmp/vmtest-k0s-workload.json")),
                  _, _))
      .WillOnce(Return(ok("")));
  deploy_workload(node("ctrl"), cfg);
}

TEST_F(K0sWorkloadChecks, ApplyThatMissesAnObject) {
  on("ctrl", "k0s kubectl apply -f", file("apply-partial.txt"));
  auto e = check_failure([&] { deploy_workload(node("ctrl"), cfg); });
  EXPECT_EQ(e.summary(), "kubectl apply of the workload did not go through:");
  EXPECT_THAT(e.findings(), SizeIs(1));
}

TEST_F(K0sWorkloadChecks, RolloutCompletes) {
  wait_rollout(node("ctrl"), cfg);
}

TEST_F(K0sWorkloadChecks, ImageMissingWithPolicyNever) {
  auto e = rollout_failure("deploy-web-progressing.json", "pods-web-neverpull.json",
                           "events-web-neverpull.json");
  EXPECT_EQ(e.summary(),
            "Deployment vmtest-workload/vmtest-web did not roll out within 0 s: 1 of 2 replicas "
            "available (updated "
            "2, ready 1)");
  EXPECT_THAT(
      e.findings(),
      ElementsAre(
          "pod vmtest-web-6d4cf56db6-m4n8r on wrkr2: container web waiting: ErrImageNeverPull: "
          "Container image \"docker.io/vmtest/echo:1\" is not present with pull policy of Never",
          "pod vmtest-web-6d4cf56db6-m4n8r on wrkr2: event ErrImageNeverPull: Container image "
          "\"docker.io/vmtest/echo:1\" is not present with pull policy of Never (x7)",
          "pod vmtest-web-6d4cf56db6-m4n8r on wrkr2: event Failed: Error: ErrImageNeverPull (x7)"));
}

TEST_F(K0sWorkloadChecks, PodThatCannotBeScheduled) {
  auto e = rollout_failure("deploy-web-progressing.json", "pods-web-failedscheduling.json",
                           "events-web-failedscheduling.json");
  const std::string why =
      "0/2 nodes are available: 1 node(s) didn't match pod anti-affinity rules, 1 node(s) had "
      "untolerated taint "
      "{node.kubernetes.io/not-ready: }. preemption: 0/2 nodes are available: 1 No preemption "
      "victims found for "
      "incoming pod, 1 Preemption is not helpful for scheduling.";
  EXPECT_THAT(
      e.findings(),
      ElementsAre(
          "pod vmtest-web-6d4cf56db6-m4n8r (not scheduled): PodScheduled=False (Unschedulable: " +
              why + ")",
          "pod vmtest-web-6d4cf56db6-m4n8r (not scheduled): event FailedScheduling: " + why +
              " (x3)"));
}

TEST_F(K0sWorkloadChecks, CrashLoopShowsRestartsAndTheLastExit) {
  auto e = rollout_failure("deploy-web-progressing.json", "pods-web-crashloop.json",
                           "events-web-crashloop.json");
  ASSERT_THAT(e.findings(), SizeIs(2));
  EXPECT_THAT(e.findings()[0],
              StartsWith("pod vmtest-web-6d4cf56db6-m4n8r on wrkr2: container web waiting: "
                         "CrashLoopBackOff: back-off 1m20s restarting failed container=web"));
  EXPECT_THAT(e.findings()[0], HasSubstr("; restarts 4; last terminated: Error (exit code 1)"));
  EXPECT_THAT(
      e.findings()[1],
      StartsWith("pod vmtest-web-6d4cf56db6-m4n8r on wrkr2: event BackOff: Back-off restarting "
                 "failed container web"));
}

TEST_F(K0sWorkloadChecks, RunningButNotReady) {
  auto e = rollout_failure("deploy-web-progressing.json", "pods-web-notready.json",
                           "events-web-unhealthy.json");
  EXPECT_THAT(
      e.findings(),
      ElementsAre(
          "pod vmtest-web-6d4cf56db6-m4n8r on wrkr2: container web running but not ready",
          "pod vmtest-web-6d4cf56db6-m4n8r on wrkr2: event Unhealthy: Readiness probe failed: Get "
          "\"http://10.244.2.5:8080/\": dial tcp 10.244.2.5:8080: connect: connection refused "
          "(x42)"));
}

TEST_F(K0sWorkloadChecks, SandboxThatCannotBeCreated) {
  auto e = rollout_failure("deploy-web-progressing.json", "pods-web-sandbox.json",
                           "events-web-sandbox.json");
  ASSERT_THAT(e.findings(), SizeIs(2));
  EXPECT_EQ(e.findings()[0],
            "pod vmtest-web-6d4cf56db6-m4n8r on wrkr2: container web waiting: ContainerCreating");
  EXPECT_THAT(
      e.findings()[1],
      StartsWith("pod vmtest-web-6d4cf56db6-m4n8r on wrkr2: event FailedCreatePodSandBox: "
                 "Failed to create pod sandbox: rpc error: code = Unknown desc = failed to get "
                 "sandbox image \"registry.k8s.io/pause:3.10\""));
}

TEST_F(K0sWorkloadChecks, ProgressDeadlineStopsTheWaitAtOnce) {
  cfg.timeouts.rollout = std::chrono::seconds(3600);  // must not wait it out
  auto e = rollout_failure("deploy-web-deadline.json", "pods-web-neverpull.json",
                           "events-web-neverpull.json");
  EXPECT_THAT(
      e.summary(),
      StartsWith("Deployment vmtest-workload/vmtest-web stopped progressing: 0 of 2 replicas "
                 "available (updated 2, ready 0); Progressing=False (ProgressDeadlineExceeded"));
}

TEST_F(K0sWorkloadChecks, RolloutPollsUntilDone) {
  cfg.timeouts.rollout = std::chrono::seconds(60);
  cfg.timeouts.poll_interval = std::chrono::milliseconds(1);
  EXPECT_CALL(channel("ctrl"), run(HasSubstr("get deployment 'vmtest-web' -o json"), _, _))
      .WillOnce(Return(file("deploy-web-progressing.json")))
      .WillOnce(Return(file("deploy-web-progressing.json")))
      .WillOnce(Return(file("deploy-web-rolled.json")));
  wait_rollout(node("ctrl"), cfg);
}

TEST_F(K0sWorkloadChecks, ATimeoutOfTheProbeItselfGoesUpAsItIs) {
  // Not the rollout's deadline: no pod diagnosis, the channel's own error.
  cfg.timeouts.rollout = std::chrono::seconds(60);
  EXPECT_CALL(channel("ctrl"), run(HasSubstr("get deployment 'vmtest-web' -o json"), _, _))
      .WillOnce(::testing::Throw(TimeoutError("the channel did not answer")));
  try {
    wait_rollout(node("ctrl"), cfg);
    FAIL() << "no throw";
  } catch (const CheckFailed& e) {
    FAIL() << "the probe's timeout became a rollout failure: " << e.what();
  } catch (const TimeoutError& e) {
    EXPECT_THAT(e.message(), HasSubstr("the channel did not answer"));
  }
}

TEST_F(K0sWorkloadChecks, PodsRunOneOnEachWorker) {
  auto places = require_pods_placed(node("ctrl"), cfg);
  ASSERT_THAT(places, SizeIs(2));
  EXPECT_EQ(places[0].name, kPodA);
  EXPECT_EQ(places[0].node, "wrkr1");
  EXPECT_EQ(places[0].ip, "10.244.1.7");
  EXPECT_EQ(places[1].node, "wrkr2");
}

TEST_F(K0sWorkloadChecks, PlacementWithAPendingPod) {
  on("ctrl", "get pods -l app=vmtest-web -o json", file("pods-web-failedscheduling.json"));
  auto e = check_failure([&] { require_pods_placed(node("ctrl"), cfg); });
  EXPECT_EQ(e.summary(), "the workload pods are not where they should be:");
  EXPECT_THAT(e.findings(),
              ElementsAre("pod vmtest-web-6d4cf56db6-m4n8r on (no node): phase Pending",
                          "no pod on worker-side node wrkr2"));
}

TEST_F(K0sWorkloadChecks, PlacementOnTheWrongNodes) {
  auto pods = nlohmann::json::parse(recording("pods-web-running.json"));
  pods["items"][1]["spec"]["nodeName"] = "wrkr1";
  pods["items"][1]["spec"]["containers"][0]["imagePullPolicy"] = "IfNotPresent";
  on("ctrl", "get pods -l app=vmtest-web -o json", ok(pods.dump()));
  auto e = check_failure([&] { require_pods_placed(node("ctrl"), cfg); });
  EXPECT_THAT(
      e.findings(),
      ElementsAre(
          "pod vmtest-web-6d4cf56db6-m4n8r: container web has imagePullPolicy IfNotPresent, "
          "expected Never",
          "node wrkr1 runs 2 pods (vmtest-web-6d4cf56db6-x7k2p, vmtest-web-6d4cf56db6-m4n8r); the "
          "anti-affinity spreads one per node",
          "no pod on worker-side node wrkr2"));
}

TEST_F(K0sWorkloadChecks, ClusterIpFromAWorker) {
  EXPECT_EQ(service_cluster_ip(node("ctrl"), cfg), "10.101.183.12");
  EXPECT_CALL(channel("wrkr1"),
              run("curl -sS -f --max-time 5 'http://10.101.183.12:80/'", _, Repeat::until_success))
      .WillOnce(Return(file("http-body.txt")));
  EXPECT_EQ(require_http(node("wrkr1"), cfg, "http://10.101.183.12:80/", "the Service's ClusterIP"),
            "vmtest image docker.io/vmtest/echo:1\n");
}

TEST_F(K0sWorkloadChecks, ServiceWithoutEndpoints) {
  on("ctrl", "get endpointslices -l kubernetes.io/service-name=vmtest-web -o json",
     file("slices-web-empty.json"));
  auto e = check_failure([&] { service_cluster_ip(node("ctrl"), cfg); });
  EXPECT_EQ(
      e.summary(),
      "ready endpoints of Service vmtest-workload/vmtest-web not reached within 0 s; last seen:");
  EXPECT_THAT(
      e.findings(),
      ElementsAre("Service vmtest-workload/vmtest-web: no endpoints (selector matches no ready "
                  "pod, or the pods are not Ready)"));
}

TEST_F(K0sWorkloadChecks, NodePortThatDoesNotAnswer) {
  on("ctrl", "curl -sS -f --max-time 5 'http://192.168.1.3:30080/'",
     timed_out(28, "", "curl: (28) Connection timed out after 5001 milliseconds\n"));
  auto e = check_failure([&] {
    require_http(node("ctrl"), cfg, "http://192.168.1.3:30080/", "the NodePort on wrkr2");
  });
  EXPECT_EQ(e.machine(), "ctrl");
  EXPECT_EQ(e.summary(),
            "the NodePort on wrkr2 did not answer http://192.168.1.3:30080/ from ctrl within 0 s:");
  EXPECT_THAT(e.findings()[0], HasSubstr("Connection timed out"));
}

TEST_F(K0sWorkloadChecks, PodToPodAcrossNodes) {
  auto places = require_pods_placed(node("ctrl"), cfg);
  EXPECT_CALL(
      channel("ctrl"),
      run("k0s kubectl -n 'vmtest-workload' exec 'vmtest-web-6d4cf56db6-x7k2p' -- wget -q -T 5 "
          "-O- 'http://10.244.2.5:8080/'",
          _, Repeat::until_success))
      .WillOnce(Return(file("http-body.txt")));
  EXPECT_EQ(require_pod_to_pod(node("ctrl"), cfg, places[0], places[1]),
            "vmtest image docker.io/vmtest/echo:1\n");

  on("ctrl", "exec 'vmtest-web-6d4cf56db6-m4n8r'",
     timed_out(1, "", "wget: can't connect to remote host (10.244.1.7): No route to host\n"));
  auto e = check_failure([&] { require_pod_to_pod(node("ctrl"), cfg, places[1], places[0]); });
  EXPECT_EQ(e.summary(), std::string("pod ") + kPodB + " on wrkr2 cannot reach pod " + kPodA +
                             " on wrkr1 at http://10.244.1.7:8080/ within 0 s:");
  EXPECT_THAT(e.findings()[0], HasSubstr("No route to host"));
}

TEST_F(K0sWorkloadChecks, DeletesTheNamespace) {
  EXPECT_CALL(channel("ctrl"), run("k0s kubectl delete namespace 'vmtest-workload' "
                                   "--ignore-not-found --wait=true --timeout=0s",
                                   _, _))
      .WillOnce(Return(ok("namespace \"vmtest-workload\" deleted\n")));
  delete_workload(node("ctrl"), cfg);
}

}  // namespace
}  // namespace vmtest::k0s
