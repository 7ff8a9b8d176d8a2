// File: vmtest/mocks/command_channel.hpp
//
// gMock mock of the command seam. A Machine built on it runs all of its
// helpers (succeed, wait_until_succeeds, wait_for_unit, ...) for real against
// scripted command results, so suite logic is unit-tested without a VM:
//
//   auto channel = std::make_unique<NiceMock<MockCommandChannel>>();
//   ON_CALL(*channel, run(HasSubstr("get nodes"), _, _))
//       .WillByDefault(Return(vmtest::CommandResult{0, recorded_json, ""}));
//   vmtest::Machine ctrl("ctrl", std::move(channel));
#pragma once

#include <vmtest/command.hpp>

#include <gmock/gmock.h>

namespace vmtest::mocks {

class MockCommandChannel : public CommandChannel {
 public:
  MOCK_METHOD(CommandResult, run, (const std::string& command, Duration timeout, Repeat repeat),
              (override));
  MOCK_METHOD(CommandResult, upload, (const std::string& data, Duration timeout), (override));
  MOCK_METHOD(std::string, describe, (), (const, override));
};

// A CommandResult that exited with `status` and printed `out` (and `err`).
inline CommandResult result(int status, std::string out = {}, std::string err = {}) {
  return CommandResult{status, std::move(out), std::move(err), false};
}

}  // namespace vmtest::mocks
