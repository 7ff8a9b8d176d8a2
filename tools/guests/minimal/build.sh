#!/usr/bin/env bash
# Build the vmtest minimal guest: OUTDIR/vmlinuz (Debian cloud kernel) and
# OUTDIR/initrd.img (busybox + bash + virtio modules + init.sh as /init).
#
# usage: build.sh OUTDIR
#
# Everything comes from Debian packages: the kernel is fetched with
# `apt-get download` (never installed on the host); busybox (busybox-static),
# bash and coreutils' timeout are taken from the host's installed packages. The result is cached: OUTDIR/.stamp
# holds a hash of the inputs and a matching stamp makes this a no-op.
set -euo pipefail

usage() { echo "usage: $0 [--static-bash] OUTDIR" >&2; exit 2; }
# --static-bash: Debian's bash-static (downloaded, not installed) as /bin/bash,
# for benchmarks on a guest whose shell pays no dynamic loading per exec.
static_bash=0
if [[ ${1:-} == --static-bash ]]; then static_bash=1; shift; fi
[[ $# -eq 1 && -n $1 ]] || usage

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
init_script=$here/init.sh
mkdir -p "$1"
out=$(cd "$1" && pwd)

# The kernel modules /init loads, in this order (each after its own
# dependencies, which come from modules.dep). Entries marked '?' are optional:
# they are separate modules only in some kernel versions.
modules=(virtio_ring virtio 'virtio_pci_modern_dev?' 'virtio_pci_legacy_dev?' virtio_pci
         virtio_console virtio_net net_failover failover virtio_blk virtio_rng)

die() { echo "build.sh: $*" >&2; exit 1; }

pkg_version() { dpkg-query -W -f '${Version}' "$1" 2>/dev/null || die "package $1 is not installed"; }

# --- inputs and cache -----------------------------------------------------------
# linux-image-cloud-amd64 is a metapackage; the real package carries the ABI in
# its name (linux-image-6.1.0-NN-cloud-amd64).
kernel_pkg=$(apt-cache depends linux-image-cloud-amd64 2>/dev/null |
             awk '$1 == "Depends:" && $2 ~ /^linux-image-[0-9]/ { print $2; exit }')
[[ -n $kernel_pkg ]] || die "cannot resolve linux-image-cloud-amd64 (run apt-get update?)"
kernel_version=$(apt-cache show --no-all-versions "$kernel_pkg" | awk '$1 == "Version:" { print $2; exit }')
[[ -n $kernel_version ]] || die "no candidate version for $kernel_pkg"

busybox_version=$(pkg_version busybox-static)
busybox_bin=$(dpkg-query -L busybox-static | grep -m1 -E '/bin/busybox$' || true)
[[ -x $busybox_bin ]] || die "busybox-static has no busybox binary"
bash_version=$(pkg_version bash)
if ((static_bash)); then
    bash_version=static-$(apt-cache show --no-all-versions bash-static | awk '$1 == "Version:" { print $2; exit }')
    [[ $bash_version != static- ]] || die "no candidate version of bash-static (run apt-get update?)"
fi
coreutils_version=$(pkg_version coreutils)  # for timeout
libc_version=$(pkg_version libc6)  # bash's shared libraries come from the host

stamp=$( {
    sha256sum <"${BASH_SOURCE[0]}"
    sha256sum <"$init_script"
    echo "$kernel_pkg=$kernel_version busybox-static=$busybox_version bash=$bash_version coreutils=$coreutils_version libc6=$libc_version"
} | sha256sum | cut -d' ' -f1)

if [[ -f $out/.stamp && $(<"$out/.stamp") == "$stamp" && -f $out/vmlinuz && -f $out/initrd.img ]]; then
    echo "build.sh: $out is up to date ($kernel_pkg $kernel_version), nothing to do"
    exit 0
fi
echo "build.sh: building $out ($kernel_pkg $kernel_version)"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# --- kernel -----------------------------------------------------------------------
mkdir "$work/dl"
# apt drops privileges to _apt for downloads; let it write here so it does not
# warn about falling back to an unsandboxed download.
if [[ $(id -u) == 0 ]] && id _apt >/dev/null 2>&1; then
    chmod 755 "$work" && chown _apt "$work/dl"
fi
(cd "$work/dl" && apt-get download -q "$kernel_pkg=$kernel_version" >/dev/null)
dpkg-deb -x "$work"/dl/"$kernel_pkg"_*.deb "$work/kernel"

kernel_release=${kernel_pkg#linux-image-}
modules_base=$work/kernel
[[ -d $modules_base/lib/modules/$kernel_release ]] || modules_base=$work/kernel/usr  # merged-/usr layout
moddir=$modules_base/lib/modules/$kernel_release
[[ -d $moddir ]] || die "no modules for $kernel_release in $kernel_pkg"
[[ -f $work/kernel/boot/vmlinuz-$kernel_release ]] || die "no vmlinuz in $kernel_pkg"
# modules.dep is normally made by depmod in the package's postinst, so the .deb
# has none; busybox's depmod makes it from the extracted tree.
[[ -f $moddir/modules.dep ]] || "$busybox_bin" depmod -b "$modules_base" "$kernel_release"

# --- initramfs tree -------------------------------------------------------------------
root=$work/root
mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,etc,dev,proc,sys,tmp,run,root,lib/modules}

# busybox with one symlink per applet, except those this guest replaces.
cp "$busybox_bin" "$root/bin/busybox"
while read -r applet; do
    case ${applet##*/} in
        busybox|poweroff|reboot|halt|linuxrc) continue ;;
    esac
    mkdir -p "$root/$(dirname "$applet")"
    [[ -e $root/$applet ]] || ln -s /bin/busybox "$root/$applet"
done < <("$busybox_bin" --list-full)

# bash, plus coreutils' timeout: the driver wraps commands in `timeout`, and
# only coreutils' exits with 124 when time is up (busybox's gives 128+signal),
# as on NixOS. Both with their shared libraries and the dynamic loader, at the
# paths ldd reports.
if ((static_bash)); then
    (cd "$work/dl" && apt-get download -q "bash-static=${bash_version#static-}" >/dev/null)
    dpkg-deb -x "$work"/dl/bash-static_*.deb "$work/bash-static"
    cp "$work/bash-static/bin/bash-static" "$root/bin/bash"
else
    cp "$(command -v bash)" "$root/bin/bash"
fi
rm -f "$root/usr/bin/timeout"
cp /usr/bin/timeout "$root/usr/bin/timeout"
dynamic=("$root/usr/bin/timeout")
((static_bash)) || dynamic+=("$root/bin/bash")
ldd "${dynamic[@]}" |
    awk '$2 == "=>" && $3 ~ /^\// { print $3 }  NF == 2 && $1 ~ /^\// { print $1 }' |
    sort -u | while read -r lib; do
    mkdir -p "$root/$(dirname "$lib")"
    cp -L "$lib" "$root/$lib"
done

# Kernel modules: the closure of $modules over modules.dep, dependencies first.
declare -A moddeps=() modpath=() loaded=()
while IFS= read -r line; do
    path=${line%%:*}
    moddeps[$path]=${line#*:}
    name=${path##*/}; name=${name%%.ko*}; name=${name//-/_}
    modpath[$name]=$path
done <"$moddir/modules.dep"
builtin=$(sed -E 's|.*/||; s|\.ko.*||; s|-|_|g' "$moddir/modules.builtin")

load_order=()
add_module() {  # $1: path relative to $moddir, as in modules.dep
    local dep
    [[ -n ${loaded[$1]:-} ]] && return
    loaded[$1]=1
    for dep in ${moddeps[$1]}; do add_module "$dep"; done
    load_order+=("$1")
}
for want in "${modules[@]}"; do
    optional=; [[ $want == *\? ]] && { optional=1; want=${want%\?}; }
    if [[ -n ${modpath[$want]:-} ]]; then
        add_module "${modpath[$want]}"
    elif grep -qx "$want" <<<"$builtin"; then
        :  # built into this kernel
    elif [[ -z $optional ]]; then
        die "module $want is neither in modules.dep nor built in"
    fi
done

: >"$root/lib/modules/load-order"
for rel in "${load_order[@]}"; do
    dest=/lib/modules/$kernel_release/${rel%.ko*}.ko
    mkdir -p "$root/$(dirname "$dest")"
    case $rel in  # busybox insmod wants plain .ko files
        *.ko)     cp "$moddir/$rel" "$root/$dest" ;;
        *.ko.xz)  xz -dc "$moddir/$rel" >"$root/$dest" ;;
        *.ko.zst) zstd -qdc "$moddir/$rel" >"$root/$dest" ;;
        *.ko.gz)  gzip -dc "$moddir/$rel" >"$root/$dest" ;;
        *) die "unknown module format: $rel" ;;
    esac
    echo "$dest" >>"$root/lib/modules/load-order"
done

# /init and the power scripts. busybox's poweroff/reboot signal PID 1, which
# only busybox init understands; SysRq does it straight away. QEMU exits on
# power-off, and on reboot too when it runs with -no-reboot (the driver's default).
install -m 755 "$init_script" "$root/init"
printf '#!/bin/sh\n# Power the VM off now (see build.sh).\nsync\necho o >/proc/sysrq-trigger\n' >"$root/sbin/poweroff"
printf '#!/bin/sh\n# Reboot the VM now (see build.sh).\nsync\necho b >/proc/sysrq-trigger\n' >"$root/sbin/reboot"
cp "$root/sbin/poweroff" "$root/sbin/halt"  # a halted VM would only hang the caller
chmod 755 "$root/sbin/poweroff" "$root/sbin/reboot" "$root/sbin/halt"

printf 'root:x:0:0:root:/root:/bin/bash\n' >"$root/etc/passwd"
printf 'root:x:0:\ntty:x:5:\n' >"$root/etc/group"
# Without /dev/console in the archive the kernel starts /init with no stdio.
if [[ $(id -u) == 0 ]]; then mknod -m 600 "$root/dev/console" c 5 1; fi

# Fixed timestamps and sorted entries keep the archive byte-for-byte stable.
find "$root" -exec touch -h -d @0 {} +
(cd "$root" && find . -mindepth 1 -print0 | LC_ALL=C sort -z |
    cpio --null --create --format=newc --owner=0:0 --reproducible --quiet) |
    gzip -9 -n >"$work/initrd.img"

# --- install ------------------------------------------------------------------------
rm -f "$out/.stamp"
install -m 644 "$work/kernel/boot/vmlinuz-$kernel_release" "$out/vmlinuz.tmp"
install -m 644 "$work/initrd.img" "$out/initrd.img.tmp"
mv -f "$out/vmlinuz.tmp" "$out/vmlinuz"
mv -f "$out/initrd.img.tmp" "$out/initrd.img"
cat >"$out/versions.txt" <<EOF
kernel_package=$kernel_pkg
kernel_version=$kernel_version
kernel_release=$kernel_release
busybox-static=$busybox_version
bash=$bash_version
coreutils=$coreutils_version
libc6=$libc_version
modules=$(tr '\n' ' ' <"$root/lib/modules/load-order")
EOF
echo "$stamp" >"$out/.stamp"
echo "build.sh: wrote $out/vmlinuz and $out/initrd.img ($(du -k "$out/initrd.img" | cut -f1) KiB)"
