// The user's manifests in the workload suite: readiness of each kind, ready and not ready, from
// kubectl JSON written from k8s.io/api v0.35.7's types (testdata/README.md), and the deploy/wait
// sequence over a mocked leader.
#include "vmtest/k0s/apps.hpp"

#include "support.hpp"

namespace vmtest::k0s {
namespace {

using ::testing::_;
using testing::check_failure;
using ::testing::ElementsAre;
using testing::file;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using testing::ok;
using testing::recording;
using ::testing::Return;

nlohmann::json json_of(const std::string& name) {
  return nlohmann::json::parse(recording(name));
}

const nlohmann::json& find(const std::vector<nlohmann::json>& objects, const std::string& ref) {
  for (const auto& o : objects)
    if (object_ref(o) == ref) return o;
  throw std::runtime_error("no " + ref);
}

TEST(K0sApps, ListsAndSingleObjects) {
  auto objects = listed_objects(json_of("apps-get-ready.json"));
  std::vector<std::string> refs;
  for (const auto& o : objects) refs.push_back(object_ref(o));
  EXPECT_THAT(refs, ElementsAre("ConfigMap shop/config", "Deployment shop/web",
                                "StatefulSet shop/db", "DaemonSet shop/agent", "Job shop/migrate",
                                "Service shop/web", "Service shop/upstream"));
  EXPECT_THAT(listed_objects(json_of("apps-get-job-failed.json")), ::testing::SizeIs(1));
  try {
    listed_objects(nlohmann::json::array());
    ADD_FAILURE() << "an array passed as objects";
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("expected a Kubernetes object or List, got an array"));
  }
}

TEST(K0sApps, EveryKindReady) {
  auto objects = listed_objects(json_of("apps-get-ready.json"));
  auto slices = json_of("slices-shop-web-ready.json");
  for (const auto& o : objects) EXPECT_THAT(object_findings(o, slices), IsEmpty()) << object_ref(o);
  EXPECT_TRUE(needs_endpoints(find(objects, "Service shop/web")));
  EXPECT_FALSE(needs_endpoints(find(objects, "Service shop/upstream")));  // ExternalName
}

TEST(K0sApps, EveryKindNotReadyNamesWhy) {
  auto objects = listed_objects(json_of("apps-get-not-ready.json"));
  EXPECT_THAT(object_findings(find(objects, "Deployment shop/web")),
              ElementsAre("Deployment shop/web: 1 of 2 replicas available (updated 2, ready 1)"));
  EXPECT_THAT(
      object_findings(find(objects, "StatefulSet shop/db")),
      ElementsAre(
          "StatefulSet shop/db: 0 of 1 replicas ready (updated 1, current revision db-5f7d9c8b4, "
          "update revision db-5f7d9c8b4)"));
  EXPECT_THAT(object_findings(find(objects, "DaemonSet shop/agent")),
              ElementsAre("DaemonSet shop/agent: 1 of 2 pods available (updated 2, unavailable 1, "
                          "misscheduled 0)"));
  EXPECT_THAT(object_findings(find(objects, "Job shop/migrate")),
              ElementsAre("Job shop/migrate: not complete: 0 of 1 succeeded (active 1, failed 0)"));
  EXPECT_THAT(
      object_findings(find(objects, "Service shop/web"), json_of("slices-shop-web-empty.json")),
      ElementsAre("Service shop/web: no endpoints (no ready pod matches its selector app=web)"));
  EXPECT_THAT(object_findings(find(objects, "ConfigMap shop/config")), IsEmpty());
}

TEST(K0sApps, FailedJobAndDaemonSetOnNoNode) {
  auto job = json_of("apps-get-job-failed.json");
  EXPECT_TRUE(terminally_failed(job));
  EXPECT_THAT(object_findings(job), ElementsAre("Job shop/migrate: failed: BackoffLimitExceeded: "
                                                "Job has reached the specified backoff limit"));
  EXPECT_THAT(object_findings(json_of("apps-get-ds-no-node.json")),
              ElementsAre("DaemonSet shop/agent: scheduled on no node (no node matches its "
                          "nodeSelector, affinity or "
                          "tolerations)"));
}

TEST(K0sApps, ServiceEndpointNotReady) {
  auto objects = listed_objects(json_of("apps-get-ready.json"));
  auto slices = json_of("slices-shop-web-ready.json");
  slices["items"][0]["endpoints"][1]["conditions"]["ready"] = false;
  EXPECT_THAT(object_findings(find(objects, "Service shop/web"), slices),
              ElementsAre("Service shop/web: endpoint 10.244.2.9 (pod web-7c9d8f6b5d-z8x6c on "
                          "wrkr2) is not ready"));
}

class K0sAppsFlow : public testing::Fleet {
 protected:
  const std::filesystem::path apps = std::filesystem::path(VMTEST_K0S_TESTDATA) / "apps/shop.yaml";
  const std::string get = "k0s kubectl get -R -f /tmp/vmtest-k0s-apps -o json";
  const std::string slices =
      "get endpointslices -n 'shop' -l kubernetes.io/service-name='web' -o json";
  K0sAppsFlow() {
    on("ctrl", "rm -rf /tmp/vmtest-k0s-apps", ok(""));
    on("ctrl", "'/tmp/vmtest-k0s-apps' && chmod 644", ok(""));
    on("ctrl", "k0s kubectl apply -R -f /tmp/vmtest-k0s-apps", ok("namespace/shop created\n"));
    on("ctrl", get, file("apps-get-ready.json"));
    on("ctrl", slices, file("slices-shop-web-ready.json"));
    on("ctrl", "get pods -n 'shop' -o json", file("pods-web-neverpull.json"));
    on("ctrl", "get events -n 'shop' -o json", file("events-web-neverpull.json"));
  }
};

TEST_F(K0sAppsFlow, CopiesAndAppliesTheUserFile) {
  EXPECT_CALL(channel("ctrl"), upload(recording("apps/shop.yaml"), _)).WillOnce(Return(ok("")));
  EXPECT_CALL(channel("ctrl"), run(HasSubstr("apply -R -f /tmp/vmtest-k0s-apps"), _, _))
      .WillOnce(Return(ok("namespace/shop created\n")));
  deploy_apps(node("ctrl"), cfg, apps);
}

TEST_F(K0sAppsFlow, AFolderIsCopiedWhole) {
  auto folder = apps.parent_path();
  EXPECT_CALL(channel("ctrl"),
              run(HasSubstr("mkdir -p -- '/tmp/vmtest-k0s-apps' && tar -x -f"), _, _))
      .WillOnce(Return(ok("")));
  EXPECT_CALL(channel("ctrl"), run(HasSubstr("apply -R -f /tmp/vmtest-k0s-apps"), _, _))
      .WillOnce(Return(ok("namespace/shop created\n")));
  deploy_apps(node("ctrl"), cfg, folder);
}

TEST_F(K0sAppsFlow, ApplyRefusedNamesTheFileAndKubectlsError) {
  on("ctrl", "apply -R -f",
     mocks::result(1, "", "error: error validating \"shop.yaml\": unknown field \"replica\""));
  auto e = check_failure([&] { deploy_apps(node("ctrl"), cfg, apps); });
  EXPECT_THAT(e.summary(), HasSubstr("kubectl apply of the workload manifests " + apps.string() +
                                     " failed (exit 1)"));
  EXPECT_THAT(e.findings(), ElementsAre(HasSubstr("unknown field \"replica\"")));
}

TEST_F(K0sAppsFlow, MissingHostPathSaysSo) {
  try {
    deploy_apps(node("ctrl"), cfg, "/nix/store/00000000000000000000000000000000-absent");
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("do not exist on the host"));
  }
}

TEST_F(K0sAppsFlow, ReadyReturns) {
  wait_apps_ready(node("ctrl"), cfg, apps);
}

TEST_F(K0sAppsFlow, NotReadyNamesEveryObjectAndThePods) {
  on("ctrl", get, file("apps-get-not-ready.json"));
  on("ctrl", slices, file("slices-shop-web-empty.json"));
  auto e = check_failure([&] { wait_apps_ready(node("ctrl"), cfg, apps); });
  EXPECT_EQ(e.summary(), "5 of 7 objects of the workload manifests " + apps.string() +
                             " are not ready within 0 s:");
  ASSERT_GE(e.findings().size(), 6u);
  EXPECT_THAT(e.findings()[0], HasSubstr("Deployment shop/web: 1 of 2"));
  EXPECT_THAT(e.findings()[4], HasSubstr("Service shop/web: no endpoints"));
  // The pod diagnosis of the namespace follows.
  EXPECT_THAT(e.findings()[5], HasSubstr("ErrImageNeverPull"));
}

TEST_F(K0sAppsFlow, FailedJobStopsTheWaitAtOnce) {
  cfg.timeouts.rollout = std::chrono::hours(1);  // would hang if the failure did not end the wait
  on("ctrl", get, file("apps-get-job-failed.json"));
  auto e = check_failure([&] { wait_apps_ready(node("ctrl"), cfg, apps); });
  EXPECT_THAT(e.summary(), HasSubstr("1 of 1 objects of the workload manifests"));
  EXPECT_THAT(e.summary(), HasSubstr("and a Job failed"));
  EXPECT_THAT(e.findings()[0], HasSubstr("BackoffLimitExceeded"));
}

TEST_F(K0sAppsFlow, ConfigReadsTheValue) {
  auto m = Manifest::parse(R"({"vms": {"ctrl": {"start_script": "/a"}},
                               "k0s": {"nodes": {"ctrl": {"role": "single", "ip": "192.168.1.1"}}},
                               "vlans": [1],
                               "values": {"workloadManifests": "/nix/store/00000000000000000000000000000000-apps"}})",
                           "/base", "m.json");
  auto c = K0sConfig::from_manifest(m);
  ASSERT_TRUE(c.apps);
  EXPECT_EQ(*c.apps, "/nix/store/00000000000000000000000000000000-apps");
  EXPECT_FALSE(K0sConfig::from_manifest(testing::test_manifest()).apps);
}

}  // namespace
}  // namespace vmtest::k0s
