#!/usr/bin/env bash
# Generate start scripts and a manifest for a cluster of Debian systemd guests.
#
# usage: topology.sh --guest GUESTDIR --out DIR NAME[:VLAN[,VLAN...]] ...
#
#   GUESTDIR  output of build.sh (base.qcow2, vmlinuz, initrd.img)
#   DIR       gets bin/run-<name>-vm for each node and manifest.json
#   NAME      node name; VLANs default to 1 as in nixpkgs (virtualisation.vlans),
#             and "NAME:" gives a node with no VLAN NICs.
#
# Example: topology.sh --guest build/guest --out build/topo/trio a:1,2 b:1 c:2
#
# The start scripts follow nixpkgs' generated run-<name>-vm (qemu-vm.nix), so
# the driver runs them unchanged: it appends its flags as "$@" and signals the
# PID it spawned, which is QEMU because the script execs it. Each run writes to
# its own copy-on-write overlay ($NIX_DISK_IMAGE, by default <name>.qcow2 in the
# state directory) backed by GUESTDIR/base.qcow2, which no run alters; all
# nodes share it.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

guest_files=(base.qcow2 vmlinuz initrd.img)
generator=tools/guests/debian-systemd/topology.sh

emit_qemu() {
    cat <<EOF

# The root disk: a copy-on-write overlay on the shared, read-only base image.
# It is kept when it exists (as nixpkgs keeps its disk image), so a kept
# machine state boots with what the last run wrote.
NIX_DISK_IMAGE=\$(readlink -f "\${NIX_DISK_IMAGE:-./$name.qcow2}")
if [ ! -e "\$NIX_DISK_IMAGE" ]; then
    qemu-img create -q -f qcow2 -F qcow2 -b $(printf '%q' "$guest/base.qcow2") "\$NIX_DISK_IMAGE"
fi

# exec: the driver signals the PID it spawned, which must be QEMU. q35 as in
# recent nixpkgs; it also boots faster under TCG than the default i440fx.
exec qemu-system-x86_64 -machine type=q35,accel=tcg -cpu max -name $name -m 1024 -smp 1 -nographic \\
    -kernel $(printf '%q' "$guest/vmlinuz") -initrd $(printf '%q' "$guest/initrd.img") \\
    -append "root=/dev/vda rw console=ttyS0 panic=1 net.ifnames=0 $fast_boot systemd.hostname=$name vmtest.name=$name vmtest.node=$node vmtest.vlans=$vlans_param vmtest.hosts=$hosts_param \$QEMU_KERNEL_PARAMS" \\
    -drive file="\$NIX_DISK_IMAGE",format=qcow2,if=none,id=root,cache=writeback,werror=report \\
    -device virtio-blk-pci,drive=root,serial=root \\
    -net nic,netdev=user.0,model=virtio -netdev user,id=user.0,"\$QEMU_NET_OPTS"$nic_args \\
    \$QEMU_OPTS "\$@"
EOF
}

source "$here/../lib/topology.sh"
topology_main "$@"
