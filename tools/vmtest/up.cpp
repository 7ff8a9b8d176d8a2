// vmtest up MANIFEST: boot the cluster, serve it on the broker socket until
// Ctrl-C, SIGTERM or `vmtest down`, then stop it all.
#include "cli.hpp"

#include <vmtest/cluster.hpp>
#include <vmtest/events.hpp>
#include <vmtest/manifest.hpp>
#include <vmtest/process.hpp>
#include <vmtest/signals.hpp>

#include <fmt/format.h>

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <thread>

namespace vmtest::cli {

namespace fs = std::filesystem;

namespace {

void signal_efd(int fd) {
  std::uint64_t one = 1;
  if (::write(fd, &one, sizeof one) < 0) {
    // Only fails when the counter is saturated: it is signalled already.
  }
}

}  // namespace

int cmd_up(const Options& o) {
  if (o.args.size() != 1) usage_error("vmtest up wants one MANIFEST");
  auto manifest_path = fs::absolute(o.args[0]);
  auto dir = broker::attach_dir(o.state_dir);

  // Signals arrive on a signalfd; blocked before any thread exists so that
  // none of them takes one (children get a clean mask, process.cpp).
  auto sigfd = signal_fd(termination_signals());
  UniqueFd down_efd(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  UniqueFd boot_efd(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!down_efd || !boot_efd) throw_errno("eventfd");

  broker::prepare_up_dir(dir);
  auto lock = broker::lock_up_dir(dir, manifest_path);
  events::open(dir / "events.jsonl", "vmtest up " + manifest_path.string());
  // We hold the lock: whatever an earlier, killed `up` left here is stale.
  for (const auto& p : broker::remove_stale_state(dir))
    std::fprintf(stderr,
                 "vmtest up: removing %s, left by an earlier vmtest up that did not stop cleanly\n",
                 p.c_str());
  auto cleanup_files = [&] { broker::release_up_dir(dir, lock, o.keep_state); };

  int exit_code = 0;
  try {
    auto manifest = Manifest::load(manifest_path);
    auto t0 = Clock::now();
    std::fprintf(stderr, "vmtest up: booting %zu node(s) of %s (state in %s)\n",
                 manifest.machine_names().size(), manifest_path.c_str(), dir.c_str());
    auto cluster = std::make_unique<Cluster>(
        manifest,
        ClusterOptions{.state_parent = dir, .keep_state = o.keep_state, .window = o.window});
    auto server =
        std::make_unique<broker::Server>(dir, *cluster, [fd = down_efd.get()] { signal_efd(fd); });

    std::string boot_error;
    std::thread boot([&] {
      try {
        cluster->start_all();
        server->set_ready();
      } catch (const std::exception& e) {
        boot_error = e.what();
        server->set_ready(boot_error);
      }
      signal_efd(boot_efd.get());
    });

    bool booting = true;
    std::string why_stop;
    while (why_stop.empty()) {
      pollfd fds[3] = {
          {sigfd.get(), POLLIN, 0}, {down_efd.get(), POLLIN, 0}, {boot_efd.get(), POLLIN, 0}};
      if (::poll(fds, 3, -1) < 0) {
        if (errno == EINTR) continue;
        throw_errno("poll");
      }
      if (fds[0].revents) {
        if (int sig = read_signal(sigfd.get()); sig != 0)
          why_stop = fmt::format("{} received", ::strsignal(sig));
      }
      if (fds[1].revents) why_stop = "`vmtest down` asked";
      if (fds[2].revents && booting) {
        std::uint64_t v;
        if (::read(boot_efd.get(), &v, sizeof v) < 0) {
          // Level-triggered: read once is enough.
        }
        booting = false;
        boot.join();
        if (!boot_error.empty()) {
          std::fprintf(stderr, "vmtest up: the cluster did not come up:\n%s\n", boot_error.c_str());
          why_stop = "boot failed";
          exit_code = 1;
          break;
        }
        std::string names;
        for (auto* m : cluster->machines()) names += " " + m->name();
        std::fprintf(stderr, "vmtest up: %zu node(s) up in %.1f s:%s\n", cluster->machines().size(),
                     seconds_since(t0), names.c_str());
        std::printf("export VMTEST_ATTACH=%s\n", broker::shell_word(dir.string()).c_str());
        std::fflush(stdout);
        std::fprintf(stderr,
                     "vmtest up: with that exported, suites attach to this cluster and `vmtest "
                     "exec|shell|status|"
                     "logs|down` find it; Ctrl-C or `vmtest down` stops it\n");
      }
    }

    std::fprintf(stderr, "vmtest up: %s: stopping the cluster\n", why_stop.c_str());
    if (booting) {
      // start_all holds the machines while they boot: end their QEMUs, and
      // the boot thread returns with MachineDied.
      signal_all_children(SIGTERM);
      boot.join();
    }
    cluster->stop_all();
    if (auto busy = server->stop(20s); busy > 0) {
      std::fprintf(stderr,
                   "vmtest up: %zu client request(s) still running after 20 s; ending anyway\n",
                   busy);
      signal_all_children(SIGKILL);
      cleanup_files();
      std::fflush(stderr);
      std::_Exit(1);
    }
    server.reset();
    cluster.reset();  // removes the state folder (unless --keep-state)
    std::fprintf(stderr, "vmtest up: stopped\n");
  } catch (...) {
    cleanup_files();
    throw;
  }
  cleanup_files();
  return exit_code;
}

}  // namespace vmtest::cli
