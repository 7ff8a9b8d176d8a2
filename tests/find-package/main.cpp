// Uses the installed headers and libraries: a Machine over a mocked channel.
#include <vmtest/cluster_test.hpp>
#include <vmtest/mocks/command_channel.hpp>
#include <vmtest/mocks/fleet.hpp>
#include <vmtest/mocks/matchers.hpp>
#include <vmtest/vmtest.hpp>

#include <gmock/gmock.h>

using ::testing::_;
using ::testing::Return;

TEST(Consumer, MachineOverMock) {
  auto channel = std::make_unique<::testing::NiceMock<vmtest::mocks::MockCommandChannel>>();
  EXPECT_CALL(*channel, run("hostname", _, _)).WillOnce(Return(vmtest::mocks::result(0, "ctrl\n")));
  vmtest::Machine m("ctrl", std::move(channel));
  EXPECT_EQ(m.succeed("hostname"), "ctrl\n");
}

TEST(Consumer, ManifestErrorsNameTheKey) {
  EXPECT_THROW(vmtest::Manifest::parse(R"({"vms": {"a": {}}})", "/"), vmtest::ManifestError);
}

// The compiled part of vmtest::mocks: a fleet of mock machines and the error matchers.
TEST(Consumer, FleetAndErrorMatchers) {
  vmtest::mocks::Fleet fleet({"ctrl"});
  fleet.on("ctrl", "hostname", vmtest::mocks::result(0, "ctrl\n"));
  EXPECT_EQ(fleet.machine("ctrl").succeed("hostname"), "ctrl\n");
  EXPECT_THAT([&] { fleet.machine("ctrl").succeed("false"); },
              vmtest::mocks::ThrowsError(vmtest::ErrorKind::kCommandFailed));
}
