# The package built and unit-tested the way the flake's `checks.<system>.unit` builds it, inside a
# bubblewrap sandbox shaped like a Nix build's (docs/nix.md, "The sandboxed-build check"):
#
#   * the sources are exactly what nix/package.nix gets: the flake's files (git-tracked, as a flake
#     copies them) less nix/build.json's excludedSources, bound read-only at $src;
#   * no network, no /bin/bash, no /usr/bin, no /usr/bin/env; /bin/sh is busybox (Nix's sandbox
#     shell); every tool is one file in a store-like bin folder on PATH; uid 1000, gid 100;
#     HOME=/homeless-shelter, which does not exist; TMPDIR=/build, private and empty; a private
#     /tmp (Nix creates one);
#   * nixpkgs' cmake hook phases: copy $src to a writable tree, rewrite /usr and /opt in the CMake
#     files to /var/empty, configure with the hook's flags (absolute CMAKE_INSTALL_*DIR=$out/...)
#     plus nix/build.json's, build with ninja: once as nix/package.nix (BUILD_TESTING=OFF, ninja
#     install into its $out), once as checks.unit, then nix/check-phase.sh with `-L ^unit$` as that
#     check runs it.
#
#   bash tests/nix-sandbox/run.sh --source <repo> --work <dir> [--keep]
#   bash tests/nix-sandbox/run.sh --source <repo> --work <dir> --debug-command '<bash command>'
#
# --keep keeps the build tree in <dir>/build; --debug-command runs a command in the same sandbox
# over a kept tree (cd source/build; ctest -R ...) instead of building.
#
# Before building, probes inside the sandbox assert its shape (a #!/bin/bash script cannot run, the
# sources cannot be written, no network, ...), so a sandbox that drifted towards the host fails
# here rather than letting defects through. Exit 0: built and tested; 1: failed; 77: cannot run
# here (no bwrap, jq or busybox; ctest shows it as skipped with the reason).
# Environment: VMTEST_SANDBOX_JOBS (NIX_BUILD_CORES, default nproc); CCACHE_DIR (with ccache
# installed: compile through ccache, its cache bound read-write; a real Nix build has none).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source_dir=
work=
keep=0
debug_command=
while (($#)); do
    case $1 in
    --debug-command) debug_command=$2; shift 2 ;;
    --source) source_dir=$2; shift 2 ;;
    --work) work=$2; shift 2 ;;
    --keep) keep=1; shift ;;
    *) echo "nix-sandbox: unknown argument $1" >&2; exit 2 ;;
    esac
done
[[ -n $source_dir && -n $work ]] || { echo "usage: run.sh --source <repo> --work <dir> [--keep]" >&2; exit 2; }
source_dir=$(cd "$source_dir" && pwd)

skip() {
    echo "nix-sandbox: SKIPPED: $*" >&2
    exit 77
}
fail() {
    echo "nix-sandbox: FAILED: $*" >&2
    exit 1
}
command -v bwrap >/dev/null || skip "bwrap not found (Debian: apt-get install bubblewrap)"
command -v jq >/dev/null || skip "jq not found (Debian: apt-get install jq)"
busybox=$(command -v busybox) || skip "busybox not found for the sandbox's /bin/sh (Debian: apt-get install busybox-static)"

build_json=$source_dir/nix/build.json
[[ -f $build_json ]] || fail "$build_json not found: it defines the package's source set and flags"

if [[ -n $debug_command ]]; then
    [[ -d $work/build ]] || fail "--debug-command needs a kept tree in $work/build (run with --keep first)"
    mv "$work/build" "$work.kept-build"
fi
rm -rf "$work"
mkdir -p "$work"
[[ -z $debug_command ]] || mv "$work.kept-build" "$work/build"
work=$(cd "$work" && pwd)

# --- the source set (tests/nix-sandbox/source-files.sh) ----------------------------------------------
list=$work/source-files.txt
bash "$here/source-files.sh" "$source_dir" >"$list"
[[ -s $list ]] || fail "the source set is empty"

store=$work/store # what the sandbox sees as /nix/store
src_name=00000000000000000000000000000000-source
mkdir -p "$store/$src_name"
tar -C "$source_dir" -cf - --no-recursion -T "$list" | tar -C "$store/$src_name" -xf -
chmod -R a-w "$store/$src_name"

# --- tools: stdenv's (coreutils, findutils, diffutils, sed, grep, awk, tar, gzip, bzip2, xz, make,
# patch, bash), the package's nativeBuildInputs (cmake, ninja, pkg-config; gcc and binutils as
# stdenv's cc), and what nix/checks.nix adds (procps, nix, jq, openssh, vde2) ----------------------------------------
tools_name=00000000000000000000000000000000-vmtest-sandbox-tools
tools=/nix/store/$tools_name/bin
mapfile -t coreutils < <(dpkg -L coreutils 2>/dev/null | sed -n -e 's|^/usr/bin/||p' -e 's|^/bin/||p')
((${#coreutils[@]} > 50)) || skip "cannot list coreutils' programs (dpkg -L coreutils)"
wanted=(
    "${coreutils[@]}" bash find xargs diff cmp sed grep egrep fgrep awk tar gzip bzip2 xz make patch
    cmake ctest cpack ninja pkg-config
    gcc g++ cc c++ cpp as ld ld.bfd ar ranlib strip nm objcopy objdump readelf c++filt
    ps pgrep pkill nix nix-instantiate jq ssh vde_switch vde_plug
)
ccache_dir=
if [[ -n ${CCACHE_DIR:-} ]] && command -v ccache >/dev/null; then
    wanted+=(ccache)
    ccache_dir=$CCACHE_DIR
    mkdir -p "$ccache_dir"
fi
binds=()
declare -A seen=()
for t in "${wanted[@]}"; do
    [[ -n ${seen[$t]:-} ]] && continue
    seen[$t]=1
    p=$(type -P "$t" || true)
    [[ -n $p && $p == /* ]] || fail "tool $t not found on the host; ci/setup installs it"
    real=$(readlink -f "$p")
    base=${real##*/}
    # The real file under its own name, and the tool's name as a symlink to it when they differ:
    # argv[0] stays the name called (nix dispatches on it, g++ is g++-12).
    if [[ -z ${seen["file:$base"]:-} ]]; then
        seen["file:$base"]=1
        binds+=(--ro-bind "$real" "$tools/$base")
    fi
    [[ $base == "$t" ]] || binds+=(--symlink "$base" "$tools/$t")
done

# What the dynamic loader, the compiler and CMake read from the host, at their own paths (an ELF
# interpreter and gcc's built-in paths cannot move): libraries and headers. No /usr/bin,
# /usr/sbin, /usr/local, /usr/share (but nlohmann_json's CMake package). The libraries' CMake packages (fmt,
# GTest, nlohmann_json, Boost) are reached through CMAKE_PREFIX_PATH, as nixpkgs reaches buildInputs.
for p in /usr/lib /usr/lib64 /usr/include; do
    [[ -d $p ]] || fail "$p not found on the host"
    binds+=(--ro-bind "$p" "$p")
done
# CMake finds its modules next to its binary (<bin>/../share/cmake-<version>), as in a Nix store path.
cmake_share=/usr/share/cmake-$(cmake --version | sed -n 's/^cmake version \([0-9]*\.[0-9]*\).*/\1/p')
[[ -d $cmake_share ]] || fail "$cmake_share not found on the host"
binds+=(--ro-bind "$cmake_share" "${tools%/bin}/share/${cmake_share##*/}")
# gcc finds cc1plus, its crt files and the C++ headers relative to its binary (<bin>/../lib/gcc,
# <bin>/../include/c++), as in a store path; libc's headers stay at /usr/include.
binds+=(--ro-bind /usr/lib/gcc "${tools%/bin}/lib/gcc" --ro-bind /usr/include "${tools%/bin}/include")
prefix_path=()
# Boost's folder carries its version (Boost-1.74.0), as a store path's lib/cmake does.
for config in fmt/fmt-config.cmake GTest/GTestConfig.cmake nlohmann_json/nlohmann_jsonConfig.cmake \
    'Boost-*/BoostConfig.cmake'; do
    found=
    for d in /usr/lib/*/cmake /usr/lib/cmake /usr/share/cmake; do
        for f in $d/$config; do
            if [[ -f $f ]]; then
                found=${f%/*}
                break 2
            fi
        done
    done
    [[ -n $found ]] || fail "no $config on the host (ci/setup installs libfmt-dev, libgtest-dev, nlohmann-json3-dev, libboost-dev)"
    prefix_path+=("$found")
    [[ $found == /usr/share/cmake/* ]] && binds+=(--ro-bind "$found" "$found")
done

# The users and hosts a Nix sandbox has.
etc=$work/etc
mkdir -p "$etc"
printf 'root:x:0:0:Nix build user:/build:/noshell\nnixbld:x:1000:100:Nix build user:/build:/noshell\nnobody:x:65534:65534:Nobody:/:/noshell\n' >"$etc/passwd"
printf 'root:x:0:\nnixbld:!:100:\nnogroup:x:65534:\n' >"$etc/group"
printf '127.0.0.1 localhost\n::1 localhost\n' >"$etc/hosts"

out_name=00000000000000000000000000000000-vmtest-check-unit
suite_out_name=00000000000000000000000000000000-vmtest-check-k0s-airgap
pkg_name=00000000000000000000000000000000-vmtest-0.1.0
mkdir -p "$work/out" "$work/out-suite" "$work/package" "$work/build"
# stdenv's bash is also its sh on PATH (nixpkgs' bash has bin/sh).
binds+=(--symlink bash "$tools/sh")
jobs=${VMTEST_SANDBOX_JOBS:-$(nproc)}

ccache_bind=()
[[ -z $ccache_dir ]] || ccache_bind=(--bind "$ccache_dir" /ccache)
sandbox=(
    bwrap
    --unshare-all --hostname localhost
    --unshare-user --uid 1000 --gid 100
    --die-with-parent --new-session
    --proc /proc --dev /dev
    --tmpfs /nix/store
    --ro-bind "$store/$src_name" "/nix/store/$src_name"
    --bind "$work/out" "/nix/store/$out_name"
    --bind "$work/out-suite" "/nix/store/$suite_out_name"
    --bind "$work/package" "/nix/store/$pkg_name"
    --bind "$work/build" /build
    # Nix creates a private, world-writable /tmp in every sandbox ("many builders need this").
    --perms 1777 --tmpfs /tmp
    "${binds[@]}"
    --symlink usr/lib /lib
    --symlink usr/lib64 /lib64
    --ro-bind "$busybox" /bin/sh
    --ro-bind "$etc/passwd" /etc/passwd
    --ro-bind "$etc/group" /etc/group
    --ro-bind "$etc/hosts" /etc/hosts
    --ro-bind "$here/builder.sh" "/nix/store/$tools_name/builder.sh"
    "${ccache_bind[@]}"
    --remount-ro /nix/store
    # Nix's sandbox root is not the build user's: nothing but /build and $out is writable.
    --remount-ro /
)
sandbox+=(--chdir /build
    "$tools/env" -i
    PATH="$tools"
    HOME=/homeless-shelter
    NIX_BUILD_TOP=/build TMPDIR=/build TEMPDIR=/build TMP=/build TEMP=/build
    NIX_STORE=/nix/store NIX_BUILD_CORES="$jobs" TERM=xterm-256color
    src="/nix/store/$src_name" out="/nix/store/$out_name" package="/nix/store/$pkg_name"
    suiteOut="/nix/store/$suite_out_name"
    CMAKE_PREFIX_PATH="$(IFS=:; echo "${prefix_path[*]}")"
    VMTEST_SANDBOX_CCACHE="${ccache_dir:+/ccache}"
    "$tools/bash"
)
if [[ -n $debug_command ]]; then
    exec "${sandbox[@]}" -c "$debug_command"
fi
sandbox+=("/nix/store/$tools_name/builder.sh")

echo "nix-sandbox: $(wc -l <"$list") source files, ${#wanted[@]} tools; work dir $work"
start=$SECONDS
rc=0
"${sandbox[@]}" || rc=$?
echo "nix-sandbox: sandbox exited with $rc after $((SECONDS - start)) s"
((rc == 0)) || fail "the sandboxed build or its unit tests failed (exit $rc); the tree is in $work/build"

# --- what the check's $out must hold (nix/check-phase.sh) ----------------------------------------------
[[ $(cat "$work/out/ctest-exit-code") == 0 ]] || fail "ctest-exit-code is not 0"
[[ -s $work/out/junit.xml ]] || fail "no junit.xml in the check's \$out"
grep -q 'name="nix.lib"' "$work/out/junit.xml" || fail "nix.lib did not run in the sandbox (junit.xml)"
if grep -A3 'name="nix.lib"' "$work/out/junit.xml" | grep -q 'status="notrun"\|<skipped'; then
    fail "nix.lib was skipped in the sandbox"
fi
# A VM suite's gtest XML reaches $out/junit (it skipped: no cluster in here).
[[ -s $work/out-suite/junit/k0s.airgap.xml ]] || fail "k0s.airgap's gtest XML did not reach \$out/junit"
[[ -x $work/package/bin/vmtest && -f $work/package/lib/cmake/vmtest/vmtestConfig.cmake ]] ||
    fail "the package's \$out has no bin/vmtest or lib/cmake/vmtest"
echo "nix-sandbox: passed"
((keep)) || rm -rf "$work/build"
