# SRI sha256 of k0s's airgap bundle, by k0s version, then system. The version is the one of the k0s
# package the pinned k0s-nix gives (nix/airgap.nix reads it); a version or system missing here
# makes the k0s checks fail with one message naming `nix run .#airgap-hashes`, which fetches every
# missing bundle and prints the entries to add (docs/nix.md, "First run on a new host").
{
}
