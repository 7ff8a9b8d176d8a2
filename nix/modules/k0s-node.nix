# A NixOS test node that runs k0s for the k0s suites. Import it together with k0s-nix's
# nixosModules.default and set services.k0s.{package,role} (and controller.isLeader on the leader).
#
# Addresses are nixpkgs' own: the first VLAN NIC is eth1 with networking.primaryIPAddress
# (192.168.<vlan>.<node number>). Workers get no join token at build time: the readiness suite
# creates one on the controller and writes it to services.k0s.tokenFile, which k0s-nix's
# ConditionPathExists waits for.
{
  config,
  lib,
  pkgs,
  ...
}:
let
  cfg = config.vmtest.k0s;
  k0s = config.services.k0s;
  ip = config.networking.primaryIPAddress;
  # Only nodes that run the worker side import bundles (k0s's OCIBundleReconciler).
  workerSide = lib.elem k0s.role [
    "worker"
    "controller+worker"
    "single"
  ];
  imagesDir = "${toString k0s.dataDir}/images";
in
{
  options.vmtest.k0s = {
    enable = lib.mkEnableOption "k0s as the vmtest k0s suites expect it";

    apiAddress = lib.mkOption {
      type = lib.types.str;
      description = "VLAN address of the leading controller: spec.api.address and its only SAN.";
    };

    bundles = lib.mkOption {
      type = lib.types.attrsOf lib.types.path;
      default = { };
      description = ''
        Image archives (uncompressed OCI or Docker tars) copied to <dataDir>/images/<name> on
        worker-side nodes before k0s starts. The names become the manifest's k0s.airgap.bundles.
      '';
    };
  };

  config = lib.mkIf cfg.enable {
    services.k0s = {
      enable = true;
      spec.api = {
        address = cfg.apiAddress;
        sans = [ cfg.apiAddress ];
      };
      # Every VM has the same SLiRP eth0 (10.0.2.15); the kubelet must report the VLAN address.
      extraArgs = lib.optionalString workerSide "--kubelet-extra-args=--node-ip=${ip}";
    };

    # k0s-nix does not put k0s on PATH; the suites call `k0s` (manifest k0s.k0s) and parse JSON.
    environment.systemPackages = [
      k0s.package
      pkgs.jq
      pkgs.curl
    ];

    networking = {
      # BGP (179), VXLAN, pod and service traffic between nodes; k0s-nix's own tests do the same.
      firewall.enable = false;
      useDHCP = false;
      # Kubernetes needs a default route (kubernetes#57534); nixpkgs' k3s multi-node test routes it
      # to the node's own VLAN address in the same way. There is no way out: the cluster is airgapped.
      defaultGateway = {
        address = ip;
        interface = "eth1";
      };
      # CoreDNS forwards to the node's resolv.conf and will not start from an empty one; nothing
      # answers on this address, so outside names fail fast.
      nameservers = [ ip ];
    };

    boot.kernelModules = [
      "br_netfilter"
      "overlay"
    ];
    boot.kernel.sysctl = {
      "net.ipv4.ip_forward" = 1;
      "net.bridge.bridge-nf-call-iptables" = 1;
    };

    # Copies, not symlinks into the 9p-mounted store: the importer then reads a plain local file.
    systemd.tmpfiles.rules = lib.mkIf workerSide (
      [ "d ${imagesDir} 0755 root root -" ]
      ++ lib.mapAttrsToList (name: src: "C ${imagesDir}/${name} - - - - ${src}") cfg.bundles
    );

    assertions = [
      {
        assertion = config.virtualisation.vlans != [ ];
        message = "vmtest.k0s: the node needs a VLAN (virtualisation.vlans); its first NIC, eth1, carries k0s.";
      }
    ];
  };
}
