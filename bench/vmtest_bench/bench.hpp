// vmtest_bench's parts (bench/vmtest_bench/*.cpp): the options, the report's
// rows, the Python-protocol baseline and one function per measured section.
// main.cpp prints the header and section 5 and calls the sections in order.
#pragma once

#include "../bench_stats.hpp"

#include <vmtest/vmtest.hpp>

#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace vmtest::bench {

// ---- Options (options.cpp)

struct Options {
  std::filesystem::path manifest, pair, trio;
  int repetitions = 200;  // per-command round trips, per variant
  int transfers = 5;
  int wait_trials = 20;
  int boots = 5;
  int cluster_boots = 3;
  bool quick = false;
  bool verbose = false;
  bool skip_boot = false;
};

// The command line; prints usage and exits on a bad one.
Options parse_options(int argc, char** argv);

// ---- The report's rows (report.cpp)

long peak_rss_kib();
void heading(const std::string& s);
// label, median and p90 in ms, n, note.
void row_ms(const std::string& label, const Samples& s, const std::string& note = {});
// The same in seconds.
void row_s(const std::string& label, const Samples& s, const std::string& note = {});
// Throughput: samples are seconds per transfer of `bytes`; median of MB/s
// and its p10 (the slow tail).
void row_mbs(const std::string& label, const Samples& secs, std::size_t bytes,
             const std::string& note = {});
void columns(const char* a = "median", const char* b = "p90", const char* c = "n");

// ---- The Python driver's wire protocol, in a child process (baseline.cpp)

inline constexpr std::size_t kOutBytes = 8u << 20;  // 8 MiB
inline constexpr std::size_t kUpBytes = 4u << 20;   // 4 MiB
// "head -c 8388608 /dev/zero"
std::string out_command();

// The child's side: `vmtest_bench --baseline-worker <script> <name> <ms>`.
int baseline_worker(const std::string& script, const std::string& name, long boot_timeout_ms);

// The parent's side: boots the baseline VM in a worker and runs batches of
// one variant there ("py", "pynt", "echo", "out"), returning their timings.
class BaselineClient {
 public:
  BaselineClient(const VmSpec& spec, Duration boot_timeout);
  ~BaselineClient();
  BaselineClient(const BaselineClient&) = delete;
  BaselineClient& operator=(const BaselineClient&) = delete;
  std::vector<double> run(const std::string& variant, int count,
                          Duration timeout = std::chrono::seconds(300));
  double boot_seconds() const { return boot_s_; }

 private:
  std::vector<double> receive(Duration timeout);
  ChildProcess child_;
  UniqueFd to_, from_;
  std::string buffer_;
  double boot_s_ = 0;
};

// ---- The sections

struct RoundTrips {
  long rss_after_kib = 0;  // peak RSS right after the round trips
  double py_median_s = 0;  // Python-protocol round trip (with timeout)
};
// 1. round_trip.cpp
RoundTrips measure_round_trips(Machine& m, BaselineClient& py, const Options& opt);
// 2. throughput.cpp; stops the baseline (`py.reset()`) once its part is done.
void measure_throughput(Cluster& cluster, Machine& m, std::optional<BaselineClient>& py,
                        const Options& opt);
// 3. wait_latency.cpp
void measure_wait_latency(Machine& m, double py_rt_median, const Options& opt);
// 4. boot.cpp
void measure_boots(const Manifest& manifest, const VmSpec& spec, const Options& opt);

}  // namespace vmtest::bench
