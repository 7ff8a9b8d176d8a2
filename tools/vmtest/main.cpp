// vmtest: keep a cluster up while developing, and work with it.
//
//   vmtest up MANIFEST          boot, print `export VMTEST_ATTACH=...`, serve
//   vmtest exec NODE -- CMD     run one command, exit with its status
//   vmtest shell NODE           a line-at-a-time root shell
//   vmtest status               nodes, state, uptime
//   vmtest logs NODE [-f]       the serial console log
//   vmtest down                 stop the cluster
//   vmtest report EVENTS.jsonl  the HTML report of an event log
//
// The cluster is found in the folder given by --state-dir, else
// $VMTEST_ATTACH, else the per-user default (vmtest/broker.hpp).
#include <vmtest/broker.hpp>
#include <vmtest/cluster.hpp>
#include <vmtest/events.hpp>
#include <vmtest/log.hpp>
#include <vmtest/manifest.hpp>
#include <vmtest/process.hpp>
#include <vmtest/protocol.hpp>
#include <vmtest/report.hpp>
#include <vmtest/text.hpp>

#include <fmt/format.h>

#include <fcntl.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/file.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <iterator>
#include <thread>

namespace {

namespace fs = std::filesystem;
namespace broker = vmtest::broker;
using namespace std::chrono_literals;
using vmtest::Duration;

constexpr const char* kUsage = R"(usage:
  vmtest up [--state-dir DIR] [--keep-state] MANIFEST
      Boots the manifest's cluster, prints `export VMTEST_ATTACH=DIR` and keeps
      the cluster up until Ctrl-C, SIGTERM or `vmtest down`; then stops it all.
      --keep-state keeps the cluster's state (serial logs, disks) until the
      next `vmtest up` in the same folder.
  vmtest exec [--state-dir DIR] [--timeout SECONDS] [-i] NODE -- COMMAND...
      Runs COMMAND (words joined by spaces, run by bash) on NODE; prints its
      stdout and stderr byte for byte and exits with its status (124: timed out,
      255: vmtest could not run it). Its stdin is /dev/null, or with -i all of
      vmtest's stdin (read to the end first).
  vmtest shell [--state-dir DIR] [--timeout SECONDS] NODE
      A root shell on NODE, one line at a time (no terminal: see README.md).
  vmtest status [--state-dir DIR]
      Nodes, their state and uptime; exits 1 when no cluster is up.
  vmtest logs [--state-dir DIR] [-f] NODE
      NODE's serial console log; -f follows it until the cluster stops.
  vmtest down [--state-dir DIR]
      Stops the cluster and waits until everything of it is gone.
  vmtest report EVENTS.jsonl [-o FILE]
      Renders an event log (a suite's, or DIR/events.jsonl of `vmtest up`) as
      one self-contained HTML page (docs/events.md).

The folder: --state-dir DIR, else $VMTEST_ATTACH, else $XDG_RUNTIME_DIR/vmtest-up
(or /tmp/vmtest-up-<uid>). Test suites use the cluster when VMTEST_ATTACH is set.
)";

struct Options {
  std::string command;
  fs::path state_dir;
  bool keep_state = false;
  bool follow = false;
  bool stdin_data = false;
  Duration timeout = vmtest::kCommandTimeout;
  std::vector<std::string> args;  // positional, in order
  std::vector<std::string> rest;  // after `--`
};

[[noreturn]] void usage_error(const std::string& message) {
  std::fprintf(stderr, "vmtest: %s\n\n%s", message.c_str(), kUsage);
  std::exit(2);
}

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&](const char* name) -> std::string {
      auto prefix = std::string(name) + "=";
      if (a.rfind(prefix, 0) == 0) return a.substr(prefix.size());
      if (i + 1 >= argc) usage_error(fmt::format("{} needs a value", name));
      return argv[++i];
    };
    if (a == "--") {
      for (++i; i < argc; ++i) o.rest.emplace_back(argv[i]);
      break;
    }
    if (a == "-h" || a == "--help" || a == "help") {
      std::fputs(kUsage, stdout);
      std::exit(0);
    } else if (a == "--state-dir" || a.rfind("--state-dir=", 0) == 0) {
      o.state_dir = value("--state-dir");
    } else if (a == "--timeout" || a.rfind("--timeout=", 0) == 0) {
      auto v = value("--timeout");
      char* end = nullptr;
      double secs = std::strtod(v.c_str(), &end);
      if (!end || *end || secs <= 0)
        usage_error("--timeout wants a positive number of seconds, not " + v);
      o.timeout = Duration(static_cast<std::int64_t>(secs * 1000));
    } else if (a == "--keep-state") {
      o.keep_state = true;
    } else if (a == "-i" || a == "--stdin") {
      o.stdin_data = true;
    } else if (a == "-f" || a == "--follow") {
      o.follow = true;
    } else if (a.size() > 1 && a[0] == '-') {
      usage_error("unknown option " + a);
    } else if (o.command.empty()) {
      o.command = a;
    } else {
      o.args.push_back(a);
    }
  }
  if (o.command.empty()) usage_error("which command?");
  return o;
}

std::string shell_word(const std::string& s) {
  for (char c : s)
    if (!std::isalnum(static_cast<unsigned char>(c)) && !std::strchr("/._-+=:,@", c))
      return vmtest::protocol::shell_quote(s);
  return s;
}

void write_out(int fd, const std::string& bytes) {
  if (!vmtest::write_all(fd, bytes, vmtest::Deadline::never())) {
    // The reader went away (a closed pipe); nothing left to tell it.
  }
}

std::string human_duration(double s) {
  auto t = static_cast<long>(s);
  if (t < 60) return fmt::format("{}s", t);
  if (t < 3600) return fmt::format("{}m{:02}s", t / 60, t % 60);
  return fmt::format("{}h{:02}m", t / 3600, (t % 3600) / 60);
}

const broker::NodeInfo& find_node(const broker::ClusterInfo& info, const std::string& name) {
  std::string known;
  for (const auto& n : info.nodes) {
    if (n.name == name) return n;
    known += (known.empty() ? "" : ", ") + n.name;
  }
  throw vmtest::Error(fmt::format("no node called \"{}\" in the cluster of {} (nodes: {})", name,
                                  info.describe(), known));
}

// ---- up ---------------------------------------------------------------------

// The folder must be ours alone: the broker socket in it is a root shell.
void prepare_dir(const fs::path& dir) {
  if (dir.has_parent_path()) fs::create_directories(dir.parent_path());
  if (::mkdir(dir.c_str(), 0700) == 0) return;
  if (errno != EEXIST) vmtest::throw_errno("mkdir " + dir.string());
  struct stat st {};
  if (::lstat(dir.c_str(), &st) < 0) vmtest::throw_errno("stat " + dir.string());
  if (!S_ISDIR(st.st_mode))
    throw vmtest::SetupError(fmt::format("{} exists and is not a folder", dir.string()));
  if (st.st_uid != ::geteuid())
    throw vmtest::SetupError(fmt::format(
        "{} belongs to uid {}, not to you; choose another --state-dir", dir.string(), st.st_uid));
  if ((st.st_mode & 077) != 0)
    throw vmtest::SetupError(
        fmt::format("{} can be entered by other users (mode {:04o}); the cluster's root "
                    "shell socket lives there: `chmod 700` it or choose another --state-dir",
                    dir.string(), st.st_mode & 07777));
}

// An exclusive lock on <dir>/up.lock, held for the life of `vmtest up`; a
// second `up` on the same folder reads who holds it.
vmtest::UniqueFd take_lock(const fs::path& dir, const fs::path& manifest) {
  auto path = dir / "up.lock";
  for (;;) {
    vmtest::UniqueFd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600));
    if (!fd) vmtest::throw_errno("open " + path.string());
    if (::flock(fd.get(), LOCK_EX | LOCK_NB) < 0) {
      if (errno != EWOULDBLOCK) vmtest::throw_errno("flock " + path.string());
      std::string holder;
      std::ifstream holder_file(path);
      std::getline(holder_file, holder);
      throw vmtest::SetupError(
          fmt::format("a cluster is already up in {} ({}); stop it with `vmtest down --state-dir "
                      "{}`, or choose another "
                      "--state-dir",
                      dir.string(), holder.empty() ? "another vmtest up holds its lock" : holder,
                      shell_word(dir.string())));
    }
    // An `up` that was exiting may have removed the file after we opened
    // it; then our lock is on a deleted file and we try again.
    struct stat held {
    }, now{};
    if (::fstat(fd.get(), &held) < 0 || ::stat(path.c_str(), &now) < 0 || held.st_ino != now.st_ino)
      continue;
    auto text = fmt::format("vmtest up pid {}, manifest {}\n", ::getpid(), manifest.string());
    if (::ftruncate(fd.get(), 0) < 0 || ::pwrite(fd.get(), text.data(), text.size(), 0) < 0)
      vmtest::throw_errno("write " + path.string());
    return fd;
  }
}

void signal_efd(int fd) {
  std::uint64_t one = 1;
  if (::write(fd, &one, sizeof one) < 0) {
    // Only fails when the counter is saturated: it is signalled already.
  }
}

int cmd_up(const Options& o) {
  if (o.args.size() != 1) usage_error("vmtest up wants one MANIFEST");
  auto manifest_path = fs::absolute(o.args[0]);
  auto dir = broker::attach_dir(o.state_dir);

  // Signals arrive on a signalfd; blocked before any thread exists so that
  // none of them takes one (children get a clean mask, process.cpp).
  sigset_t signals;
  sigemptyset(&signals);
  for (int s : {SIGINT, SIGTERM, SIGHUP}) {
    // A shell starts background jobs with SIGINT ignored; Ctrl-C and
    // `kill -INT` must still stop the cluster.
    std::signal(s, SIG_DFL);
    sigaddset(&signals, s);
  }
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  std::signal(SIGPIPE, SIG_IGN);
  vmtest::UniqueFd sigfd(::signalfd(-1, &signals, SFD_CLOEXEC));
  vmtest::UniqueFd down_efd(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  vmtest::UniqueFd boot_efd(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!sigfd || !down_efd || !boot_efd) vmtest::throw_errno("signalfd/eventfd");

  prepare_dir(dir);
  auto lock = take_lock(dir, manifest_path);
  vmtest::events::open(dir / "events.jsonl", "vmtest up " + manifest_path.string());
  // We hold the lock: whatever an earlier, killed `up` left here is stale.
  for (const auto& e : fs::directory_iterator(dir)) {
    auto name = e.path().filename().string();
    if (e.is_directory() && name.rfind("vmtest-", 0) == 0) {
      std::fprintf(
          stderr,
          "vmtest up: removing %s, left by an earlier vmtest up that did not stop cleanly\n",
          e.path().c_str());
      std::error_code ec;
      fs::remove_all(e.path(), ec);
    }
  }
  auto cleanup_files = [&] {
    std::error_code ec;
    fs::remove(broker::socket_path(dir), ec);
    fs::remove(dir / "up.lock", ec);  // while still holding the lock
    vmtest::events::close("stopped");
    if (!o.keep_state)
      fs::remove(dir / "events.jsonl", ec);  // kept with the state, like the serial logs
    lock.reset();
    fs::remove(dir, ec);  // only if empty
  };

  int exit_code = 0;
  try {
    auto manifest = vmtest::Manifest::load(manifest_path);
    auto t0 = vmtest::Clock::now();
    std::fprintf(stderr, "vmtest up: booting %zu node(s) of %s (state in %s)\n",
                 manifest.machine_names().size(), manifest_path.c_str(), dir.c_str());
    auto cluster = std::make_unique<vmtest::Cluster>(
        manifest, vmtest::ClusterOptions{.state_parent = dir, .keep_state = o.keep_state});
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
        vmtest::throw_errno("poll");
      }
      if (fds[0].revents) {
        signalfd_siginfo si{};
        if (::read(sigfd.get(), &si, sizeof si) == sizeof si)
          why_stop = fmt::format("{} received", ::strsignal(static_cast<int>(si.ssi_signo)));
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
                     vmtest::seconds_since(t0), names.c_str());
        std::printf("export VMTEST_ATTACH=%s\n", shell_word(dir.string()).c_str());
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
      vmtest::signal_all_children(SIGTERM);
      boot.join();
    }
    cluster->stop_all();
    if (auto busy = server->stop(20s); busy > 0) {
      std::fprintf(stderr,
                   "vmtest up: %zu client request(s) still running after 20 s; ending anyway\n",
                   busy);
      vmtest::signal_all_children(SIGKILL);
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

// ---- exec, shell -------------------------------------------------------------

int cmd_exec(const Options& o) {
  if (o.args.empty()) usage_error("vmtest exec wants a NODE and a COMMAND");
  std::vector<std::string> words(o.args.begin() + 1, o.args.end());
  words.insert(words.end(), o.rest.begin(), o.rest.end());
  if (words.empty())
    usage_error("vmtest exec wants a COMMAND after the NODE (vmtest exec NODE -- COMMAND...)");
  std::string command;
  for (const auto& w : words) command += (command.empty() ? "" : " ") + w;
  std::signal(SIGPIPE, SIG_IGN);
  auto info = broker::query(broker::attach_dir(o.state_dir));
  find_node(info, o.args[0]);
  broker::BrokerChannel channel(info, o.args[0]);
  if (o.stdin_data) {
    // The upload keeps the node for this connection until the command that
    // reads the staged file has run (broker.hpp).
    std::string data((std::istreambuf_iterator<char>(std::cin)), std::istreambuf_iterator<char>());
    auto u = channel.upload(data, o.timeout);
    if (u.status != 0 || u.timed_out)
      throw vmtest::Error(fmt::format("{}: could not stage {} bytes of stdin: {}", o.args[0],
                                      data.size(), vmtest::protocol::printable(u.err)));
    command = fmt::format("{{\n{}\n}} < {}", command, vmtest::kUploadPath);
  }
  auto r = channel.run(command, o.timeout, vmtest::Repeat::once);
  write_out(1, r.out);
  write_out(2, r.err);
  if (r.timed_out) {
    std::fprintf(
        stderr, "vmtest exec: %s: the command timed out after %.1f s and was killed in the guest\n",
        o.args[0].c_str(), vmtest::seconds(o.timeout));
    return 124;
  }
  return r.status >= 0 && r.status <= 255 ? r.status : 255;
}

int cmd_shell(const Options& o) {
  if (o.args.size() != 1) usage_error("vmtest shell wants one NODE");
  std::signal(SIGPIPE, SIG_IGN);
  const auto& node = o.args[0];
  auto info = broker::query(broker::attach_dir(o.state_dir));
  find_node(info, node);
  broker::BrokerChannel channel(info, node);
  bool tty = ::isatty(0);
  std::string cwd = "/";
  int last = 0;
  if (tty)
    std::fprintf(stderr,
                 "vmtest shell: root on %s, one line at a time (no terminal, no job control; the "
                 "working folder "
                 "carries over, variables do not). `exit` or Ctrl-D ends it.\n",
                 node.c_str());
  std::string line;
  for (;;) {
    if (tty) std::fprintf(stderr, "%s:%s# ", node.c_str(), cwd.c_str());
    if (!std::getline(std::cin, line)) break;
    // A trailing backslash continues the command on the next line.
    while (!line.empty() && line.back() == '\\') {
      std::string more;
      if (tty) std::fprintf(stderr, "> ");
      if (!std::getline(std::cin, more)) break;
      line += '\n';  // bash itself joins backslash-newline
      line += more;
    }
    if (vmtest::trim(line).empty()) continue;
    if (vmtest::trim(line) == "exit" || vmtest::trim(line) == "logout") break;
    // Each line runs in a fresh subshell of the backdoor: restore the
    // folder, behave like an interactive shell (no `set -e`), report the
    // folder it ended in after a record separator on stderr.
    auto wrapped = fmt::format(
        "set +euo pipefail; cd {} 2>/dev/null || cd /\n{}\n__vmtest_rc=$?; printf '\\036%s' "
        "\"$PWD\" >&2; "
        "exit $__vmtest_rc",
        vmtest::protocol::shell_quote(cwd), line);
    try {
      auto r = channel.run(wrapped, o.timeout, vmtest::Repeat::once);
      auto sep = r.err.rfind('\x1e');
      if (sep != std::string::npos) {
        cwd = r.err.substr(sep + 1);
        r.err.resize(sep);
      }
      write_out(1, r.out);
      write_out(2, r.err);
      last = r.timed_out ? 124 : r.status;
      if (r.timed_out)
        std::fprintf(stderr, "vmtest shell: timed out after %.0f s (killed in the guest)\n",
                     vmtest::seconds(o.timeout));
    } catch (const vmtest::MachineDied& e) {
      std::fprintf(stderr, "vmtest shell: %s\n", e.what());
      return 255;
    } catch (const vmtest::Error& e) {
      std::fprintf(stderr, "vmtest shell: %s\n", e.what());
      last = 255;
    }
  }
  return last;
}

// ---- status, logs, down -----------------------------------------------------

int cmd_status(const Options& o) {
  auto dir = broker::attach_dir(o.state_dir);
  broker::ClusterInfo info;
  nlohmann::json status;
  try {
    auto deadline = vmtest::Deadline::after(10s);
    auto fd = broker::connect(dir, deadline);
    broker::Frame req;
    req.header["op"] = "status";
    status = broker::expect_ok(
                 broker::call(fd.get(), req, deadline, "the broker in " + dir.string(), {}))
                 .header;
  } catch (const vmtest::SetupError& e) {
    std::fprintf(stderr, "vmtest status: %s\n", e.what());
    return 1;
  }
  std::printf("cluster in %s: vmtest up pid %d, up %s, %s\nmanifest %s\n", dir.c_str(),
              status.value("pid", 0), human_duration(status.value("up_seconds", 0.0)).c_str(),
              status.value("ready", false) ? "ready" : "not ready",
              status.value("manifest", std::string()).c_str());
  if (status.contains("boot_error"))
    std::printf("boot failed: %s\n", status.value("boot_error", std::string()).c_str());
  std::printf("%-16s %-8s %-8s %s\n", "NODE", "STATE", "PID", "UPTIME");
  for (const auto& n : status.value("node_status", nlohmann::json::array())) {
    std::string pid = n.contains("pid") ? std::to_string(n.value("pid", 0)) : "-";
    std::string up = n.contains("uptime_s") ? human_duration(n.value("uptime_s", 0.0)) : "-";
    std::printf("%-16s %-8s %-8s %s\n", n.value("name", std::string()).c_str(),
                n.value("state", std::string()).c_str(), pid.c_str(), up.c_str());
  }
  return 0;
}

int cmd_logs(const Options& o) {
  if (o.args.size() != 1) usage_error("vmtest logs wants one NODE");
  std::signal(SIGPIPE, SIG_IGN);
  auto info = broker::query(broker::attach_dir(o.state_dir));
  const auto& node = find_node(info, o.args[0]);
  std::ifstream in(node.serial_log, std::ios::binary);
  if (!in) throw vmtest::Error(fmt::format("cannot read {}", node.serial_log.string()));
  std::string chunk(1 << 16, '\0');
  for (;;) {
    in.read(chunk.data(), static_cast<std::streamsize>(chunk.size()));
    auto n = in.gcount();
    if (n > 0) {
      write_out(1, chunk.substr(0, static_cast<std::size_t>(n)));
      continue;
    }
    if (!o.follow) return 0;
    in.clear();
    // Follow until the `vmtest up` that writes the log is gone.
    if (::kill(info.pid, 0) < 0 && errno == ESRCH) return 0;
    std::this_thread::sleep_for(100ms);
  }
}

int cmd_down(const Options& o) {
  auto dir = broker::attach_dir(o.state_dir);
  broker::ClusterInfo info;
  try {
    info = broker::query(dir);
  } catch (const vmtest::SetupError& e) {
    std::fprintf(stderr, "vmtest down: nothing to stop: %s\n", e.what());
    return 0;
  }
  vmtest::UniqueFd pidfd(static_cast<int>(::syscall(SYS_pidfd_open, info.pid, 0)));
  {
    auto deadline = vmtest::Deadline::after(10s);
    auto fd = broker::connect(dir, deadline);
    broker::Frame req;
    req.header["op"] = "down";
    broker::expect_ok(broker::call(fd.get(), req, deadline, info.describe(), {}));
  }
  std::fprintf(stderr, "vmtest down: stopping the cluster of %s\n", info.describe().c_str());
  // Stopping takes the VMs' shutdown and the broker's drain (up to 20 s).
  if (pidfd) {
    pollfd p{pidfd.get(), POLLIN, 0};
    if (::poll(&p, 1, 90'000) <= 0) {
      std::fprintf(stderr, "vmtest down: %s is still running after 90 s\n",
                   info.describe().c_str());
      return 1;
    }
  }
  std::fprintf(stderr, "vmtest down: stopped\n");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc > 1 && std::string_view(argv[1]) == "report")
    return vmtest::report::main(argc - 1, argv + 1);
  auto o = parse(argc, argv);
  try {
    if (o.command == "up") return cmd_up(o);
    if (o.command == "exec") return cmd_exec(o);
    if (o.command == "shell") return cmd_shell(o);
    if (o.command == "status") return cmd_status(o);
    if (o.command == "logs") return cmd_logs(o);
    if (o.command == "down") return cmd_down(o);
    usage_error("unknown command " + o.command);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "vmtest %s: %s\n", o.command.c_str(), e.what());
    return 255;
  }
}
