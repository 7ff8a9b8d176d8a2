# What the k0s workers import from <dataDir>/images: k0s's released airgap bundle for the k0s the
# nodes run, and the small workload image of the workload suite. Both are uncompressed tars.
{
  lib,
  stdenv,
  fetchurl,
  runCommand,
  dockerTools,
  busybox,
  k0s, # the k0s package the nodes run; the bundle is the one released with it
  settings ? import ./tests/k0s-settings.nix,
  # SRI sha256 of each release's bundle, by k0s version and system (./airgap-hashes.nix).
  bundleHashes ? import ./airgap-hashes.nix,
}:
let
  # From the package, not written here: moving the k0s-nix pin moves the bundle with it.
  inherit (k0s) version;
  inherit (stdenv.hostPlatform) system;

  # Where k0s publishes a bundle: system -> the asset's architecture.
  arches = {
    x86_64-linux = "amd64";
    aarch64-linux = "arm64";
  };

  assetOf =
    version: arch:
    let
      file = "k0s-airgap-bundle-v${version}-${arch}";
    in
    {
      name = "${file}.tar";
      # Release asset names up to 1.35 have no extension; 1.36 renames them (…-linux-<arch>.tar).
      url =
        if lib.versionOlder version "1.36" then
          "https://github.com/k0sproject/k0s/releases/download/v${version}/${file}"
        else
          "https://github.com/k0sproject/k0s/releases/download/v${version}/k0s-airgap-bundle-v${version}-linux-${arch}.tar";
    };

  # Every bundle the flake's systems need for this k0s whose hash is not in airgap-hashes.nix yet;
  # `nix run .#airgap-hashes` fetches exactly these and prints the lines to add.
  missing = lib.filter (a: a.hash == null) (
    lib.mapAttrsToList (system: arch: {
      inherit system version;
      inherit (assetOf version arch) name url;
      hash = bundleHashes.${version}.${system} or null;
    }) arches
  );

  arch = arches.${system} or (throw "vmtest: no k0s airgap bundle is set up for ${system}");
  asset = assetOf version arch;
  hash = bundleHashes.${version}.${system} or null;

  # A first run on a new host: one build, shared by every check that needs the bundle, fails with
  # one message naming the command, instead of a fixed-output hash mismatch per derivation.
  hashMissing = runCommand "vmtest-airgap-bundle-hash-missing" { } ''
    echo "vmtest: nix/airgap-hashes.nix has no hash for the k0s ${version} airgap bundle on ${system}." >&2
    echo "vmtest: run 'nix run .#airgap-hashes' (it fetches the missing bundles and prints the lines to add), then build again." >&2
    exit 1
  '';

  releaseBundle =
    if hash == null then
      hashMissing
    else
      fetchurl {
        inherit (asset) name url;
        inherit hash;
      };

  port = toString settings.k0s.workload.port;

  # busybox httpd answering with the pod's hostname (its name), so the workload suite can tell
  # which replica answered. A fixed tag: the kubelet would try to pull :latest.
  workloadImage = dockerTools.streamLayeredImage {
    inherit (settings.workloadImage) name tag;
    contents = [ busybox ];
    config = {
      Cmd = [
        "/bin/sh"
        "-c"
        "mkdir -p /www && hostname > /www/index.html && exec httpd -f -p ${port} -h /www"
      ];
      ExposedPorts."${port}/tcp" = { };
    };
  };

  # streamLayeredImage is a script that writes the Docker archive; k0s wants the tar itself.
  workloadTar = runCommand "vmtest-workload.tar" { } "${workloadImage} > $out";
in
{
  inherit
    releaseBundle
    workloadImage
    workloadTar
    version
    missing
    ;

  # File name in <dataDir>/images -> tar; the names become the manifest's k0s.airgap.bundles.
  bundles = {
    ${settings.bundleFiles.release} = releaseBundle;
    ${settings.bundleFiles.workload} = workloadTar;
  };
}
