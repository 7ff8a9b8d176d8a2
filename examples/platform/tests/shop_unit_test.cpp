// The shop's checks against vmtest's mock command channel: no cluster needed.
#include "shop_checks.hpp"

#include <vmtest/k0s/check.hpp>
#include <vmtest/mocks/command_channel.hpp>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace {

using ::testing::_;
using ::testing::HasSubstr;
using ::testing::NiceMock;
using ::testing::Return;

vmtest::Manifest manifest() {
  return vmtest::Manifest::load(std::string(SHOP_TESTDATA) + "/manifest.json");
}

struct Node {
  NiceMock<vmtest::mocks::MockCommandChannel>* channel;
  std::unique_ptr<vmtest::Machine> machine;
};

Node mock_node() {
  auto c = std::make_unique<NiceMock<vmtest::mocks::MockCommandChannel>>();
  auto* raw = c.get();
  ON_CALL(*raw, describe()).WillByDefault(Return("mock"));
  return Node{raw, std::make_unique<vmtest::Machine>("ctrl", std::move(c))};
}

TEST(Shop, ReadsItsValues) {
  auto e = shop::expectation_from(manifest());
  EXPECT_EQ(e.greeting, "hello from the shop");
  EXPECT_EQ(e.node_port, 30180);
}

TEST(Shop, AMissingValueNamesIt) {
  auto m = vmtest::Manifest::parse(
      R"({"vms": {"ctrl": {"start_script": "/a"}}, "values": {"greeting": "hi"}})", "/", "m.json");
  try {
    shop::expectation_from(m);
    ADD_FAILURE() << "no error";
  } catch (const vmtest::ManifestError& e) {
    EXPECT_THAT(e.what(), HasSubstr("values.shopNodePort: missing"));
  }
}

TEST(Shop, GreetingMatches) {
  auto n = mock_node();
  EXPECT_CALL(*n.channel,
              run(HasSubstr("curl -sS -f --max-time 5 'http://192.168.1.2:30180/'"), _, _))
      .WillOnce(Return(vmtest::mocks::result(0, "hello from the shop\n")));
  shop::require_greeting(*n.machine, "192.168.1.2", shop::expectation_from(manifest()),
                         std::chrono::seconds(5));
}

TEST(Shop, AnotherAnswerIsNamed) {
  auto n = mock_node();
  ON_CALL(*n.channel, run(_, _, _)).WillByDefault(Return(vmtest::mocks::result(0, "It works!\n")));
  try {
    shop::require_greeting(*n.machine, "192.168.1.2", shop::expectation_from(manifest()),
                           std::chrono::seconds(5));
    ADD_FAILURE() << "no error";
  } catch (const vmtest::k0s::CheckFailed& e) {
    EXPECT_THAT(e.summary(), HasSubstr("answered something else"));
    EXPECT_THAT(e.findings().at(0),
                HasSubstr("expected \"hello from the shop\", got \"It works!\n\""));
  }
}

}  // namespace
