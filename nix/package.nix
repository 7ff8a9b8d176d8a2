# vmtest built with CMake from nixpkgs' toolchain and libraries.
{
  lib,
  stdenv,
  cmake,
  ninja,
  pkg-config,
  gtest,
  nlohmann_json,
  fmt,
  boost,
}:
let
  fs = lib.fileset;
  # Only what the CMake build reads, so editing flake.nix or the docs rebuilds nothing.
  # nix/CMakeLists.txt and nix/lib are in: the top-level build adds nix/ (the nix.lib test), and
  # the C++ unit tests read nix/lib/tests/golden/k0s-manifest.json.
  sources = fs.unions (
    [ ../CMakeLists.txt ]
    ++ map fs.maybeMissing [
      ../CMakePresets.json
      ../cmake
      ../include
      ../src
      ../fixtures
      ../mocks
      ../suites
      ../tests
      ../tools
      ../third_party
      ../nix/CMakeLists.txt
      ../nix/lib
    ]
  );
in
stdenv.mkDerivation {
  pname = "vmtest";
  version = "0.1.0";

  src = fs.toSource {
    root = ../.;
    fileset = sources;
  };

  # The cmake hook configures in build/, with Ninja since it is here.
  nativeBuildInputs = [
    cmake
    ninja
    pkg-config
  ];
  buildInputs = [
    gtest
    nlohmann_json
    fmt
    boost
  ];

  cmakeFlags = [
    (lib.cmakeBool "BUILD_TESTING" true)
    # Every dependency comes from buildInputs; a FetchContent download would fail in the sandbox.
    (lib.cmakeBool "FETCHCONTENT_FULLY_DISCONNECTED" true)
  ];

  # ctest runs in the checks (flake.nix: checks.<system>.unit and the k0s suites), which keep
  # its JUnit output; the package itself only builds and installs.
  doCheck = false;

  meta = {
    description = "C++ end-to-end test framework for NixOS VM clusters running k0s";
    platforms = lib.platforms.linux;
    mainProgram = "vmtest";
  };
}
