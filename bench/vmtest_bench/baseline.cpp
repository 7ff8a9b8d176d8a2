// The baseline: nixpkgs' Python-driver wire protocol over a raw backdoor
// socket, spoken from C++ in a child process.
#include "bench.hpp"

#include <fmt/format.h>

#include <fcntl.h>
#include <unistd.h>
#include <algorithm>
#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

namespace vmtest::bench {

namespace fs = std::filesystem;

namespace {

// The Python driver's wire protocol over a raw backdoor socket.
//
// Boots the guest with the same start-script flags Machine::start() passes
// (which are nixpkgs' QemuStartCommand flags), accepts the monitor and shell
// sockets, waits for the magic line and then speaks nixpkgs'
// Machine.execute() protocol (nixos/lib/test-driver, machine/__init__.py: base64 of stdout, then
// `echo ${PIPESTATUS[0]}`) itself. The serial console goes to a file; QMP is left unconnected
// (server=on,wait=off).

std::string base64_decode(std::string_view in) {
  static const auto table = [] {
    std::array<int, 256> t{};
    t.fill(-1);
    const char* a = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for (int i = 0; i < 64; ++i) t[static_cast<unsigned char>(a[i])] = i;
    return t;
  }();
  std::string out;
  out.reserve(in.size() / 4 * 3);
  unsigned acc = 0;
  int bits = 0;
  for (unsigned char c : in) {
    int d = table[c];
    if (d < 0) continue;  // '=', newline
    acc = (acc << 6) | static_cast<unsigned>(d);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xff));
    }
  }
  return out;
}

class PythonProtocolVm {
 public:
  PythonProtocolVm(const VmSpec& spec, Duration boot_timeout) : root_(make_state_root()) {
    auto state = root_ / ("vm-state-" + spec.name);
    fs::create_directories(state);
    fs::create_directories(root_ / "shared-xchg");
    auto monitor_listen = listen_unix(state / "monitor");
    auto shell_listen = listen_unix(state / "shell");
    // The flags name vmtest's control port too; QEMU needs it connected.
    auto control_listen = listen_unix(state / "control");
    UniqueFd serial(
        ::open((state / "serial.log").c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
    if (!serial) throw_errno("open serial.log");

    auto s = state.string();
    SpawnOptions o;
    o.argv = vmtest::start_script_flags(state, false);  // exactly what Machine::start() passes
    o.argv.insert(o.argv.begin(), spec.start_script.string());
    o.env["TMPDIR"] = s;
    o.env["USE_TMPDIR"] = "1";
    o.env["SHARED_DIR"] = (root_ / "shared-xchg").string();
    o.cwd = state;
    o.stdout_fd = serial.get();
    o.stderr_fd = serial.get();
    auto t0 = Clock::now();
    process_ = ChildProcess::spawn(o);

    auto deadline = Deadline::after(boot_timeout);
    int alive = process_.pidfd();
    monitor_ = accept_unix(monitor_listen.get(), deadline, alive);
    shell_ = accept_unix(shell_listen.get(), deadline, alive);
    control_ = accept_unix(control_listen.get(), deadline, alive);
    if (!monitor_ || !shell_ || !control_)
      throw FailedPrecondition("baseline VM: QEMU did not connect its monitor, shell and control sockets");
    // Like nixpkgs' connect(): read until a chunk holds the magic string;
    // whatever follows it in that chunk is dropped.
    std::string got;
    while (got.find(protocol::kMagic) == std::string::npos) {
      if (read_some(shell_.get(), got, 1024, deadline, alive) != ReadResult::data)
        throw FailedPrecondition("baseline VM: no magic line from the backdoor (see " + s +
                                 "/serial.log)");
    }
    boot_s_ = seconds_since(t0);
  }

  ~PythonProtocolVm() {
    shell_.reset();
    monitor_.reset();
    if (process_.valid()) process_.stop(3s);
    std::error_code ec;
    fs::remove_all(root_, ec);
  }

  double boot_seconds() const { return boot_s_; }

  // nixpkgs Machine.execute(command, check_return=True, check_output=True,
  // timeout=900|None): returns (rc, decoded output).
  std::pair<int, std::string> execute(std::string_view command, bool with_timeout) {
    std::string line = with_timeout ? "timeout 900 " : "";
    line += "bash -c " + protocol::shell_quote(fmt::format("set -euo pipefail; {}", command)) +
            " | (base64 -w 0; echo)\n";
    send(line);
    std::string out = recv_until_newline_end();
    std::string decoded = base64_decode(out);
    send("echo ${PIPESTATUS[0]}\n");
    std::string rc = recv_until_newline_end();
    return {std::stoi(rc), std::move(decoded)};
  }

  // The channel's floor: one line to bash, one builtin, one line back.
  void echo_round_trip() {
    send("echo\n");
    recv_until_newline_end();
  }

 private:
  void send(std::string_view s) {
    if (!write_all(shell_.get(), s, Deadline::after(60s), process_.pidfd()))
      throw FailedPrecondition("baseline VM: write to the shell failed");
  }
  // recv(4096) until a chunk ends in "\n" (nixpkgs' framing).
  std::string recv_until_newline_end() {
    std::string buf;
    auto deadline = Deadline::after(120s);
    for (;;) {
      if (read_some(shell_.get(), buf, 65536, deadline, process_.pidfd()) != ReadResult::data)
        throw FailedPrecondition("baseline VM: shell closed or timed out");
      if (buf.back() == '\n') return buf;
    }
  }

  fs::path root_;
  ChildProcess process_;
  UniqueFd monitor_, shell_, control_;
  double boot_s_ = 0;
};

bool read_line(int fd, std::string& buffer, std::string& line, Deadline deadline,
               int liveness = -1) {
  for (;;) {
    if (auto nl = buffer.find('\n'); nl != std::string::npos) {
      line = buffer.substr(0, nl);
      buffer.erase(0, nl + 1);
      return true;
    }
    if (read_some(fd, buffer, 4096, deadline, liveness) != ReadResult::data) return false;
  }
}

}  // namespace

// The baseline runs in a child process (this program re-executed with
// --baseline-worker), like the Python driver would be its own process: its
// buffers (base64 text of 8 MiB outputs) then do not count in the peak RSS
// reported for vmtest. The parent asks for batches over a pipe and gets the
// timings back, so the two protocols can still be interleaved.
//
//   parent -> worker:  "<variant> <count>\n"   variant: py, pynt, echo, out
//   worker -> parent:  "ok <seconds> <seconds> ...\n" | "error <message>\n"

std::string out_command() {
  return fmt::format("head -c {} /dev/zero", kOutBytes);
}

int baseline_worker(const std::string& script, const std::string& name, long boot_timeout_ms) {
  log::set_level(log::Level::quiet);
  auto reply = [](const std::string& s) {
    write_all(STDOUT_FILENO, s + "\n", Deadline::after(60s));
  };
  try {
    VmSpec spec;
    spec.name = name;
    spec.start_script = script;
    PythonProtocolVm vm(spec, Duration(boot_timeout_ms));
    auto [rc, out] = vm.execute("echo hello", true);
    if (rc != 0 || out != "hello\n")
      throw FailedPrecondition(
          fmt::format("self-check failed: rc {}, output {}", rc, protocol::printable(out)));
    reply(fmt::format("ok {:.6f}", vm.boot_seconds()));
    std::string buffer, line;
    while (read_line(STDIN_FILENO, buffer, line, Deadline::never())) {
      char variant[16] = {};
      int count = 0;
      if (line == "quit") return 0;
      if (std::sscanf(line.c_str(), "%15s %d", variant, &count) != 2)
        throw InvalidArgument("bad request: " + line);
      std::string v = variant, answer = "ok";
      for (int i = 0; i < count; ++i) {
        std::pair<int, std::string> r;
        double t;
        if (v == "py")
          t = time_s([&] { r = vm.execute("true", true); });
        else if (v == "pynt")
          t = time_s([&] { r = vm.execute("true", false); });
        else if (v == "echo")
          t = time_s([&] { vm.echo_round_trip(); });
        else if (v == "out") {
          t = time_s([&] { r = vm.execute(out_command(), true); });
          if (r.second.size() != kOutBytes)
            throw FailedPrecondition(fmt::format("output of {} bytes", r.second.size()));
        } else
          throw InvalidArgument("unknown variant " + v);
        if (r.first != 0) throw FailedPrecondition(fmt::format("{}: exit status {}", v, r.first));
        answer += fmt::format(" {:.9f}", t);
      }
      reply(answer);
    }
    return 0;
  } catch (const std::exception& e) {
    std::string msg = e.what();
    std::replace(msg.begin(), msg.end(), '\n', ' ');
    reply("error " + msg);
    return 1;
  }
}

BaselineClient::BaselineClient(const VmSpec& spec, Duration boot_timeout) {
  int to[2], from[2];
  if (::pipe2(to, O_CLOEXEC) < 0 || ::pipe2(from, O_CLOEXEC) < 0) throw_errno("pipe");
  UniqueFd to_r(to[0]), from_w(from[1]);
  to_ = UniqueFd(to[1]);
  from_ = UniqueFd(from[0]);
  SpawnOptions o;
  o.argv = {fs::read_symlink("/proc/self/exe").string(), "--baseline-worker",
            spec.start_script.string(), spec.name, std::to_string(boot_timeout.count())};
  o.stdin_fd = to_r.get();
  o.stdout_fd = from_w.get();
  o.stderr_fd = STDERR_FILENO;
  child_ = ChildProcess::spawn(o);
  auto ready = receive(boot_timeout + 30s);
  boot_s_ = ready.empty() ? 0 : ready[0];
}

BaselineClient::~BaselineClient() {
  write_all(to_.get(), "quit\n", Deadline::after(5s), child_.pidfd());
  child_.wait(Deadline::after(15s));
}

std::vector<double> BaselineClient::run(const std::string& variant, int count, Duration timeout) {
  if (!write_all(to_.get(), fmt::format("{} {}\n", variant, count), Deadline::after(10s),
                 child_.pidfd()))
    throw FailedPrecondition("baseline worker is gone");
  return receive(timeout);
}

std::vector<double> BaselineClient::receive(Duration timeout) {
  std::string line;
  if (!read_line(from_.get(), buffer_, line, Deadline::after(timeout), child_.pidfd()))
    throw FailedPrecondition(
        "baseline worker did not answer (" +
        (child_.try_wait() ? child_.try_wait()->describe() : std::string("timeout")) + ")");
  if (line.rfind("ok", 0) != 0) throw FailedPrecondition("baseline worker: " + line);
  std::vector<double> out;
  const char* p = line.c_str() + 2;
  char* end;
  for (double x = std::strtod(p, &end); end != p; x = std::strtod(p, &end)) {
    out.push_back(x);
    p = end;
  }
  return out;
}

}  // namespace vmtest::bench
