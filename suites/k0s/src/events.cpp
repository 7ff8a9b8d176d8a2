// Events: the airgap suite's proof that no image came from the network.
#include "vmtest/k0s/kube.hpp"

#include "kube_json.hpp"

#include <fmt/format.h>

namespace vmtest::k0s {

using namespace detail;

namespace {

// Short "k=v" description of an event's subject: "kube-system/coredns-abc".
std::string event_subject(const json& e) {
  const auto& obj = member(e, "involvedObject");
  auto ns = str(obj, "namespace");
  auto name = str(obj, "name");
  auto kind = str(obj, "kind");
  std::string who = ns.empty() ? name : ns + "/" + name;
  return kind.empty() ? who : fmt::format("{} {}", kind, who);
}

std::string event_host(const json& e) {
  // kubelet (core/v1 recorder) sets source.host; the scheduler (events/v1)
  // only reportingInstance ("default-scheduler-<host>").
  auto host = str(member(e, "source"), "host");
  if (host.empty()) host = str(e, "reportingInstance");
  if (host.empty()) host = str(e, "reportingComponent");
  return host;
}

}  // namespace

Findings pulling_event_findings(const json& event_list) {
  Findings f;
  for (const auto& e : items_of(event_list)) {
    if (str(e, "reason") != "Pulling") continue;
    f.push_back(fmt::format("Pulling event for {} on {}: {}", event_subject(e), event_host(e),
                            str(e, "message")));
  }
  return f;
}

Findings pulled_event_findings(const json& event_list) {
  Findings f;
  for (const auto& e : items_of(event_list)) {
    if (str(e, "reason") != "Pulled") continue;
    auto message = str(e, "message");
    if (message.find("already present on machine") != std::string::npos) continue;
    f.push_back(fmt::format("Pulled event for {} on {} is not \"already present\": {}",
                            event_subject(e), event_host(e), message));
  }
  return f;
}

}  // namespace vmtest::k0s
