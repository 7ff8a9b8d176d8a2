#!/bin/busybox sh
# shellcheck shell=dash
# /init of the vmtest Debian guest's initrd (made by build.sh): load the virtio
# drivers, mount the root file system and hand over to systemd. It does the job
# of Debian's initramfs-tools initrd in a fraction of the time under TCG, where
# every process start is expensive: no udev, no scripts, one busybox.
#
# Kernel parameters read: root= (a /dev path; default /dev/vda), rootfstype=
# (default ext4), rootflags=, ro/rw (default ro), init= (default /sbin/init).
# Any failure ends /init, so the kernel panics: with panic=1 and QEMU's
# -no-reboot the VM exits at once, with the reason on the serial console.
/bin/busybox mkdir -p /dev /proc /sys /newroot
/bin/busybox mount -t devtmpfs devtmpfs /dev
/bin/busybox mount -t proc proc /proc
/bin/busybox mount -t sysfs sysfs /sys
export PATH=/bin

fail() { echo "vmtest initrd: $*" >/dev/console; exit 1; }

# The drivers, dependencies first (see /lib/modules/load-order).
while read -r ko; do
    [ -n "$ko" ] && { insmod "$ko" || fail "insmod $ko failed"; }
done </lib/modules/load-order

root=/dev/vda fstype=ext4 flags='' mode=ro init=/sbin/init
for arg in $(cat /proc/cmdline); do
    case $arg in
        root=*) root=${arg#root=} ;;
        rootfstype=*) fstype=${arg#rootfstype=} ;;
        rootflags=*) flags=${arg#rootflags=} ;;
        ro|rw) mode=$arg ;;
        init=*) init=${arg#init=} ;;
    esac
done

# virtio-blk probes while its module loads, so the disk is normally there.
i=0
while [ ! -b "$root" ]; do
    [ $i -ge 100 ] && fail "no root device $root after 10 s"
    sleep 0.1
    i=$((i + 1))
done
mount -t "$fstype" -o "$mode${flags:+,$flags}" "$root" /newroot || fail "cannot mount $root ($fstype)"
[ -x "/newroot$init" ] || [ -L "/newroot$init" ] || fail "no $init on $root"

# systemd finds /dev, /proc and /sys already mounted and keeps them.
for fs in dev proc sys; do
    mount --move "/$fs" "/newroot/$fs" || fail "cannot move /$fs"
done
exec switch_root /newroot "$init" "$@"
