// guest-systemd: the Debian systemd guest as an SSH host. sshd runs in the
// VM and is reached through a QEMU port forward on 127.0.0.1, so the same
// machine answers over its virtio console ("machine") and over SSH
// ("machine-ssh"). The command tests run over both and must agree; the
// rest checks what only SSH has: host keys, keys, connect deadlines, and a
// manifest that mixes VMs and SSH hosts.
#include "ssh_guest.hpp"

#include <vmtest/broker.hpp>
#include <vmtest/cluster_test.hpp>
#include <vmtest/log.hpp>
#include <vmtest/process.hpp>
#include <vmtest/ssh.hpp>

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fcntl.h>
#include <unistd.h>
#include <cstdlib>
#include <fstream>
#include <thread>

namespace {

using ::testing::HasSubstr;
using namespace std::chrono_literals;
namespace fs = std::filesystem;
using vmtest::Machine;

constexpr const char* kSshName = "machine-ssh";

// "" while a file does not exist yet: the suite polls logs that appear later.
std::string read_file(const fs::path& path) {
  try {
    return vmtest::read_file(path);
  } catch (const vmtest::NotFound&) {
    return "";
  }
}

class Ssh : public vmtest::ClusterTest {
 public:
  static void SetUpTestSuite() {
    dir() = fs::temp_directory_path() / fmt::format("vmtest-ssh-suite-{}", ::getpid());
    port() = vmtest::ssh_test::free_local_port();
    // The start script hands QEMU_NET_OPTS to the user-mode NIC (the
    // qemu-vm.nix contract), and the VM inherits the runner's environment.
    ::setenv("QEMU_NET_OPTS", vmtest::ssh_test::port_forward(port()).c_str(), 1);
    set_up_suite({.label = "guest-systemd", .after_boot = [](vmtest::Cluster& c) {
                    host() =
                        vmtest::ssh_test::start_sshd(c.machine("machine"), port(), dir(), kSshName);
                    remote() = std::make_unique<Machine>(
                        kSshName, std::make_unique<vmtest::SshChannel>(host()));
                    remote()->connect(300s);
                  }});
  }
  static void TearDownTestSuite() {
    remote().reset();
    ClusterTest::TearDownTestSuite();
    std::error_code ec;
    fs::remove_all(dir(), ec);
  }

 protected:
  static fs::path& dir() {
    static fs::path d;
    return d;
  }
  static int& port() {
    static int p = 0;
    return p;
  }
  static vmtest::HostSpec& host() {
    static vmtest::HostSpec h;
    return h;
  }
  static std::unique_ptr<Machine>& remote() {
    static std::unique_ptr<Machine> m;
    return m;
  }

  Machine& console() { return node("machine"); }
  Machine& ssh() {
    if (!remote()) throw vmtest::Error("the SSH machine was not set up");
    return *remote();
  }
  // Each command test runs over both channels.
  std::vector<Machine*> both() { return {&console(), &ssh()}; }

  // A channel to the same sshd with one detail of the host entry changed.
  std::unique_ptr<Machine> variant(const std::function<void(vmtest::HostSpec&)>& change) {
    auto h = host();
    change(h);
    return std::make_unique<Machine>(kSshName, std::make_unique<vmtest::SshChannel>(h));
  }
};

TEST_F(Ssh, OutputIsByteExactOverBothChannels) {
  console().succeed(
      "head -c 1048576 /dev/urandom > /root/blob; "
      "for i in $(seq 0 255); do printf \"\\\\$(printf %o $i)\"; done > /root/bytes");
  std::string all;
  for (int i = 0; i < 256; ++i) all.push_back(static_cast<char>(i));
  std::string blob_seen;
  for (Machine* m : both()) {
    SCOPED_TRACE(m->name());
    auto r = m->execute("cat /root/bytes; cat /root/bytes >&2; printf 'no newline'");
    EXPECT_EQ(r.out, all + "no newline");
    EXPECT_EQ(r.err, all);
    auto blob = m->succeed("cat /root/blob");
    EXPECT_EQ(blob.size(), 1048576u);
    if (blob_seen.empty())
      blob_seen = blob;
    else
      EXPECT_TRUE(blob == blob_seen) << "the 1 MiB blob differs between the console and SSH";
  }
}

TEST_F(Ssh, StdinIsNotTheSession) {
  for (Machine* m : both()) {
    SCOPED_TRACE(m->name());
    auto t0 = vmtest::Clock::now();
    EXPECT_EQ(m->succeed("cat", 60s), "");
    EXPECT_EQ(m->execute("read -r line").status, 1);
    EXPECT_LT(vmtest::seconds_since(t0), 30.0) << "a command waited on stdin";
    // Protocol bytes were not eaten by those commands.
    EXPECT_EQ(m->succeed("echo after"), "after\n");
  }
}

TEST_F(Ssh, ExitStatusesAndFailures) {
  for (Machine* m : both()) {
    SCOPED_TRACE(m->name());
    for (int s : {0, 1, 2, 42, 255}) EXPECT_EQ(m->execute(fmt::format("exit {}", s)).status, s);
    try {
      m->succeed("echo out; echo why >&2; false");
      ADD_FAILURE() << "succeed() accepted a failing command";
    } catch (const vmtest::CommandFailed& e) {
      EXPECT_EQ(e.status(), 1);
      EXPECT_THAT(e.what(), HasSubstr("why"));
      EXPECT_THAT(e.what(), HasSubstr(m->name()));
    }
    EXPECT_THROW(m->fail("true"), vmtest::CommandFailed);
    // set -euo pipefail, as in the Python driver.
    EXPECT_EQ(m->execute("false | true").status, 1);
  }
}

TEST_F(Ssh, DeadlinesKillTheCommandAndKeepTheChannel) {
  for (Machine* m : both()) {
    SCOPED_TRACE(m->name());
    auto t0 = vmtest::Clock::now();
    EXPECT_THROW(m->execute("sleep 600 & sleep 601", 3s), vmtest::TimeoutError);
    EXPECT_LT(vmtest::seconds_since(t0), 60.0);
    try {
      // pgrep's status 1 is "no such process"; a missing pgrep (127) or
      // an error (2) must not pass for that.
      m->wait_until_succeeds("s=0; pgrep -f 'sleep 60[01]' >/dev/null || s=$?; test $s = 1", 60s);
    } catch (const vmtest::TimeoutError&) {
      ADD_FAILURE() << "the command's processes outlived its deadline:\n"
                    << console().execute("ps -eo pid,ppid,stat,etimes,args").out;
    }
    EXPECT_EQ(m->succeed("echo next"), "next\n");
  }
}

TEST_F(Ssh, WaitsAndFileCopiesOverBothChannels) {
  std::string data;
  for (int i = 0; i < 300000; ++i) data.push_back(static_cast<char>((i * 131) ^ (i >> 7)));
  auto src = dir() / "upload.bin";
  std::ofstream(src, std::ios::binary) << data;
  for (Machine* m : both()) {
    SCOPED_TRACE(m->name());
    auto flag = "/tmp/flag-" + m->name();
    m->succeed(fmt::format("rm -f {0}; (sleep 1; touch {0}) >/dev/null 2>&1 &", flag));
    m->wait_for_file(flag, 60s);
    m->copy_from_host(src, "/root/upload-" + m->name());
    auto back = dir() / ("back-" + m->name());
    m->copy_from_vm("/root/upload-" + m->name(), back);
    EXPECT_TRUE(read_file(back) == data) << "the round trip changed the bytes";
  }
  EXPECT_EQ(console().succeed("cmp /root/upload-machine /root/upload-machine-ssh && echo same"),
            "same\n");
}

TEST_F(Ssh, HypervisorOperationsAreRefusedForTheSshHost) {
  EXPECT_THROW(ssh().block(), vmtest::NotSupported);
  EXPECT_THROW(ssh().crash(), vmtest::NotSupported);
  EXPECT_THROW(ssh().shutdown(), vmtest::NotSupported);
  EXPECT_THROW(ssh().send_monitor_command("info status"), vmtest::NotSupported);
  EXPECT_EQ(ssh().succeed("echo still up"), "still up\n");
}

TEST_F(Ssh, WrongHostKeyIsRefused) {
  auto other = vmtest::ssh_test::make_key(dir(), "impostor_ed25519");
  auto kh = dir() / "known_hosts.wrong";
  std::ofstream(kh) << fmt::format("[127.0.0.1]:{} {}", port(),
                                   read_file(fs::path(other.string() + ".pub")));
  console().succeed("rm -f /root/reached");
  auto m = variant([&](vmtest::HostSpec& h) { h.known_hosts = kh; });
  try {
    m->succeed("touch /root/reached");
    FAIL() << "connected despite a host key that is not in known_hosts";
  } catch (const vmtest::MachineDied& e) {
    EXPECT_THAT(e.what(), HasSubstr(kSshName));
    EXPECT_THAT(e.what(), HasSubstr("Host key verification failed"));
  }
  // An empty known_hosts is no better: no trust on first use.
  auto empty = dir() / "known_hosts.empty";
  std::ofstream(empty).flush();
  auto m2 = variant([&](vmtest::HostSpec& h) { h.known_hosts = empty; });
  EXPECT_THROW(m2->succeed("touch /root/reached"), vmtest::MachineDied);
  EXPECT_EQ(console().execute("test -e /root/reached").status, 1)
      << "a command ran on an untrusted host";
}

TEST_F(Ssh, UnauthorizedKeyFailsWithoutPrompting) {
  auto stranger = vmtest::ssh_test::make_key(dir(), "stranger_ed25519");
  auto m = variant([&](vmtest::HostSpec& h) { h.identity_file = stranger; });
  auto t0 = vmtest::Clock::now();
  try {
    m->succeed("true");
    FAIL() << "logged in with a key that is not authorized";
  } catch (const vmtest::MachineDied& e) {
    EXPECT_THAT(e.what(), HasSubstr("Permission denied"));
  }
  // Batch mode: no password prompt waits for a terminal.
  EXPECT_LT(vmtest::seconds_since(t0), 90.0);
}

TEST_F(Ssh, UnreachableHostFailsWithinItsConnectDeadline) {
  int nobody_listens = vmtest::ssh_test::free_local_port();
  auto m = variant([&](vmtest::HostSpec& h) {
    h.port = nobody_listens;
    h.connect_timeout = 10s;
  });
  auto t0 = vmtest::Clock::now();
  try {
    m->connect(600s);
    FAIL() << "connected to a port nobody listens on";
  } catch (const vmtest::Error& e) {
    EXPECT_THAT(e.what(), HasSubstr(kSshName));
    EXPECT_THAT(e.what(), HasSubstr(fmt::format("127.0.0.1:{}", nobody_listens)));
  }
  EXPECT_LT(vmtest::seconds_since(t0), 30.0);
}

// A manifest with a VM (the minimal guest) and an SSH host (this guest):
// one Cluster, started together, both machines answer.
TEST_F(Ssh, ManifestMixesVmsAndSshHosts) {
  const char* script = std::getenv("VMTEST_MINIMAL_START_SCRIPT");
  ASSERT_TRUE(script && *script)
      << "VMTEST_MINIMAL_START_SCRIPT is not set (CMakeLists.txt sets it)";
  nlohmann::json doc = {
      {"vms", {{"vm", {{"start_script", script}}}}},
      {"hosts",
       {{"remote",
         {{"host", host().host},
          {"port", host().port},
          {"user", host().user},
          {"identity_file", host().identity_file.string()},
          {"known_hosts", host().known_hosts.string()},
          {"connect_timeout", 120}}}}},
  };
  auto path = dir() / "mixed.json";
  std::ofstream(path) << doc.dump(2);
  // The minimal VM needs no forward (and must not take the port); the
  // suite's own VM keeps its forward for any later restart.
  struct WithoutForward {
    std::string saved = std::getenv("QEMU_NET_OPTS") ? std::getenv("QEMU_NET_OPTS") : "";
    WithoutForward() { ::unsetenv("QEMU_NET_OPTS"); }
    ~WithoutForward() { ::setenv("QEMU_NET_OPTS", saved.c_str(), 1); }
  };
  vmtest::Cluster cluster{vmtest::Manifest::load(path)};
  {
    WithoutForward scope;
    cluster.start_all();
  }
  EXPECT_FALSE(cluster.machine("remote").is_vm());
  EXPECT_TRUE(cluster.machine("vm").is_vm());
  EXPECT_EQ(cluster.machine("remote").succeed("hostname"), "machine\n");
  EXPECT_EQ(cluster.machine("vm").succeed("echo from the vm"), "from the vm\n");
  EXPECT_THROW(cluster.machine("remote").block(), vmtest::NotSupported);
}

// `vmtest up` of a manifest with an SSH host: the broker serves it like a
// VM, to `vmtest exec` and to an attached process, with typed errors.
TEST_F(Ssh, VmtestUpServesAnSshHost) {
  const char* cli = std::getenv("VMTEST_CLI");
  ASSERT_TRUE(cli && *cli) << "VMTEST_CLI is not set (CMakeLists.txt sets it)";
  nlohmann::json doc = {{"hosts",
                         {{"remote",
                           {{"host", host().host},
                            {"port", host().port},
                            {"identity_file", host().identity_file.string()},
                            {"known_hosts", host().known_hosts.string()},
                            {"connect_timeout", 120}}}}}};
  auto manifest = dir() / "hosts-only.json";
  std::ofstream(manifest) << doc.dump(2);
  auto state = dir() / "up";
  auto log = dir() / "up.out";
  vmtest::UniqueFd out(::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
  vmtest::SpawnOptions o;
  o.argv = {cli, "up", "--state-dir", state.string(), manifest.string()};
  o.stdout_fd = out.get();
  auto up = vmtest::ChildProcess::spawn(o);
  auto deadline = vmtest::Deadline::after(180s);
  while (read_file(log).find("export VMTEST_ATTACH=") == std::string::npos) {
    ASSERT_FALSE(up.try_wait()) << "vmtest up ended early: " << read_file(log);
    ASSERT_FALSE(deadline.expired()) << "vmtest up printed no export line within 180 s";
    std::this_thread::sleep_for(100ms);
  }

  auto run_cli = [&](std::vector<std::string> args) {
    auto result = dir() / "cli.out";
    vmtest::UniqueFd fd(::open(result.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
    vmtest::SpawnOptions c;
    c.argv = {cli};
    c.argv.insert(c.argv.end(), args.begin(), args.end());
    c.stdout_fd = fd.get();
    auto p = vmtest::ChildProcess::spawn(c);
    auto st = p.wait(vmtest::Deadline::after(120s));
    EXPECT_TRUE(st && st->exited()) << "vmtest " << args.front() << " did not finish";
    return std::make_pair(st && st->exited() ? st->code() : -1, read_file(result));
  };
  auto [status, text] =
      run_cli({"exec", "--state-dir", state.string(), "remote", "--", "hostname; exit 3"});
  EXPECT_EQ(status, 3);
  EXPECT_EQ(text, "machine\n");

  {
    auto attached = vmtest::broker::attach_cluster(state);
    auto& remote = attached->machine("remote");
    EXPECT_EQ(remote.succeed("echo attached"), "attached\n");
    // The owner's machine is an SSH host: its refusal comes back typed.
    EXPECT_THROW(remote.block(), vmtest::NotSupported);
  }

  auto [down_status, down_text] = run_cli({"down", "--state-dir", state.string()});
  EXPECT_EQ(down_status, 0) << down_text;
  auto st = up.wait(vmtest::Deadline::after(60s));
  ASSERT_TRUE(st) << "vmtest up still running after vmtest down";
  EXPECT_TRUE(st->exited() && st->code() == 0) << st->describe();
}

}  // namespace
