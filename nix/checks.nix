# mkCheck: a derivation that builds vmtest and runs part of its ctest suite, keeping the JUnit
# reports and the artifacts (serial logs, journals) in $out (nix/check-phase.sh).
#
# Build and test happen in one derivation on purpose: CMake writes absolute build-tree paths into
# CTestTestfile.cmake and the gtest discovery files, so a build tree cannot move to another
# derivation. One C++ build per check is the price.
{
  lib,
  vmtest,
  vde2,
  qemu_test,
  procps,
  nix,
  jq,
}:
let
  mkCheck =
    {
      name, # checks.<system>.<name>
      ctestArgs, # which tests, e.g. [ "-L" "^unit$" ] or [ "-R" "^k0s\\.airgap$" ]
      manifest ? null, # manifest file for VMTEST_MANIFEST; its VMs need KVM on the builder
      require ? null, # VMTEST_REQUIRE: a suite whose cluster is absent fails instead of skipping
      timeout ? 3600, # meta.timeout (Hydra); the suites enforce their own deadlines
      strict ? true, # false: the build succeeds whatever ctest says; see passthru.report
      verbose ? manifest != null, # stream each suite's output while it runs (long VM suites)
    }@args:
    vmtest.overrideAttrs (old: {
      pname = "vmtest-check-${name}";

      # procps: the unit tests check with pgrep that a timed-out command's children are gone.
      # nix and jq: nix.lib (label unit) evaluates nix/lib's cases with nix-instantiate.
      # vde_switch for the VLANs. The start scripts call qemu by absolute path; qemu-img on PATH is
      # for the driver's own use (snapshots), and qemu_test is already in the VMs' closure.
      # tests/nix-sandbox/run.sh gives its sandbox the same tools.
      nativeBuildInputs =
        old.nativeBuildInputs
        ++ [
          procps
          nix
          jq
          # The unit tests start real VDE switches (fixtures/tests/vlan_test.cpp).
          vde2
        ]
        ++ lib.optionals (manifest != null) [
          qemu_test
        ];

      # nixpkgs' own VM tests ask for the same pair; the builder must list both in system-features.
      requiredSystemFeatures = lib.optionals (manifest != null) [
        "kvm"
        "nixos-test"
      ];

      env =
        (old.env or { })
        // lib.optionalAttrs (manifest != null) {
          # Interpolating the manifest makes its start scripts, and so the whole VM closures, inputs
          # of this build: they are then in the sandbox's /nix/store, which the VMs mount.
          VMTEST_MANIFEST = "${manifest}";
          VMTEST_LOG = "info";
        }
        // lib.optionalAttrs (require != null) { VMTEST_REQUIRE = require; }
        // {
          VMTEST_CHECK_STRICT = if strict then "1" else "0";
          VMTEST_CHECK_VERBOSE = if verbose then "1" else "0";
        };

      doCheck = true;
      dontInstall = true;
      dontFixup = true;

      # Results go to the build dir first: a failed build loses $out, but `nix build --keep-failed`
      # keeps the build dir. The report variant copies them to $out whatever ctest said.
      checkPhase = ''
        runHook preCheck
        source ${./check-phase.sh}
        vmtest_check_phase "$out" ${lib.escapeShellArgs ctestArgs}
        runHook postCheck
      '';

      passthru = (old.passthru or { }) // {
        # The same run, but a failing ctest still gives an output; read ctest-exit-code in it.
        report = mkCheck (args // { strict = false; });
      };

      meta = (old.meta or { }) // {
        inherit timeout;
      };
    });
in
mkCheck
