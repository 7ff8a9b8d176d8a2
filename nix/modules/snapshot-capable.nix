# Makes a NixOS test VM snapshot-capable for vmtest (docs/snapshots.md).
#
# QEMU refuses to migrate (and so to snapshot) a guest that has a 9p share mounted, and nixpkgs'
# test VMs mount the host's /nix/store, /tmp/xchg and /tmp/shared over 9p by default. This module
# gives the node its store as a read-only erofs disk (useNixStoreImage), mounts nothing from the
# host, and drops every 9p shared directory. The driver never needs /tmp/xchg:
# copy_from_host/copy_from_vm go through the backdoor shell.
#
# The cost is paid at every VM start, not at build time: nixpkgs' qemu-vm.nix start script tars
# the node's whole closure and packs it with mkfs.erofs into $TMPDIR/store.img before QEMU
# starts (nothing is cached between starts), so each boot reads and writes the closure once
# (for a k0s worker several hundred MiB: k0s, the airgap bundle, the system) and holds one image
# per VM in the temp dir. A snapshot restore does not repeat it. Import it from `defaults`
# (nix/tests/k0s-cluster.nix does with snapshotCapable = true).
{ lib, ... }:
{
  virtualisation = {
    useNixStoreImage = true;
    mountHostNixStore = false;
    # mkForce: qemu-vm.nix and the test framework add xchg and shared themselves.
    sharedDirectories = lib.mkForce { };
  };
}
