// File: suites/ssh/ssh_guest.hpp
//
// Turns a booted Debian systemd guest into an SSH host for the SSH suite and
// its benchmark: fresh host and client keys made on the host, sshd started
// in the guest with only those keys, reached through a QEMU user-mode port
// forward on 127.0.0.1. Everything a manifest's `hosts` entry needs comes
// back as a HostSpec.
#pragma once

#include <vmtest/files.hpp>
#include <vmtest/machine.hpp>
#include <vmtest/manifest.hpp>

#include <filesystem>
#include <string>

namespace vmtest::ssh_test {

// Files are read with vmtest::read_file (<vmtest/files.hpp>): a missing one is NotFound.

// A TCP port on 127.0.0.1 that was free a moment ago (bind to 0, close).
int free_local_port();

// The QEMU_NET_OPTS value that forwards 127.0.0.1:`port` to the guest's 22.
std::string port_forward(int port);

// Makes an ed25519 key pair at `dir`/`name` (and `name`.pub) with ssh-keygen.
std::filesystem::path make_key(const std::filesystem::path& dir, const std::string& name);

// Configures and starts sshd on `vm` (key-only root login with a client key
// made here, a host key made here) and waits until it answers on
// 127.0.0.1:`port` through the forward. Keys and known_hosts go to `dir`.
HostSpec start_sshd(Machine& vm, int port, const std::filesystem::path& dir,
                    const std::string& host_name);

}  // namespace vmtest::ssh_test
