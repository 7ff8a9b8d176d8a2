# A k0s cluster as a nixpkgs NixOS test module. With only the first four arguments it is the k0s
# suites' own cluster: one controller and two workers on VLAN 1 (k0s-settings.nix). mkClusterTest
# (../cluster-test.nix) builds a user's cluster with it, passing their nodes, roles and defaults.
# Evaluate it with pkgs.testers.runNixOSTest; the start scripts, NICs, MACs and addresses are then
# nixpkgs' own. ctest runs the suites on it, never the Python driver.
{
  k0sModule, # k0s-nix's nixosModules.default
  k0sPackage,
  bundles, # { "<file name>" = <tar>; } for <dataDir>/images on worker-side nodes
  settings ? import ./k0s-settings.nix,
  # No 9p mounts, the store as a disk image: vmtest can snapshot the nodes (docs/snapshots.md).
  snapshotCapable ? false,
  name ? "vmtest-k0s",
  # Node name -> services.k0s.role; nodes not named here are plain VMs beside the cluster.
  roles ? settings.roles,
  globalTimeout ? settings.globalTimeout,
  # Node name -> NixOS module (the user's host configuration); ours get only their sizes.
  nodes ? null,
  defaults ? { },
}:
{ lib, ... }:
let
  # The first controller by name leads: it needs no token and serves the API for the others.
  controllers = lib.filter (
    n:
    lib.elem roles.${n} [
      "controller"
      "controller+worker"
      "single"
    ]
  ) (lib.attrNames roles);
  leader =
    if controllers == [ ] then
      throw "vmtest ${name}: roles: no controller (one node needs controller, controller+worker or single)"
    else
      lib.head controllers;

  # MiB. k0s controllers want >= 2048; test VMs panic on OOM (vm.panic_on_oom = 2). Worker disks
  # hold the bundle copy plus the unpacked images; the 1024 default fills up at once.
  resources =
    role:
    {
      memorySize = 3072;
      cores = 2;
    }
    // (if role == "controller" then { diskSize = 4096; } else { diskSize = 8192; });

  nodeModules = if nodes == null then lib.mapAttrs (_: role: { virtualisation = resources role; }) roles else nodes;
  strayRole = lib.filter (n: !(nodeModules ? ${n})) (lib.attrNames roles);

  # What vmtest adds to a node with a role; the user's module comes first in imports, so their
  # own values merge with these as NixOS merges any two modules.
  k0sPart =
    n:
    lib.optionalAttrs (roles ? ${n}) {
      vmtest.k0s.enable = true;
      # controller.isLeader exists only on controller roles (k0s-nix declares it conditionally).
      services.k0s = {
        role = roles.${n};
      }
      // lib.optionalAttrs (n == leader && roles.${n} != "single") { controller.isLeader = true; };
    };
in
if strayRole != [ ] then
  throw "vmtest ${name}: roles.${lib.head strayRole}: no node of that name"
else
  {
    inherit name globalTimeout;

    # Required by nixpkgs' test modules before its driver attributes evaluate; the suites are gtest
    # binaries that ctest runs, so the Python driver never sees this.
    testScript = "";

    defaults =
      { nodes, ... }:
      {
        imports = [
          k0sModule
          ../modules/k0s-node.nix
        ]
        ++ lib.optional snapshotCapable ../modules/snapshot-capable.nix
        ++ lib.optional (defaults != { }) defaults;
        services.k0s.package = k0sPackage;
        vmtest.k0s = {
          apiAddress = nodes.${leader}.networking.primaryIPAddress;
          inherit bundles;
        };
      };

    nodes = lib.mapAttrs (n: module: {
      imports = [
        module
        (k0sPart n)
      ];
    }) nodeModules;
  }
