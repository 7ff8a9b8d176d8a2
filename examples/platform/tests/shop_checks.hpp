// The shop's checks, from the manifest's values (cluster.nix `values`).
#pragma once

#include <vmtest/machine.hpp>
#include <vmtest/manifest.hpp>
#include <vmtest/time.hpp>

#include <string>

namespace shop {

struct Expectation {
  std::string greeting;  // values.greeting
  int node_port = 0;     // values.shopNodePort
};

// Reads the values; a missing or mistyped one is a vmtest::ManifestError naming it.
Expectation expectation_from(const vmtest::Manifest& manifest);

// From `client`, GET http://<target_ip>:<node_port>/ until it answers (within `timeout`), and
// the body must be the greeting. Throws vmtest::k0s::CheckFailed naming what came back.
void require_greeting(vmtest::Machine& client, const std::string& target_ip,
                      const Expectation& expected, vmtest::Duration timeout);

}  // namespace shop
