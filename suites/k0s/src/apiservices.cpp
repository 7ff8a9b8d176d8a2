// APIServices: the aggregated metrics API k0s's own tests wait for.
#include "vmtest/k0s/kube.hpp"

#include "kube_json.hpp"

#include <fmt/format.h>

namespace vmtest::k0s {

using namespace detail;

Findings metrics_api_findings(const json& apiservice) {
  const auto& available = condition(apiservice, "Available");
  if (available.is_null()) return {"APIService v1beta1.metrics.k8s.io: no Available condition yet"};
  if (str(available, "status") != "True")
    return {fmt::format("APIService v1beta1.metrics.k8s.io: {}", describe_condition(available))};
  return {};
}

}  // namespace vmtest::k0s
