// vmtest_bench: what the driver costs, measured on a real guest.
//
//   vmtest_bench --manifest build/guests/minimal/topo/single/manifest.json [--repetitions N]
//   [--quick]
//
// Prints medians (and p90) over repeated runs of:
//   1. the per-command round trip of succeed("true") with vmtest's protocol,
//      side by side with nixpkgs' Python-driver wire protocol re-implemented
//      here (two round trips: `timeout 900 bash -c '...' | (base64 -w 0; echo)`
//      then `echo ${PIPESTATUS[0]}`), on a second boot of the same guest;
//   2. output throughput (8 MiB from `head -c`) and upload throughput
//      (copy_from_host of 4 MiB);
//   3. wait latency: condition true -> wait_until_succeeds' probe sees it;
//   4. boot-to-shell time, and parallel boot of 1, 2 and 3 nodes;
//   5. the driver's peak RSS.
//
// The baseline is NOT the Python driver: it is its wire protocol driven from
// C++, so it leaves out the Python interpreter's own overhead (logging, the
// nested-block machinery) and is a lower bound of what the Python driver
// costs. See bench/README.md.
//
// A small harness of our own rather than Google Benchmark: the figures are
// distributions of single operations (a boot, one command), several of them
// need long-lived VMs shared across measurements and interleaved with each
// other, and the report is one side-by-side table.
#include "bench_stats.hpp"

#include <vmtest/vmtest.hpp>

#include <fmt/format.h>

#include <fcntl.h>
#include <sys/resource.h>
#include <sys/utsname.h>
#include <unistd.h>
#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <optional>
#include <random>
#include <string>
#include <vector>

namespace fs = std::filesystem;
using namespace vmtest;
using vmtest::bench::loadavg;
using vmtest::bench::Samples;
using vmtest::bench::time_s;

namespace {

// ---------------------------------------------------------------------------
// Host facts

long peak_rss_kib() {
  rusage ru{};
  ::getrusage(RUSAGE_SELF, &ru);
  return ru.ru_maxrss;  // KiB on Linux
}

// ---------------------------------------------------------------------------
// Output

void heading(const std::string& s) {
  fmt::print("\n{}\n", s);
}

void row_ms(const std::string& label, const Samples& s, const std::string& note = {}) {
  fmt::print("  {:<58} {:>9.2f} ms {:>9.2f} ms {:>5}{}\n", label, s.median() * 1e3, s.p90() * 1e3,
             s.n(), note.empty() ? "" : "  " + note);
}

void row_s(const std::string& label, const Samples& s, const std::string& note = {}) {
  fmt::print("  {:<58} {:>9.3f} s  {:>9.3f} s  {:>5}{}\n", label, s.median(), s.p90(), s.n(),
             note.empty() ? "" : "  " + note);
}

// Throughput: samples are seconds per transfer of `bytes`; median of MB/s.
void row_mbs(const std::string& label, const Samples& secs, std::size_t bytes,
             const std::string& note = {}) {
  Samples rate;
  for (double t : secs.v) rate.add(static_cast<double>(bytes) / 1e6 / t);
  // p90 of the time is the slow tail, i.e. p10 of the rate.
  fmt::print("  {:<58} {:>7.2f} MB/s {:>7.2f} MB/s {:>5}{}\n", label, rate.median(), rate.pct(10),
             rate.n(), note.empty() ? "" : "  " + note);
}

void columns(const char* a = "median", const char* b = "p90", const char* c = "n") {
  fmt::print("  {:<58} {:>12} {:>12} {:>5}\n", "", a, b, c);
}

// ---------------------------------------------------------------------------
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
    if (!monitor_ || !shell_)
      throw Error("baseline VM: QEMU did not connect its monitor/shell sockets");
    // Like nixpkgs' connect(): read until a chunk holds the magic string;
    // whatever follows it in that chunk is dropped.
    std::string got;
    while (got.find(protocol::kMagic) == std::string::npos) {
      if (read_some(shell_.get(), got, 1024, deadline, alive) != ReadResult::data)
        throw Error("baseline VM: no magic line from the backdoor (see " + s + "/serial.log)");
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
      throw Error("baseline VM: write to the shell failed");
  }
  // recv(4096) until a chunk ends in "\n" (nixpkgs' framing).
  std::string recv_until_newline_end() {
    std::string buf;
    auto deadline = Deadline::after(120s);
    for (;;) {
      if (read_some(shell_.get(), buf, 65536, deadline, process_.pidfd()) != ReadResult::data)
        throw Error("baseline VM: shell closed or timed out");
      if (buf.back() == '\n') return buf;
    }
  }

  fs::path root_;
  ChildProcess process_;
  UniqueFd monitor_, shell_;
  double boot_s_ = 0;
};

// The baseline runs in a child process (this program re-executed with
// --baseline-worker), like the Python driver would be its own process: its
// buffers (base64 text of 8 MiB outputs) then do not count in the peak RSS
// reported for vmtest. The parent asks for batches over a pipe and gets the
// timings back, so the two protocols can still be interleaved.
//
//   parent -> worker:  "<variant> <count>\n"   variant: py, pynt, echo, out
//   worker -> parent:  "ok <seconds> <seconds> ...\n" | "error <message>\n"

constexpr std::size_t kOutBytes = 8u << 20;  // 8 MiB
constexpr std::size_t kUpBytes = 4u << 20;   // 4 MiB

std::string out_command() {
  return fmt::format("head -c {} /dev/zero", kOutBytes);
}

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
      throw Error(fmt::format("self-check failed: rc {}, output {}", rc, protocol::printable(out)));
    reply(fmt::format("ok {:.6f}", vm.boot_seconds()));
    std::string buffer, line;
    while (read_line(STDIN_FILENO, buffer, line, Deadline::never())) {
      char variant[16] = {};
      int count = 0;
      if (line == "quit") return 0;
      if (std::sscanf(line.c_str(), "%15s %d", variant, &count) != 2)
        throw Error("bad request: " + line);
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
            throw Error(fmt::format("output of {} bytes", r.second.size()));
        } else
          throw Error("unknown variant " + v);
        if (r.first != 0) throw Error(fmt::format("{}: exit status {}", v, r.first));
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

class BaselineClient {
 public:
  BaselineClient(const VmSpec& spec, Duration boot_timeout) {
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
  ~BaselineClient() {
    write_all(to_.get(), "quit\n", Deadline::after(5s), child_.pidfd());
    child_.wait(Deadline::after(15s));
  }
  std::vector<double> run(const std::string& variant, int count, Duration timeout = 300s) {
    if (!write_all(to_.get(), fmt::format("{} {}\n", variant, count), Deadline::after(10s),
                   child_.pidfd()))
      throw Error("baseline worker is gone");
    return receive(timeout);
  }
  double boot_seconds() const { return boot_s_; }

 private:
  std::vector<double> receive(Duration timeout) {
    std::string line;
    if (!read_line(from_.get(), buffer_, line, Deadline::after(timeout), child_.pidfd()))
      throw Error("baseline worker did not answer (" +
                  (child_.try_wait() ? child_.try_wait()->describe() : std::string("timeout")) +
                  ")");
    if (line.rfind("ok", 0) != 0) throw Error("baseline worker: " + line);
    std::vector<double> out;
    const char* p = line.c_str() + 2;
    char* end;
    for (double x = std::strtod(p, &end); end != p; x = std::strtod(p, &end)) {
      out.push_back(x);
      p = end;
    }
    return out;
  }
  ChildProcess child_;
  UniqueFd to_, from_;
  std::string buffer_;
  double boot_s_ = 0;
};

// ---------------------------------------------------------------------------

struct Options {
  fs::path manifest, pair, trio;
  int repetitions = 200;  // per-command round trips, per variant
  int transfers = 5;
  int wait_trials = 20;
  int boots = 5;
  int cluster_boots = 3;
  bool quick = false;
  bool verbose = false;
  bool skip_boot = false;
};

[[noreturn]] void usage(int code) {
  std::fprintf(
      code ? stderr : stdout,
      "usage: vmtest_bench --manifest PATH [--repetitions N] [--quick]\n"
      "  --manifest PATH     single-node manifest "
      "(build/guests/minimal/topo/single/manifest.json)\n"
      "  --pair PATH         2-node manifest (default: ../pair/manifest.json next to --manifest)\n"
      "  --trio PATH         3-node manifest (default: ../trio/manifest.json)\n"
      "  --repetitions N     round trips per protocol variant (default 200, quick 40)\n"
      "  --transfers N       throughput repetitions (default 5, quick 2)\n"
      "  --wait-trials N     wait-latency trials (default 20, quick 6)\n"
      "  --boots N           single-node cold boots (default 5, quick 2)\n"
      "  --cluster-boots N   start_all() runs per cluster size (default 3, quick 1)\n"
      "  --skip-boot         leave out section 4\n"
      "  --quick             small counts for a smoke run\n"
      "  --verbose           vmtest's progress log on stderr\n");
  std::exit(code);
}

Options parse(int argc, char** argv) {
  Options o;
  std::optional<int> reps, transfers, waits, boots, cboots;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (auto eq = a.find('='); eq != std::string::npos) return a.substr(eq + 1);
      if (i + 1 >= argc) usage(2);
      return argv[++i];
    };
    auto key = a.substr(0, a.find('='));
    if (key == "--manifest")
      o.manifest = value();
    else if (key == "--pair")
      o.pair = value();
    else if (key == "--trio")
      o.trio = value();
    else if (key == "--repetitions")
      reps = std::stoi(value());
    else if (key == "--transfers")
      transfers = std::stoi(value());
    else if (key == "--wait-trials")
      waits = std::stoi(value());
    else if (key == "--boots")
      boots = std::stoi(value());
    else if (key == "--cluster-boots")
      cboots = std::stoi(value());
    else if (a == "--skip-boot")
      o.skip_boot = true;
    else if (a == "--quick")
      o.quick = true;
    else if (a == "--verbose")
      o.verbose = true;
    else if (a == "-h" || a == "--help")
      usage(0);
    else {
      std::fprintf(stderr, "unknown argument: %s\n", a.c_str());
      usage(2);
    }
  }
  if (o.manifest.empty()) usage(2);
  if (o.quick) {
    o.repetitions = 40;
    o.transfers = 2;
    o.wait_trials = 6;
    o.boots = 2;
    o.cluster_boots = 1;
  }
  o.repetitions = std::max(10, reps.value_or(o.repetitions));
  o.transfers = std::max(1, transfers.value_or(o.transfers));
  o.wait_trials = std::max(1, waits.value_or(o.wait_trials));
  o.boots = std::max(1, boots.value_or(o.boots));
  o.cluster_boots = std::max(1, cboots.value_or(o.cluster_boots));
  auto topo = fs::absolute(o.manifest).parent_path().parent_path();
  if (o.pair.empty()) o.pair = topo / "pair" / "manifest.json";
  if (o.trio.empty()) o.trio = topo / "trio" / "manifest.json";
  return o;
}

}  // namespace

int main(int argc, char** argv) try {
  if (argc == 5 && std::string(argv[1]) == "--baseline-worker")
    return baseline_worker(argv[2], argv[3], std::stol(argv[4]));
  Options opt = parse(argc, argv);
  log::set_level(opt.verbose ? log::Level::info : log::Level::quiet);
  auto bench_start = Clock::now();
  auto manifest = Manifest::load(opt.manifest);
  if (manifest.vms().empty()) throw Error("the manifest has no VMs");
  const VmSpec& spec = manifest.vms().front();

  utsname un{};
  ::uname(&un);
  fmt::print("vmtest_bench: {} (machine \"{}\")\n", fs::absolute(opt.manifest).string(), spec.name);
  fmt::print("host: {} {}, {} CPUs online, load average {} at start\n", un.sysname, un.release,
             ::sysconf(_SC_NPROCESSORS_ONLN), loadavg());
  fmt::print(
      "counts: {} round trips per variant, {} transfers, {} wait trials, {} cold boots, {} "
      "start_all per size{}\n",
      opt.repetitions, opt.transfers, opt.wait_trials, opt.boots, opt.cluster_boots,
      opt.quick ? " (--quick)" : "");
  std::fflush(stdout);

  long rss_after_rt = 0;
  Samples rt_vmtest, rt_py, rt_py_nt, rt_echo;
  double py_rt_median = 0;

  // ------------------------------------------------------------------
  // 1-3 on one vmtest-driven VM (plus the baseline VM for 1 and 2).
  {
    Cluster cluster{manifest};
    Machine& m = cluster.machine(spec.name);
    m.connect();
    auto guest_kernel = m.succeed("uname -r");
    if (!guest_kernel.empty() && guest_kernel.back() == '\n') guest_kernel.pop_back();
    fmt::print("guest: kernel {}, QEMU accel as set by its start script\n", guest_kernel);

    std::optional<BaselineClient> py;
    py.emplace(spec, manifest.boot_timeout());

    // ---- 1. round trips, interleaved in batches so drift hits all alike.
    const int warmup = 10;
    for (int i = 0; i < warmup; ++i) m.succeed("true");
    for (const char* v : {"py", "pynt", "echo"}) py->run(v, warmup);
    const int batches = 10;
    std::vector<std::function<void(int)>> variants = {
        [&](int n) {
          for (int i = 0; i < n; ++i) rt_vmtest.add(time_s([&] { m.succeed("true"); }));
        },
        [&](int n) {
          for (double t : py->run("py", n)) rt_py.add(t);
        },
        [&](int n) {
          for (double t : py->run("pynt", n)) rt_py_nt.add(t);
        },
        [&](int n) {
          for (double t : py->run("echo", n)) rt_echo.add(t);
        },
    };
    for (int b = 0; b < batches; ++b) {
      int count = opt.repetitions / batches + (b < opt.repetitions % batches ? 1 : 0);
      for (std::size_t k = 0; k < variants.size(); ++k)
        variants[(k + static_cast<std::size_t>(b)) % variants.size()](count);
    }
    rss_after_rt = peak_rss_kib();
    py_rt_median = rt_py.median();

    heading(
        "1. Per-command round trip of succeed(\"true\") (same guest, two boots, interleaved "
        "batches)");
    columns();
    row_ms("vmtest protocol: Machine::succeed(\"true\")", rt_vmtest);
    row_ms("Python-driver protocol, re-implemented (timeout 900 …)", rt_py);
    row_ms("Python-driver protocol, re-implemented, no timeout wrapper", rt_py_nt);
    row_ms("channel floor: raw `echo` line over the same socket", rt_echo);
    fmt::print("  vmtest / Python-protocol (with timeout): {:.2f}  (target <= 0.33)\n",
               rt_vmtest.median() / rt_py.median());
    fmt::print("  vmtest / Python-protocol (no timeout):   {:.2f}\n",
               rt_vmtest.median() / rt_py_nt.median());
    fmt::print(
        "  The baseline is nixpkgs' wire protocol (as in nixpkgs' machine/__init__.py) driven from "
        "C++, not the Python\n"
        "  driver: it adds none of Python's own per-call overhead, so it is a lower bound for "
        "it.\n");
    std::fflush(stdout);

    // ---- 2. throughput.
    Samples out_vmtest, out_py, out_floor, up_vmtest;
    const std::string out_cmd = out_command();
    for (int i = 0; i < opt.transfers; ++i) {
      std::string out;
      out_vmtest.add(time_s([&] { out = m.succeed(out_cmd); }));
      if (out.size() != kOutBytes)
        throw Error(fmt::format("vmtest output: {} bytes, expected {}", out.size(), kOutBytes));
      for (double t : py->run("out", 1)) out_py.add(t);
      out_floor.add(time_s([&] { m.succeed(out_cmd + " >/dev/null"); }));
    }
    py.reset();  // the baseline VM is not needed any more

    auto upload = cluster.state_root() / "bench-upload.bin";
    {
      std::mt19937_64 rng(42);
      std::string data(kUpBytes, '\0');
      for (auto& c : data) c = static_cast<char>(rng());
      std::ofstream(upload, std::ios::binary)
          .write(data.data(), static_cast<std::streamsize>(data.size()));
    }
    for (int i = 0; i < opt.transfers; ++i) {
      up_vmtest.add(time_s([&] { m.copy_from_host(upload, "/tmp/bench-upload.bin"); }));
    }
    auto size = m.succeed("wc -c </tmp/bench-upload.bin; rm -f /tmp/bench-upload.bin");
    if (std::stoul(size) != kUpBytes) throw Error("upload arrived with " + size + " bytes");

    heading("2. Throughput");
    columns("median", "p10 (slow)", "n");
    row_mbs("output: succeed(\"head -c 8388608 /dev/zero\"), vmtest", out_vmtest, kOutBytes);
    row_mbs("output: same command, Python-driver protocol (base64)", out_py, kOutBytes);
    row_mbs("guest-side floor: same command >/dev/null, vmtest", out_floor, kOutBytes,
            "(nothing transferred)");
    row_mbs("upload: copy_from_host(4 MiB file), vmtest", up_vmtest, kUpBytes,
            "(Python driver copies via 9p; not compared)");
    std::fflush(stdout);

    // ---- 3. wait latency.
    // A background job sleeps a random 200-700 ms, stamps the guest clock
    // into a temporary file and renames it to /tmp/flag (the condition turns
    // true at the rename). The probe prints the flag and its own guest time.
    // The delays are stratified over 200-700 ms (one random point per
    // stratum, shuffled) so that they cover every phase of the guest's poll
    // cycle evenly instead of aliasing with it.
    Samples lateness, wait_call, probe_rt;
    const std::string probe = "cat /tmp/flag; echo \"$EPOCHREALTIME\"";
    std::mt19937 rng(std::random_device{}());
    std::vector<int> delays;
    for (int i = 0; i < opt.wait_trials; ++i) {
      double lo = 200.0 + 500.0 * i / opt.wait_trials, width = 500.0 / opt.wait_trials;
      delays.push_back(
          static_cast<int>(lo + std::uniform_real_distribution<double>(0, width)(rng)));
    }
    std::shuffle(delays.begin(), delays.end(), rng);
    for (int d : delays) {
      m.succeed(fmt::format(
          "rm -f /tmp/flag /tmp/flag.tmp; "
          "( sleep {}.{:03d}; echo \"$EPOCHREALTIME\" >/tmp/flag.tmp; mv /tmp/flag.tmp /tmp/flag ) "
          "</dev/null >/dev/null 2>&1 &",
          d / 1000, d % 1000));
      std::string out;
      wait_call.add(time_s([&] { out = m.wait_until_succeeds(probe, 30s); }));
      double flag = 0, seen = 0;
      if (std::sscanf(out.c_str(), "%lf %lf", &flag, &seen) != 2)
        throw Error("wait probe: cannot parse " + protocol::printable(out));
      lateness.add(seen - flag);
    }
    // One try of the probe, host-side, with the condition already true.
    for (int i = 0; i < std::max(5, opt.wait_trials / 2); ++i)
      probe_rt.add(time_s([&] { m.succeed(probe); }));
    heading("3. Wait latency: condition true -> wait_until_succeeds notices");
    columns();
    row_ms("vmtest: guest side, flag created -> probe saw it (guest clock)", lateness);
    row_ms("vmtest: one try of the probe, host round trip (flag present)", probe_rt);
    fmt::print("  {:<58} {:>9.2f} ms {:>12} {:>5}  (sum of the two medians; counts `cat` twice)\n",
               "vmtest: condition true -> host has the answer, at most",
               (lateness.median() + probe_rt.median()) * 1e3, "-", "-");
    {
      double py_mean = (1.0 + py_rt_median) / 2 + py_rt_median;
      fmt::print("  {:<58} {:>9.2f} ms {:>12} {:>5}  (computed, not measured)\n",
                 "Python driver: 1 s sleep between tries, mean lateness", py_mean * 1e3, "-", "-");
      fmt::print(
          "    = (1 s + one try) / 2 + one try, one try = Python-protocol round trip of section "
          "1\n");
    }
    fmt::print("  (wait_until_succeeds call itself, incl. the {}..{} ms delay: median {:.0f} ms)\n",
               200, 700, wait_call.median() * 1e3);
    std::fflush(stdout);
  }

  // ------------------------------------------------------------------
  // 4. boots.
  if (!opt.skip_boot) {
    Samples cold;
    for (int i = 0; i < opt.boots; ++i) {
      Cluster cluster{manifest};
      Machine& m = cluster.machine(spec.name);
      cold.add(time_s([&] { m.connect(); }));
    }
    heading("4. Boot");
    columns();
    row_s("cold boot to backdoor shell, single node (Machine::connect)", cold);
    struct Topo {
      const char* what;
      fs::path path;
    };
    for (const Topo& t :
         {Topo{"1 node ", opt.manifest}, Topo{"2 nodes", opt.pair}, Topo{"3 nodes", opt.trio}}) {
      if (!fs::exists(t.path)) {
        fmt::print("  {:<58} skipped: {} not found\n",
                   fmt::format("Cluster::start_all(), {}", t.what), t.path.string());
        continue;
      }
      auto mf = Manifest::load(t.path);
      Samples s;
      for (int i = 0; i < opt.cluster_boots; ++i) {
        Cluster cluster{mf};
        s.add(time_s([&] { cluster.start_all(); }));
      }
      row_s(fmt::format("Cluster::start_all(), {} ({})", t.what,
                        t.path.parent_path().filename().string()),
            s);
    }
    std::fflush(stdout);
  }

  // ------------------------------------------------------------------
  heading("5. Driver memory (getrusage RUSAGE_SELF ru_maxrss; QEMU not included)");
  fmt::print("  peak RSS after section 1 (round trips only):     {:>8.1f} MiB\n",
             rss_after_rt / 1024.0);
  fmt::print("  peak RSS after everything (8 MiB outputs held):  {:>8.1f} MiB\n",
             peak_rss_kib() / 1024.0);
  fmt::print("\ntotal bench time: {:.0f} s; load average {} at the end\n",
             seconds_since(bench_start), loadavg());
  return 0;
} catch (const std::exception& e) {
  std::fflush(stdout);
  std::fprintf(stderr, "vmtest_bench: %s\n", e.what());
  return 1;
}
