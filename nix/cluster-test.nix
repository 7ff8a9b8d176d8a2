# mkClusterTest: your own NixOS hosts as a k0s cluster, tested with vmtest (docs/your-cluster.md).
#
# The flake's lib.mkClusterTest is this file applied to vmtest's own inputs; a downstream flake
# calls it once per system with its nixpkgs:
#
#   vmtest.lib.mkClusterTest {
#     inherit pkgs;
#     name = "shop";
#     nodes.ctrl = { imports = [ ./hosts/ctrl.nix ]; };   # NixOS modules, as in runNixOSTest
#     nodes.wrkr1 = { imports = [ ./hosts/worker.nix ]; };
#     roles = { ctrl = "controller"; wrkr1 = "worker"; }; # services.k0s.role of each k0s node
#     images = [ shopImage ];                             # dockerTools images or { archive; ref; }
#     values.workloadManifests = ./k8s;                   # read in C++ with manifest.value<T>()
#     suites = [ "airgap" "readiness" "workload" ];      # of vmtest's k0s suites
#     userSuites.shop = { src = ./tests; };               # your own C++ suites (find_package(vmtest))
#   }
#
# returns { checks; manifest; manifestFile; app; test; bundles; }: one check per suite (ours named
# k0s-<suite>, yours by their attribute name), the manifest (attribute set and file), the app that
# boots the cluster with `vmtest up`, and the evaluated nixpkgs test.
{
  k0s-nix, # vmtest's pinned k0s-nix input (k0s package and NixOS module)
  vmlib ? import ./lib,
}:
{
  pkgs,
  name,
  roles, # node name -> services.k0s.role
  nodes ? null, # node name -> NixOS module; null: every node of roles with vmtest's sizes
  defaults ? { },
  globalTimeout ? 3600,
  images ? [ ],
  values ? { },
  suites ? [
    "airgap"
    "readiness"
    "workload"
  ],
  userSuites ? { },
  # The manifest's k0s section beyond what the nodes say (binary, airgap.listImages/pullPolicy,
  # workload, timeouts; mkManifest's names). airgap.images gets the images' references appended.
  k0s ? { },
  # The k0s package; the airgap bundle is the one released with its version.
  k0sPackage ? k0s-nix.packages.${pkgs.stdenv.hostPlatform.system}.k0s_1_35,
  # The vmtest package the checks build and the user's suites link against.
  vmtest ? pkgs.callPackage ./package.nix { },
  # Extra test-module attributes (interactive, extraBaseModules, ...), passed on to runNixOSTest.
  extraTestModule ? { },
  snapshotCapable ? false,
}:
let
  inherit (pkgs) lib;

  settings = import ./tests/k0s-settings.nix;
  airgap = pkgs.callPackage ./airgap.nix { k0s = k0sPackage; };
  userImages = import ./lib/images.nix images;

  # Every archive as the uncompressed tar k0s's bundle importer reads.
  imageTar =
    img:
    if img.kind == "stream" then
      pkgs.runCommand img.file { } "${img.src} > $out"
    else if img.kind == "gzip" then
      pkgs.runCommand img.file { nativeBuildInputs = [ pkgs.gzip ]; } "gzip -dc ${img.src} > $out"
    else
      img.src;

  bundles = {
    "k0s-airgap-bundle.tar" = airgap.releaseBundle;
  }
  // lib.listToAttrs (
    map (img: {
      name = img.file;
      value = imageTar img;
    }) userImages
  );

  # The airgap suite checks exactly these: the k0s release's own (pause; `k0s airgap
  # list-images` adds the rest when listImages is on) and the user's, as containerd names them.
  k0sSection = k0s // {
    airgap = (k0s.airgap or { }) // {
      images = (k0s.airgap.images or settings.releaseImages) ++ map (i: i.ref) userImages;
    };
  };

  # The test module: nix/tests/k0s-cluster.nix with the user's nodes, roles and defaults.
  testModule = {
    imports = [
      (import ./tests/k0s-cluster.nix {
        k0sModule = k0s-nix.nixosModules.default;
        inherit
          k0sPackage
          bundles
          snapshotCapable
          name
          roles
          globalTimeout
          nodes
          defaults
          ;
      })
      extraTestModule
    ];
  };

  test = pkgs.testers.runNixOSTest testModule;

  manifestOf =
    config:
    vmlib.fromTest {
      inherit config values;
      k0s = k0sSection;
    };
  manifest = manifestOf test.config;
  # writeText keeps the string context of start scripts and store-path values.
  manifestFile = pkgs.writeText "vmtest-${name}-manifest.json" (builtins.toJSON manifest);
  interactiveManifestFile = pkgs.writeText "vmtest-${name}-interactive-manifest.json" (
    builtins.toJSON (manifestOf test.config.interactive)
  );

  mkCheck = import ./checks.nix {
    inherit lib vmtest;
    inherit (pkgs) vde2 qemu_test procps nix jq;
  };
  timeout = globalTimeout + 1800;

  ourChecks = lib.listToAttrs (
    map (suite: {
      name = "k0s-${suite}";
      value = mkCheck {
        name = "${name}-${suite}";
        ctestArgs = [ "-R" "^k0s\\.${suite}$" ];
        manifest = manifestFile;
        require = "k0s";
        inherit timeout;
      };
    }) suites
  );

  mkUserCheck = import ./user-suite.nix {
    inherit lib vmtest;
    inherit (pkgs) stdenv cmake ninja pkg-config gtest nlohmann_json fmt openssl boost vde2 qemu_test procps;
  };
  userChecks = lib.mapAttrs (
    suiteName: s:
    mkUserCheck (
      s
      // {
        name = "${name}-${suiteName}";
        manifest = manifestFile;
        inherit timeout;
      }
    )
  ) userSuites;

  up = pkgs.writeShellApplication {
        name = "vmtest-${name}-cluster";
        runtimeInputs = [ vmtest pkgs.vde2 ];
        text = ''
          manifest=${interactiveManifestFile}
          echo "vmtest: ${name} cluster manifest: $manifest" >&2
          exec vmtest up "$manifest" "$@"
        '';
      };
  app = {
      type = "app";
      program = lib.getExe up;
      meta.description = "Boot the ${name} cluster and keep it up (vmtest up)";
    };
in
{
  inherit manifest manifestFile app test bundles vmtest airgap;
  # The script behind app (`vmtest up` on the interactive manifest), as a package.
  appPackage = up;
  checks = ourChecks // userChecks;
}
