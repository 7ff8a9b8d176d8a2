// File: vmtest/mocks/fleet.hpp
//
// A fleet of mock machines: one Machine per name over a MockCommandChannel,
// so suite logic that walks several machines (or a whole Cluster) is tested
// without VMs. Every command that no ON_CALL answers fails with status 99
// and "unscripted command" on stderr, so a missing answer shows.
//
//   vmtest::mocks::Fleet fleet({"ctrl", "wrkr1"});
//   fleet.on("ctrl", "k0s status", vmtest::mocks::result(0, recorded));
//   auto cluster = fleet.cluster(manifest);   // a vmtest::Cluster of them
#pragma once

#include <vmtest/cluster.hpp>
#include <vmtest/mocks/command_channel.hpp>

#include <gmock/gmock.h>

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace vmtest::mocks {

class Fleet {
 public:
  using Channel = ::testing::NiceMock<MockCommandChannel>;

  explicit Fleet(const std::vector<std::string>& names);

  // The mock behind `name` (valid while its Machine lives).
  Channel& channel(std::string_view name);
  // The machine `name`; until cluster() takes them.
  Machine& machine(std::string_view name);
  // Answers commands that contain `needle` on `name` with `r` from now on.
  void on(std::string_view name, std::string_view needle, CommandResult r);
  // The machines as a Cluster of `manifest` (as an attached cluster is
  // built: no VLANs, no state folder). Takes the machines: call it once.
  std::unique_ptr<Cluster> cluster(Manifest manifest);

 private:
  std::map<std::string, Channel*, std::less<>> channels_;
  std::map<std::string, std::unique_ptr<Machine>, std::less<>> machines_;
};

}  // namespace vmtest::mocks
