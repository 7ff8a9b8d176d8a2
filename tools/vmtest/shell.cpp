// vmtest shell NODE: a root shell, one line at a time.
#include "cli.hpp"

#include <vmtest/protocol.hpp>
#include <vmtest/text.hpp>

#include <fmt/format.h>

#include <unistd.h>
#include <csignal>
#include <cstdio>
#include <iostream>

namespace vmtest::cli {

int cmd_shell(const Options& o) {
  if (o.args.size() != 1) usage_error("vmtest shell wants one NODE");
  std::signal(SIGPIPE, SIG_IGN);
  const auto& node = o.args[0];
  auto info = broker::query(broker::attach_dir(o.state_dir));
  find_node(info, node);
  broker::BrokerChannel channel(info, node);
  bool tty = ::isatty(0);
  std::string cwd = "/";
  int last = 0;
  if (tty)
    std::fprintf(stderr,
                 "vmtest shell: root on %s, one line at a time (no terminal, no job control; the "
                 "working folder "
                 "carries over, variables do not). `exit` or Ctrl-D ends it.\n",
                 node.c_str());
  std::string line;
  for (;;) {
    if (tty) std::fprintf(stderr, "%s:%s# ", node.c_str(), cwd.c_str());
    if (!std::getline(std::cin, line)) break;
    // A trailing backslash continues the command on the next line.
    while (!line.empty() && line.back() == '\\') {
      std::string more;
      if (tty) std::fprintf(stderr, "> ");
      if (!std::getline(std::cin, more)) break;
      line += '\n';  // bash itself joins backslash-newline
      line += more;
    }
    if (trim(line).empty()) continue;
    if (trim(line) == "exit" || trim(line) == "logout") break;
    // Each line runs in a fresh subshell of the backdoor: restore the
    // folder, behave like an interactive shell (no `set -e`), report the
    // folder it ended in after a record separator on stderr.
    auto wrapped = fmt::format(
        "set +euo pipefail; cd {} 2>/dev/null || cd /\n{}\n__vmtest_rc=$?; printf '\\036%s' "
        "\"$PWD\" >&2; "
        "exit $__vmtest_rc",
        protocol::shell_quote(cwd), line);
    try {
      auto r = channel.run(wrapped, o.timeout, Repeat::once);
      auto sep = r.err.rfind('\x1e');
      if (sep != std::string::npos) {
        cwd = r.err.substr(sep + 1);
        r.err.resize(sep);
      }
      write_out(1, r.out);
      write_out(2, r.err);
      last = r.timed_out ? 124 : r.status;
      if (r.timed_out)
        std::fprintf(stderr, "vmtest shell: timed out after %.0f s (killed in the guest)\n",
                     seconds(o.timeout));
    } catch (const MachineDied& e) {
      std::fprintf(stderr, "vmtest shell: %s\n", e.what());
      return 255;
    } catch (const Error& e) {
      std::fprintf(stderr, "vmtest shell: %s\n", e.what());
      last = 255;
    }
  }
  return last;
}

}  // namespace vmtest::cli
