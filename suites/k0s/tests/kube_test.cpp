// The pure evaluations of kube.hpp on recorded outputs: k0s status text,
// the import journal, events in both wordings, the workload objects and
// rollout states.
#include "vmtest/k0s/kube.hpp"

#include "support.hpp"

namespace vmtest::k0s {
namespace {

using nlohmann::json;
using ::testing::ElementsAre;
using ::testing::IsEmpty;
using testing::recording;
using ::testing::SizeIs;

json load(const std::string& name) {
  return json::parse(recording(name));
}

TEST(K0sKube, StatusText) {
  auto st = parse_k0s_status(recording("k0s-status-worker.txt"));
  EXPECT_EQ(st["Version"], "v1.35.7+k0s.0");
  EXPECT_EQ(st["Role"], "worker");
  EXPECT_EQ(st["Workloads"], "true");
  EXPECT_EQ(st["Kube-api probing successful"], "true");
  EXPECT_EQ(st["Kube-api probing last error"], "");
  auto cfg = testing::test_config();
  EXPECT_THAT(status_findings(st, *cfg.find("wrkr1")), IsEmpty());
  EXPECT_THAT(
      status_findings(parse_k0s_status(recording("k0s-status-controller.txt")), *cfg.find("ctrl")),
      IsEmpty());
}

TEST(K0sKube, ImportJournal) {
  auto j = parse_import_journal(recording("journal-import-ok.txt"));
  EXPECT_THAT(j.loading, ElementsAre("/var/lib/k0s/images/k0s-airgap-bundle.tar",
                                     "/var/lib/k0s/images/vmtest-workload.tar"));
  EXPECT_THAT(j.loaded, ElementsAre("/var/lib/k0s/images/k0s-airgap-bundle.tar",
                                    "/var/lib/k0s/images/vmtest-workload.tar"));
  EXPECT_THAT(j.imported, SizeIs(13));
  EXPECT_EQ(j.imported.back(), "docker.io/vmtest/echo:1");
  EXPECT_THAT(j.failed, IsEmpty());
  EXPECT_THAT(j.unpinned, IsEmpty());

  auto bad = parse_import_journal(recording("journal-import-failed.txt"));
  ASSERT_THAT(bad.failed, SizeIs(1));
  EXPECT_THAT(bad.loaded, ElementsAre("/var/lib/k0s/images/k0s-airgap-bundle.tar"));

  // Plain lines (no logfmt) and unpinning.
  auto plain = parse_import_journal(
      "Imported image quay.io/k0sproject/pause:3.10.1\nUnpinning image docker.io/x/y:1\n");
  EXPECT_THAT(plain.imported, ElementsAre("quay.io/k0sproject/pause:3.10.1"));
  EXPECT_THAT(plain.unpinned, ElementsAre("docker.io/x/y:1"));
}

TEST(K0sKube, PulledEventsInBothWordings) {
  // events-pulled-ok.json has the 1.35 wording twice and the <=1.34 one once.
  EXPECT_THAT(pulled_event_findings(load("events-pulled-ok.json")), IsEmpty());
  EXPECT_THAT(pulling_event_findings(load("events-none.json")), IsEmpty());
}

TEST(K0sKube, WorkloadObjects) {
  auto cfg = testing::test_config();
  auto list = workload_objects(cfg);
  ASSERT_EQ(list["items"].size(), 3u);
  const auto& ns = list["items"][0];
  const auto& deploy = list["items"][1];
  const auto& svc = list["items"][2];
  EXPECT_EQ(ns["kind"], "Namespace");
  EXPECT_EQ(ns["metadata"]["name"], "vmtest-workload");
  EXPECT_EQ(deploy["kind"], "Deployment");
  EXPECT_EQ(deploy["spec"]["replicas"], 2);
  const auto& pod = deploy["spec"]["template"]["spec"];
  EXPECT_EQ(pod["containers"][0]["image"], "docker.io/vmtest/echo:1");
  EXPECT_EQ(pod["containers"][0]["imagePullPolicy"], "Never");
  EXPECT_EQ(pod["containers"][0]["ports"][0]["containerPort"], 8080);
  EXPECT_EQ(pod["affinity"]["podAntiAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"][0]
               ["topologyKey"],
            "kubernetes.io/hostname");
  EXPECT_EQ(svc["spec"]["type"], "NodePort");
  EXPECT_EQ(svc["spec"]["ports"][0]["nodePort"], 30080);
  EXPECT_EQ(svc["spec"]["ports"][0]["targetPort"], 8080);
  EXPECT_EQ(svc["spec"]["selector"]["app"], "vmtest-web");
}

TEST(K0sKube, RolloutStates) {
  auto done = rollout_state(load("deploy-web-rolled.json"));
  EXPECT_TRUE(done.done);
  auto partial = rollout_state(load("deploy-web-progressing.json"));
  EXPECT_FALSE(partial.done);
  EXPECT_FALSE(partial.stuck);
  EXPECT_EQ(partial.summary, "1 of 2 replicas available (updated 2, ready 1)");
  auto stuck = rollout_state(load("deploy-web-deadline.json"));
  EXPECT_TRUE(stuck.stuck);
  // availableReplicas and readyReplicas are omitted when 0.
  EXPECT_EQ(stuck.summary,
            "0 of 2 replicas available (updated 2, ready 0); Progressing=False "
            "(ProgressDeadlineExceeded: ReplicaSet "
            "\"vmtest-web-6d4cf56db6\" has timed out progressing.)");
  auto unobserved = load("deploy-web-rolled.json");
  unobserved["metadata"]["generation"] = 2;
  EXPECT_FALSE(rollout_state(unobserved).done);
}

TEST(K0sKube, ApplyOutput) {
  std::vector<std::string> objects = {"namespace/vmtest-workload", "deployment.apps/vmtest-web",
                                      "service/vmtest-web"};
  EXPECT_THAT(apply_findings(recording("apply.txt"), objects), IsEmpty());
  auto f = apply_findings(recording("apply-partial.txt"), objects);
  ASSERT_THAT(f, SizeIs(1));
  EXPECT_EQ(f[0],
            "kubectl apply did not report service/vmtest-web (output: namespace/vmtest-workload "
            "unchanged\n"
            "deployment.apps/vmtest-web configured)");
}

}  // namespace
}  // namespace vmtest::k0s
