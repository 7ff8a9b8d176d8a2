# mkCheck: a derivation that builds vmtest and runs part of its ctest suite, keeping the JUnit
# report and the artifacts (serial logs, journals) in $out.
#
# Build and test happen in one derivation on purpose: CMake writes absolute build-tree paths into
# CTestTestfile.cmake and the gtest discovery files, so a build tree cannot move to another
# derivation. One C++ build per check is the price.
{
  lib,
  vmtest,
  vde2,
  qemu_test,
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
    }@args:
    vmtest.overrideAttrs (old: {
      pname = "vmtest-check-${name}";

      # vde_switch for the VLANs. The start scripts call qemu by absolute path; qemu-img on PATH is
      # for the driver's own use (snapshots), and qemu_test is already in the VMs' closure.
      nativeBuildInputs =
        old.nativeBuildInputs
        ++ lib.optionals (manifest != null) [
          vde2
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
        }
        // lib.optionalAttrs (require != null) { VMTEST_REQUIRE = require; }
        // {
          VMTEST_CHECK_STRICT = if strict then "1" else "0";
        };

      doCheck = true;
      dontInstall = true;
      dontFixup = true;

      # Results go to the build dir first: a failed build loses $out, but `nix build --keep-failed`
      # keeps the build dir. The report variant copies them to $out whatever ctest said.
      checkPhase = ''
        runHook preCheck

        results=$TMPDIR/vmtest-results
        mkdir -p "$results/artifacts"
        export HOME=$TMPDIR VMTEST_ARTIFACTS=$results/artifacts

        rc=0
        ctest --output-on-failure --no-tests=error -j1 ${lib.escapeShellArgs ctestArgs} \
          --output-junit "$results/junit.xml" || rc=$?
        cp Testing/Temporary/LastTest.log "$results/" 2>/dev/null || true
        echo "$rc" >"$results/ctest-exit-code"

        if [ "$rc" -ne 0 ] && [ "$VMTEST_CHECK_STRICT" = 1 ]; then
          echo "vmtest: ctest failed (exit $rc). JUnit report, serial logs and journals are in $results:" \
            "rerun with 'nix build --keep-failed' to keep them, or build this check's .report attribute" \
            "to get them in its output." >&2
          exit "$rc"
        fi
        mkdir -p "$out"
        cp -r "$results"/. "$out"/

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
