// vmtest logs NODE [-f]: the serial console log, followed until the
// cluster stops.
#include "cli.hpp"

#include <fmt/format.h>

#include <signal.h>
#include <cerrno>
#include <csignal>
#include <fstream>
#include <thread>

namespace vmtest::cli {

int cmd_logs(const Options& o) {
  if (o.args.size() != 1) usage_error("vmtest logs wants one NODE");
  std::signal(SIGPIPE, SIG_IGN);
  auto info = broker::query(broker::attach_dir(o.state_dir));
  const auto& node = find_node(info, o.args[0]);
  std::ifstream in(node.serial_log, std::ios::binary);
  if (!in) throw NotFound(fmt::format("cannot read {}", node.serial_log.string()));
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

}  // namespace vmtest::cli
