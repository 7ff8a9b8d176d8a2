#include "vmtest/mocks/local_backdoor.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <sys/socket.h>
#include <unistd.h>
#include <atomic>

namespace vmtest::mocks {

namespace fs = std::filesystem;

LocalBackdoor::LocalBackdoor(Options options) : wait_for_exit_(options.wait_for_exit) {
  static std::atomic<int> counter{0};
  tmpdir_ = fs::path(::testing::TempDir()) /
            fmt::format("{}-{}-{}", options.folder_prefix, ::getpid(), ++counter);
  fs::remove_all(tmpdir_);
  fs::create_directories(tmpdir_);
  int sv[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) throw_errno("socketpair");
  UniqueFd host(sv[0]), guest(sv[1]);
  // The control port is a second socket pair; it reaches the shell as its
  // stderr and moves to fd 5, where the watcher finds it ("fd:5").
  BackdoorChannel::Control control;
  UniqueFd control_guest;
  if (options.control) {
    int cv[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, cv) < 0) throw_errno("socketpair");
    control.fd = UniqueFd(cv[0]);
    control_guest = UniqueFd(cv[1]);
    set_nonblocking(control.fd.get(), true);
    control.guest_spec = options.control_guest_spec.empty() ? "fd:5" : options.control_guest_spec;
  }
  std::string script = fmt::format("{}{}{}echo 'Spawning backdoor root shell...'; exec bash --norc",
                                   options.control ? "exec 5<&2 2>/dev/null; " : "",
                                   options.keep_fd3 ? "exec 3>&1; " : "",
                                   options.cd_tmpdir ? "cd \"$TMPDIR\"; " : "");
  SpawnOptions o;
  o.argv = {"bash", "-c", script};
  o.env["TMPDIR"] = tmpdir_.string();
  o.stdin_fd = guest.get();
  o.stdout_fd = guest.get();
  if (control_guest) o.stderr_fd = control_guest.get();
  shell_ = ChildProcess::spawn(o);
  guest.reset();
  control_guest.reset();
  auto hooks = std::move(options.hooks);
  if (!hooks.context)
    hooks.context = [](const std::string& cmd) { return ErrorContext{"local", cmd, ""}; };
  channel_ = std::make_unique<BackdoorChannel>(std::move(host), shell_.pidfd(), std::move(hooks),
                                               std::move(control));
  try {
    channel_->handshake(Deadline::after(20s));
  } catch (...) {
    // No destructor runs for a constructor that throws: clean up here.
    channel_.reset();
    shell_.stop(3s);
    std::error_code ec;
    fs::remove_all(tmpdir_, ec);
    throw;
  }
}

LocalBackdoor::~LocalBackdoor() {
  channel_.reset();
  if (wait_for_exit_) shell_.wait(Deadline::after(10s));
  shell_.stop(3s);
  std::error_code ec;
  fs::remove_all(tmpdir_, ec);
}

}  // namespace vmtest::mocks
