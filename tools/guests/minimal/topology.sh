#!/usr/bin/env bash
# Generate start scripts and a manifest for a cluster of minimal guests.
#
# usage: topology.sh --guest GUESTDIR --out DIR NAME[:VLAN[,VLAN...]] ...
#
#   GUESTDIR  output of build.sh (vmlinuz, initrd.img)
#   DIR       gets bin/run-<name>-vm for each node and manifest.json
#   NAME      node name; VLANs default to 1 as in nixpkgs (virtualisation.vlans),
#             and "NAME:" gives a node with no VLAN NICs.
#
# Example: topology.sh --guest build/guest --out build/topo/trio a:1,2 b:1 c:2
#
# The start scripts follow nixpkgs' generated run-<name>-vm (qemu-vm.nix), so
# the driver runs them unchanged: it appends its flags as "$@" and signals the
# PID it spawned, which is QEMU because the script execs it.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

guest_files=(vmlinuz initrd.img)
generator=tools/guests/minimal/topology.sh

emit_qemu() {
    cat <<EOF

# exec: the driver signals the PID it spawned, which must be QEMU. q35 as in
# recent nixpkgs; it also boots faster under TCG than the default i440fx.
exec qemu-system-x86_64 -machine type=q35,accel=tcg -cpu max -name $name -m 256 -smp 1 -nographic \\
    -kernel $(printf '%q' "$guest/vmlinuz") -initrd $(printf '%q' "$guest/initrd.img") \\
    -append "console=ttyS0 panic=1 $fast_boot vmtest.name=$name vmtest.vlans=$vlans_param vmtest.hosts=$hosts_param \$QEMU_KERNEL_PARAMS" \\
    -net nic,netdev=user.0,model=virtio -netdev user,id=user.0,"\$QEMU_NET_OPTS"$nic_args \\
    \$QEMU_OPTS "\$@"
EOF
}

source "$here/../lib/topology.sh"
topology_main "$@"
