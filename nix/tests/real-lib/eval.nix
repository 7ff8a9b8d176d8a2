# The Nix side evaluated against the real nixpkgs lib and the real k0s-nix module (run.sh brings
# both into /tmp; nothing of theirs is in this repository).
#
# nixpkgs itself is not here, so the NixOS options our modules and k0s-nix's touch are declared
# by typed stand-ins below, with the types, defaults and own definitions of the nixpkgs modules
# that declare them (docs/nix.md, "nixpkgs and k0s-nix options this relies on", says where each
# was read). Every node of nix/tests/k0s-cluster.nix goes through lib.evalModules with k0s-nix's
# module and ours, so an option we set that does not exist, a value of the wrong type, or a failing
# assertion of any module stops the evaluation or shows in the result.
{
  libPath, # a nixpkgs.lib checkout (its lib/ folder inside)
  k0sNixPath, # a k0s-nix checkout
  repo, # this repository
  flakeSource, # this repository's git-tracked files, as a flake copies them (for lib.fileset)
}:
let
  lib = import (libPath + "/lib");
  t = lib.types;
  inherit (lib) mkOption;

  settings = import (repo + "/nix/tests/k0s-settings.nix");
  vmlib = import (repo + "/nix/lib");

  # A stand-in derivation: what lib.types.package and string interpolation need.
  fakeDrv =
    name: attrs:
    {
      type = "derivation";
      inherit name;
      outPath = "/nix/store/00000000000000000000000000000000-${name}";
      drvPath = "/nix/store/00000000000000000000000000000000-${name}.drv";
    }
    // attrs;

  # The k0s the pinned k0s-nix packages as k0s_1_35: its version from k0s-nix's own release file.
  k0sRelease = import (k0sNixPath + "/k0s/1_35.nix");
  k0sPackage = fakeDrv "k0s-${k0sRelease.version}" {
    pname = "k0s";
    inherit (k0sRelease) version;
  };

  pkgs = {
    jq = fakeDrv "jq" { };
    curl = fakeDrv "curl" { };
    kmod = fakeDrv "kmod" { };
    util-linux = fakeDrv "util-linux" { };
    mount = fakeDrv "mount" { };
    k0s = k0sPackage;
    # nixpkgs' formats.yaml: the value must serialise (toJSON forces all of k0s's spec).
    formats.yaml = _: {
      type = t.anything;
      generate = name: value: builtins.seq (builtins.toJSON value) (fakeDrv name { });
    };
  };

  # --- NixOS options touched by nix/modules/*.nix and k0s-nix's nixos/k0s.nix -----------------------
  nixosStandIns =
    { config, name, ... }:
    let
      cfg = config.virtualisation;
    in
    {
      options = {
        # nixos/modules/misc/assertions.nix
        assertions = mkOption {
          type = t.listOf t.unspecified;
          default = [ ];
        };
        warnings = mkOption {
          type = t.listOf t.str;
          default = [ ];
        };
        # nixos/modules/system/build.nix
        system.build = mkOption {
          type = t.lazyAttrsOf t.unspecified;
          default = { };
        };
        # nixos/modules/tasks/network-interfaces.nix, services/networking/firewall.nix
        networking = {
          firewall.enable = mkOption {
            type = t.bool;
            default = true;
          };
          useDHCP = mkOption {
            type = t.bool;
            default = true;
          };
          defaultGateway = mkOption {
            type = t.nullOr (
              t.coercedTo t.str (address: { inherit address; }) (
                t.submodule {
                  options = {
                    address = mkOption { type = t.str; };
                    interface = mkOption {
                      type = t.nullOr t.str;
                      default = null;
                    };
                    metric = mkOption {
                      type = t.nullOr t.int;
                      default = null;
                    };
                    source = mkOption {
                      type = t.nullOr t.str;
                      default = null;
                    };
                  };
                }
              )
            );
            default = null;
          };
          nameservers = mkOption {
            type = t.listOf t.str;
            default = [ ];
          };
          # nixos/modules/virtualisation/qemu-vm.nix
          primaryIPAddress = mkOption {
            type = t.str;
            default = "";
            internal = true;
          };
        };
        # nixos/modules/system/boot/kernel.nix, config/sysctl.nix
        boot.kernelModules = mkOption {
          type = t.listOf t.str;
          default = [ ];
        };
        boot.kernel.sysctl = mkOption {
          type = t.attrsOf (
            t.nullOr (
              t.oneOf [
                t.bool
                t.str
                t.int
              ]
            )
          );
          default = { };
        };
        # nixos/modules/system/boot/systemd/tmpfiles.nix
        systemd.tmpfiles.rules = mkOption {
          type = t.listOf t.str;
          default = [ ];
        };
        # nixos/modules/system/boot/systemd.nix (only what k0s-nix sets is typed)
        systemd.services = mkOption {
          type = t.attrsOf (
            t.submodule {
              freeformType = t.attrsOf t.anything;
              options = {
                serviceConfig = mkOption {
                  type = t.attrsOf t.anything;
                  default = { };
                };
                unitConfig = mkOption {
                  type = t.attrsOf t.anything;
                  default = { };
                };
                wantedBy = mkOption {
                  type = t.listOf t.str;
                  default = [ ];
                };
              };
            }
          );
          default = { };
        };
        # nixos/modules/config/system-path.nix, system/etc/etc.nix, config/users-groups.nix
        environment.systemPackages = mkOption {
          type = t.listOf t.package;
          default = [ ];
        };
        environment.etc = mkOption {
          type = t.attrsOf (
            t.submodule {
              freeformType = t.attrsOf t.anything;
              options.source = mkOption { type = t.path; };
            }
          );
          default = { };
        };
        users.users = mkOption {
          type = t.attrsOf (t.submodule { freeformType = t.attrsOf t.anything; });
          default = { };
        };
        # nixos/modules/virtualisation/qemu-vm.nix and disk-size-option.nix
        virtualisation = {
          memorySize = mkOption {
            type = t.ints.positive;
            default = 1024;
          };
          cores = mkOption {
            type = t.ints.positive;
            default = 1;
          };
          diskSize = mkOption {
            type = t.either (t.enum [ "auto" ]) t.ints.positive;
            default = 1024; # qemu-vm.nix sets diskSizeAutoSupported = false
          };
          vlans = mkOption {
            type = t.listOf t.ints.unsigned;
            default = if cfg.interfaces == { } then [ 1 ] else [ ];
          };
          interfaces = mkOption {
            type = t.attrsOf (
              t.submodule {
                options = {
                  vlan = mkOption { type = t.ints.unsigned; };
                  assignIP = mkOption {
                    type = t.bool;
                    default = false;
                  };
                };
              }
            );
            default = { };
          };
          useNixStoreImage = mkOption {
            type = t.bool;
            default = false;
          };
          useBootLoader = mkOption {
            type = t.bool;
            default = false;
          };
          mountHostNixStore = mkOption {
            type = t.bool;
            default = !cfg.useNixStoreImage && !cfg.useBootLoader;
          };
          sharedDirectories = mkOption {
            type = t.attrsOf (
              t.submodule {
                options = {
                  source = mkOption { type = t.str; };
                  target = mkOption { type = t.path; };
                  securityModel = mkOption {
                    type = t.enum [
                      "passthrough"
                      "mapped-xattr"
                      "mapped-file"
                      "none"
                    ];
                    default = "mapped-xattr";
                  };
                };
              }
            );
            default = { };
          };
        };
      };

      # What qemu-vm.nix defines itself, and the test framework's VM (system.build.vm).
      config = {
        virtualisation.sharedDirectories = {
          nix-store = lib.mkIf cfg.mountHostNixStore {
            source = builtins.storeDir;
            target = "/nix/.ro-store";
            securityModel = "none";
          };
          xchg = {
            source = ''"$TMPDIR"/xchg'';
            securityModel = "none";
            target = "/tmp/xchg";
          };
          shared = {
            source = ''"''${SHARED_DIR:-$TMPDIR/xchg}"'';
            target = "/tmp/shared";
            securityModel = "none";
          };
        };
        system.build.vm = fakeDrv "nixos-vm" { meta.mainProgram = "run-${name}-vm"; };
      };
    };

  # --- the test framework (nixos/lib/testing): the test module, then one NixOS evaluation per node ---
  testOptions = {
    options = {
      name = mkOption { type = t.str; };
      testScript = mkOption { type = t.either t.str (t.functionTo t.str); };
      globalTimeout = mkOption {
        type = t.int;
        default = 60 * 60;
      };
      defaults = mkOption {
        type = t.deferredModule;
        default = { };
      };
      nodes = mkOption {
        type = t.lazyAttrsOf t.deferredModule;
        default = { };
      };
    };
  };

  evalTest =
    snapshotCapable:
    evalTopology (
      import (repo + "/nix/tests/k0s-cluster.nix") {
        k0sModule = k0sNixPath + "/nixos/k0s.nix";
        inherit k0sPackage settings snapshotCapable;
        # nix/airgap.nix's, as nix/default.nix passes them (no hash yet: the failing stand-in).
        inherit (airgapNoHashes) bundles;
      }
    );

  # A test module through the test framework's options, then each node through NixOS's.
  evalTopology =
    topology:
    let
      test = (lib.evalModules { modules = [ testOptions topology ]; }).config;
      names = lib.attrNames test.nodes; # nixpkgs numbers nodes in name order (network.nix)
      nodeConfig =
        index: name:
        (lib.evalModules {
          modules = [
            nixosStandIns
            test.defaults
            test.nodes.${name}
            (
              { config, ... }:
              {
                _module.args = {
                  inherit pkgs name;
                  nodes = configs;
                };
                # nixos/lib/testing/network.nix: 192.168.<vlan>.<node number> on the first VLAN.
                networking.primaryIPAddress = lib.optionalString (config.virtualisation.vlans != [ ]) "192.168.${toString (lib.head config.virtualisation.vlans)}.${toString index}";
              }
            )
          ];
        }).config;
      configs = lib.listToAttrs (lib.imap1 (i: n: lib.nameValuePair n (nodeConfig i n)) names);
    in
    {
      inherit test configs;
    };

  plain = evalTest false;
  snap = evalTest true;

  nodeReport =
    name: c:
    let
      k = c.services.k0s;
      failed = map (a: a.message) (lib.filter (a: !a.assertion) c.assertions);
    in
    # Forcing the whole config checks that every definition has a declared option.
    builtins.seq (builtins.deepSeq (builtins.toJSON {
      inherit (c) networking boot virtualisation;
      tmpfiles = c.systemd.tmpfiles.rules;
      etc = c.environment.etc;
    }) c) {
      inherit (k) role extraArgs;
      dataDir = toString k.dataDir;
      tokenFile = toString k.tokenFile;
      isLeader = k.controller.isLeader or null;
      api = { inherit (k.spec.api) address sans; };
      ip = c.networking.primaryIPAddress;
      assertions = lib.length c.assertions;
      failedAssertions = failed;
      inherit (c) warnings;
      unit = lib.attrNames c.systemd.services;
      execStart = c.systemd.services.k0s.serviceConfig.ExecStart;
      unitConfig = c.systemd.services.k0s.unitConfig;
      tmpfiles = c.systemd.tmpfiles.rules;
      k0sYaml = c.environment.etc."k0s/k0s.yaml".source.name;
      defaultGateway = c.networking.defaultGateway;
    };

  # The manifest from the evaluated nodes, as nix/default.nix makes it (fromTest), and the golden
  # file the C++ unit tests read.
  manifestOf =
    e:
    vmlib.fromTest {
      config = {
        inherit (e.test) globalTimeout;
        nodes = e.configs;
      };
      inherit (settings) k0s;
    };
  golden = lib.importJSON (repo + "/nix/lib/tests/golden/k0s-manifest.json");
  manifest = vmlib.withPlaceholderScripts (manifestOf plain);

  # --- examples/platform: the consumer flake's cluster, as mkClusterTest builds it ----------------------
  # Its cluster.nix with a stand-in image (dockerTools' passthru names), its host modules and
  # defaults, through k0s-cluster.nix as nix/cluster-test.nix calls it, with the bundles
  # nix/lib/images.nix makes of its images; then the manifest fromTest reads, values included.
  exampleCluster = import (repo + "/examples/platform/cluster.nix") {
    inherit pkgs;
    shopImage = fakeDrv "stream-shop" {
      imageName = "acme/shop";
      imageTag = "1.0";
    };
  };
  exampleImages = import (repo + "/nix/lib/images.nix") exampleCluster.images;
  example = evalTopology (
    import (repo + "/nix/tests/k0s-cluster.nix") {
      k0sModule = k0sNixPath + "/nixos/k0s.nix";
      inherit k0sPackage;
      inherit (exampleCluster)
        name
        roles
        nodes
        defaults
        globalTimeout
        ;
      bundles = {
        "k0s-airgap-bundle.tar" = airgapNoHashes.releaseBundle;
      }
      // lib.listToAttrs (map (i: lib.nameValuePair i.file (fakeDrv i.file { })) exampleImages);
    }
  );
  exampleManifest = vmlib.withPlaceholderScripts (
    vmlib.fromTest {
      config = {
        inherit (example.test) globalTimeout;
        nodes = example.configs;
      };
      k0s.airgap.images = settings.releaseImages ++ map (i: i.ref) exampleImages;
      inherit (exampleCluster) values;
    }
  );

  # --- nix/cluster-test.nix itself (lib.mkClusterTest), with a stand-in pkgs --------------------------
  # runNixOSTest evaluates the test module as above; the builders are fakeDrvs. Checks are only
  # listed (their derivations need a real stdenv), the manifest is forced in full.
  clusterPkgs = pkgs // rec {
    inherit lib;
    stdenv = {
      hostPlatform.system = "x86_64-linux";
      mkDerivation =
        attrs:
        fakeDrv (attrs.pname or attrs.name) attrs
        // {
          overrideAttrs = f: stdenv.mkDerivation (attrs // f attrs);
        };
    };
    callPackage =
      f: args:
      let
        fn = import f;
      in
      fn (builtins.intersectAttrs (builtins.functionArgs fn) clusterPkgs // args);
    fetchurl = args: fakeDrv args.name { fetchArgs = args; };
    runCommand = name: env: script: fakeDrv name (env // { inherit script; });
    writeText = name: text: fakeDrv name { inherit text; };
    writeShellApplication = args: fakeDrv args.name { meta.mainProgram = args.name; };
    # nixpkgs' streamLayeredImage passes imageName and imageTag through (dockerTools/default.nix).
    dockerTools.streamLayeredImage =
      args:
      fakeDrv "stream-${baseNameOf args.name}" {
        imageName = lib.toLower args.name;
        imageTag = args.tag;
      };
    testers.runNixOSTest = module: {
      config =
        let
          e = evalTopology module;
        in
        e.test // { nodes = e.configs; interactive = e.test // { nodes = e.configs; }; };
    };
  } // lib.genAttrs [ "busybox" "gzip" "cmake" "ninja" "pkg-config" "gtest" "nlohmann_json" "fmt" "openssl" "boost" "vde2" "qemu_test" "procps" "nix" ] (n: fakeDrv n { });
  mkClusterTest = import (repo + "/nix/cluster-test.nix") {
    k0s-nix = {
      nixosModules.default = k0sNixPath + "/nixos/k0s.nix";
      packages.x86_64-linux.k0s_1_35 = k0sPackage;
    };
  };
  # Our own flake outputs (nix/default.nix), whose k0s checks are one use of mkClusterTest.
  ours = import (repo + "/nix/default.nix") {
    pkgs = clusterPkgs;
    k0s-nix = {
      nixosModules.default = k0sNixPath + "/nixos/k0s.nix";
      packages.x86_64-linux.k0s_1_35 = k0sPackage;
    };
  };
  exampleByLib = mkClusterTest (import (repo + "/examples/platform/cluster.nix") { pkgs = clusterPkgs; });

  # --- nix/airgap.nix: the version comes from the package, the hashes by version ------------------------
  airgapWith =
    k0s: bundleHashes:
    import (repo + "/nix/airgap.nix") {
      inherit lib k0s bundleHashes;
      stdenv.hostPlatform.system = "x86_64-linux";
      fetchurl = args: fakeDrv args.name { fetchArgs = args; };
      runCommand = name: _env: script: fakeDrv name { inherit script; };
      dockerTools.streamLayeredImage = args: fakeDrv "stream-${baseNameOf args.name}" { };
      busybox = fakeDrv "busybox" { };
    };
  airgapNoHashes = airgapWith k0sPackage (import (repo + "/nix/airgap-hashes.nix"));
  airgapHashed = airgapWith k0sPackage {
    ${k0sPackage.version}.x86_64-linux = "sha256-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";
  };
  # A later k0s-nix (the pin is later than the k0s-nix read here): no version to edit, no throw.
  airgap1358 = airgapWith (k0sPackage // { version = "1.35.8+k0s.1"; }) (
    import (repo + "/nix/airgap-hashes.nix")
  );
  airgap136 = airgapWith (k0sPackage // { version = "1.36.3+k0s.2"; }) {
    "1.36.3+k0s.2".x86_64-linux = "sha256-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";
  };

  # --- nix/package.nix's source set, with the real lib.fileset, in the flake's copy ---------------------
  package = import (flakeSource + "/nix/package.nix") {
    inherit lib;
    stdenv.mkDerivation = attrs: attrs;
    cmake = fakeDrv "cmake" { };
    ninja = fakeDrv "ninja" { };
    pkg-config = fakeDrv "pkg-config" { };
    gtest = fakeDrv "gtest" { };
    nlohmann_json = fakeDrv "nlohmann_json" { };
    fmt = fakeDrv "fmt" { };
    openssl = fakeDrv "openssl" { };
    boost = fakeDrv "boost" { };
  };
  sourceFiles = map (p: lib.removePrefix "${toString flakeSource}/" (toString p)) (
    lib.fileset.toList package.passthru.sources
  );
in
{
  lib = lib.version;
  k0sVersion = k0sPackage.version;
  nodes = lib.mapAttrs nodeReport plain.configs;
  ours = {
    # What the flake's manifest check compares with the golden file.
    manifestMatchesGolden = builtins.fromJSON ours.checks.manifest.actual == golden;
    checks = lib.attrNames ours.checks;
    k0sChecks = map (n: ours.checks.${n}.name) [ "k0s-airgap" "k0s-readiness" "k0s-workload" ];
  };
  example = {
    nodes = lib.mapAttrs nodeReport example.configs;
    sysctl = lib.mapAttrs (_: c: c.boot.kernel.sysctl) example.configs;
    disk = lib.mapAttrs (_: c: c.virtualisation.diskSize) example.configs;
    manifest = exampleManifest;
    suites = exampleCluster.suites;
    userSuites = lib.attrNames exampleCluster.userSuites;
    byLib = {
      manifest = vmlib.withPlaceholderScripts exampleByLib.manifest;
      checks = lib.attrNames exampleByLib.checks;
      app = exampleByLib.app.type;
    };
  };
  manifestMatchesGolden = manifest == golden;
  inherit manifest golden;
  snapshotCapable = lib.mapAttrs (_: c: {
    inherit (c.virtualisation) useNixStoreImage mountHostNixStore;
    sharedDirectories = lib.attrNames c.virtualisation.sharedDirectories;
    failedAssertions = map (a: a.message) (lib.filter (a: !a.assertion) c.assertions);
  }) snap.configs;
  plainSharedDirectories = lib.attrNames plain.configs.ctrl.virtualisation.sharedDirectories;
  airgap = {
    version = airgapNoHashes.version;
    withoutHash = {
      bundle = airgapNoHashes.releaseBundle.name;
      message = airgapNoHashes.releaseBundle.script;
      missing = airgapNoHashes.missing;
      # The workers' bundles point at the one failing derivation.
      workerBundle = (plain.configs.wrkr1.vmtest.k0s.bundles.${settings.bundleFiles.release}).name;
    };
    withHash = {
      inherit (airgapHashed.releaseBundle.fetchArgs) name url hash;
    };
    k0s1358 = {
      inherit (airgap1358) version;
      bundle = airgap1358.releaseBundle.name;
    };
    k0s136 = {
      inherit (airgap136.releaseBundle.fetchArgs) name url;
    };
  };
  package = {
    inherit (package) cmakeFlags;
    buildInputs = map (d: d.name) package.buildInputs;
    sources = sourceFiles;
  };
}
