// File: bench/bench_stats.hpp
//
// Samples and their medians and percentiles, shared by the bench tools.
#pragma once

#include <vmtest/time.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <fstream>
#include <string>
#include <vector>

namespace vmtest::bench {

struct Samples {
  std::vector<double> v;
  void add(double x) { v.push_back(x); }
  std::size_t n() const { return v.size(); }
  // Nearest-rank percentile (p in 0..100).
  double pct(double p) const {
    if (v.empty()) return NAN;
    auto s = v;
    std::sort(s.begin(), s.end());
    if (p == 50) {
      auto m = s.size() / 2;
      return s.size() % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
    }
    auto rank = static_cast<std::size_t>(std::ceil(p / 100.0 * static_cast<double>(s.size())));
    return s[std::clamp<std::size_t>(rank, 1, s.size()) - 1];
  }
  double median() const { return pct(50); }
  double p90() const { return pct(90); }
};

template <class F>
double time_s(F&& f) {
  auto t0 = Clock::now();
  f();
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

// The host's load average ("1.02 0.87 0.60"): wall-clock figures depend on it.
inline std::string loadavg() {
  std::ifstream f("/proc/loadavg");
  std::string a, b, c;
  f >> a >> b >> c;
  return a + " " + b + " " + c;
}

}  // namespace vmtest::bench
