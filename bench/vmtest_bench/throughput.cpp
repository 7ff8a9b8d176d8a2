// Section 2: output throughput (vmtest, the Python-driver protocol, the
// guest-side floor) and upload throughput.
#include "bench.hpp"

#include <fmt/format.h>

#include <cstdio>
#include <fstream>
#include <random>
#include <string>

namespace vmtest::bench {

void measure_throughput(Cluster& cluster, Machine& m, std::optional<BaselineClient>& py,
                        const Options& opt) {
  Samples out_vmtest, out_py, out_floor, up_vmtest;
  const std::string out_cmd = out_command();
  for (int i = 0; i < opt.transfers; ++i) {
    std::string out;
    out_vmtest.add(time_s([&] { out = m.succeed(out_cmd); }));
    if (out.size() != kOutBytes)
      throw FailedPrecondition(
          fmt::format("vmtest output: {} bytes, expected {}", out.size(), kOutBytes));
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
  if (std::stoul(size) != kUpBytes)
    throw FailedPrecondition("upload arrived with " + size + " bytes");

  heading("2. Throughput");
  columns("median", "p10 (slow)", "n");
  row_mbs("output: succeed(\"head -c 8388608 /dev/zero\"), vmtest", out_vmtest, kOutBytes);
  row_mbs("output: same command, Python-driver protocol (base64)", out_py, kOutBytes);
  row_mbs("guest-side floor: same command >/dev/null, vmtest", out_floor, kOutBytes,
          "(nothing transferred)");
  row_mbs("upload: copy_from_host(4 MiB file), vmtest", up_vmtest, kUpBytes,
          "(Python driver copies via 9p; not compared)");
  std::fflush(stdout);
}

}  // namespace vmtest::bench
