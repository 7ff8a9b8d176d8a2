#!/bin/sh
# /init (PID 1) of the vmtest minimal guest; runs under busybox sh.
#
# It sets up just enough of a system for the driver's backdoor protocol: pseudo
# filesystems, the virtio modules, networking laid out the way nixpkgs' test
# network does it, and then the backdoor shell on /dev/hvc0, written after NixOS's
# backdoor.service. PID 1 must never exit (the kernel would panic), so the
# backdoor runs as a child that is respawned, and this shell reaps orphans.
#
# Kernel command line parameters read here (topology.sh writes them):
#   vmtest.name=<hostname>
#   vmtest.vlans=<v>[,<v>...]       VLANs of this node, in NIC order (eth1, eth2, ...)
#   vmtest.hosts=<name>:<ip>[,...]  lines for /etc/hosts

export PATH=/bin:/sbin:/usr/bin:/usr/sbin
umask 022

# Messages go to the serial console, stamped with the uptime like the kernel's.
log() {
    up=; read -r up _ </proc/uptime 2>/dev/null
    echo "[${up:-?}] vmtest-init: $*"
}

# --- backdoor -------------------------------------------------------------------
# The guest half of the driver protocol, as NixOS's backdoor.service does it:
# bash reads /dev/hvc0 as a script, one command per line, stderr goes to the
# serial console. Nothing else may write to hvc0.
backdoor() {
    export USER=root HOME=/root PATH=/bin:/sbin:/usr/bin:/usr/sbin
    cd /tmp || exit 1
    # virtio_console announces its ports asynchronously; poll for up to ~10 s.
    tries=0
    while [ ! -e /dev/hvc0 ]; do
        tries=$((tries + 1))
        if [ "$tries" -gt 100 ]; then
            log "no /dev/hvc0 after 10 s (no virtconsole?)"
            exit 1
        fi
        sleep 0.1
    done
    exec </dev/hvc0 >/dev/hvc0
    until exec 2>/dev/ttyS0; do sleep 0.1; done
    echo "connecting to host..." >&2
    # Raw, no echo: bytes reach bash unchanged and nothing is echoed back.
    stty -F /dev/hvc0 raw -echo
    echo "Spawning backdoor root shell..."
    PS1='' exec bash --norc /dev/hvc0
}

# /init re-runs itself with this argument to start the backdoor as a
# *foreground* child: a background job (`&`) would inherit SIGINT and SIGQUIT
# ignored, and so would every command the driver runs.
if [ "${1:-}" = --vmtest-backdoor ]; then
    backdoor
    exit 1
fi

# --- pseudo filesystems --------------------------------------------------------
mkdir -p /dev /proc /sys /tmp /run /root
mount -t devtmpfs -o mode=0755 devtmpfs /dev
# The kernel may have started us without a console if /dev was empty; reopen it.
exec </dev/console >/dev/console 2>&1
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mkdir -p /dev/pts /dev/shm
mount -t devpts -o gid=5,mode=620,ptmxmode=666 devpts /dev/pts
mount -t tmpfs -o mode=1777 tmpfs /tmp
mount -t tmpfs -o mode=0755 tmpfs /run
mount -t tmpfs -o mode=1777 tmpfs /dev/shm
# /sbin/poweroff and /sbin/reboot use the magic SysRq trigger.
echo 1 >/proc/sys/kernel/sysrq

# --- kernel modules -------------------------------------------------------------
# build.sh wrote the module paths in dependency order (dependencies first).
while read -r ko; do
    [ -n "$ko" ] || continue
    insmod "$ko" || log "insmod $ko failed"
done </lib/modules/load-order

# --- kernel command line --------------------------------------------------------
name=vmtest vlans='' hosts=''
set -f  # no globbing while splitting the command line
# shellcheck disable=SC2013 # words, not lines, are wanted
for arg in $(cat /proc/cmdline); do
    case $arg in
        vmtest.name=*) name=${arg#vmtest.name=} ;;
        vmtest.vlans=*) vlans=${arg#vmtest.vlans=} ;;
        vmtest.hosts=*) hosts=${arg#vmtest.hosts=} ;;
    esac
done
set +f
hostname "$name"
echo "$name" >/etc/hostname

# --- networking -----------------------------------------------------------------
ip link set lo up

# Position (1-based) of VLAN $1 in vmtest.vlans, or nothing.
vlan_index() {
    i=1
    for v in $(echo "$vlans" | tr , ' '); do
        [ "$v" = "$1" ] && { echo "$i"; return; }
        i=$((i + 1))
    done
}

# First decide every NIC's name and addresses; one line per NIC:
#   <current name> <target name> <IPv4/prefix or -> <IPv6/prefix or -> <MAC>
# A VLAN NIC has the MAC 52:54:00:12:<vlan>:<node number> (hex). Checking the
# VLAN against vmtest.vlans matters: QEMU's default MAC for the user-mode NIC,
# 52:54:00:12:34:56, has the same prefix.
plan=
have_eth0=
extra=0
for path in /sys/class/net/*; do
    dev=${path##*/}
    [ "$dev" = lo ] && continue
    mac=$(cat "$path/address")
    idx=
    case $mac in
        52:54:00:12:??:??)
            vlan=$((0x$(echo "$mac" | cut -d: -f5)))
            node=$((0x$(echo "$mac" | cut -d: -f6)))
            idx=$(vlan_index "$vlan")
            ;;
    esac
    if [ -n "$idx" ]; then
        # nixpkgs gives VLAN NICs an IPv6 address too.
        plan="$plan$dev eth$idx 192.168.$vlan.$node/24 2001:db8:$vlan::$node/64 $mac
"
    elif [ -z "$have_eth0" ]; then
        # QEMU user-mode networking (slirp). Its DHCP server would hand out
        # this same address; setting it statically saves the round trip.
        plan="$plan$dev eth0 10.0.2.15/24 - $mac
"
        have_eth0=1
    else
        # Some NIC from $QEMU_OPTS: keep it out of the way of the eth names.
        plan="$plan$dev extra$extra - - $mac
"
        extra=$((extra + 1))
    fi
done

# Rename via temporary names so that no rename collides with a name the kernel
# gave out in probe order. Usually the kernel's names already fit.
echo "$plan" | while read -r dev target _; do
    [ -n "$dev" ] && [ "$dev" != "$target" ] && ip link set dev "$dev" name "tmp-$target"
done
echo "$plan" | while read -r dev target v4 v6 mac; do
    [ -n "$dev" ] || continue
    [ "$dev" != "$target" ] && ip link set dev "tmp-$target" name "$target"
    if [ "$v4" = - ]; then
        log "$target ($mac): not configured"
        continue
    fi
    ip addr add "$v4" dev "$target"
    if [ "$v6" != - ]; then
        # No duplicate address detection (busybox ip has no "nodad"): the
        # network is ours, and DAD would keep the address unusable for a while.
        echo 0 >"/proc/sys/net/ipv6/conf/$target/accept_dad"
        ip -6 addr add "$v6" dev "$target"
    fi
    ip link set dev "$target" up
    addrs=$v4; [ "$v6" = - ] || addrs="$addrs $v6"
    log "$target ($mac): $addrs"
done

# Every node's address on its first VLAN, as nixpkgs lists them. A node
# without VLANs is not listed; it still resolves its own name, via 127.0.0.2.
{
    echo "127.0.0.1 localhost"
    echo "::1 localhost"
    self_listed=
    for entry in $(echo "$hosts" | tr , ' '); do
        echo "${entry#*:} ${entry%%:*}"
        [ "${entry%%:*}" = "$name" ] && self_listed=1
    done
    [ -n "$self_listed" ] || echo "127.0.0.2 $name"
} >/etc/hosts

log "starting backdoor on hvc0"
while :; do
    # While waiting for a foreground child, busybox ash blocks in waitpid(-1),
    # so orphans reparented to PID 1 are reaped as they exit.
    "$0" --vmtest-backdoor
    log "backdoor exited; respawning"
    sleep 0.2  # no busy loop if bash keeps failing
done
