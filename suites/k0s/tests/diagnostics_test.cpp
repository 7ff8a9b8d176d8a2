// What a failed k0s check leaves behind, through mocked channels: the raw
// output of every command the check ran, per node, and the cluster's state.
#include "vmtest/k0s/diagnostics.hpp"

#include "vmtest/k0s/readiness.hpp"

#include "support.hpp"

#include <filesystem>

#include <fmt/format.h>
#include <unistd.h>

namespace vmtest::k0s {
namespace {

namespace fs = std::filesystem;
using ::testing::_;
using testing::check_failure;
using testing::file;
using ::testing::HasSubstr;
using ::testing::Not;
using testing::ok;
using testing::recording;
using ::testing::Return;

std::string slurp(const fs::path& p) {
  try {
    return read_file(p);
  } catch (const NotFound&) {
    return "(missing " + p.string() + ")";
  }
}

class K0sDiagnostics : public testing::Fleet {
 protected:
  K0sDiagnostics() {
    dir = fs::temp_directory_path() / fmt::format("vmtest-k0s-diag-{}", ::getpid());
    fs::remove_all(dir);
    for (const char* n : {"ctrl", "wrkr1", "wrkr2"}) {
      on(n, "journalctl -u 'k0s.service' --no-pager -o short-iso",
         ok(fmt::format("journal of {}\n", n)));
    }
    ON_CALL(channel("ctrl"), run("k0s status", _, _))
        .WillByDefault(Return(file("k0s-status-controller.txt")));
    ON_CALL(channel("wrkr1"), run("k0s status", _, _))
        .WillByDefault(Return(file("k0s-status-worker.txt")));
    ON_CALL(channel("wrkr2"), run("k0s status", _, _))
        .WillByDefault(Return(mocks::result(1, "", recording("k0s-status-not-running.stderr"))));
    on("wrkr1", "k0s status -o json", file("k0s-status-worker.json"));
    on("ctrl", "get nodes,pods -A -o wide",
       ok("NAME    STATUS     ROLES    AGE   VERSION\nwrkr2   NotReady   <none>   5m    "
          "v1.35.7+k0s\n"));
    on("ctrl", "get events -A -o json", file("events-web-failedscheduling.json"));
    ON_CALL(channel("ctrl"), run("k0s kubectl get events -A", _, _))
        .WillByDefault(Return(ok("LAST SEEN   TYPE\n")));
    // The failing check's own answer: wrkr2 is NotReady.
    on("ctrl", "get nodes -o json", file("nodes-notready-cni.json"));
    on("ctrl", "get pods -A -o json", file("pods-web-failedscheduling.json"));
    on("ctrl", "get daemonsets -A -o json", file("ds-kube-router-unavailable.json"));
    on("ctrl", "get deployments -A -o json",
       ok(R"({"apiVersion":"v1","items":[],"kind":"List","metadata":{}})"));
    on("ctrl", "describe node 'wrkr2'",
       ok("Name: wrkr2\nConditions: Ready False KubeletNotReady\n"));
    on("ctrl", "describe pod", ok("Name: a pod\nEvents: FailedScheduling\n"));
    on("ctrl", "describe daemonset", ok("Name: kube-router\n"));
    Transcript::current().clear();
  }
  ~K0sDiagnostics() override { fs::remove_all(dir); }
  fs::path dir;
};

TEST_F(K0sDiagnostics, AFailedCheckLeavesItsCommandsAndTheClusterState) {
  // The check fails (wrkr2 NotReady) and the suite glue writes what
  // K0sTest::TearDown writes.
  auto e = check_failure([&] { wait_nodes_ready(node("ctrl"), cfg); });
  EXPECT_THAT(e.findings()[0], HasSubstr("node wrkr2: Ready=False"));
  auto out = write_diagnostics(lookup(), cfg, Transcript::current().records(), dir);
  EXPECT_EQ(out, fs::absolute(dir));

  // Every command the check ran, raw, with its status.
  EXPECT_EQ(slurp(dir / "ctrl/commands/001.command"), "k0s kubectl get nodes -o json\n");
  EXPECT_EQ(slurp(dir / "ctrl/commands/001.stdout"), recording("nodes-notready-cni.json"));
  EXPECT_EQ(slurp(dir / "ctrl/commands/001.stderr"), "");
  EXPECT_EQ(slurp(dir / "ctrl/commands/index.txt"), "001\texit 0\tk0s kubectl get nodes -o json\n");
  // Per node: k0s status and the k0s journal; a node whose k0s is down says so.
  EXPECT_EQ(slurp(dir / "wrkr1/k0s-status.txt"), recording("k0s-status-worker.txt"));
  EXPECT_EQ(slurp(dir / "wrkr1/k0s-status.json"), recording("k0s-status-worker.json"));
  EXPECT_THAT(slurp(dir / "wrkr2/k0s-status.txt"), HasSubstr("exited with status 1"));
  EXPECT_THAT(slurp(dir / "wrkr2/k0s-status.txt"), HasSubstr("dial unix /run/k0s/status.sock"));
  for (const char* n : {"ctrl", "wrkr1", "wrkr2"})
    EXPECT_EQ(slurp(dir / n / "k0s-journal.txt"), fmt::format("journal of {}\n", n));
  // From the leader: the wide listing, events, and describe of what is not ready.
  EXPECT_THAT(slurp(dir / "ctrl/kubectl-get-nodes-pods-wide.txt"), HasSubstr("wrkr2   NotReady"));
  EXPECT_EQ(slurp(dir / "ctrl/events.json"), recording("events-web-failedscheduling.json"));
  auto describe = slurp(dir / "ctrl/describe-not-ready.txt");
  EXPECT_THAT(describe, HasSubstr("# k0s kubectl describe node 'wrkr2'\nName: wrkr2"));
  EXPECT_THAT(describe, Not(HasSubstr("describe node 'wrkr1'")));
  EXPECT_THAT(describe, HasSubstr("describe -n 'vmtest-workload' pod "));
  EXPECT_THAT(describe, HasSubstr("describe -n 'kube-system' daemonset 'kube-router'"));
  // The diagnostics' own commands are not in the transcript.
  EXPECT_EQ(Transcript::current().records().size(), 1u);
}

TEST_F(K0sDiagnostics, APollKeepsOneRecordPerStateItSaw) {
  // NotReady three times, then Ready: two records, the first counted 3 times.
  on("ctrl", "get nodes -o json", file("nodes-notready-cni.json"));
  for (int i = 0; i < 3; ++i) EXPECT_THROW(wait_nodes_ready(node("ctrl"), cfg), CheckFailed);
  on("ctrl", "get nodes -o json", file("nodes-ready.json"));
  wait_nodes_ready(node("ctrl"), cfg);
  write_diagnostics(lookup(), cfg, Transcript::current().records(), dir);
  EXPECT_EQ(slurp(dir / "ctrl/commands/index.txt"),
            "001\texit 0 (same answer 3 times in a row)\tk0s kubectl get nodes -o json\n"
            "002\texit 0\tk0s kubectl get nodes -o json\n");
  EXPECT_EQ(slurp(dir / "ctrl/commands/002.stdout"), recording("nodes-ready.json"));
}

TEST_F(K0sDiagnostics, TheFailureMessageNamesTheFolder) {
  EXPECT_THROW(wait_nodes_ready(node("ctrl"), cfg), CheckFailed);
  auto message = save_failure_diagnostics(lookup(), cfg, dir);
  EXPECT_THAT(message,
              HasSubstr("saved in " + fs::absolute(dir).string() + " (docs/k0s-failures.md"));
  EXPECT_TRUE(fs::exists(dir / "ctrl/commands/001.stdout"));
}

TEST_F(K0sDiagnostics, ContainerdCommandsAndFailuresAreRecordedToo) {
  ON_CALL(channel("wrkr1"), run("k0s ctr -n 'k8s.io' images ls", _, _))
      .WillByDefault(
          Return(mocks::result(1, "", "ctr: failed to dial \"/run/k0s/containerd.sock\"\n")));
  EXPECT_THROW(containerd::list_images(node("wrkr1"), cfg.ctr()), CommandFailed);
  write_diagnostics(lookup(), cfg, Transcript::current().records(), dir);
  EXPECT_EQ(slurp(dir / "wrkr1/commands/index.txt"),
            "001\texit 1\tk0s ctr -n 'k8s.io' images ls\n");
  EXPECT_EQ(slurp(dir / "wrkr1/commands/001.stderr"),
            "ctr: failed to dial \"/run/k0s/containerd.sock\"\n");
}

}  // namespace
}  // namespace vmtest::k0s
