#include "vmtest/mocks/fleet.hpp"

#include <vmtest/errors.hpp>

namespace vmtest::mocks {

using ::testing::_;

Fleet::Fleet(const std::vector<std::string>& names) {
  for (const auto& name : names) {
    auto c = std::make_unique<Channel>();
    channels_[name] = c.get();
    ON_CALL(*c, describe()).WillByDefault(::testing::Return("mock " + name));
    ON_CALL(*c, run(_, _, _))
        .WillByDefault(::testing::Return(result(99, "", "unscripted command")));
    // Lets tests add EXPECT_CALLs for some commands while the others keep
    // their ON_CALL answers.
    EXPECT_CALL(*c, run(_, _, _)).Times(::testing::AnyNumber());
    machines_[name] = std::make_unique<Machine>(name, std::move(c));
  }
}

Fleet::Channel& Fleet::channel(std::string_view name) {
  auto it = channels_.find(name);
  if (it == channels_.end()) throw UnknownMachine("the fleet has no machine " + std::string(name));
  return *it->second;
}

Machine& Fleet::machine(std::string_view name) {
  auto it = machines_.find(name);
  if (it == machines_.end())
    throw UnknownMachine("the fleet has no machine " + std::string(name) +
                         " (or cluster() took them)");
  return *it->second;
}

void Fleet::on(std::string_view name, std::string_view needle, CommandResult r) {
  ON_CALL(channel(name), run(::testing::HasSubstr(std::string(needle)), _, _))
      .WillByDefault(::testing::Return(std::move(r)));
}

std::unique_ptr<Cluster> Fleet::cluster(Manifest manifest) {
  std::vector<std::unique_ptr<Machine>> machines;
  for (auto& [name, m] : machines_) machines.push_back(std::move(m));
  machines_.clear();
  return std::make_unique<Cluster>(std::move(manifest), std::move(machines));
}

}  // namespace vmtest::mocks
