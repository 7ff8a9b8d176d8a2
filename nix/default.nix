# Everything flake.nix exposes, for one system.
{
  pkgs,
  k0s-nix,
}:
let
  inherit (pkgs) lib;
  fs = lib.fileset;
  inherit (pkgs.stdenv.hostPlatform) system;

  vmlib = import ./lib;
  settings = import ./tests/k0s-settings.nix;

  vmtest = pkgs.callPackage ./package.nix { };

  # k0s 1.35 from the pinned k0s-nix; ./airgap.nix fetches the bundle released with its version.
  k0sPackage = k0s-nix.packages.${system}.k0s_1_35;
  airgap = pkgs.callPackage ./airgap.nix {
    k0s = k0sPackage;
    inherit settings;
  };

  # The library for downstream flakes (flake.nix lib.mkClusterTest); our own cluster is one use
  # of it: the roles of k0s-settings.nix, our sizes, the echo image, all three suites.
  mkClusterTest = import ./cluster-test.nix { inherit k0s-nix; };
  ourCluster =
    snapshotCapable:
    mkClusterTest {
      inherit pkgs vmtest k0sPackage snapshotCapable;
      name = "vmtest-k0s";
      inherit (settings) roles globalTimeout;
      images = [
        {
          image = airgap.workloadImage;
          file = settings.bundleFiles.workload;
        }
      ];
      # The images of the manifest are the release's and the echo image's, from the images list.
      k0s = settings.k0s // {
        airgap = removeAttrs settings.k0s.airgap [ "images" ];
      };
    };
  cluster = ourCluster false;
  test = cluster.test;
  inherit (cluster) manifest manifestFile;
  # The same cluster in its snapshot-capable form: store image, no 9p mounts (docs/snapshots.md).
  snapshotManifestFile = (ourCluster true).manifestFile;

  mkCheck = import ./checks.nix {
    inherit lib vmtest;
    inherit (pkgs)
      vde2
      qemu_test
      procps
      nix
      jq
      ;
  };

  # First run on a new host: fetches every airgap bundle nix/airgap-hashes.nix has no hash for
  # (all of the flake's systems, the pinned k0s version) and prints the entries to add.
  airgapHashes = pkgs.writeShellApplication {
    name = "vmtest-airgap-hashes";
    runtimeInputs = [
      pkgs.nix
      pkgs.jq
    ];
    text = ''
      missing=${lib.escapeShellArg (builtins.toJSON airgap.missing)}
      if [ "$(jq length <<<"$missing")" -eq 0 ]; then
        echo "vmtest: nix/airgap-hashes.nix has every airgap bundle hash for k0s ${airgap.version}" >&2
        exit 0
      fi
      echo "# add to nix/airgap-hashes.nix:"
      echo '  "${airgap.version}" = {'
      jq -r '.[] | "\(.system) \(.url)"' <<<"$missing" | while read -r sys url; do
        echo "vmtest: fetching $url" >&2
        hash=$(nix --extra-experimental-features nix-command store prefetch-file --json --hash-type sha256 "$url" | jq -r .hash)
        echo "    $sys = \"$hash\";"
      done
      echo '  };'
    '';
  };

  # Text without string context, so comparing needs no VM built.
  plainJSON = v: builtins.unsafeDiscardStringContext (builtins.toJSON v);

  # nixpkgs' own driver config (nixpkgs with the JSON driver only; an internal option): the same
  # core must come out, start scripts included.
  driverConfiguration = test.config.driverConfiguration or null;
  coreOf = m: {
    vms = lib.mapAttrs (_: vm: { inherit (vm) name start_script; }) m.vms;
    inherit (m) vlans global_timeout;
  };

  # The flake's manifest is the golden file the C++ unit test reads, store paths aside.
  manifestCheck =
    pkgs.runCommand "vmtest-manifest-check"
      {
        nativeBuildInputs = [ pkgs.jq ];
        actual = plainJSON (vmlib.withPlaceholderScripts manifest);
        golden = builtins.readFile ./lib/tests/golden/k0s-manifest.json;
        ourCore = plainJSON (coreOf manifest);
        driverCore = if driverConfiguration == null then "" else plainJSON (coreOf driverConfiguration);
        passAsFile = [
          "actual"
          "golden"
          "ourCore"
          "driverCore"
        ];
      }
      ''
        if ! diff -u <(jq -S . "$goldenPath") <(jq -S . "$actualPath"); then
          echo "vmtest: the k0s manifest (start scripts as placeholders) differs from nix/lib/tests/golden/k0s-manifest.json" >&2
          exit 1
        fi
        if [ -s "$driverCorePath" ]; then
          if ! diff -u <(jq -S . "$driverCorePath") <(jq -S . "$ourCorePath"); then
            echo "vmtest: the manifest's vms/vlans/global_timeout differ from nixpkgs' driverConfiguration" >&2
            exit 1
          fi
        else
          echo "vmtest: this nixpkgs has no driverConfiguration; cross-check skipped"
        fi
        touch "$out"
      '';

  # nix/lib/tests/run.sh inside the sandbox: the same tests CI runs with Debian's nix-instantiate.
  nixLibCheck =
    pkgs.runCommand "vmtest-nix-lib"
      {
        nativeBuildInputs = [
          pkgs.nix
          pkgs.jq
        ];
        src = fs.toSource {
          root = ../.;
          fileset = fs.unions [
            (fs.fileFilter (file: file.hasExt "nix") ../.)
            ./lib
          ];
        };
      }
      ''
        cp -r "$src" src
        chmod -R u+w src
        bash src/nix/lib/tests/run.sh
        touch "$out"
      '';

in
{
  packages = {
    default = vmtest;
    inherit vmtest;
    k0s-manifest = manifestFile;
    k0s-manifest-snapshot = snapshotManifestFile;
    k0s-airgap-bundle = airgap.releaseBundle;
    vmtest-workload-image = airgap.workloadTar;
    k0s-cluster = cluster.appPackage;
    airgap-hashes = airgapHashes;
  };

  checks = {
    unit = mkCheck {
      name = "unit";
      ctestArgs = [
        "-L"
        "^unit$"
      ];
    };
    inherit (cluster.checks) k0s-airgap k0s-readiness k0s-workload;
    manifest = manifestCheck;
    nix-lib = nixLibCheck;
  };

  devShells.default = pkgs.mkShell {
    inputsFrom = [ vmtest ];
    packages = with pkgs; [
      qemu
      vde2
      jq
      gdb
      clang-tools
    ];
  };

  apps.airgap-hashes = {
    type = "app";
    program = lib.getExe airgapHashes;
    meta.description = "Fetch the k0s airgap bundles nix/airgap-hashes.nix has no hash for and print the entries to add";
  };

  apps.k0s-cluster = cluster.app // {
    meta.description = "Boot the k0s test cluster (ctrl, wrkr1, wrkr2) and keep it up for interactive work";
  };

  lib = {
    inherit mkClusterTest;
  };
}
