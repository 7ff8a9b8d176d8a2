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

  # Evaluated through nixpkgs' test machinery, never built as a test: we take its config.
  test = pkgs.testers.runNixOSTest {
    imports = [
      (import ./tests/k0s-cluster.nix {
        k0sModule = k0s-nix.nixosModules.default;
        inherit k0sPackage settings;
        inherit (airgap) bundles;
      })
    ];
  };

  # The same cluster in its snapshot-capable form: store image, no 9p mounts (docs/snapshots.md).
  snapshotTest = pkgs.testers.runNixOSTest {
    imports = [
      (import ./tests/k0s-cluster.nix {
        k0sModule = k0s-nix.nixosModules.default;
        inherit k0sPackage settings;
        inherit (airgap) bundles;
        snapshotCapable = true;
      })
    ];
  };

  manifestOf =
    config:
    vmlib.fromTest {
      inherit config;
      inherit (settings) k0s;
    };
  manifest = manifestOf test.config;
  # writeText keeps the start scripts' string context: whatever uses the file depends on the VMs.
  manifestFile = pkgs.writeText "vmtest-k0s-manifest.json" (builtins.toJSON manifest);
  snapshotManifestFile = pkgs.writeText "vmtest-k0s-snapshot-manifest.json" (
    builtins.toJSON (manifestOf snapshotTest.config)
  );
  # The same cluster with interactive.* applied (full QEMU with a display), for the app.
  interactiveManifestFile = pkgs.writeText "vmtest-k0s-interactive-manifest.json" (
    builtins.toJSON (manifestOf test.config.interactive)
  );

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

  suiteCheck =
    suite:
    mkCheck {
      name = "k0s-${suite}";
      ctestArgs = [
        "-R"
        "^k0s\\.${suite}$"
      ];
      manifest = manifestFile;
      require = "k0s";
      # the C++ build, then the suite's own deadline
      timeout = settings.globalTimeout + 1800;
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

  k0sCluster = pkgs.writeShellApplication {
    name = "vmtest-k0s-cluster";
    runtimeInputs = [
      vmtest
      pkgs.vde2
    ];
    text = ''
      manifest=${interactiveManifestFile}
      echo "vmtest: k0s cluster manifest: $manifest" >&2
      exec vmtest up "$manifest" "$@"
    '';
  };
in
{
  packages = {
    default = vmtest;
    inherit vmtest;
    k0s-manifest = manifestFile;
    k0s-manifest-snapshot = snapshotManifestFile;
    k0s-airgap-bundle = airgap.releaseBundle;
    vmtest-workload-image = airgap.workloadTar;
    k0s-cluster = k0sCluster;
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
    k0s-airgap = suiteCheck "airgap";
    k0s-readiness = suiteCheck "readiness";
    k0s-workload = suiteCheck "workload";
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

  apps.k0s-cluster = {
    type = "app";
    program = lib.getExe k0sCluster;
    meta.description = "Boot the k0s test cluster (ctrl, wrkr1, wrkr2) and keep it up for interactive work";
  };
}
