// K0sConfig from the manifest's k0s section: the documented example, the
// defaults, the Nix side's golden output, and errors that name the key path.
#include "vmtest/k0s/config.hpp"

#include "support.hpp"

#include <filesystem>

namespace vmtest::k0s {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testing::recording;

Manifest parse(const std::string& text) {
  return Manifest::parse(text, "/base", "m.json");
}

// A manifest with three VMs on VLAN 1 and `k0s` as given.
std::string with_k0s(const std::string& k0s) {
  return R"({"vms": {"ctrl": {"start_script": "/r"}, "wrkr1": {"start_script": "/r"}, "wrkr2": {"start_script": "/r"}},
             "vlans": [1], "k0s": )" +
         k0s + "}";
}

std::string error_of(const std::string& k0s) {
  try {
    K0sConfig::from_manifest(parse(with_k0s(k0s)));
  } catch (const ManifestError& e) {
    return e.what();
  }
  return "no error";
}

const char* kNodes = R"("nodes": {"ctrl": {"role": "controller", "ip": "192.168.1.1"},
                                  "wrkr1": {"role": "worker", "ip": "192.168.1.2"},
                                  "wrkr2": {"role": "worker", "ip": "192.168.1.3"}})";

TEST(K0sConfig, ReadsTheDocumentedExample) {
  auto cfg = K0sConfig::from_manifest(testing::test_manifest());
  EXPECT_EQ(cfg.unit, "k0s");
  EXPECT_EQ(cfg.unit_name(), "k0s.service");
  EXPECT_EQ(cfg.kubectl(), "k0s kubectl");
  EXPECT_EQ(cfg.ctr().prefix(), "k0s ctr -n 'k8s.io'");
  EXPECT_EQ(cfg.vlan, 1);
  ASSERT_EQ(cfg.nodes.size(), 3u);
  EXPECT_EQ(cfg.leader().name, "ctrl");
  EXPECT_EQ(cfg.nodes[1].ip, "192.168.1.2");
  EXPECT_EQ(cfg.nodes[1].role, Role::worker);
  ASSERT_EQ(cfg.worker_side().size(), 2u);
  EXPECT_EQ(cfg.worker_side()[0]->name, "wrkr1");
  ASSERT_EQ(cfg.joining().size(), 2u);
  EXPECT_THAT(cfg.airgap.bundles, ElementsAre("k0s-airgap-bundle.tar", "vmtest-workload.tar"));
  EXPECT_THAT(cfg.airgap.images,
              ElementsAre("quay.io/k0sproject/pause:3.10.1", "docker.io/vmtest/echo:1"));
  EXPECT_EQ(cfg.airgap.pull_policy, "Never");
  ASSERT_TRUE(cfg.workload.has_value());
  EXPECT_EQ(cfg.workload->image, "docker.io/vmtest/echo:1");
  EXPECT_EQ(cfg.workload->node_port, 30080);
  EXPECT_EQ(cfg.workload->ns, "vmtest-workload");
  EXPECT_EQ(cfg.replicas(), 2);
  EXPECT_EQ(cfg.timeouts.node_ready, std::chrono::seconds(1500));
}

TEST(K0sConfig, Defaults) {
  auto cfg = K0sConfig::from_manifest(parse(with_k0s(std::string("{") + kNodes + "}")));
  EXPECT_EQ(cfg.unit, "k0s");
  EXPECT_EQ(cfg.k0s, "k0s");
  EXPECT_EQ(cfg.token_file, "/etc/k0s/k0stoken");
  EXPECT_EQ(cfg.vlan, 1);  // the first of vlans
  EXPECT_EQ(cfg.airgap.bundle_dir, "/var/lib/k0s/images");
  EXPECT_TRUE(cfg.airgap.bundles.empty());
  EXPECT_TRUE(cfg.airgap.list_images);
  EXPECT_EQ(cfg.airgap.pull_policy, "Never");
  EXPECT_FALSE(cfg.workload.has_value());
  EXPECT_EQ(cfg.replicas(), 2);  // worker-side nodes
  EXPECT_EQ(cfg.timeouts.api, std::chrono::seconds(900));
  EXPECT_EQ(cfg.timeouts.node_ready, std::chrono::seconds(1500));
  EXPECT_EQ(cfg.timeouts.rollout, std::chrono::seconds(900));

  auto w = K0sConfig::from_manifest(parse(with_k0s(
      std::string("{") + kNodes + R"(, "workload": {"image": "docker.io/vmtest/echo:1"}})")));
  ASSERT_TRUE(w.workload);
  EXPECT_EQ(w.workload->port, 8080);
  EXPECT_EQ(w.workload->node_port, 30080);
  EXPECT_EQ(w.workload->ns, "vmtest-workload");
  EXPECT_EQ(w.replicas(), 2);
}

TEST(K0sConfig, OlderUnitNamesAndFractionalTimeouts) {
  auto cfg = K0sConfig::from_manifest(parse(with_k0s(
      std::string(R"({"unit": "k0scontroller.service", "k0s": "/run/current-system/sw/bin/k0s",
                      "timeouts": {"api": 1.5}, )") +
      kNodes + "}")));
  EXPECT_EQ(cfg.unit_name(), "k0scontroller.service");
  EXPECT_EQ(cfg.kubectl(), "/run/current-system/sw/bin/k0s kubectl");
  EXPECT_EQ(cfg.timeouts.api, std::chrono::milliseconds(1500));
}

TEST(K0sConfig, ControllerWorkerAndSeveralControllers) {
  auto cfg = K0sConfig::from_manifest(parse(with_k0s(R"({"nodes": {
      "wrkr2": {"role": "worker", "ip": "10.0.1.3"},
      "ctrl": {"role": "controller+worker", "ip": "10.0.1.1"},
      "wrkr1": {"role": "controller", "ip": "10.0.1.2"}}})")));
  EXPECT_EQ(cfg.leader().name, "ctrl");
  EXPECT_EQ(cfg.leader().status_role(), "controller");
  EXPECT_TRUE(cfg.leader().runs_workloads());
  ASSERT_EQ(cfg.worker_side().size(), 2u);
  EXPECT_EQ(cfg.worker_side()[0]->name, "ctrl");
  EXPECT_EQ(cfg.worker_side()[1]->name, "wrkr2");
  ASSERT_EQ(cfg.joining().size(), 2u);
  EXPECT_EQ(cfg.joining()[0]->name, "wrkr1");
  EXPECT_EQ(cfg.joining()[0]->role, Role::controller);
}

TEST(K0sConfig, ReadsTheNixSidesGoldenManifests) {
  namespace fs = std::filesystem;
  fs::path dir = VMTEST_GOLDEN_DIR;
  if (!fs::exists(dir / "k0s-manifest.json")) GTEST_SKIP() << "no golden k0s manifest at " << dir;
  auto trio = K0sConfig::from_manifest(Manifest::load(dir / "k0s-manifest.json"));
  EXPECT_EQ(trio.leader().name, "ctrl");
  EXPECT_EQ(trio.worker_side().size(), 2u);
  EXPECT_EQ(trio.vlan, 1);
  EXPECT_EQ(trio.airgap.pull_policy, "IfNotPresent");
  ASSERT_TRUE(trio.workload);
  EXPECT_EQ(trio.workload->image, "docker.io/vmtest/echo:1");
  if (fs::exists(dir / "k0s-single.json")) {
    auto single = K0sConfig::from_manifest(Manifest::load(dir / "k0s-single.json"));
    ASSERT_EQ(single.nodes.size(), 1u);
    EXPECT_EQ(single.nodes[0].role, Role::single);
    EXPECT_EQ(single.leader().name, "solo");
    EXPECT_EQ(single.worker_side().size(), 1u);
    EXPECT_TRUE(single.joining().empty());
    EXPECT_EQ(single.vlan, 4);
    EXPECT_EQ(requires_k0s_airgap(Manifest::load(dir / "k0s-single.json")),
              "the manifest's k0s.airgap lists no bundles and no images");
  }
}

TEST(K0sConfig, ErrorsNameTheKeyPath) {
  EXPECT_EQ(error_of(R"({"nodes": {"ctrl": {"role": "master", "ip": "1.2.3.4"}}})"),
            "manifest m.json: k0s.nodes.ctrl.role: expected one of controller, controller+worker, "
            "worker, single, "
            "got \"master\"");
  EXPECT_EQ(error_of(R"({"nodes": {"ctrl": {"role": "controller"}}})"),
            "manifest m.json: k0s.nodes.ctrl.ip: missing (required)");
  EXPECT_EQ(error_of(R"({"nodes": {"ghost": {"role": "controller", "ip": "1.2.3.4"}}})"),
            "manifest m.json: k0s.nodes.ghost: not a machine of the manifest (vms or hosts)");
  EXPECT_EQ(error_of(R"({"nodes": {"wrkr1": {"role": "worker", "ip": "1.2.3.4"}}})"),
            "manifest m.json: k0s.nodes: expected a node with role controller, controller+worker "
            "or single");
  EXPECT_EQ(error_of(R"({"nodes": {"ctrl": {"role": "controller", "ip": "1.2.3.4"},
                                   "wrkr1": {"role": "worker", "ip": "1.2.3.4"}}})"),
            "manifest m.json: k0s.nodes.wrkr1.ip: 1.2.3.4 is given to another node too");
  EXPECT_EQ(error_of(std::string("{") + kNodes +
                     R"(, "workload": {"image": "docker.io/library/nginx:latest"}})"),
            "manifest m.json: k0s.workload.image: \"docker.io/library/nginx:latest\" needs a fixed "
            "tag (untagged or "
            ":latest means pull policy Always)");
  EXPECT_EQ(error_of(std::string("{") + kNodes + R"(, "workload": {"image": "nginx"}})"),
            "manifest m.json: k0s.workload.image: \"nginx\" needs a fixed tag (untagged or :latest "
            "means pull policy "
            "Always)");
  EXPECT_EQ(error_of(std::string("{") + kNodes + R"(, "workload": {"port": 80}})"),
            "manifest m.json: k0s.workload.image: missing (required)");
  EXPECT_EQ(
      error_of(std::string("{") + kNodes + R"(, "workload": {"image": "a/b:1", "node_port": 80}})"),
      "manifest m.json: k0s.workload.node_port: expected an integer in 30000..32767, got 80");
  EXPECT_EQ(error_of(std::string("{") + kNodes + R"(, "airgap": {"pull_policy": "Sometimes"}})"),
            "manifest m.json: k0s.airgap.pull_policy: expected Never, IfNotPresent or Always, got "
            "\"Sometimes\"");
  EXPECT_EQ(error_of(std::string("{") + kNodes + R"(, "airgap": {"images": "quay.io/x:1"}})"),
            "manifest m.json: k0s.airgap.images: expected an array, got string");
  EXPECT_EQ(error_of(std::string("{") + kNodes + R"(, "timeouts": {"rollout": -5}})"),
            "manifest m.json: k0s.timeouts.rollout: expected a positive number of seconds, got -5");
  EXPECT_EQ(error_of(R"("k0s")"), "manifest m.json: k0s: expected an object, got string");

  auto no_vlans = Manifest::parse(R"({"vms": {"ctrl": {"start_script": "/r"}},
      "k0s": {"nodes": {"ctrl": {"role": "single", "ip": "10.0.0.1"}}}})",
                                  "/base", "m.json");
  try {
    K0sConfig::from_manifest(no_vlans);
    FAIL() << "no throw";
  } catch (const ManifestError& e) {
    EXPECT_STREQ(
        e.what(),
        "manifest m.json: k0s.vlan: missing, and the manifest has no vlans to take it from");
    EXPECT_EQ(e.key_path(), "k0s.vlan");
  }
}

TEST(K0sConfig, SuitesSkipWithoutTheirSection) {
  auto none = parse(R"({"vms": {"a": {"start_script": "/a"}}})");
  EXPECT_EQ(requires_k0s(none), "the manifest has no k0s section");
  EXPECT_EQ(requires_k0s_airgap(none), "the manifest has no k0s section");
  EXPECT_EQ(requires_k0s_workload(none), "the manifest has no k0s section");

  auto bare = parse(with_k0s(std::string("{") + kNodes + "}"));
  EXPECT_EQ(requires_k0s(bare), "");
  EXPECT_EQ(requires_k0s_airgap(bare), "the manifest's k0s section has no airgap settings");
  EXPECT_EQ(requires_k0s_workload(bare),
            "the manifest's k0s section has no workload and its values no workloadManifests");
  auto apps_only = parse(R"({"vms": {"a": {"start_script": "/a"}}, "vlans": [1],
                             "k0s": {"nodes": {"a": {"role": "single", "ip": "192.168.1.1"}}},
                             "values": {"workloadManifests": "/nix/store/00000000000000000000000000000000-apps"}})");
  EXPECT_EQ(requires_k0s_workload(apps_only), "");

  auto full = testing::test_manifest();
  EXPECT_EQ(requires_k0s(full), "");
  EXPECT_EQ(requires_k0s_airgap(full), "");
  EXPECT_EQ(requires_k0s_workload(full), "");

  // A malformed section is not a reason to skip: loading it fails instead.
  auto broken = parse(with_k0s(R"({"nodes": 3})"));
  EXPECT_EQ(requires_k0s(broken), "");
  EXPECT_THROW(K0sConfig::from_manifest(broken), ManifestError);
}

}  // namespace
}  // namespace vmtest::k0s
