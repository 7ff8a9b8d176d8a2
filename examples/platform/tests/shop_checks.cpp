#include "shop_checks.hpp"

#include <vmtest/errors.hpp>
#include <vmtest/k0s/check.hpp>
#include <vmtest/protocol.hpp>

#include <fmt/format.h>

namespace shop {

Expectation expectation_from(const vmtest::Manifest& manifest) {
  return Expectation{manifest.value<std::string>("greeting"), manifest.value<int>("shopNodePort")};
}

void require_greeting(vmtest::Machine& client, const std::string& target_ip,
                      const Expectation& expected, vmtest::Duration timeout) {
  auto url = fmt::format("http://{}:{}/", target_ip, expected.node_port);
  auto command = fmt::format("curl -sS -f --max-time 5 {}", vmtest::protocol::shell_quote(url));
  std::string body;
  try {
    body = vmtest::k0s::run_until(client, command, timeout);
  } catch (const vmtest::TimeoutError& e) {
    throw vmtest::k0s::CheckFailed(
        fmt::format("the shop did not answer {} from {}:", url, client.name()), {e.message()},
        client.context(command));
  }
  // httpd serves the ConfigMap's file as it is, newline included.
  if (body != expected.greeting + "\n")
    throw vmtest::k0s::CheckFailed(
        fmt::format("the shop at {} answered something else:", url),
        {fmt::format("expected \"{}\", got \"{}\"", expected.greeting, body)},
        client.context(command));
}

}  // namespace shop
