# Makes a NixOS test VM snapshot-capable for vmtest (docs/snapshots.md).
#
# QEMU refuses to migrate (and so to snapshot) a guest that has a 9p share mounted, and nixpkgs'
# test VMs mount the host's /nix/store, /tmp/xchg and /tmp/shared over 9p by default. This module
# gives the node its store as a read-only disk image built with the VM (useNixStoreImage), mounts
# nothing from the host, and drops every 9p shared directory. The driver never needs /tmp/xchg:
# copy_from_host/copy_from_vm go through the backdoor shell.
#
# The cost: the store image is built with the VM (a slower build, a bigger closure on disk), and
# a change to the node's closure rebuilds it. Import it from `defaults` (nix/tests/k0s-cluster.nix
# does with snapshotCapable = true).
{ lib, ... }:
{
  virtualisation = {
    useNixStoreImage = true;
    mountHostNixStore = false;
    # mkForce: qemu-vm.nix and the test framework add xchg and shared themselves.
    sharedDirectories = lib.mkForce { };
  };
}
