// vmtest status: the nodes, their state and uptime.
#include "cli.hpp"

#include <cstdio>

namespace vmtest::cli {

int cmd_status(const Options& o) {
  auto dir = broker::attach_dir(o.state_dir);
  broker::ops::Status::Reply status;
  try {
    status = broker::Client(dir).status();
  } catch (const SetupError& e) {
    std::fprintf(stderr, "vmtest status: %s\n", e.what());
    return 1;
  }
  std::printf("cluster in %s: vmtest up pid %d, up %s, %s\nmanifest %s\n", dir.c_str(), status.pid,
              human_duration(status.up_seconds).c_str(), status.ready ? "ready" : "not ready",
              status.manifest.c_str());
  if (status.boot_error) std::printf("boot failed: %s\n", status.boot_error->c_str());
  std::printf("%-16s %-8s %-8s %s\n", "NODE", "STATE", "PID", "UPTIME");
  for (const auto& n : status.node_status) {
    std::string pid = n.pid ? std::to_string(*n.pid) : "-";
    std::string up = n.uptime_s ? human_duration(*n.uptime_s) : "-";
    std::printf("%-16s %-8s %-8s %s\n", n.name.c_str(), n.state.c_str(), pid.c_str(), up.c_str());
  }
  return 0;
}

}  // namespace vmtest::cli
