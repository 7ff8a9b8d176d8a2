// The options of the `vmtest` commands (cli.hpp).
#include "cli.hpp"

#include <fmt/format.h>

#include <cstdio>
#include <cstdlib>

namespace vmtest::cli {

extern const char* const kUsage;

void usage_error(const std::string& message) {
  std::fprintf(stderr, "vmtest: %s\n\n%s", message.c_str(), kUsage);
  std::exit(2);
}

void usage() {
  std::fputs(kUsage, stdout);
  std::exit(0);
}

namespace {

bool takes_value(const std::string& a) {
  return a == "--state-dir" || a == "--timeout";
}

bool is_help(const std::string& a) {
  return a == "-h" || a == "--help" || a == "help";
}

}  // namespace

std::string command_of(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--") return {};
    if (takes_value(a)) {
      ++i;
      continue;
    }
    if (is_help(a)) usage();
    if (a.size() > 1 && a[0] == '-') continue;
    return a;
  }
  return {};
}

Options parse(int argc, char** argv, const std::string& command, unsigned accepts) {
  Options o;
  o.command = command;
  bool seen_command = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&](const char* name) -> std::string {
      auto prefix = std::string(name) + "=";
      if (a.rfind(prefix, 0) == 0) return a.substr(prefix.size());
      if (i + 1 >= argc) usage_error(fmt::format("{} needs a value", name));
      return argv[++i];
    };
    auto take = [&](unsigned flag) {
      if (!(accepts & flag))
        usage_error(fmt::format("vmtest {} does not take {}", command, a.substr(0, a.find('='))));
    };
    if (a == "--") {
      for (++i; i < argc; ++i) o.rest.emplace_back(argv[i]);
      break;
    }
    if (is_help(a)) {
      usage();
    } else if (a == "--state-dir" || a.rfind("--state-dir=", 0) == 0) {
      take(kStateDir);
      o.state_dir = value("--state-dir");
    } else if (a == "--timeout" || a.rfind("--timeout=", 0) == 0) {
      take(kTimeout);
      auto v = value("--timeout");
      char* end = nullptr;
      double secs = std::strtod(v.c_str(), &end);
      if (!end || *end || secs <= 0)
        usage_error("--timeout wants a positive number of seconds, not " + v);
      o.timeout = Duration(static_cast<std::int64_t>(secs * 1000));
    } else if (a == "--keep-state") {
      take(kKeepState);
      o.keep_state = true;
    } else if (a == "--window") {
      take(kWindow);
      o.window = true;
    } else if (a == "-i" || a == "--stdin") {
      take(kStdin);
      o.stdin_data = true;
    } else if (a == "-f" || a == "--follow") {
      take(kFollow);
      o.follow = true;
    } else if (a.size() > 1 && a[0] == '-') {
      usage_error("unknown option " + a);
    } else if (!seen_command && a == command) {
      seen_command = true;
    } else {
      o.args.push_back(a);
    }
  }
  return o;
}

void write_out(int fd, const std::string& bytes) {
  if (!write_all(fd, bytes, Deadline::never())) {
    // The reader went away (a closed pipe); nothing left to tell it.
  }
}

std::string human_duration(double s) {
  auto t = static_cast<long>(s);
  if (t < 60) return fmt::format("{}s", t);
  if (t < 3600) return fmt::format("{}m{:02}s", t / 60, t % 60);
  return fmt::format("{}h{:02}m", t / 3600, (t % 3600) / 60);
}

const broker::NodeInfo& find_node(const broker::ClusterInfo& info, const std::string& name) {
  std::string known;
  for (const auto& n : info.nodes) {
    if (n.name == name) return n;
    known += (known.empty() ? "" : ", ") + n.name;
  }
  throw UnknownMachine(fmt::format("no node called \"{}\" in the cluster of {} (nodes: {})", name,
                                   info.describe(), known));
}

}  // namespace vmtest::cli
