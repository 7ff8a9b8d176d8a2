# Runs inside the sandbox of tests/nix-sandbox/run.sh: the phases stdenv and nixpkgs' cmake and
# ninja hooks run for nix/package.nix and for nix/checks.nix's `unit` check
# (pkgs/by-name/cm/cmake/setup-hook.sh: cmakeConfigurePhase, fixCmakeFiles), then
# nix/check-phase.sh as that check runs it.
# Environment from run.sh: src, out, suiteOut, package, NIX_BUILD_CORES, CMAKE_PREFIX_PATH,
# VMTEST_SANDBOX_CCACHE.
set -euo pipefail
: "${src:?}" "${out:?}" "${suiteOut:?}" "${package:?}" "${NIX_BUILD_CORES:?}"

say() { echo "nix-sandbox: $*"; }
die() {
    echo "nix-sandbox: FAILED: $*" >&2
    exit 1
}

# --- probes: the sandbox is shaped like Nix's, or nothing it passes means anything --------------------
for p in /bin/bash /usr/bin/env /usr/bin /usr/local /usr/sbin "$HOME"; do
    [[ ! -e $p ]] || die "probe: $p exists in the sandbox"
done
mkdir "$HOME" 2>/dev/null && die "probe: HOME ($HOME) could be created"
[[ -x /bin/sh ]] || die "probe: no /bin/sh"
printf '#!/bin/bash\necho ran\n' >"$TMPDIR/probe-bash" && chmod +x "$TMPDIR/probe-bash"
if "$TMPDIR/probe-bash" 2>/dev/null; then die "probe: a #!/bin/bash script ran"; fi
printf '#!/usr/bin/env bash\necho ran\n' >"$TMPDIR/probe-env" && chmod +x "$TMPDIR/probe-env"
if "$TMPDIR/probe-env" 2>/dev/null; then die "probe: a #!/usr/bin/env script ran"; fi
printf '#!/bin/sh\necho ran\n' >"$TMPDIR/probe-sh" && chmod +x "$TMPDIR/probe-sh"
[[ $("$TMPDIR/probe-sh") == ran ]] || die "probe: a #!/bin/sh script did not run"
rm -f "$TMPDIR"/probe-*
if touch "$src/probe" 2>/dev/null; then die "probe: the sources (\$src) are writable"; fi
if (exec 3<>/dev/tcp/1.1.1.1/53) 2>/dev/null; then die "probe: the network is reachable"; fi
[[ -z $(ls -A "$TMPDIR") ]] || die "probe: TMPDIR ($TMPDIR) is not empty at the start"
[[ $(id -u) == 1000 && $(id -g) == 100 ]] || die "probe: not uid 1000 / gid 100 (the Nix build user)"
say "probes passed: no /bin/bash, /usr/bin, /usr/bin/env; #!/bin/bash fails, #!/bin/sh runs; read-only \$src; no network; no HOME; uid 1000"

# --- unpackPhase, patchPhase (fixCmakeFiles) -----------------------------------------------------------
cp -r "$src" source
chmod -R u+w source
cd source
find . -type f \( -name "*.cmake" -o -name "*.cmake.in" -o -name CMakeLists.txt \) -print |
    while read -r fn; do
        sed -e 's^/usr\([ /]\|$\)^/var/empty\1^g' -e 's^/opt\([ /]\|$\)^/var/empty\1^g' <"$fn" >"$fn.tmp"
        mv "$fn.tmp" "$fn"
    done

# --- configurePhase: the hook's flags, then nix/build.json's (the package's cmakeFlags) -----------------
export CC=gcc CXX=g++ AR=ar RANLIB=ranlib STRIP=strip
export CTEST_OUTPUT_ON_FAILURE=1 CTEST_PARALLEL_LEVEL=$NIX_BUILD_CORES CMAKE_BUILD_PARALLEL_LEVEL=$NIX_BUILD_CORES
hook_flags() {
    local out=$1
    printf '%s\n' \
        "-DCMAKE_CXX_COMPILER=$CXX" "-DCMAKE_C_COMPILER=$CC" \
        "-DCMAKE_AR=$(command -v "$AR")" "-DCMAKE_RANLIB=$(command -v "$RANLIB")" "-DCMAKE_STRIP=$(command -v "$STRIP")" \
        -DCMAKE_FIND_FRAMEWORK=LAST -DCMAKE_POLICY_DEFAULT_CMP0025=NEW \
        "-DCMAKE_INSTALL_NAME_DIR=$out/lib" \
        "-DCMAKE_INSTALL_BINDIR=$out/bin" "-DCMAKE_INSTALL_SBINDIR=$out/sbin" \
        "-DCMAKE_INSTALL_INCLUDEDIR=$out/include" "-DCMAKE_INSTALL_MANDIR=$out/share/man" \
        "-DCMAKE_INSTALL_INFODIR=$out/share/info" "-DCMAKE_INSTALL_LIBDIR=$out/lib" \
        "-DCMAKE_INSTALL_LIBEXECDIR=$out/libexec" "-DCMAKE_INSTALL_LOCALEDIR=$out/share/locale" \
        -DCMAKE_BUILD_TYPE=Release \
        -DCMAKE_EXPORT_NO_PACKAGE_REGISTRY=ON -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF \
        -DCMAKE_FIND_USE_SYSTEM_PACKAGE_REGISTRY=OFF \
        "-DCMAKE_INSTALL_PREFIX=$out" -GNinja "-DCMAKE_INSTALL_DOCDIR=$out/share/doc/vmtest"
}
mapfile -t package_flags < <(jq -r '.cmakeFlags[]' nix/build.json)
# Not the hook's: stands in for nixpkgs' CMake, which is patched not to search /usr by itself, so the
# libraries come only through CMAKE_PREFIX_PATH (run.sh), as buildInputs do.
sandbox_flags=(-DCMAKE_FIND_USE_CMAKE_SYSTEM_PATH=OFF)
if [[ -n $VMTEST_SANDBOX_CCACHE ]]; then
    export CCACHE_DIR=$VMTEST_SANDBOX_CCACHE CCACHE_BASEDIR=$NIX_BUILD_TOP
    sandbox_flags+=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
fi

configure() { # <build dir> <$out> <extra flags>...
    local dir=$1 out=$2
    shift 2
    mkdir -p "$dir"
    mapfile -t flags < <(hook_flags "$out")
    (cd "$dir" && cmake .. "${flags[@]}" "$@" "${package_flags[@]}" "${sandbox_flags[@]}") >"$TMPDIR/$dir-configure.log" 2>&1 ||
        { cat "$TMPDIR/$dir-configure.log" >&2; die "configure ($dir) failed"; }
    # Some of the hook's own flags go unused in any C++-only project (CMAKE_C_COMPILER, ...);
    # any other unused one is a flag of ours that does nothing.
    local unused name ours=()
    unused=$(sed -n '/Manually-specified variables were not used/,/^--/s/^    \([A-Za-z_0-9]*\)$/\1/p' "$TMPDIR/$dir-configure.log")
    for name in $unused; do
        printf '%s\n' "${flags[@]}" | grep -q "^-D$name=" || ours+=("$name")
    done
    ((${#ours[@]} == 0)) || die "configure ($dir): CMake did not use ${ours[*]}"
    [[ -z $unused ]] || say "configure ($dir): unused, from the hook itself: ${unused//$'\n'/ }"
}

# The package itself (nix/package.nix, doCheck = false: the hook adds -DBUILD_TESTING=OFF):
# configure, ninja, ninja install into its $out.
configure build-package "$package" -DBUILD_TESTING=OFF
start=$SECONDS
(cd build-package && ninja -j"$NIX_BUILD_CORES" && ninja install >/dev/null)
[[ -x $package/bin/vmtest && -f $package/lib/cmake/vmtest/vmtestConfig.cmake ]] ||
    die "the package's \$out lacks bin/vmtest or lib/cmake/vmtest/vmtestConfig.cmake"
say "package (BUILD_TESTING=OFF) built and installed in $((SECONDS - start)) s"

# checks.unit: doCheck = true, so no BUILD_TESTING flag.
configure build "$out"
say "check configure passed"

# --- buildPhase (ninjaBuildPhase) ------------------------------------------------------------------------
cd build
start=$SECONDS
ninja -j"$NIX_BUILD_CORES"
say "build took $((SECONDS - start)) s"

# --- checkPhase: what nix/checks.nix runs ------------------------------------------------------------------
# shellcheck source=../../nix/check-phase.sh
source ../nix/check-phase.sh
start=$SECONDS
vmtest_check_phase "$out" -L '^unit$'
say "ctest -L unit took $((SECONDS - start)) s"

# A VM suite without a cluster skips; its gtest XML must still reach the check's $out/junit.
rm -rf "$TMPDIR/vmtest-results"
vmtest_check_phase "$suiteOut" -R '^k0s\.airgap$'

say "builder done"
