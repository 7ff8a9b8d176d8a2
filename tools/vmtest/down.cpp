// vmtest down: stop the cluster and wait until everything of it is gone.
#include "cli.hpp"

#include <poll.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <cstdio>

namespace vmtest::cli {

int cmd_down(const Options& o) {
  auto dir = broker::attach_dir(o.state_dir);
  broker::Client client(dir);
  broker::ClusterInfo info;
  try {
    info = client.hello();
  } catch (const SetupError& e) {
    std::fprintf(stderr, "vmtest down: nothing to stop: %s\n", e.what());
    return 0;
  }
  UniqueFd pidfd(static_cast<int>(::syscall(SYS_pidfd_open, info.pid, 0)));
  client.down();
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

}  // namespace vmtest::cli
