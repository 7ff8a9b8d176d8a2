# vmtest's pure Nix library (builtins only; see manifest.nix for the manifest format).
rec {
  mkManifest = import ./manifest.nix;
  fromTest = import ./from-test.nix;

  # What golden files put where a real start script would be: a well-formed store path, so a
  # golden manifest loads like a real one. The hash part is 32 valid nix32 zeros.
  placeholderStartScript = name: "/nix/store/00000000000000000000000000000000-nixos-vm/bin/run-${name}-vm";

  # A real manifest with its store paths replaced, for comparison with a golden file.
  withPlaceholderScripts =
    manifest:
    manifest
    // {
      vms = builtins.mapAttrs (name: vm: vm // { start_script = placeholderStartScript name; }) manifest.vms;
    };
}
