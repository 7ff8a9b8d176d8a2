// vmtest_ssh_bench: the per-command round trip over SSH beside the virtio
// console, on one Debian systemd guest that answers on both (sshd behind a
// QEMU port forward on 127.0.0.1, set up as the ssh.node suite does).
//
//   flock /tmp/vmtest-vm.lock build/bench/vmtest_ssh_bench
//       --manifest build/guests/debian-systemd/topo/single/manifest.json
//   (one command line)
//
// The two channels are measured interleaved, one command each in turn, so
// load on the host affects both alike. Prints medians and p90.
#include "bench_stats.hpp"
#include "ssh_guest.hpp"

#include <vmtest/cluster.hpp>
#include <vmtest/ssh.hpp>

#include <fmt/format.h>

#include <unistd.h>
#include <cstdlib>
#include <cstring>
#include <fstream>

using namespace vmtest;
using vmtest::bench::loadavg;
using vmtest::bench::Samples;
using vmtest::bench::time_s;
namespace fs = std::filesystem;

namespace {

void row(const char* label, const Samples& s, double scale, const char* unit) {
  fmt::print("  {:<44} {:>9.2f} {:<4} {:>9.2f} {:<4} {:>5}\n", label, s.median() * scale, unit,
             s.p90() * scale, unit, s.n());
}

}  // namespace

int main(int argc, char** argv) {
  std::string manifest_path;
  int reps = 200, connects = 10, transfers = 5;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) throw std::runtime_error(a + " needs a value");
      return argv[++i];
    };
    if (a == "--manifest")
      manifest_path = value();
    else if (a == "--repetitions")
      reps = std::stoi(value());
    else if (a == "--connects")
      connects = std::stoi(value());
    else if (a == "--quick")
      reps = 40, connects = 3, transfers = 2;
    else if (a == "--verbose")
      ::setenv("VMTEST_LOG", "info", 1);
    else {
      fmt::print(
          stderr,
          "usage: {} --manifest PATH [--repetitions N] [--connects N] [--quick] [--verbose]\n",
          argv[0]);
      return 2;
    }
  }
  if (manifest_path.empty()) {
    fmt::print(stderr, "--manifest is required (the debian-systemd single-node manifest)\n");
    return 2;
  }
  if (!std::getenv("VMTEST_LOG")) ::setenv("VMTEST_LOG", "quiet", 1);
  try {
    auto manifest = Manifest::load(manifest_path);
    if (manifest.vms().empty()) throw InvalidArgument("the manifest has no VM");
    auto vm_name = manifest.vms().front().name;
    auto dir = fs::temp_directory_path() / fmt::format("vmtest-ssh-bench-{}", ::getpid());
    int port = ssh_test::free_local_port();
    ::setenv("QEMU_NET_OPTS", ssh_test::port_forward(port).c_str(), 1);

    fmt::print("vmtest_ssh_bench: {} ({}), load average {}\n", manifest_path, vm_name, loadavg());
    Cluster cluster{std::move(manifest)};
    auto& console = cluster.machine(vm_name);
    console.connect();
    auto host = ssh_test::start_sshd(console, port, dir, vm_name + "-ssh");
    Machine ssh(host.name, std::make_unique<SshChannel>(host));
    ssh.connect(300s);

    // Warm both paths (page cache, sshd's first fork).
    for (int i = 0; i < 10; ++i) {
      console.succeed("true");
      ssh.succeed("true");
    }
    Samples rt_console, rt_ssh;
    for (int i = 0; i < reps; ++i) {
      rt_console.add(time_s([&] { console.succeed("true"); }));
      rt_ssh.add(time_s([&] { ssh.succeed("true"); }));
    }
    console.succeed("head -c 8388608 /dev/urandom > /root/bench-blob");
    Samples out_console, out_ssh;
    for (int i = 0; i < transfers; ++i) {
      out_console.add(time_s([&] { console.succeed("cat /root/bench-blob"); }));
      out_ssh.add(time_s([&] { ssh.succeed("cat /root/bench-blob"); }));
    }
    Samples connect;
    for (int i = 0; i < connects; ++i) {
      Machine fresh(host.name, std::make_unique<SshChannel>(host));
      connect.add(time_s([&] { fresh.connect(300s); }));
    }
    fmt::print("\n  {:<44} {:>14} {:>14} {:>5}\n", "", "median", "p90", "n");
    row("succeed(\"true\") over the virtio console", rt_console, 1e3, "ms");
    row("succeed(\"true\") over SSH", rt_ssh, 1e3, "ms");
    Samples mb_console, mb_ssh;
    for (double t : out_console.v) mb_console.add(8.388608 / t);
    for (double t : out_ssh.v) mb_ssh.add(8.388608 / t);
    fmt::print("  {:<44} {:>9.2f} MB/s\n", "8 MiB output, virtio console", mb_console.median());
    fmt::print("  {:<44} {:>9.2f} MB/s\n", "8 MiB output, SSH", mb_ssh.median());
    row("SSH connect (ssh start to first answer)", connect, 1, "s");
    fmt::print("\n  ratio SSH / console round trip: {:.2f}; load average at the end {}\n",
               rt_ssh.median() / rt_console.median(), loadavg());
    std::error_code ec;
    fs::remove_all(dir, ec);
  } catch (const std::exception& e) {
    fmt::print(stderr, "vmtest_ssh_bench: {}\n", e.what());
    return 1;
  }
  return 0;
}
