#!/usr/bin/env bash
# Build the vmtest Debian systemd guest: a debootstrap'd Debian 12 root with
# systemd, containerd, runc and the nixpkgs-style backdoor, as
#   OUTDIR/base.qcow2   read-only ext4 root image (the start scripts put a
#                       copy-on-write overlay on top of it for every run)
#   OUTDIR/vmlinuz      Debian's generic kernel (it has 9p), the one installed in the image
#   OUTDIR/initrd.img   a small initrd: busybox, the virtio drivers, and
#                       initrd-init.sh as /init, which mounts the root and
#                       starts systemd
#   OUTDIR/versions.txt kernel release and the image's package versions
#
# usage: build.sh OUTDIR
#
# Needs root (debootstrap, chroot) and deb.debian.org. The result is cached:
# OUTDIR/.stamp holds a hash of the inputs (this script, initrd-init.sh,
# packages.txt, the rootfs/ overlay, suite, mirror) and a matching stamp makes
# this a no-op.
#
# Environment:
#   VMTEST_DEBIAN_MIRROR   mirror (default http://deb.debian.org/debian)
#   VMTEST_DEBOOTSTRAP_CACHE  directory kept between builds for debootstrap's
#                          downloaded .debs (optional; not part of the hash)
set -euo pipefail

usage() { echo "usage: $0 OUTDIR" >&2; exit 2; }
[[ $# -eq 1 && -n $1 ]] || usage

suite=bookworm
variant=minbase
mirror=${VMTEST_DEBIAN_MIRROR:-http://deb.debian.org/debian}
# Free space in the image on top of the tree, for what tests install or import.
free_mib=1536
min_image_mib=2048

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
overlay=$here/rootfs
package_list=$here/packages.txt
initrd_init=$here/initrd-init.sh
# Drivers the initrd loads (with their dependencies): the root disk, and the
# console, NICs and RNG, so that udev finds those devices at coldplug instead of
# creating them late, after loading the drivers itself; the backdoor waits for
# /dev/hvc0. Built-in ones are skipped.
initrd_modules=(virtio_pci virtio_blk ext4 virtio_console virtio_net virtio_rng)

die() { echo "build.sh: $*" >&2; exit 1; }
log() { echo "build.sh: $*"; }

[[ $(id -u) == 0 ]] || die "must run as root (debootstrap, chroot)"
mkdir -p "$1"
out=$(cd "$1" && pwd)

mapfile -t packages < <(sed -e 's/#.*//' -e 's/[[:space:]]//g' "$package_list" | grep -v '^$')
((${#packages[@]} > 0)) || die "no packages in $package_list"

# --- inputs and cache -----------------------------------------------------------
# The overlay's file names, modes and contents all count.
stamp=$( {
    echo "suite=$suite variant=$variant mirror=$mirror free_mib=$free_mib min_image_mib=$min_image_mib"
    sha256sum <"${BASH_SOURCE[0]}"
    sha256sum <"$initrd_init"
    printf '%s\n' "${packages[@]}"
    (cd "$overlay" && find . -type f -printf '%p %m\n' | LC_ALL=C sort |
        while read -r f mode; do echo "$f $mode $(sha256sum <"$f")"; done)
} | sha256sum | cut -d' ' -f1)

# One build at a time per OUTDIR; a second caller waits, then finds it done.
exec 9>"$out/.lock"
flock 9

outputs=(base.qcow2 vmlinuz initrd.img)
up_to_date=1
for f in "${outputs[@]}"; do [[ -f $out/$f ]] || up_to_date=; done
if [[ -n $up_to_date && -f $out/.stamp && $(<"$out/.stamp") == "$stamp" ]]; then
    log "$out is up to date ($(grep -s '^kernel_release=' "$out/versions.txt" | cut -d= -f2)), nothing to do"
    exit 0
fi
log "building $out (Debian $suite from $mirror)"
start=$SECONDS

# --- host tools -------------------------------------------------------------------
missing=()
command -v debootstrap >/dev/null || missing+=(debootstrap)
command -v qemu-img >/dev/null || missing+=(qemu-utils)
command -v mkfs.ext4 >/dev/null || missing+=(e2fsprogs)
command -v cpio >/dev/null || missing+=(cpio)
if ((${#missing[@]} > 0)); then
    log "installing ${missing[*]}"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" >/dev/null ||
        { apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" >/dev/null; } ||
        die "cannot install ${missing[*]}"
fi
# mkfs.ext4 -d (populate from a directory) needs e2fsprogs 1.43 or later.
mkfs_help=$(mkfs.ext4 2>&1 || true)
[[ $mkfs_help == *"-d root-directory"* ]] || die "mkfs.ext4 does not support -d; need e2fsprogs >= 1.43"

# --- work area --------------------------------------------------------------------
# Next to OUTDIR, so the results are moved, not copied, into place.
work=$(mktemp -d "$out/.build.XXXXXX")
root=$work/root
cleanup() {
    # debootstrap mounts /proc and /sys in the target and should unmount them,
    # but never let rm walk into a mounted file system.
    local m
    while read -r m; do umount -l "$m" 2>/dev/null || true; done < <(
        awk -v w="$work/" 'index($2, w) == 1 { print $2 }' /proc/mounts | sort -r)
    rm -rf --one-file-system "$work"
}
trap cleanup EXIT

# --- debootstrap ------------------------------------------------------------------
# The initramfs-tools configuration goes in first, so that the kernel's postinst
# builds the initrd just once, already small (MODULES=list). dpkg's no-docs
# config goes in first too; debootstrap's first stage ignores it, the rest do not.
mkdir -p "$root/etc"
cp -r --preserve=mode "$overlay/etc/initramfs-tools" "$overlay/etc/dpkg" "$root/etc/"

debootstrap_opts=(--variant="$variant" --include="$(IFS=,; echo "${packages[*]}")")
if [[ -n ${VMTEST_DEBOOTSTRAP_CACHE:-} ]]; then
    mkdir -p "$VMTEST_DEBOOTSTRAP_CACHE"
    debootstrap_opts+=(--cache-dir="$(cd "$VMTEST_DEBOOTSTRAP_CACHE" && pwd)")
fi
log "debootstrap $suite (${#packages[@]} extra packages), log in $work/debootstrap.log while it runs"
if ! DEBIAN_FRONTEND=noninteractive debootstrap "${debootstrap_opts[@]}" "$suite" "$root" "$mirror" \
        >"$work/debootstrap.log" 2>&1; then
    tail -n 40 "$work/debootstrap.log" >&2
    [[ -f $root/debootstrap/debootstrap.log ]] && tail -n 40 "$root/debootstrap/debootstrap.log" >&2
    die "debootstrap failed"
fi
log "debootstrap done after $((SECONDS - start)) s"

# --- configuration ----------------------------------------------------------------
# The overlay: units, scripts, systemd/journald drop-ins, fstab.
cp -r --preserve=mode "$overlay/." "$root/"
(cd "$overlay" && find . -type f) | while read -r f; do chmod go-w "$root/$f"; done

in_root() { chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin "$@"; }

in_root systemctl enable --quiet backdoor.service vmtest-hosts.service vmtest-network.service containerd.service
# No login prompt on the (invisible) VGA console: one process less at boot.
in_root systemctl disable --quiet getty@tty1.service
# Disabled, not masked: a test that wants SSH starts it.
in_root systemctl disable --quiet ssh.service
[[ -e $root/lib/systemd/system/ssh.socket ]] && in_root systemctl disable --quiet ssh.socket
# A getty on the backdoor's ttys breaks the protocol (EIO); systemd's getty
# generator would start them for console=ttyS0 and for the virtconsole.
# systemd-firstboot would prompt on the console. The rest only cost boot time
# under TCG, where every process start takes tens of milliseconds (the
# modprobe@ units load modules for EFI, device mapper, DRM, FUSE, loop devices
# and configfs; debugfs, tracefs, hugetlbfs; a random seed, when virtio-rng is
# there; users that the packages made already; utmp records), or do maintenance
# a test VM never needs. The journal is in memory: there is nothing to flush.
in_root systemctl mask --quiet \
    serial-getty@ttyS0.service serial-getty@hvc0.service getty@hvc0.service \
    systemd-firstboot.service \
    modprobe@drm.service modprobe@efi_pstore.service modprobe@dm_mod.service \
    modprobe@fuse.service modprobe@loop.service modprobe@configfs.service \
    kmod-static-nodes.service systemd-pstore.service systemd-journal-flush.service \
    systemd-random-seed.service systemd-sysusers.service \
    systemd-update-utmp.service systemd-update-utmp-runlevel.service \
    sys-kernel-debug.mount sys-kernel-tracing.mount dev-hugepages.mount \
    apt-daily.timer apt-daily-upgrade.timer dpkg-db-backup.timer \
    e2scrub_all.timer e2scrub_reap.service fstrim.timer
# Generators for things this guest does not have (encrypted, integrity or
# verity volumes, GPT auto-mounts, hibernation, offline updates, SysV scripts
# and rc.local): each is a process to start at every boot.
mkdir -p "$root/etc/systemd/system-generators"
for g in systemd-cryptsetup-generator systemd-integritysetup-generator systemd-veritysetup-generator \
         systemd-gpt-auto-generator systemd-hibernate-resume-generator systemd-system-update-generator \
         systemd-sysv-generator systemd-rc-local-generator; do
    ln -sfn /dev/null "$root/etc/systemd/system-generators/$g"
done

# Empty root password, as NixOS test VMs have.
in_root passwd -q -d root
# The host name comes from the kernel command line (systemd.hostname=).
echo vmtest >"$root/etc/hostname"
# An empty machine-id: systemd makes a new one on each node's first boot (not a
# "first boot" in systemd's sense, so nothing prompts), and nodes sharing the
# image still get different ids.
: >"$root/etc/machine-id"
rm -f "$root/var/lib/dbus/machine-id"
# No name servers: the guest has no way out (the user-mode NIC gets no route).
rm -f "$root/etc/resolv.conf"
: >"$root/etc/resolv.conf"
# The hosts file is rewritten at boot (vmtest-hosts.service).
printf '127.0.0.1 localhost\n::1 localhost ip6-localhost ip6-loopback\n' >"$root/etc/hosts"
# containerd's defaults, written out so tests can read and amend them.
if [[ ! -s $root/etc/containerd/config.toml ]]; then
    mkdir -p "$root/etc/containerd"
    in_root containerd config default >"$root/etc/containerd/config.toml"
fi

# --- kernel and initrd --------------------------------------------------------------
mapfile -t kernels < <(cd "$root/boot" && ls vmlinuz-* 2>/dev/null)
((${#kernels[@]} == 1)) || die "expected one kernel in /boot, found: ${kernels[*]:-none}"
kernel_release=${kernels[0]#vmlinuz-}
[[ -d $root/lib/modules/$kernel_release ]] || die "no /lib/modules/$kernel_release"
[[ -x $root/bin/busybox ]] || die "no /bin/busybox in the root (package busybox-static)"

# Debian's initrd (initramfs-tools) stays in the image's /boot; OUTDIR gets this
# one. The module order comes from the root's own modprobe, dependencies first.
initrd=$work/initrd
mkdir -p "$initrd"/{bin,dev,proc,sys,newroot,lib/modules}
cp "$root/bin/busybox" "$initrd/bin/busybox"
for applet in sh mount insmod sleep cat switch_root; do
    ln -s busybox "$initrd/bin/$applet"
done
install -m 755 "$initrd_init" "$initrd/init"
mknod -m 600 "$initrd/dev/console" c 5 1  # else the kernel starts /init with no stdio
: >"$initrd/lib/modules/load-order"
declare -A seen_ko=()
for m in "${initrd_modules[@]}"; do
    deps=$(in_root modprobe -S "$kernel_release" --show-depends "$m") || die "no module $m in $kernel_release"
    while read -r verb path _; do
        [[ $verb == insmod && -z ${seen_ko[$path]:-} ]] || continue
        seen_ko[$path]=1
        dest=${path#/usr}; dest=${dest%%.ko*}.ko
        mkdir -p "$initrd/$(dirname "$dest")"
        case $path in  # busybox insmod wants plain .ko files
            *.ko)     cp "$root/$path" "$initrd/$dest" ;;
            *.ko.xz)  xz -dc "$root/$path" >"$initrd/$dest" ;;
            *.ko.zst) zstd -qdc "$root/$path" >"$initrd/$dest" ;;
            *.ko.gz)  gzip -dc "$root/$path" >"$initrd/$dest" ;;
            *) die "unknown module format: $path" ;;
        esac
        echo "$dest" >>"$initrd/lib/modules/load-order"
    done <<<"$deps"
done
# Fixed timestamps and sorted entries keep the archive stable. Not compressed:
# under TCG, inflating costs more than the extra bytes do.
find "$initrd" -exec touch -h -d @0 {} +
(cd "$initrd" && find . -mindepth 1 -print0 | LC_ALL=C sort -z |
    cpio --null --create --format=newc --owner=0:0 --reproducible --quiet) >"$work/initrd.img"

# --- slim down ----------------------------------------------------------------------
rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/cache/apt/*.bin \
       "$root"/var/lib/apt/lists/* "$root"/debootstrap \
       "$root"/usr/share/man/* "$root"/usr/share/info/* "$root"/usr/share/locale/*
find "$root/usr/share/doc" -mindepth 1 ! -name copyright ! -type d -delete 2>/dev/null || true
find "$root/usr/share/doc" -mindepth 1 -type d -empty -delete 2>/dev/null || true
find "$root/var/log" -type f -delete
mkdir -p "$root/var/lib/apt/lists/partial"

# --- image --------------------------------------------------------------------------
tree_mib=$(( $(du -s --block-size=1M --one-file-system "$root" | cut -f1) ))
image_mib=$(( (tree_mib + free_mib + 255) / 256 * 256 ))
((image_mib >= min_image_mib)) || image_mib=$min_image_mib
log "tree is $tree_mib MiB; making a $image_mib MiB ext4 image"
truncate -s "${image_mib}M" "$work/root.img"
# Inode tables and journal are written now (zeros stay sparse), so the guest's
# ext4lazyinit has nothing to do at boot.
mkfs.ext4 -q -F -L vmtest-root -m 0 -d "$root" \
    -E lazy_itable_init=0,lazy_journal_init=0 "$work/root.img"
# Compressed (zstd where this qemu-img has it): about a third of the size, for
# CI caches, and no slower to boot, since QEMU inflates on the host, natively.
qemu-img convert -f raw -O qcow2 -c -o compression_type=zstd "$work/root.img" "$work/base.qcow2" 2>/dev/null ||
    qemu-img convert -f raw -O qcow2 -c "$work/root.img" "$work/base.qcow2"
rm -f "$work/root.img"

# --- install ------------------------------------------------------------------------
rm -f "$out/.stamp"
install -m 644 "$root/boot/vmlinuz-$kernel_release" "$work/vmlinuz"
chmod 644 "$work/initrd.img"
chmod 444 "$work/base.qcow2"  # a backing file: never written
{
    echo "suite=$suite"
    echo "mirror=$mirror"
    echo "kernel_release=$kernel_release"
    echo "initrd_modules=$(tr '\n' ' ' <"$initrd/lib/modules/load-order")"
    echo "image_mib=$image_mib"
    echo "tree_mib=$tree_mib"
    echo "packages:"
    in_root dpkg-query -W -f '  ${Package}=${Version}\n'
} >"$work/versions.txt"
for f in "${outputs[@]}" versions.txt; do
    mv -f "$work/$f" "$out/$f"
done
echo "$stamp" >"$out/.stamp"
log "wrote $out/base.qcow2 ($(du -m "$out/base.qcow2" | cut -f1) MiB on disk), vmlinuz and initrd.img" \
    "($(du -k "$out/initrd.img" | cut -f1) KiB) for $kernel_release in $((SECONDS - start)) s"
