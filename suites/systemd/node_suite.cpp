// guest-systemd, one node: Machine's systemd helpers against real systemd,
// and the containerd layer of the airgap checks (vmtest::containerd, the
// code the k0s airgap suite runs) against real containerd, with a bundle
// built offline by make-bundle.sh.
//
// The bundle paths and the refs it holds come from the environment that
// CMakeLists.txt sets (VMTEST_AIRGAP_BUNDLE, VMTEST_AIRGAP_TRUNCATED,
// VMTEST_AIRGAP_REFS), so the refs are written down in one place.
#include <vmtest/cluster_test.hpp>
#include <vmtest/containerd/ctr.hpp>
#include <vmtest/env.hpp>
#include <vmtest/log.hpp>
#include <vmtest/protocol.hpp>

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::UnorderedElementsAreArray;
using namespace std::chrono_literals;
namespace fs = std::filesystem;
namespace ctrd = vmtest::containerd;

// TCG on a shared 2-core host: containerd is up ~15 s after boot, but give
// every wait a wide margin. The failure tests bound how long a verdict may
// take far below these, which is what catches a wait that hangs.
constexpr vmtest::Duration kUnitTimeout = 300s;
constexpr double kVerdictBound = 60.0;  // seconds

const ctrd::CtrCommand kCtr{};  // plain containerd: ctr, default socket, k8s.io

constexpr const char* kGuestBundleDir = "/root/bundles";

std::string env(const char* name) {
  return vmtest::env_or(name, "");
}

std::vector<std::string> expected_refs() {
  std::vector<std::string> refs;
  std::string list = env("VMTEST_AIRGAP_REFS");
  std::size_t pos = 0;
  while (pos < list.size()) {
    auto comma = list.find(',', pos);
    if (comma == std::string::npos) comma = list.size();
    if (comma > pos) refs.push_back(list.substr(pos, comma - pos));
    pos = comma + 1;
  }
  return refs;
}

// Microseconds since boot at which the unit last became active (0: never).
double active_since_boot(vmtest::Machine& m, std::string_view unit) {
  auto us = m.get_unit_property(unit, "ActiveEnterTimestampMonotonic");
  return std::stod(us.empty() ? "0" : us) / 1e6;
}

class SystemdNode : public vmtest::ClusterTest {
 public:
  static void SetUpTestSuite() {
    // A fresh VM (also under --gtest_repeat) has imported nothing yet.
    imported_ = false;
    labels_after_import_.clear();
    auto t0 = vmtest::Clock::now();
    set_up_suite({.label = "guest-systemd"});
    vmtest::log::info("guest-systemd: node booted to the backdoor in {:.1f} s",
                      vmtest::seconds_since(t0));
  }

 protected:
  vmtest::Machine& m() { return node("machine"); }

  // The host file named by `var`, or a skip (a fail under VMTEST_REQUIRE)
  // when the variable is unset, as when the binary runs by hand.
  void require_host_file(const char* var, fs::path& out) {
    auto value = env(var);
    if (value.empty()) {
      if (vmtest::required("guest-systemd")) FAIL() << var << " is not set (VMTEST_REQUIRE)";
      GTEST_SKIP() << "vmtest-skip: " << var
                   << " is not set (run through ctest, or set it to a bundle)";
    }
    // Set but absent: the guest build fixture did not do its job.
    ASSERT_TRUE(fs::is_regular_file(value))
        << var << "=" << value << " does not exist (run guests.systemd.build)";
    out = value;
  }

  // Copies the good bundle in and imports it, once per suite: the airgap
  // tests after the first one check what the import left.
  void ensure_imported() {
    if (imported_) return;
    fs::path bundle;
    ASSERT_NO_FATAL_FAILURE(require_host_file("VMTEST_AIRGAP_BUNDLE", bundle));
    if (IsSkipped()) return;
    m().wait_for_unit("containerd.service", kUnitTimeout);
    m().succeed(fmt::format("mkdir -p {}", kGuestBundleDir));
    auto guest = fmt::format("{}/{}", kGuestBundleDir, bundle.filename().string());
    auto t0 = vmtest::Clock::now();
    m().copy_from_host(bundle, guest, 300s);
    auto copied = vmtest::seconds_since(t0);
    t0 = vmtest::Clock::now();
    import_result_ = ctrd::import_bundle(m(), kCtr, guest);
    vmtest::log::info("guest-systemd: bundle of {} bytes copied in {:.1f} s, imported in {:.1f} s",
                      fs::file_size(bundle), copied, vmtest::seconds_since(t0));
    guest_bundle_ = guest;
    // What the import itself set, before any test labels an image.
    for (const auto& row : ctrd::list_images(m(), kCtr)) labels_after_import_[row.ref] = row.labels;
    imported_ = true;
  }

  static inline bool imported_ = false;
  static inline ctrd::ImportResult import_result_;
  static inline std::string guest_bundle_;
  static inline std::map<std::string, std::map<std::string, std::string>> labels_after_import_;
};

// --- systemd helpers ---------------------------------------------------------

TEST_F(SystemdNode, WaitForUnitSeesContainerdActive) {
  auto t0 = vmtest::Clock::now();
  m().wait_for_unit("containerd.service", kUnitTimeout);
  vmtest::log::info(
      "guest-systemd: containerd active {:.1f} s after kernel start (backdoor at {:.1f} s); "
      "waited {:.1f} s after the backdoor",
      active_since_boot(m(), "containerd.service"), active_since_boot(m(), "backdoor.service"),
      vmtest::seconds_since(t0));
  // A name without a suffix means the .service.
  m().wait_for_unit("containerd", 30s);
}

TEST_F(SystemdNode, UnitInfoAndPropertiesOfARunningUnit) {
  m().wait_for_unit("containerd.service", kUnitTimeout);
  auto info = m().get_unit_info("containerd");
  EXPECT_EQ(info["Id"], "containerd.service");
  EXPECT_EQ(info["LoadState"], "loaded");
  EXPECT_EQ(info["ActiveState"], "active");
  EXPECT_EQ(info["SubState"], "running");
  EXPECT_EQ(info["Type"], "notify") << "Debian's containerd.service tells systemd when it is ready";
  // Values with spaces and '=' survive the key=value split.
  EXPECT_THAT(info["ExecStart"], HasSubstr("path=/usr/bin/containerd"));

  // The property is the unit's own main process.
  auto main_pid = m().get_unit_property("containerd.service", "MainPID");
  EXPECT_NE(main_pid, "0");
  EXPECT_EQ(m().succeed("pidof containerd"), main_pid + "\n");
  EXPECT_EQ(m().get_unit_property("containerd.service", "ActiveState"), "active");
  // An unknown unit has properties too; systemd says it is not found.
  EXPECT_EQ(m().get_unit_property("vmtest-no-such-unit.service", "LoadState"), "not-found");
}

TEST_F(SystemdNode, SystemctlReturnsStatusAndOutput) {
  m().wait_for_unit("containerd.service", kUnitTimeout);
  auto active = m().systemctl("is-active containerd.service");
  EXPECT_EQ(active.status, 0);
  EXPECT_EQ(active.out, "active\n");
  auto inactive = m().systemctl("is-active vmtest-no-such-unit.service");
  EXPECT_NE(inactive.status, 0) << "systemctl's exit status is returned, not thrown";
  EXPECT_EQ(inactive.out, "inactive\n");
  auto enabled = m().systemctl("is-enabled containerd.service");
  EXPECT_EQ(enabled.status, 0);
  EXPECT_EQ(enabled.out, "enabled\n");
}

TEST_F(SystemdNode, StartJobAndStopJobDriveAUnit) {
  auto& m = node("machine");
  m.succeed(
      "printf '[Service]\\nExecStart=/bin/sleep infinity\\n' > "
      "/run/systemd/system/vmtest-job.service"
      " && systemctl daemon-reload");
  EXPECT_EQ(m.start_job("vmtest-job").status, 0);
  m.wait_for_unit("vmtest-job", 60s);
  EXPECT_EQ(m.stop_job("vmtest-job.service").status, 0);
  m.require_unit_state("vmtest-job", "inactive");
  EXPECT_NE(m.start_job("vmtest-no-such-unit").status, 0);
}

TEST_F(SystemdNode, UserArgumentReachesTheUsersOwnServiceManager) {
  auto& m = node("machine");
  // root's own service manager (user@0.service; the image has pam_systemd
  // and the user bus for it), reached with `systemctl --user -M root@`.
  m.succeed("systemctl start user@0.service");
  m.wait_for_unit("default.target", "root", 120s);
  EXPECT_EQ(m.systemctl("is-active default.target", "root").out, "active\n");
  m.succeed(
      "mkdir -p /root/.config/systemd/user && printf '[Service]\\nExecStart=/bin/sleep infinity\\n'"
      " > /root/.config/systemd/user/vmtest-user-job.service");
  EXPECT_EQ(m.systemctl("daemon-reload", "root").status, 0);
  EXPECT_EQ(m.start_job("vmtest-user-job", "root").status, 0);
  m.wait_for_unit("vmtest-user-job", "root", 60s);
  // The unit runs under root's manager, not the system's.
  EXPECT_EQ(m.systemctl("is-active vmtest-user-job").out, "inactive\n");
  EXPECT_EQ(m.stop_job("vmtest-user-job", "root").status, 0);
  EXPECT_EQ(m.systemctl("is-active vmtest-user-job", "root").out, "inactive\n");
  EXPECT_THROW(m.wait_for_unit("vmtest-no-such.service", "root", 60s), vmtest::UnitFailed);
}

TEST_F(SystemdNode, WaitForOpenUnixSocketTellsStreamFromDatagram) {
  auto& m = node("machine");
  m.wait_for_open_unix_socket("/run/systemd/private", false, 60s);        // stream, listening
  m.wait_for_open_unix_socket("/run/systemd/journal/socket", true, 60s);  // datagram
  EXPECT_THROW(m.wait_for_open_unix_socket("/run/systemd/journal/socket", false, 2s),
               vmtest::TimeoutError);
  EXPECT_THROW(m.wait_for_open_unix_socket("/run/vmtest-none.sock", false, 2s),
               vmtest::TimeoutError);
}

TEST_F(SystemdNode, RequireUnitStateComparesTheActiveState) {
  m().wait_for_unit("containerd.service", kUnitTimeout);
  EXPECT_NO_THROW(m().require_unit_state("containerd.service"));
  EXPECT_NO_THROW(m().require_unit_state("vmtest-no-such-unit.service", "inactive"));
  try {
    m().require_unit_state("containerd", "inactive");
    FAIL() << "no exception";
  } catch (const vmtest::UnitFailed& e) {
    EXPECT_EQ(e.unit(), "containerd.service");
    EXPECT_EQ(e.state(), "active");
    EXPECT_EQ(e.machine(), "machine");
    EXPECT_THAT(e.what(), HasSubstr("expected inactive"));
  }
}

// A oneshot that writes to its journal, keeps the unit "activating" for a
// few seconds, then fails: wait_for_unit must wait through activating and
// report the failure as soon as it happens, with status and journal.
TEST_F(SystemdNode, AUnitThatFailsWhileWaitedForIsReportedAtOnceWithItsJournal) {
  // Set-up, not a check: a unit left failed by an earlier run (an attached
  // cluster) is forgotten; its absence is fine, so the status is not read.
  m().execute("systemctl reset-failed vmtest-late-fail.service");
  m().succeed(
      "systemd-run --no-block --unit=vmtest-late-fail -p Type=oneshot -p Restart=no "
      "/bin/sh -c 'echo vmtest-late-fail says goodbye; sleep 5; exit 3'");
  auto t0 = vmtest::Clock::now();
  try {
    m().wait_for_unit("vmtest-late-fail.service", kUnitTimeout);
    FAIL() << "wait_for_unit returned for a unit that fails";
  } catch (const vmtest::UnitFailed& e) {
    auto took = vmtest::seconds_since(t0);
    EXPECT_LT(took, kVerdictBound) << "a failed unit must end the wait, not its timeout";
    EXPECT_EQ(e.unit(), "vmtest-late-fail.service");
    EXPECT_EQ(e.state(), "failed");
    EXPECT_EQ(e.machine(), "machine");
    EXPECT_THAT(e.what(), HasSubstr("entered the failed state"));
    EXPECT_THAT(e.what(), HasSubstr("status=3")) << "systemctl status is in the report";
    EXPECT_THAT(e.what(), HasSubstr("vmtest-late-fail says goodbye"))
        << "the unit's journal is in the report";
    vmtest::log::info("guest-systemd: wait_for_unit gave up after {:.1f} s with:\n{}", took,
                      e.message());
  }
  m().execute("systemctl reset-failed vmtest-late-fail.service");
}

TEST_F(SystemdNode, AnAlreadyFailedUnitIsReportedAtOnce) {
  // Set-up, not a check: a unit left failed by an earlier run (an attached
  // cluster) is forgotten; its absence is fine, so the status is not read.
  m().execute("systemctl reset-failed vmtest-fail.service");
  // Without --no-block systemd-run waits for the start job, which fails.
  auto run = m().execute(
      "systemd-run --unit=vmtest-fail -p Type=oneshot -p Restart=no "
      "/bin/sh -c 'echo vmtest-fail was here; exit 7'");
  ASSERT_NE(run.status, 0) << run.out << run.err;
  ASSERT_EQ(m().get_unit_property("vmtest-fail", "ActiveState"), "failed");
  auto t0 = vmtest::Clock::now();
  try {
    m().wait_for_unit("vmtest-fail", kUnitTimeout);
    FAIL() << "wait_for_unit returned for a failed unit";
  } catch (const vmtest::UnitFailed& e) {
    EXPECT_LT(vmtest::seconds_since(t0), kVerdictBound);
    EXPECT_EQ(e.unit(), "vmtest-fail.service");
    EXPECT_EQ(e.state(), "failed");
    EXPECT_THAT(e.what(), HasSubstr("status=7"));
    EXPECT_THAT(e.what(), HasSubstr("vmtest-fail was here"));
  }
  m().execute("systemctl reset-failed vmtest-fail.service");
}

// Inactive with no job queued: nothing will ever start the unit, so waiting
// is pointless. Three ways to get there: never started, a start whose
// condition failed, and no such unit at all. (Unit files, not transient
// units: systemd unloads a transient unit as soon as it is inactive.)
TEST_F(SystemdNode, AnInactiveUnitWithNoJobIsReportedAtOnce) {
  m().succeed(
      "printf '[Unit]\\nDescription=vmtest idle "
      "unit\\n[Service]\\nType=oneshot\\nExecStart=/bin/true\\n' "
      "> /etc/systemd/system/vmtest-idle.service; "
      "printf "
      "'[Unit]\\nConditionPathExists=/vmtest/not/there\\n[Service]\\nType=oneshot\\nExecStart=/bin/"
      "true\\n' "
      "> /etc/systemd/system/vmtest-cond.service; "
      "systemctl daemon-reload; systemctl start vmtest-cond.service");
  for (const char* unit :
       {"vmtest-idle.service", "vmtest-cond.service", "vmtest-no-such-unit.service"}) {
    SCOPED_TRACE(unit);
    auto t0 = vmtest::Clock::now();
    try {
      m().wait_for_unit(unit, kUnitTimeout);
      ADD_FAILURE() << "wait_for_unit returned for an inactive unit";
    } catch (const vmtest::UnitFailed& e) {
      EXPECT_LT(vmtest::seconds_since(t0), kVerdictBound);
      EXPECT_EQ(e.unit(), unit);
      if (std::string_view(unit) == "vmtest-no-such-unit.service") {
        EXPECT_EQ(e.state(), "not-found");
        EXPECT_THAT(e.what(), HasSubstr("does not exist"));
        continue;
      }
      EXPECT_EQ(e.state(), "inactive");
      EXPECT_THAT(e.what(), HasSubstr("no job will start it"));
      // The report's systemctl status names the condition that failed.
      if (std::string_view(unit) == "vmtest-cond.service") {
        EXPECT_THAT(e.what(), HasSubstr("ConditionPathExists=/vmtest/not/there"));
      }
    }
  }
  m().succeed(
      "rm -f /etc/systemd/system/vmtest-idle.service /etc/systemd/system/vmtest-cond.service; "
      "systemctl daemon-reload");
}

// --- containerd: the airgap checks ------------------------------------------

TEST_F(SystemdNode, BundleImportsIntoTheK8sNamespace) {
  ASSERT_NO_FATAL_FAILURE(ensure_imported());
  if (IsSkipped()) return;
  auto refs = expected_refs();
  ASSERT_GE(refs.size(), 2u) << "VMTEST_AIRGAP_REFS=" << env("VMTEST_AIRGAP_REFS");
  // The bundle names exactly the expected refs, and ctr unpacked each.
  EXPECT_THAT(ctrd::bundle_refs(m(), guest_bundle_), UnorderedElementsAreArray(refs));
  // containerd 1.x names every ref it unpacked; containerd 2.x's progress
  // table may drop the last rows when ctr exits (ProgressHandler's done()
  // cancels before the buffered events are drawn), so there the rows shown
  // must be bundle refs and the listing below proves the rest.
  if (import_result_.format == ctrd::ImportFormat::unpack_lines)
    EXPECT_THAT(import_result_.refs, UnorderedElementsAreArray(refs)) << import_result_.output;
  else
    EXPECT_THAT(import_result_.refs, AllOf(Not(testing::IsEmpty()), testing::IsSubsetOf(refs)))
        << import_result_.output;
  auto listed = ctrd::list_image_refs(m(), kCtr);
  for (const auto& ref : refs) EXPECT_THAT(listed, testing::Contains(ref));
  // In k8s.io, where the CRI looks, and nowhere else.
  auto in_default = ctrd::list_image_refs(m(), ctrd::CtrCommand{.ns = "default"});
  for (const auto& ref : refs) EXPECT_THAT(in_default, Not(testing::Contains(ref)));
}

TEST_F(SystemdNode, EveryExpectedImageIsListedAndComplete) {
  ASSERT_NO_FATAL_FAILURE(ensure_imported());
  if (IsSkipped()) return;
  auto refs = expected_refs();
  EXPECT_NO_THROW(ctrd::require_images(m(), kCtr, refs));

  auto checked = ctrd::check_images(m(), kCtr);
  auto listed = ctrd::list_images(m(), kCtr);
  for (const auto& ref : refs) {
    SCOPED_TRACE(ref);
    auto c =
        std::find_if(checked.begin(), checked.end(), [&](const auto& r) { return r.ref == ref; });
    ASSERT_NE(c, checked.end());
    EXPECT_TRUE(c->complete()) << c->status_text();
    EXPECT_GT(c->required, 0);
    EXPECT_EQ(c->present, c->required);
    auto l =
        std::find_if(listed.begin(), listed.end(), [&](const auto& r) { return r.ref == ref; });
    ASSERT_NE(l, listed.end());
    EXPECT_THAT(l->digest, testing::StartsWith("sha256:"));
    EXPECT_THAT(l->type, HasSubstr("manifest"));
    EXPECT_THAT(l->size, testing::MatchesRegex(R"([0-9.]+ [KMG]?i?B)"))
        << "the SIZE column holds a space";
    EXPECT_THAT(l->platforms, testing::ElementsAre("linux/amd64"));
  }
}

// Plain `ctr images import` does not pin (the CRI and k0s's importer do):
// the pinned check must say so, by name, and accept the label once it is
// set. This runs the k0s suite's label checks against real ctr output.
TEST_F(SystemdNode, PinnedCheckReadsRealLabels) {
  ASSERT_NO_FATAL_FAILURE(ensure_imported());
  if (IsSkipped()) return;
  auto refs = expected_refs();
  for (const auto& r : refs) {
    EXPECT_EQ(labels_after_import_[r].count(std::string(ctrd::kPinnedLabel)), 0u)
        << r << ": plain ctr import pins nothing";
  }

  const auto& ref = refs.front();
  // A label with an empty value is removed: start (and end) unlabelled, so
  // the test does not depend on the order tests run in.
  auto set_labels = [&](std::string_view pinned, std::string_view owner) {
    m().succeed(fmt::format("{} images label {} {}={} vmtest.example/owner={}", kCtr.prefix(),
                            vmtest::protocol::shell_quote(ref), ctrd::kPinnedLabel, pinned, owner));
  };
  set_labels("", "");
  auto problems = ctrd::image_problems(m(), kCtr, {ref}, {.pinned = true});
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_EQ(problems[0].ref, ref);
  EXPECT_THAT(problems[0].problem, HasSubstr("not pinned"));

  set_labels(ctrd::kPinnedValue, "systemd-suite");
  EXPECT_NO_THROW(ctrd::require_images(
      m(), kCtr, {ref}, {.pinned = true, .labels = {{"vmtest.example/owner", "systemd-suite"}}}));
  auto labels = ctrd::image_labels(m(), kCtr, ref);
  EXPECT_EQ(labels[std::string(ctrd::kPinnedLabel)], ctrd::kPinnedValue);
  EXPECT_EQ(labels["vmtest.example/owner"], "systemd-suite");
  // A wrong value is named with what was found.
  set_labels(ctrd::kPinnedValue, "someone-else");
  problems = ctrd::image_problems(m(), kCtr, {ref},
                                  {.labels = {{"vmtest.example/owner", "systemd-suite"}}});
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_THAT(problems[0].problem, HasSubstr("someone-else"));
  set_labels("", "");
}

TEST_F(SystemdNode, AContainerRunsOfflineAndPrintsWhatTheImageContains) {
  ASSERT_NO_FATAL_FAILURE(ensure_imported());
  if (IsSkipped()) return;
  for (const auto& ref : expected_refs()) {
    SCOPED_TRACE(ref);
    // make-bundle.sh bakes the ref into each image.
    auto r = ctrd::run_container(m(), kCtr, ref, {"cat", "/etc/vmtest-image", "/www/index.html"});
    EXPECT_EQ(r.status, 0) << r.err;
    // (cat is the image's busybox: the image holds nothing else.)
    EXPECT_EQ(r.out, fmt::format("{0}\nvmtest image {0}\n", ref));
    EXPECT_NO_THROW(ctrd::require_no_network(m(), kCtr, ref));
  }
  // A command that fails in the container is a status, not an exception.
  auto fails = ctrd::run_container(m(), kCtr, expected_refs().front(), {"sh", "-c", "exit 5"});
  EXPECT_EQ(fails.status, 5);
}

TEST_F(SystemdNode, AnImageMissingFromTheBundleIsReportedByName) {
  ASSERT_NO_FATAL_FAILURE(ensure_imported());
  if (IsSkipped()) return;
  auto refs = expected_refs();
  const std::string absent = "docker.io/vmtest/not-in-the-bundle:3.0";
  refs.push_back(absent);
  try {
    ctrd::require_images(m(), kCtr, refs);
    FAIL() << "no exception";
  } catch (const ctrd::ImagesMissing& e) {
    ASSERT_EQ(e.problems().size(), 1u) << e.what();
    EXPECT_EQ(e.problems()[0].ref, absent);
    EXPECT_THAT(e.what(), AllOf(HasSubstr(absent), HasSubstr("not listed"), HasSubstr("1 of 3"),
                                HasSubstr("k8s.io")));
    EXPECT_EQ(e.machine(), "machine");
  }
}

TEST_F(SystemdNode, ATruncatedBundleIsAClearError) {
  ASSERT_NO_FATAL_FAILURE(ensure_imported());
  if (IsSkipped()) return;
  fs::path truncated;
  ASSERT_NO_FATAL_FAILURE(require_host_file("VMTEST_AIRGAP_TRUNCATED", truncated));
  if (IsSkipped()) return;  // GTEST_SKIP in a helper returns from the helper only
  auto guest = fmt::format("{}/{}", kGuestBundleDir, truncated.filename().string());
  m().copy_from_host(truncated, guest, 300s);
  auto before = ctrd::list_image_refs(m(), kCtr);
  try {
    ctrd::import_bundle(m(), kCtr, guest);
    FAIL() << "importing a truncated bundle succeeded";
  } catch (const vmtest::CommandFailed& e) {
    EXPECT_NE(e.status(), 0);
    EXPECT_THAT(e.message(), AllOf(HasSubstr(guest), HasSubstr("failed")));
    vmtest::log::info("guest-systemd: truncated bundle: {}", e.message());
  }
  // Its index is in the lost half, so its refs cannot be read either.
  EXPECT_THROW(ctrd::bundle_refs(m(), guest), vmtest::CommandFailed);
  // Nothing half-imported shows up, and the good images are untouched.
  EXPECT_THAT(ctrd::list_image_refs(m(), kCtr), UnorderedElementsAreArray(before));
  EXPECT_NO_THROW(ctrd::require_images(m(), kCtr, expected_refs()));
}

// What ctr says when a pull fails for want of a network: the reference could
// not be resolved because the registry's name does not resolve or its
// address has no route. Anything else (containerd down, a bad reference)
// proves nothing about the network.
::testing::Matcher<std::string> offline_reason() {
  return AllOf(HasSubstr("failed to resolve reference"),
               // "dial tcp: lookup <registry> on <resolver>: ...": the name did not
               // resolve (this guest has no DNS server: "connection refused"
               // from [::1]:53); or an address without a route.
               testing::AnyOf(HasSubstr("dial tcp: lookup "), HasSubstr("network is unreachable")),
               Not(HasSubstr("containerd.sock")));
}

TEST_F(SystemdNode, APullFromARegistryFails) {
  m().wait_for_unit("containerd.service", kUnitTimeout);
  auto t0 = vmtest::Clock::now();
  auto why = ctrd::require_pull_fails(m(), kCtr, "docker.io/library/busybox:1.36", 120s);
  vmtest::log::info("guest-systemd: pull failed after {:.1f} s: {}", vmtest::seconds_since(t0),
                    why);
  EXPECT_THAT(why, offline_reason());
  // Not only DNS is missing: a registry given by address has no route
  // either (with one, this documentation-only address would time out).
  why = ctrd::require_pull_fails(m(), kCtr, "203.0.113.7:5000/vmtest/busybox:1.0", 120s);
  EXPECT_THAT(why, AllOf(offline_reason(), HasSubstr("network is unreachable")));
}

// The node reaches nothing outside: curl must be there (a missing curl is a
// failure, not "offline") and fail for a network reason: 6 cannot resolve,
// 7 cannot connect.
TEST_F(SystemdNode, CurlReachesNoInternet) {
  m().succeed("command -v curl");
  for (const char* url : {"https://quay.io/", "https://203.0.113.7/"}) {
    SCOPED_TRACE(url);
    auto r = m().execute(fmt::format("curl -sS -o /dev/null --max-time 20 {}", url), 60s);
    EXPECT_THAT(r.status, testing::AnyOf(6, 7)) << r.err;
    EXPECT_THAT(r.err,
                testing::AnyOf(HasSubstr("Could not resolve host"), HasSubstr("Failed to connect"),
                               HasSubstr("Couldn't connect")));
  }
}

// The control of offline_reason(): with containerd stopped, ctr's pull fails
// too, and the shared check (require_pull_fails) takes that for a failed
// pull; the reason tells it apart. Last, as it stops containerd.
TEST_F(SystemdNode, ContainerdDownIsNotTakenForOffline) {
  m().wait_for_unit("containerd.service", kUnitTimeout);
  m().succeed("systemctl stop containerd.service");
  std::string why;
  try {
    why = ctrd::require_pull_fails(m(), kCtr, "docker.io/library/busybox:1.36", 60s);
  } catch (const vmtest::Error& e) {
    why = e.what();
  }
  m().succeed("systemctl start containerd.service");
  m().wait_for_unit("containerd.service", kUnitTimeout);
  vmtest::log::info("guest-systemd: pull with containerd stopped: {}", why);
  EXPECT_THAT(why, Not(offline_reason()));
}

}  // namespace
