# A platform team's flake that tests its own cluster with vmtest (docs/your-cluster.md): its own
# host configurations (hosts/), its own image (image.nix), its own manifests (k8s/), vmtest's
# three k0s suites and one C++ suite of its own (tests/) that reads a value from Nix.
#
#   nix flake check -L              # k0s-airgap, k0s-readiness, k0s-workload, shop (KVM)
#   nix run .#cluster               # the cluster, kept up with `vmtest up`
#   nix build .#manifest && jq . result
{
  inputs = {
    # In your flake: github:<owner>/vmtest (a fixed revision). Here: this repository.
    vmtest.url = "path:../..";
    nixpkgs.follows = "vmtest/nixpkgs";
  };

  outputs =
    { vmtest, nixpkgs, ... }:
    let
      system = "x86_64-linux";
      pkgs = nixpkgs.legacyPackages.${system};
      cluster = vmtest.lib.mkClusterTest (import ./cluster.nix { inherit pkgs; });
    in
    {
      checks.${system} = cluster.checks;
      packages.${system} = {
        manifest = cluster.manifestFile;
        shop-image = import ./image.nix { inherit pkgs; };
      };
      apps.${system}.cluster = cluster.app;
    };
}
