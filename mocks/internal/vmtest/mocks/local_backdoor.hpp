// File: vmtest/mocks/local_backdoor.hpp (test support of this build, not installed)
//
// A BackdoorChannel to a real local bash on a socket pair, started the way
// NixOS's backdoor service starts it (the magic line, then bash reading the
// stream as its script), with a working folder of its own as TMPDIR: the
// guest side of the protocol without a VM.
#pragma once

#include "vmtest/backdoor.hpp"

#include <vmtest/process.hpp>

#include <filesystem>
#include <memory>
#include <string>

namespace vmtest::mocks {

class LocalBackdoor {
 public:
  struct Options {
    std::string folder_prefix = "vmtest-backdoor";  // the TMPDIR's name starts so
    bool keep_fd3 = false;   // fd 3 of the shell stays on the stream (for stray bytes)
    bool cd_tmpdir = false;  // the shell starts in its TMPDIR
    // At the end, wait up to 10 s for the shell to exit by itself (it
    // cleans up its TMPDIR) before it is stopped.
    bool wait_for_exit = false;
    // Give the channel a control port (a second socket pair, as a VM's
    // virtio serial port): the guest then runs the protocol VMs use.
    bool control = false;
    // Where the shell is told its control port is; empty: the socket pair.
    std::string control_guest_spec;
    BackdoorChannel::Hooks hooks;  // context defaults to machine "local"
  };

  // Starts the shell and completes the handshake (up to 20 s).
  explicit LocalBackdoor(Options options);
  LocalBackdoor() : LocalBackdoor(Options{}) {}
  // Closes the channel, ends the shell and removes the folder.
  ~LocalBackdoor();
  LocalBackdoor(const LocalBackdoor&) = delete;
  LocalBackdoor& operator=(const LocalBackdoor&) = delete;

  BackdoorChannel& channel() { return *channel_; }
  ChildProcess& shell() { return shell_; }
  const std::filesystem::path& tmpdir() const { return tmpdir_; }
  // Closes the channel now (the shell sees end of file and exits).
  void close_channel() { channel_.reset(); }

 private:
  bool wait_for_exit_;
  std::filesystem::path tmpdir_;
  ChildProcess shell_;
  std::unique_ptr<BackdoorChannel> channel_;
};

}  // namespace vmtest::mocks
