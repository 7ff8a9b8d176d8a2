// File: vmtest/k0s/airgap.hpp
//
// The airgap checks (reference section 2): the bundle is on every
// worker-side node, k0s imported it, every expected image is present,
// complete and pinned in containerd's k8s.io namespace (through `k0s ctr`,
// with the vmtest::containerd layer), nothing was pulled, a registry pull
// fails, and k0s's own workloads carry the configured pull policy.
//
// Pure controllers are skipped by the per-node checks: they run no kubelet
// and k0s does not import bundles there.
#pragma once

#include "vmtest/k0s/check.hpp"
#include "vmtest/k0s/config.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace vmtest::k0s {

// Each bundle of the manifest is a non-empty file in bundle_dir; no folder
// sits there.
void require_bundles_present(Machine& node, const K0sConfig& cfg);

// The images `node` must hold: the manifest's airgap.images and, with
// airgap.list_images, `k0s airgap list-images --all` on the node (in that
// order, without duplicates).
std::vector<std::string> expected_images(Machine& node, const K0sConfig& cfg);

// Every expected image is named in the index of one of the bundles; a
// missing one means the bundle lacks it (or bundle and k0s versions differ).
void require_bundles_cover(Machine& node, const K0sConfig& cfg,
                           const std::vector<std::string>& expected);

// Polls `k0s ctr images ls` (up to timeouts.node_ready) until every expected
// image is pinned and labelled io.k0sproject.ocibundle-paths with one of the
// manifest's bundles, and every bundle is named by some image
// (bundle_label_findings). A "Failed to load OCI bundle" journal line fails
// at once; how far the journal got is added to the findings.
void wait_bundles_imported(Machine& node, const K0sConfig& cfg,
                           const std::vector<std::string>& expected);

// Through `k0s ctr`: every expected image listed, `images check` complete,
// pinned, and carrying the io.k0sproject.ocibundle-paths label. Throws
// containerd::ImagesMissing (a CheckFailed, one "<ref>: <problem>" finding
// per problem).
void require_images_imported(Machine& node, const K0sConfig& cfg,
                             const std::vector<std::string>& expected);

// On the leader: no Pulling event, and every Pulled event of a pod says the
// image was already present.
void require_no_pulls(Machine& leader, const K0sConfig& cfg);

// `k0s ctr images pull <ref>` fails, and so does HTTPS to quay.io (when
// curl is there).
void require_registry_unreachable(Machine& node, const K0sConfig& cfg, std::string_view ref);

// On the leader: every container of the kube-system DaemonSets and
// Deployments has imagePullPolicy == airgap.pull_policy.
void require_pull_policy(Machine& leader, const K0sConfig& cfg);

}  // namespace vmtest::k0s
