# The k0s cluster of the k0s suites, as plain data: read by the topology (k0s-cluster.nix), the
# airgap files (../airgap.nix) and the golden test of the manifest (../lib/tests/cases.nix), so the
# manifest the checks hand to ctest and nix/lib/tests/golden/k0s-manifest.json cannot drift apart.
{
  # Node name -> services.k0s.role. nixpkgs numbers nodes in name order, so on VLAN 1 these are
  # 192.168.1.1, .2 and .3. The first controller (by name) leads and serves the API.
  roles = {
    ctrl = "controller";
    wrkr1 = "worker";
    wrkr2 = "worker";
  };

  globalTimeout = 3600;

  # File names in <dataDir>/images on every worker-side node.
  bundleFiles = {
    release = "k0s-airgap-bundle.tar";
    workload = "vmtest-workload.tar";
  };

  # The workload image built with dockerTools (../airgap.nix). containerd normalises the short
  # name in the archive to docker.io/vmtest/echo:1, the reference the suites use.
  workloadImage = {
    name = "vmtest/echo";
    tag = "1";
  };

  # Of airgap.images below, the ones in k0s's own bundle; mkClusterTest (../cluster-test.nix)
  # puts the user's images after them.
  releaseImages = [ "quay.io/k0sproject/pause:3.10.1" ];

  # The manifest's k0s section, less what is read from the nodes (unit, token file, bundle
  # folder and bundle names; see ../lib/from-test.nix).
  k0s = {
    binary = "k0s";
    airgap = {
      # pause is in k0s 1.35.7's bundle; the suites also check all of `list-images --all`.
      images = [
        "quay.io/k0sproject/pause:3.10.1"
        "docker.io/vmtest/echo:1"
      ];
      listImages = true;
      # k0s-nix cannot render spec.images.default_pull_policy (its spec.images is attrsOf attrTag,
      # which nests every value one level down), so k0s keeps its default. IfNotPresent never pulls
      # an image that the bundle imported; see docs/nix.md.
      pullPolicy = "IfNotPresent";
    };
    workload = {
      image = "docker.io/vmtest/echo:1";
      port = 8080;
      nodePort = 30080;
      replicas = 2;
      namespace = "vmtest-workload";
    };
    timeouts = {
      api = 900;
      nodeReady = 1500;
      rollout = 900;
    };
  };
}
