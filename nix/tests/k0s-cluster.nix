# The k0s suites' cluster as a nixpkgs NixOS test module: one controller and two workers on
# VLAN 1 (k0s-settings.nix). Evaluate it with pkgs.testers.runNixOSTest; the start scripts, NICs,
# MACs and addresses are then nixpkgs' own. ctest runs the suites on it, never the Python driver.
{
  k0sModule, # k0s-nix's nixosModules.default
  k0sPackage,
  bundles, # { "<file name>" = <tar>; } for <dataDir>/images on worker-side nodes
  settings ? import ./k0s-settings.nix,
  # No 9p mounts, the store as a disk image: vmtest can snapshot the nodes (docs/snapshots.md).
  snapshotCapable ? false,
}:
{ lib, ... }:
let
  inherit (settings) roles;

  # The first controller by name leads: it needs no token and serves the API for the others.
  leader = lib.head (
    lib.filter (
      name:
      lib.elem roles.${name} [
        "controller"
        "controller+worker"
        "single"
      ]
    ) (lib.attrNames roles)
  );

  # MiB. k0s controllers want >= 2048; test VMs panic on OOM (vm.panic_on_oom = 2). Worker disks
  # hold the bundle copy plus the unpacked images; the 1024 default fills up at once.
  resources =
    role:
    {
      memorySize = 3072;
      cores = 2;
    }
    // (if role == "controller" then { diskSize = 4096; } else { diskSize = 8192; });
in
{
  name = "vmtest-k0s";

  # Required by nixpkgs' test modules before its driver attributes evaluate; the suites are gtest
  # binaries that ctest runs, so the Python driver never sees this.
  testScript = "";

  inherit (settings) globalTimeout;

  defaults =
    { nodes, ... }:
    {
      imports = [
        k0sModule
        ../modules/k0s-node.nix
      ]
      ++ lib.optional snapshotCapable ../modules/snapshot-capable.nix;
      services.k0s.package = k0sPackage;
      vmtest.k0s = {
        enable = true;
        apiAddress = nodes.${leader}.networking.primaryIPAddress;
        inherit bundles;
      };
    };

  nodes = lib.mapAttrs (name: role: {
    # controller.isLeader exists only on controller roles (k0s-nix declares it conditionally).
    services.k0s = {
      inherit role;
    }
    // lib.optionalAttrs (name == leader && role != "single") { controller.isLeader = true; };
    virtualisation = resources role;
  }) roles;
}
