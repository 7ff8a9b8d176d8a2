# The cluster, as mkClusterTest's argument. Only `images` needs more than nixpkgs' lib, so the
# rest evaluates without a nixpkgs checkout (vmtest's nix.real-lib evaluates it with stand-ins).
{
  pkgs,
  shopImage ? import ./image.nix { inherit pkgs; },
}:
{
  inherit pkgs;
  name = "shop";

  # Our own host configurations, imported as they are; vmtest adds k0s and the VLAN wiring.
  nodes = {
    ctrl = ./hosts/ctrl.nix;
    wrkr1 = ./hosts/worker.nix;
    wrkr2 = ./hosts/worker.nix;
  };
  # Applied to every node, like runNixOSTest's defaults.
  defaults = ./hosts/common.nix;
  roles = {
    ctrl = "controller";
    wrkr1 = "worker";
    wrkr2 = "worker";
  };
  globalTimeout = 3600;

  # Joins the airgap bundle; the airgap suite then checks that containerd has exactly
  # docker.io/acme/shop:1.0 besides k0s's own images.
  images = [ shopImage ];

  values = {
    # The workload suite applies these and waits for everything they declare.
    workloadManifests = ./k8s;
    # What our own suite (tests/shop_suite.cpp) expects the shop to answer.
    greeting = "hello from the shop";
    shopNodePort = 30180;
  };

  # vmtest's suites; our own is `shop` below.
  suites = [
    "airgap"
    "readiness"
    "workload"
  ];
  userSuites.shop = {
    src = ./tests;
    ctestArgs = [
      "-L"
      "^shop$"
    ];
  };
}
