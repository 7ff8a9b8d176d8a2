// guest-minimal: process hygiene. Runs other binaries as the "runner" and
// checks what they leave behind: nothing after SIGKILL, a clean stop after
// SIGTERM, artifacts after a failing test.
#include <vmtest/cluster_test.hpp>
#include <vmtest/mocks/processes.hpp>
#include <vmtest/vmtest.hpp>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fcntl.h>
#include <unistd.h>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <thread>

namespace {

using ::testing::HasSubstr;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

using vmtest::mocks::processes_mentioning;

class Hygiene : public ::testing::Test {
 protected:
  void SetUp() override {
    manifest_ = vmtest::manifest_path_from_env();
    if (manifest_.empty()) {
      if (vmtest::required("guest-minimal")) FAIL() << "required, but VMTEST_MANIFEST is not set";
      vmtest::note_cluster_absent();
      GTEST_SKIP() << "vmtest-skip: no cluster: VMTEST_MANIFEST is not set";
    }
    // A folder of this test alone: the leftover checks look for its name.
    auto templ = (fs::path(::testing::TempDir()) / "vmtest-hygiene-XXXXXX").string();
    ASSERT_NE(::mkdtemp(templ.data()), nullptr) << templ;
    state_parent_ = templ;
  }

  void TearDown() override {
    std::error_code ec;
    if (!state_parent_.empty()) fs::remove_all(state_parent_, ec);
  }

  // Starts the victim and waits until its cluster is up; returns its state root.
  std::string start_victim(vmtest::ChildProcess& victim) {
    int p[2];
    EXPECT_EQ(::pipe2(p, O_CLOEXEC), 0);
    vmtest::UniqueFd r(p[0]), w(p[1]);
    vmtest::SpawnOptions o;
    o.argv = {VMTEST_VICTIM, manifest_};
    o.env["VMTEST_STATE_ROOT"] = state_parent_.string();
    o.stdout_fd = w.get();
    o.stderr_fd = 2;
    // The victim must not die with us by accident before we kill it.
    victim = vmtest::ChildProcess::spawn(o);
    w.reset();
    std::string out;
    auto deadline = vmtest::Deadline::after(600s);
    while (out.find('\n') == std::string::npos) {
      if (vmtest::read_some(r.get(), out, 256, deadline, victim.pidfd()) !=
          vmtest::ReadResult::data) {
        ADD_FAILURE() << "the victim did not boot its cluster: " << out;
        return {};
      }
    }
    EXPECT_EQ(out.rfind("READY ", 0), 0u) << out;
    return out.substr(6, out.find('\n') - 6);
  }

  std::string manifest_;
  fs::path state_parent_;
};

TEST_F(Hygiene, SigkillOfTheRunnerLeavesNoQemuOrVdeSwitch) {
  vmtest::ChildProcess victim;
  auto root = start_victim(victim);
  ASSERT_FALSE(root.empty());
  ASSERT_FALSE(processes_mentioning(root).empty()) << "no QEMU found for " << root;
  victim.signal(SIGKILL);
  victim.wait(vmtest::Deadline::after(10s));
  auto deadline = vmtest::Deadline::after(10s);
  while (!processes_mentioning(root).empty() && !deadline.expired())
    std::this_thread::sleep_for(100ms);
  auto left = processes_mentioning(root);
  EXPECT_TRUE(left.empty()) << "left running after SIGKILL of the runner:\n"
                            << ::testing::PrintToString(left);
}

TEST_F(Hygiene, SigtermOfTheRunnerStopsEverything) {
  vmtest::ChildProcess victim;
  auto root = start_victim(victim);
  ASSERT_FALSE(root.empty());
  victim.signal(SIGTERM);
  auto st = victim.wait(vmtest::Deadline::after(30s));
  ASSERT_TRUE(st);
  EXPECT_TRUE(st->exited() && st->code() == 128 + SIGTERM) << st->describe();
  EXPECT_TRUE(processes_mentioning(root).empty());
}

TEST_F(Hygiene, AFailingTestSavesSerialLogsAndNamesTheFolder) {
  auto artifacts = state_parent_ / "artifacts";
  int p[2];
  ASSERT_EQ(::pipe2(p, O_CLOEXEC), 0);
  vmtest::UniqueFd r(p[0]), w(p[1]);
  vmtest::SpawnOptions o;
  o.argv = {VMTEST_FAILING_SUITE, "--manifest=" + manifest_,
            "--gtest_filter=Failing.FailsOnPurpose"};
  o.env["VMTEST_ARTIFACTS"] = artifacts.string();
  o.env["VMTEST_STATE_ROOT"] = state_parent_.string();
  o.stdout_fd = w.get();
  auto child = vmtest::ChildProcess::spawn(o);
  w.reset();
  std::string out;
  while (vmtest::read_some(r.get(), out, 1 << 16, vmtest::Deadline::after(600s)) ==
         vmtest::ReadResult::data) {
  }
  auto st = child.wait(vmtest::Deadline::after(60s));
  ASSERT_TRUE(st);
  EXPECT_EQ(st->code(), 1) << out;
  auto dir = artifacts / "Failing.FailsOnPurpose";
  EXPECT_THAT(out, HasSubstr(fs::absolute(dir).string()))
      << "the failure must name the artifacts folder";
  auto first = vmtest::Manifest::load(manifest_).machine_names().front();
  std::ifstream log(dir / (first + ".serial.log"));
  std::stringstream ss;
  ss << log.rdbuf();
  EXPECT_THAT(ss.str(), HasSubstr("vmtest-failing-marker"));
}

// Writes a manifest like the suite's, with `patch` applied to its JSON.
fs::path patched_manifest(const std::string& manifest, const fs::path& dir,
                          const std::function<void(nlohmann::json&)>& patch) {
  auto m = vmtest::Manifest::load(manifest);
  nlohmann::json doc = m.root().json();
  for (auto& [name, vm] : doc["vms"].items())
    vm["start_script"] = m.resolve(vm["start_script"].get<std::string>()).string();
  patch(doc);
  auto out = dir / "manifest.json";
  std::ofstream(out) << doc.dump(2);
  return out;
}

TEST_F(Hygiene, ANodeThatFailsToBootFailsTheStartAndTheOthersAreStopped) {
  auto broken = state_parent_ / "run-broken-vm";
  std::ofstream(broken) << "#!/bin/sh\necho 'qemu-system-x86_64: -drive file=/nonexistent: Could "
                           "not open' >&2\nexit 1\n";
  fs::permissions(broken, fs::perms::owner_all);
  auto manifest = patched_manifest(manifest_, state_parent_, [&](nlohmann::json& doc) {
    doc["vms"]["zz-broken"] = {{"name", "zz-broken"}, {"start_script", broken.string()}};
  });
  auto good = vmtest::Manifest::load(manifest).machine_names().front();
  vmtest::Cluster cluster{vmtest::Manifest::load(manifest), {.state_parent = state_parent_}};
  auto root = cluster.state_root().string();
  try {
    cluster.start_all();
    FAIL() << "start_all succeeded with a broken node";
  } catch (const vmtest::MachineDied& e) {
    EXPECT_EQ(e.machine(), "zz-broken");
    EXPECT_THAT(e.what(), HasSubstr("exited with status 1"));
    EXPECT_THAT(e.serial_tail(), HasSubstr("Could not open"));
  }
  // Checked while the Cluster still exists: start_all itself stopped them.
  EXPECT_FALSE(cluster.machine(good).booted());
  auto left = processes_mentioning(root);
  std::erase_if(left, [](const std::string& p) {
    return p.find("qemu") == std::string::npos;
  });  // VLANs stay
  EXPECT_TRUE(left.empty()) << "the good node " << good << " was not torn down";
}

TEST_F(Hygiene, GlobalTimeoutEndsAStuckSuite) {
  auto manifest = patched_manifest(manifest_, state_parent_,
                                   [](nlohmann::json& doc) { doc["global_timeout"] = 20; });
  int p[2];
  ASSERT_EQ(::pipe2(p, O_CLOEXEC), 0);
  vmtest::UniqueFd r(p[0]), w(p[1]);
  vmtest::SpawnOptions o;
  o.argv = {VMTEST_FAILING_SUITE, "--manifest=" + manifest.string(),
            "--gtest_filter=Failing.Stuck"};
  o.env["VMTEST_STATE_ROOT"] = state_parent_.string();
  o.stdout_fd = w.get();
  o.stderr_fd = w.get();
  auto t0 = vmtest::Clock::now();
  auto child = vmtest::ChildProcess::spawn(o);
  w.reset();
  std::string out;
  while (vmtest::read_some(r.get(), out, 1 << 16, vmtest::Deadline::after(300s)) ==
         vmtest::ReadResult::data) {
  }
  auto st = child.wait(vmtest::Deadline::after(60s));
  ASSERT_TRUE(st);
  EXPECT_EQ(st->code(), 124) << out;
  EXPECT_THAT(out, HasSubstr("global timeout of 20 s"));
  EXPECT_LT(vmtest::seconds_since(t0), 200.0) << "hang guard";
  // The suite SIGKILLed its VMs before it exited; their exits follow.
  auto deadline = vmtest::Deadline::after(30s);
  while (!processes_mentioning(state_parent_.string()).empty() && !deadline.expired())
    std::this_thread::sleep_for(100ms);
  EXPECT_THAT(processes_mentioning(state_parent_.string()), ::testing::IsEmpty());
}

}  // namespace

int main(int argc, char** argv) {
  vmtest::init(argc, argv);
  ::testing::InitGoogleMock(&argc, argv);
  return vmtest::suite_exit_code(RUN_ALL_TESTS());
}
