{
  description = "vmtest: C++ end-to-end tests for NixOS VM clusters running k0s";

  inputs = {
    nixpkgs.url = "github:NixOS/nixpkgs/nixos-26.05";
    k0s-nix = {
      # Pinned on purpose: the airgap bundle (nix/airgap.nix takes k0s_1_35's version, the hash
      # from nix/airgap-hashes.nix) and the unit name in the manifest follow the k0s this revision
      # packages. nix-community is the project's home since August 2026; github:johbo/k0s-nix is
      # the old fork, whose default branch only says so.
      url = "github:nix-community/k0s-nix/5d35844e711673fabced9eb689bf5d1b13f1628d";
      inputs.nixpkgs.follows = "nixpkgs";
    };
  };

  outputs =
    { nixpkgs, k0s-nix, ... }:
    let
      inherit (nixpkgs) lib;
      # Where k0s-nix has k0s and the airgap bundle has a release asset.
      systems = [
        "x86_64-linux"
        "aarch64-linux"
      ];
      perSystem = lib.genAttrs systems (
        system:
        import ./nix {
          pkgs = nixpkgs.legacyPackages.${system};
          inherit k0s-nix;
        }
      );
      each = output: lib.mapAttrs (_: outputs: outputs.${output}) perSystem;
    in
    {
      # default: vmtest; k0s-manifest, k0s-airgap-bundle, vmtest-workload-image, k0s-cluster,
      # airgap-hashes
      packages = each "packages";
      # unit, k0s-airgap, k0s-readiness, k0s-workload (KVM), manifest, nix-lib; docs/nix.md
      checks = each "checks";
      devShells = each "devShells";
      apps = each "apps";
      # `nix fmt`: nixfmt over the tree, as k0s-nix does.
      formatter = lib.genAttrs systems (system: nixpkgs.legacyPackages.${system}.nixfmt-tree);

      # For downstream flakes (docs/your-cluster.md): mkClusterTest { pkgs; name; nodes; roles; ... }
      # gives the checks, manifest and app of your own cluster, built with vmtest's pinned k0s-nix;
      # and the pure manifest generator (nix/lib) for flakes that build their own topologies.
      lib = import ./nix/lib // {
        mkClusterTest = import ./nix/cluster-test.nix { inherit k0s-nix; };
      };
    };
}
