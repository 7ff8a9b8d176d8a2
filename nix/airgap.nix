# What the k0s workers import from <dataDir>/images: k0s's released airgap bundle for the pinned
# k0s, and the small workload image of the workload suite. Both are uncompressed tars.
{
  lib,
  stdenv,
  fetchurl,
  runCommand,
  dockerTools,
  busybox,
  k0s, # the k0s package the nodes run; its version must match the bundle's
  settings ? import ./tests/k0s-settings.nix,
}:
let
  version = "1.35.7+k0s.0";

  # SRI sha256 of k0s-airgap-bundle-v<version>-<arch>, per system. null until someone has fetched
  # it once: the fetch then fails and prints the real hash (docs/nix.md, "The airgap bundle hash").
  bundleHashes = {
    x86_64-linux = null;
    aarch64-linux = null;
  };

  inherit (stdenv.hostPlatform) system;
  arch =
    {
      x86_64-linux = "amd64";
      aarch64-linux = "arm64";
    }
    .${system} or (throw "vmtest: no k0s airgap bundle is set up for ${system}");

  # A bundle for another k0s lists other image tags: nodes would sit NotReady with ErrImageNeverPull.
  checkedVersion =
    if (k0s.version or version) == version then
      version
    else
      throw "vmtest: the nodes run k0s ${k0s.version}, but nix/airgap.nix fetches the airgap bundle of ${version}; set `version` there to ${k0s.version}, reset bundleHashes to null, and check the pause image in nix/tests/k0s-settings.nix";

  hash =
    let
      known = bundleHashes.${system} or null;
    in
    if known != null then
      known
    else
      lib.warn ''
        vmtest: nix/airgap.nix has no hash yet for the k0s ${version} airgap bundle on ${system}.
        The fetch below fails with "hash mismatch ... got: sha256-..."; put that value into
        bundleHashes.${system} in nix/airgap.nix and build again. (Or take the hex sum of
        k0s-airgap-bundle-v${version}-${arch} from the release's sha256sums.txt and convert it:
        nix hash convert --hash-algo sha256 --to sri <hex>.)'' lib.fakeHash;

  releaseBundle = fetchurl {
    name = "k0s-airgap-bundle-v${checkedVersion}-${arch}.tar";
    # Release asset names up to 1.35 have no extension; 1.36 renames them (…-linux-<arch>.tar).
    url = "https://github.com/k0sproject/k0s/releases/download/v${checkedVersion}/k0s-airgap-bundle-v${checkedVersion}-${arch}";
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
    ;
  version = checkedVersion;

  # File name in <dataDir>/images -> tar; the names become the manifest's k0s.airgap.bundles.
  bundles = {
    ${settings.bundleFiles.release} = releaseBundle;
    ${settings.bundleFiles.workload} = workloadTar;
  };
}
