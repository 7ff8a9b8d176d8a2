# A user's own C++ suite as a check: their CMake project (find_package(vmtest), vmtest_add_suite)
# built against the vmtest package, then ctest on the cluster's manifest through the same check
# phase as ours, so JUnit and artifacts land in $out the same way (nix/check-phase.sh).
{
  lib,
  vmtest,
  stdenv,
  cmake,
  ninja,
  pkg-config,
  gtest,
  nlohmann_json,
  fmt,
  openssl,
  boost,
  vde2,
  qemu_test,
  procps,
}:
{
  name,
  src, # the CMake project: a CMakeLists.txt that does find_package(vmtest CONFIG REQUIRED)
  manifest,
  timeout ? 5400,
  # Which of the project's ctest entries run; by default everything but its unit tests' label
  # would be too much guessing, so all of them (each VM suite boots the cluster once).
  ctestArgs ? [ ],
  require ? "k0s",
  cmakeFlags ? [ ],
}:
stdenv.mkDerivation {
  pname = "vmtest-check-${name}";
  inherit (vmtest) version;
  inherit src cmakeFlags;

  nativeBuildInputs = [
    cmake
    ninja
    pkg-config
    procps
    vde2
    qemu_test
  ];
  buildInputs = [
    vmtest
    gtest
    nlohmann_json
    fmt
    openssl
    boost
  ];

  requiredSystemFeatures = [
    "kvm"
    "nixos-test"
  ];

  env = {
    # The manifest's context brings the VMs and every store-path value into the sandbox.
    VMTEST_MANIFEST = "${manifest}";
    VMTEST_REQUIRE = require;
    VMTEST_LOG = "info";
    VMTEST_CHECK_STRICT = "1";
    VMTEST_CHECK_VERBOSE = "1";
  };

  doCheck = true;
  dontInstall = true;
  dontFixup = true;
  checkPhase = ''
    runHook preCheck
    source ${./check-phase.sh}
    vmtest_check_phase "$out" ${lib.escapeShellArgs ctestArgs}
    runHook postCheck
  '';

  meta = {
    inherit timeout;
  };
}
