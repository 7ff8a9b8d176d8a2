// EndpointSlice readiness, shared by the workload suite's Service (kube.hpp
// service_endpoint_findings) and the user's Services (apps.hpp
// object_findings). The slices here are hand-written discovery/v1 objects
// (k8s.io/api v0.35.7 field names), cut to the fields the checks read; an
// address that is not a string is malformed input the checks must name, not
// trip over.
#include "vmtest/k0s/apps.hpp"
#include "vmtest/k0s/kube.hpp"

#include "endpoints.hpp"
#include "support.hpp"

namespace vmtest::k0s {
namespace {

using nlohmann::json;
using ::testing::ElementsAre;
using ::testing::IsEmpty;

json endpoint(json addresses, json conditions, const std::string& pod, const std::string& node) {
  return {{"addresses", std::move(addresses)},
          {"conditions", std::move(conditions)},
          {"nodeName", node},
          {"targetRef", {{"kind", "Pod"}, {"name", pod}}}};
}

json slice_list(json endpoints) {
  json slice = {{"apiVersion", "discovery.k8s.io/v1"},
                {"kind", "EndpointSlice"},
                {"addressType", "IPv4"},
                {"metadata", {{"name", "web-abcde"}, {"namespace", "shop"}}},
                {"endpoints", std::move(endpoints)}};
  return {{"apiVersion", "v1"}, {"kind", "List"}, {"items", json::array({slice})}};
}

json service() {
  return {{"apiVersion", "v1"},
          {"kind", "Service"},
          {"metadata", {{"name", "web"}, {"namespace", "shop"}}},
          {"spec", {{"type", "ClusterIP"}, {"selector", {{"app", "web"}}}}}};
}

TEST(K0sEndpoints, NotReadyEndpointsAreNamedByBothChecks) {
  auto slices =
      slice_list(json::array({endpoint({"10.244.1.7"}, {{"ready", true}}, "web-1", "wrkr1"),
                              endpoint({"10.244.2.5"}, {{"ready", false}}, "web-2", "wrkr2"),
                              // discovery/v1: a missing ready condition means ready.
                              endpoint({"10.244.2.6"}, json::object(), "web-3", "wrkr2")}));
  EXPECT_THAT(
      service_endpoint_findings(slices, "shop/web"),
      ElementsAre("Service shop/web: endpoint 10.244.2.5 (pod web-2 on wrkr2) is not ready"));
  EXPECT_THAT(
      object_findings(service(), slices),
      ElementsAre("Service shop/web: endpoint 10.244.2.5 (pod web-2 on wrkr2) is not ready"));
}

TEST(K0sEndpoints, AnAddressThatIsNotAStringIsShownAsAQuestionMark) {
  // The workload suite's copy of this loop read addresses[0] as a string
  // unchecked and threw nlohmann's type_error out of the poll instead.
  for (json address : {json(42), json(nullptr), json::object()}) {
    auto slices = slice_list(
        json::array({endpoint(json::array({address}), {{"ready", false}}, "web-2", "wrkr2")}));
    EXPECT_THAT(service_endpoint_findings(slices, "shop/web"),
                ElementsAre("Service shop/web: endpoint ? (pod web-2 on wrkr2) is not ready"))
        << address.dump();
    EXPECT_THAT(object_findings(service(), slices),
                ElementsAre("Service shop/web: endpoint ? (pod web-2 on wrkr2) is not ready"))
        << address.dump();
  }
}

TEST(K0sEndpoints, NoAddressesAtAll) {
  auto slices =
      slice_list(json::array({endpoint(json::array(), {{"ready", false}}, "web-2", "wrkr2"),
                              endpoint(nullptr, {{"ready", false}}, "web-3", "wrkr2")}));
  EXPECT_THAT(service_endpoint_findings(slices, "shop/web"),
              ElementsAre("Service shop/web: endpoint ? (pod web-2 on wrkr2) is not ready",
                          "Service shop/web: endpoint ? (pod web-3 on wrkr2) is not ready"));
}

TEST(K0sEndpoints, NoEndpointsIsAFindingWithEachChecksWording) {
  auto slices = slice_list(json::array());
  EXPECT_THAT(service_endpoint_findings(slices, "shop/web"),
              ElementsAre("Service shop/web: no endpoints (selector matches no ready pod, or the "
                          "pods are not Ready)"));
  EXPECT_THAT(object_findings(service(), slices),
              ElementsAre("Service shop/web: no endpoints (no ready pod matches its selector "
                          "app=web)"));
  auto ready =
      slice_list(json::array({endpoint({"10.244.1.7"}, {{"ready", true}}, "web-1", "wrkr1")}));
  EXPECT_THAT(service_endpoint_findings(ready, "shop/web"), IsEmpty());
  EXPECT_THAT(object_findings(service(), ready), IsEmpty());
}

TEST(K0sEndpoints, TheSharedReadingCountsAndNamesEndpoints) {
  json::array_t slices = {
      slice_list(
          json::array({endpoint({"10.244.1.7"}, {{"ready", false}}, "web-1", "wrkr1"),
                       endpoint({"10.244.1.8"}, {{"ready", true}}, "web-2", "wrkr1")}))["items"][0],
      // A slice without endpoints (the controller keeps an empty one).
      json{{"kind", "EndpointSlice"}},
      slice_list(json::array({endpoint({7}, {{"ready", false}}, "web-3", "wrkr2")}))["items"][0]};
  auto r = detail::endpoint_readiness(slices, "Service shop/web");
  EXPECT_EQ(r.endpoints, 3u);
  EXPECT_THAT(r.not_ready,
              ElementsAre("Service shop/web: endpoint 10.244.1.7 (pod web-1 on wrkr1) is not ready",
                          "Service shop/web: endpoint ? (pod web-3 on wrkr2) is not ready"));
  EXPECT_EQ(detail::endpoint_readiness({}, "x").endpoints, 0u);
  EXPECT_EQ(detail::endpoint_address(json{{"addresses", {"fd00::1"}}}), "fd00::1");
  EXPECT_EQ(detail::endpoint_address(json::object()), "?");
}

}  // namespace
}  // namespace vmtest::k0s
