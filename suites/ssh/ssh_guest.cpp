#include "ssh_guest.hpp"

#include <vmtest/errors.hpp>
#include <vmtest/fd.hpp>
#include <vmtest/files.hpp>
#include <vmtest/process.hpp>

#include <fmt/format.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <fstream>
#include <sstream>

namespace vmtest::ssh_test {

namespace fs = std::filesystem;

int free_local_port() {
  UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) < 0)
    throw_errno("bind 127.0.0.1:0");
  socklen_t len = sizeof a;
  if (::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&a), &len) < 0)
    throw_errno("getsockname");
  return ntohs(a.sin_port);
}

std::string port_forward(int port) {
  return fmt::format("hostfwd=tcp:127.0.0.1:{}-:22", port);
}

fs::path make_key(const fs::path& dir, const std::string& name) {
  fs::create_directories(dir);
  auto key = dir / name;
  fs::remove(key);
  fs::remove(fs::path(key.string() + ".pub"));
  SpawnOptions o;
  o.argv = {"ssh-keygen",     "-q", "-t",        "ed25519", "-N", "", "-C",
            "vmtest-" + name, "-f", key.string()};
  auto p = ChildProcess::spawn(o);
  auto st = p.wait(Deadline::after(60s));
  if (!st || !st->exited() || st->code() != 0)
    throw SetupError("ssh-keygen failed for " + key.string());
  return key;
}

HostSpec start_sshd(Machine& vm, int port, const fs::path& dir, const std::string& host_name) {
  auto host_key = make_key(dir, "host_ed25519");
  auto client_key = make_key(dir, "client_ed25519");

  vm.succeed("install -d -m 0700 /root/.ssh /run/vmtest-ssh");
  vm.copy_from_host(host_key, "/run/vmtest-ssh/host_ed25519");
  vm.copy_from_host(fs::path(client_key.string() + ".pub"), "/root/.ssh/authorized_keys");
  // Only our host key and public keys; the drop-in comes first in Debian's
  // sshd_config, and for these options the first value wins.
  vm.succeed(
      "chmod 0600 /run/vmtest-ssh/host_ed25519 /root/.ssh/authorized_keys && "
      "printf '%s\\n' 'HostKey /run/vmtest-ssh/host_ed25519' 'PermitRootLogin prohibit-password' "
      "'PasswordAuthentication no' 'KbdInteractiveAuthentication no' 'UseDNS no' "
      "> /etc/ssh/sshd_config.d/vmtest.conf && "
      "systemctl start ssh.service");  // its ExecStartPre checks the config
  vm.wait_for_unit("ssh.service", 300s);
  vm.wait_for_open_port(22, "127.0.0.1", 120s);

  HostSpec h;
  h.name = host_name;
  h.host = "127.0.0.1";
  h.port = port;
  h.user = "root";
  h.identity_file = client_key;
  h.known_hosts = dir / "known_hosts";
  // The host key the guest now serves, under the name ssh looks up for a
  // non-default port.
  auto pub = read_file(fs::path(host_key.string() + ".pub"));
  std::ofstream(h.known_hosts) << fmt::format("[127.0.0.1]:{} {}", port, pub);
  // TCG: the key exchange alone can take seconds on a loaded host.
  h.connect_timeout = 120s;
  return h;
}

}  // namespace vmtest::ssh_test
