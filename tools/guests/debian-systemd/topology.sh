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

usage() {
    echo "usage: $0 --guest GUESTDIR --out DIR NAME[:VLAN[,VLAN...]] ..." >&2
    exit 2
}
die() { echo "topology.sh: $*" >&2; exit 1; }

guest='' outdir=''
specs=()
while [[ $# -gt 0 ]]; do
    case $1 in
        --guest) [[ $# -ge 2 ]] || usage; guest=$2; shift 2 ;;
        --out) [[ $# -ge 2 ]] || usage; outdir=$2; shift 2 ;;
        -h|--help) usage ;;
        -*) usage ;;
        *) specs+=("$1"); shift ;;
    esac
done
[[ -n $guest && -n $outdir && ${#specs[@]} -gt 0 ]] || usage
for f in base.qcow2 vmlinuz initrd.img; do
    [[ -f $guest/$f ]] || die "$guest/$f is missing (run build.sh first)"
done
guest=$(cd "$guest" && pwd)  # baked into the scripts, so make it absolute

# --- parse NAME[:VLAN,...] --------------------------------------------------------
declare -A node_vlans=()
for spec in "${specs[@]}"; do
    name=${spec%%:*}
    if [[ $spec == *:* ]]; then vlans=${spec#*:}; else vlans=1; fi
    # The name is a hostname, part of a file name and of a JSON key.
    [[ $name =~ ^[A-Za-z0-9][A-Za-z0-9_-]*$ ]] || die "bad node name '$name'"
    [[ -z ${node_vlans[$name]+x} ]] || die "node '$name' given twice"
    list=()
    for v in ${vlans//,/ }; do
        if ! [[ $v =~ ^[0-9]+$ ]] || ((10#$v < 1 || 10#$v > 255)); then
            die "bad VLAN '$v' for node '$name' (1..255)"
        fi
        v=$((10#$v))
        [[ " ${list[*]} " != *" $v "* ]] || die "VLAN $v given twice for node '$name'"
        list+=("$v")
    done
    node_vlans[$name]=${list[*]}  # normalised, space separated, in the given order
done

# Node numbers follow the sorted names, as nixpkgs numbers its nodes.
mapfile -t names < <(printf '%s\n' "${!node_vlans[@]}" | LC_ALL=C sort)
((${#names[@]} <= 254)) || die "at most 254 nodes"

# /etc/hosts entries: each node's address on its first VLAN.
hosts=()
declare -A all_vlans=()
for i in "${!names[@]}"; do
    name=${names[$i]}
    read -ra vl <<<"${node_vlans[$name]}"
    ((${#vl[@]} > 0)) && hosts+=("$name:192.168.${vl[0]}.$((i + 1))")
    for v in "${vl[@]}"; do all_vlans[$v]=1; done
done
hosts_param=$(IFS=,; echo "${hosts[*]}")

# Kernel parameters that make the boot shorter under TCG; later ones in
# $QEMU_KERNEL_PARAMS win (e.g. loglevel=7 brings the kernel messages back;
# journald forwards the journal to the serial console either way).
#   quiet                  print only errors: the 8250 console is slow under TCG
#   cryptomgr.notests      skip the crypto self-tests...
#   initcall_blacklist=crypto_kdf108_init   ...and this one, which ignores the above
#   tsc=reliable no_timer_check   trust the emulated clock; no watchdog, no timer probe
#   edd=off                skip probing BIOS disks, there are none
fast_boot="quiet cryptomgr.notests initcall_blacklist=crypto_kdf108_init tsc=reliable no_timer_check edd=off"
# x86 kernels take at most 2048 bytes of command line; leave room for the rest.
((${#hosts_param} <= 1600)) || die "too many nodes for vmtest.hosts on the kernel command line"

# --- start scripts --------------------------------------------------------------------
mkdir -p "$outdir/bin"
outdir=$(cd "$outdir" && pwd)
rm -f "$outdir"/bin/run-*-vm  # drop nodes of an earlier topology

for i in "${!names[@]}"; do
    name=${names[$i]}
    node=$((i + 1))
    read -ra vl <<<"${node_vlans[$name]}"
    script=$outdir/bin/run-$name-vm

    # One virtio NIC per VLAN on the VLAN's vde_switch; the MAC encodes VLAN and
    # node number, which is how the guest finds its address.
    nic_args='' checks=''
    for j in "${!vl[@]}"; do
        v=${vl[$j]}
        mac=$(printf '52:54:00:12:%02x:%02x' "$v" "$node")
        nic_args+=" \\
    -device virtio-net-pci,netdev=vlan$((j + 1)),mac=$mac -netdev vde,id=vlan$((j + 1)),sock=\"\$QEMU_VDE_SOCKET_$v\""
        checks+="
: \"\${QEMU_VDE_SOCKET_$v:?is not set: start a vde_switch for VLAN $v and export its socket path}\""
    done
    vlans_param=$(IFS=,; echo "${vl[*]}")

    cat >"$script.tmp" <<EOF
#!/usr/bin/env bash
# Start script of node "$name" (node number $node, VLANs: ${vl[*]:-none}).
# Generated by tools/guests/debian-systemd/topology.sh; follows nixpkgs'
# run-<name>-vm.
set -e
$checks
# The driver sets TMPDIR to the machine's state dir and USE_TMPDIR=1; run by
# hand, the script makes its own temporary directory.
if [ -z "\$TMPDIR" ] || [ -z "\$USE_TMPDIR" ]; then
    TMPDIR=\$(mktemp -d -t vmtest-vm.XXXXXXXXXX)
fi
mkdir -p "\$TMPDIR/xchg"
cd "\$TMPDIR"

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
    chmod 755 "$script.tmp"
    mv -f "$script.tmp" "$script"
done

# --- manifest ---------------------------------------------------------------------------
{
    echo '{'
    echo '  "vms": {'
    for i in "${!names[@]}"; do
        name=${names[$i]}
        sep=,; ((i == ${#names[@]} - 1)) && sep=
        printf '    "%s": {"name": "%s", "start_script": "bin/run-%s-vm"}%s\n' "$name" "$name" "$name" "$sep"
    done
    echo '  },'
    vlan_list=$(printf '%s\n' "${!all_vlans[@]}" | sort -n | paste -sd, - | sed 's/,/, /g')
    echo "  \"vlans\": [$vlan_list]"
    echo '}'
} >"$outdir/manifest.json.tmp"
mv -f "$outdir/manifest.json.tmp" "$outdir/manifest.json"

echo "topology.sh: wrote $outdir/manifest.json and ${#names[@]} start script(s)"
