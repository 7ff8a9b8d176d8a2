#include "bench.hpp"

#include <fmt/format.h>

#include <sys/resource.h>

namespace vmtest::bench {

long peak_rss_kib() {
  rusage ru{};
  ::getrusage(RUSAGE_SELF, &ru);
  return ru.ru_maxrss;  // KiB on Linux
}

void heading(const std::string& s) {
  fmt::print("\n{}\n", s);
}

void row_ms(const std::string& label, const Samples& s, const std::string& note) {
  fmt::print("  {:<58} {:>9.2f} ms {:>9.2f} ms {:>5}{}\n", label, s.median() * 1e3, s.p90() * 1e3,
             s.n(), note.empty() ? "" : "  " + note);
}

void row_s(const std::string& label, const Samples& s, const std::string& note) {
  fmt::print("  {:<58} {:>9.3f} s  {:>9.3f} s  {:>5}{}\n", label, s.median(), s.p90(), s.n(),
             note.empty() ? "" : "  " + note);
}

void row_mbs(const std::string& label, const Samples& secs, std::size_t bytes,
             const std::string& note) {
  Samples rate;
  for (double t : secs.v) rate.add(static_cast<double>(bytes) / 1e6 / t);
  // p90 of the time is the slow tail, i.e. p10 of the rate.
  fmt::print("  {:<58} {:>7.2f} MB/s {:>7.2f} MB/s {:>5}{}\n", label, rate.median(), rate.pct(10),
             rate.n(), note.empty() ? "" : "  " + note);
}

void columns(const char* a, const char* b, const char* c) {
  fmt::print("  {:<58} {:>12} {:>12} {:>5}\n", "", a, b, c);
}

}  // namespace vmtest::bench
