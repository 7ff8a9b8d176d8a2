// vmtest exec NODE -- COMMAND...: one command, its output byte for byte and
// its exit status.
#include "cli.hpp"

#include <vmtest/protocol.hpp>

#include <fmt/format.h>

#include <csignal>
#include <cstdio>
#include <iostream>
#include <iterator>

namespace vmtest::cli {

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
      throw Error(fmt::format("{}: could not stage {} bytes of stdin: {}", o.args[0], data.size(),
                              protocol::printable(u.err)));
    command = fmt::format("{{\n{}\n}} < {}", command, kUploadPath);
  }
  auto r = channel.run(command, o.timeout, Repeat::once);
  write_out(1, r.out);
  write_out(2, r.err);
  if (r.timed_out) {
    std::fprintf(
        stderr, "vmtest exec: %s: the command timed out after %.1f s and was killed in the guest\n",
        o.args[0].c_str(), seconds(o.timeout));
    return 124;
  }
  return r.status >= 0 && r.status <= 255 ? r.status : 255;
}

}  // namespace vmtest::cli
