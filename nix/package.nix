# vmtest built with CMake from nixpkgs' toolchain and libraries.
#
# nix/build.json holds what the sandboxed-build check (tests/nix-sandbox/run.sh) must do the
# same way: the sources left out and the CMake flags added to those of nixpkgs' cmake hook.
{
  lib,
  stdenv,
  cmake,
  ninja,
  pkg-config,
  gtest,
  nlohmann_json,
  fmt,
  openssl,
  boost,
}:
let
  fs = lib.fileset;
  build = lib.importJSON ./build.json;
  root = ../.;
  # Everything of the flake's source but what build.json leaves out (docs, CI scripts, the flake
  # itself): a new folder is in without anyone listing it, and editing the docs rebuilds nothing.
  sources = fs.difference root (
    fs.unions (map (name: fs.maybeMissing (root + "/${name}")) build.excludedSources)
  );
in
stdenv.mkDerivation {
  pname = "vmtest";
  version = "0.1.0";

  src = fs.toSource {
    inherit root;
    fileset = sources;
  };

  # The cmake hook configures in build/, with Ninja since it is here.
  nativeBuildInputs = [
    cmake
    ninja
    pkg-config
  ];
  # boost: header-only Asio for the attach server (third_party/README.md).
  buildInputs = [
    gtest
    nlohmann_json
    fmt
    openssl
    boost
  ];

  # After the hook's own flags, so these win. The hook passes absolute
  # CMAKE_INSTALL_{BIN,LIB,INCLUDE}DIR=$out/...; relative ones install to the same place under
  # CMAKE_INSTALL_PREFIX=$out, and keep `cmake --install --prefix` (the package.install-prefix
  # test) able to relocate the package. BUILD_TESTING comes from the hook (OFF unless doCheck)
  # and sets VMTEST_BUILD_TESTS' default.
  cmakeFlags = build.cmakeFlags;

  # ctest runs in the checks (flake.nix: checks.<system>.unit and the k0s suites), which keep
  # its JUnit output; the package itself only builds and installs.
  doCheck = false;

  passthru = {
    inherit sources;
  };

  meta = {
    description = "C++ end-to-end test framework for NixOS VM clusters running k0s";
    platforms = lib.platforms.linux;
    mainProgram = "vmtest";
  };
}
