// Test support: recordings from suites/k0s/testdata/, the test manifest's
// K0sConfig with polling shortened, and a three-node fleet (ctrl, wrkr1,
// wrkr2) of Machines over mocked command channels.
#pragma once

#include "vmtest/k0s/check.hpp"
#include "vmtest/k0s/config.hpp"

#include <vmtest/files.hpp>
#include <vmtest/machine.hpp>
#include <vmtest/manifest.hpp>
#include <vmtest/mocks/command_channel.hpp>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <memory>
#include <string>

namespace vmtest::k0s::testing {

// A file of testdata/; NotFound naming its path when it is not there.
inline std::string recording(const std::string& name) {
  return read_file(std::filesystem::path(VMTEST_K0S_TESTDATA) / name);
}

inline CommandResult ok(std::string out) {
  return mocks::result(0, std::move(out));
}
inline CommandResult file(const std::string& name) {
  return ok(recording(name));
}
// What a guest-side retry loop returns when its deadline ends.
inline CommandResult timed_out(int status, std::string out = {}, std::string err = {}) {
  return CommandResult{status, std::move(out), std::move(err), true};
}

inline Manifest test_manifest() {
  return Manifest::parse(recording("manifest.json"), VMTEST_K0S_TESTDATA, "manifest.json");
}

// The test manifest's config; every wait evaluates once (no sleeping).
inline K0sConfig test_config() {
  auto cfg = K0sConfig::from_manifest(test_manifest());
  cfg.timeouts.api = cfg.timeouts.node_ready = cfg.timeouts.rollout = cfg.timeouts.network =
      Duration(0);
  cfg.timeouts.poll_interval = Duration(0);
  return cfg;
}

// The failure of `fn` as CheckFailed (fails the test when there is none).
template <class Fn>
CheckFailed check_failure(Fn fn) {
  try {
    fn();
  } catch (const CheckFailed& e) {
    return e;
  }
  ADD_FAILURE() << "no CheckFailed thrown";
  return CheckFailed("(none)", {});
}

class Fleet : public ::testing::Test {
 protected:
  Fleet() : cfg(test_config()) {
    for (const char* name : {"ctrl", "wrkr1", "wrkr2"}) {
      auto c = std::make_unique<::testing::NiceMock<mocks::MockCommandChannel>>();
      channels[name] = c.get();
      ON_CALL(*c, describe()).WillByDefault(::testing::Return("mock"));
      // Anything not scripted fails loudly, so a missing ON_CALL shows.
      ON_CALL(*c, run(::testing::_, ::testing::_, ::testing::_))
          .WillByDefault(::testing::Return(mocks::result(99, "", "unscripted command")));
      // Lets tests add EXPECT_CALLs for some commands while the others keep
      // their ON_CALL answers.
      EXPECT_CALL(*c, run(::testing::_, ::testing::_, ::testing::_)).Times(::testing::AnyNumber());
      machines[name] = std::make_unique<Machine>(name, std::move(c));
    }
  }
  ::testing::NiceMock<mocks::MockCommandChannel>& channel(const std::string& name) {
    return *channels.at(name);
  }
  Machine& node(const std::string& name) { return *machines.at(name); }
  NodeLookup lookup() {
    return [this](std::string_view n) -> Machine& { return *machines.at(std::string(n)); };
  }
  // Answers commands containing `needle` on `name` with `r` from now on.
  void on(const std::string& name, const std::string& needle, CommandResult r) {
    ON_CALL(channel(name), run(::testing::HasSubstr(needle), ::testing::_, ::testing::_))
        .WillByDefault(::testing::Return(r));
  }

  K0sConfig cfg;
  std::map<std::string, ::testing::NiceMock<mocks::MockCommandChannel>*> channels;
  std::map<std::string, std::unique_ptr<Machine>> machines;
};

}  // namespace vmtest::k0s::testing
