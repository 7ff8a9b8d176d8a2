# The Nix side against the real nixpkgs lib and the real k0s-nix module (eval.nix), with Debian's
# nix-instantiate (2.8) and no nixpkgs: every option our modules set exists with the type we give,
# every assertion holds, the manifest from the evaluated nodes is the golden one, nix/airgap.nix
# follows the k0s package's version, and nix/package.nix's lib.fileset selects exactly the files of
# tests/nix-sandbox/source-files.sh.
#
#   bash nix/tests/real-lib/run.sh <nixpkgs.lib checkout> <k0s-nix checkout>
#   (or VMTEST_NIXPKGS_LIB, VMTEST_K0S_NIX)
#
# Get them with git clone https://github.com/nix-community/nixpkgs.lib and
# https://github.com/nix-community/k0s-nix into /tmp; never into this repository. Both are copied
# to a temp dir first: nix-instantiate 2.8 lacks builtins.readFileType, which lib.fileset uses
# through lib.filesystem.pathType, so the copy of the lib gets a fallback built on readDir (the
# patch below); the checkouts themselves stay untouched.
# Exit 0: passed; 1: failed; 77: no lib or k0s-nix path given, or no nix-instantiate (skipped).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../../.." && pwd)
lib_src=${1:-${VMTEST_NIXPKGS_LIB:-}}
k0s_src=${2:-${VMTEST_K0S_NIX:-}}

skip() {
    echo "nix.real-lib: SKIPPED: $*" >&2
    exit 77
}
[[ -n $lib_src ]] || skip "no nixpkgs.lib checkout given (argument 1 or VMTEST_NIXPKGS_LIB; git clone https://github.com/nix-community/nixpkgs.lib /tmp/nixpkgs.lib)"
[[ -n $k0s_src ]] || skip "no k0s-nix checkout given (argument 2 or VMTEST_K0S_NIX; git clone https://github.com/nix-community/k0s-nix /tmp/k0s-nix)"
nix_instantiate=$(command -v nix-instantiate) || skip "nix-instantiate not found (Debian: apt-get install nix-bin)"
command -v jq >/dev/null || skip "jq not found"
[[ -f $lib_src/lib/default.nix ]] || { echo "nix.real-lib: $lib_src has no lib/default.nix" >&2; exit 1; }
[[ -f $k0s_src/nixos/k0s.nix ]] || { echo "nix.real-lib: $k0s_src has no nixos/k0s.nix" >&2; exit 1; }

work=$(mktemp -d "${TMPDIR:-/tmp}/vmtest-real-lib.XXXXXX")
trap 'rm -rf "$work"' EXIT
cp -r "$lib_src" "$work/nixpkgs.lib"
cp -r "$k0s_src" "$work/k0s-nix"
chmod -R u+w "$work"

export NIX_STATE_DIR=$work/state NIX_LOG_DIR=$work/log NIX_CONF_DIR=$work/conf HOME=$work/home \
    XDG_CACHE_HOME=$work/cache NIX_PATH=
unset NIX_REMOTE
mkdir -p "$NIX_CONF_DIR" "$HOME"

# The nix 2.8 patch, to the copy only: pathType = readFileType when the builtin exists, else the
# entry's type as readDir of its parent reports it.
if ! "$nix_instantiate" --store dummy:// --eval -E 'builtins ? readFileType' | grep -qx true; then
    f=$work/nixpkgs.lib/lib/filesystem.nix
    grep -q '^  pathType = builtins.readFileType;$' "$f" ||
        { echo "nix.real-lib: $f has no 'pathType = builtins.readFileType;' line to patch for nix-instantiate 2.8" >&2; exit 1; }
    # shellcheck disable=SC2016 # Nix's ${...}, not the shell's
    sed -i 's|^  pathType = builtins.readFileType;$|  pathType = builtins.readFileType or (path: if dirOf path == path then "directory" else (builtins.readDir (dirOf path)).${baseNameOf path} or (throw "lib.filesystem.pathType: ${toString path} does not exist"));|' "$f"
    echo "nix.real-lib: patched lib.filesystem.pathType in the copy for $("$nix_instantiate" --version)"
fi

# The flake's copy of this repository: its git-tracked files.
mkdir -p "$work/flake-source"
if git -C "$root" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    git -C "$root" ls-files --cached -z | tar -C "$root" --null --no-recursion -T - -cf - 2>/dev/null | tar -C "$work/flake-source" -xf -
else
    cp -r "$root"/. "$work/flake-source"
fi

if ! "$nix_instantiate" --store dummy:// --eval --strict --json "$here/eval.nix" \
    --arg libPath "$work/nixpkgs.lib" --arg k0sNixPath "$work/k0s-nix" \
    --arg repo "$root" --arg flakeSource "$work/flake-source" >"$work/result.json" 2>"$work/err"; then
    echo "nix.real-lib: FAILED: evaluation stopped:" >&2
    cat "$work/err" >&2
    exit 1
fi
r=$work/result.json

failed=0
check() { # <what> <jq expression that must be true>
    if jq -e "$2" "$r" >/dev/null; then
        echo "ok: $1"
    else
        echo "FAIL: $1 ($2)" >&2
        failed=$((failed + 1))
    fi
}

echo "nix.real-lib: nixpkgs lib $(jq -r .lib "$r") ($(git -C "$lib_src" rev-parse HEAD 2>/dev/null || echo "not a git checkout")), k0s-nix $(git -C "$k0s_src" rev-parse HEAD 2>/dev/null || echo "not a git checkout"), k0s_1_35 $(jq -r .k0sVersion "$r")"
jq -r '.nodes | to_entries[] | "  \(.key): role \(.value.role), ip \(.value.ip), leader \(.value.isLeader), \(.value.assertions) assertions, unit \(.value.unit | join(",")), \(.value.tmpfiles | length) tmpfiles rules"' "$r"
check "every assertion of every node holds (k0s-nix's and ours)" '[.nodes[].failedAssertions[]] == []'
check "no warnings" '[.nodes[].warnings[]] == []'
check "the nodes are 192.168.1.1-3 in name order" '[.nodes.ctrl.ip, .nodes.wrkr1.ip, .nodes.wrkr2.ip] == ["192.168.1.1","192.168.1.2","192.168.1.3"]'
check "ctrl leads; controller.isLeader exists only on the controller" '.nodes.ctrl.isLeader == true and .nodes.wrkr1.isLeader == null'
check "spec.api is the leader's address and its only SAN, on every node" '[.nodes[].api] | all(. == {"address":"192.168.1.1","sans":["192.168.1.1"]})'
check "workers: kubelet --node-ip, join token file, ConditionPathExists" '.nodes.wrkr1.extraArgs == "--kubelet-extra-args=--node-ip=192.168.1.2" and (.nodes.wrkr1.execStart | test("--token-file=/etc/k0s/k0stoken")) and .nodes.wrkr1.unitConfig.ConditionPathExists == "/etc/k0s/k0stoken"'
check "the controller needs no token and has no worker args" '.nodes.ctrl.extraArgs == "" and (.nodes.ctrl.execStart | test("token-file") | not)'
check "workers copy both bundles into /var/lib/k0s/images; the controller none" '(.nodes.wrkr1.tmpfiles | length) == 3 and (.nodes.ctrl.tmpfiles | length) == 0'
check "the default gateway is the node's own address on eth1" '.nodes.wrkr2.defaultGateway.address == "192.168.1.3" and .nodes.wrkr2.defaultGateway.interface == "eth1"'
check "k0s.yaml renders (spec serialises)" '.nodes.ctrl.k0sYaml == "k0s.yaml"'
check "the manifest from the evaluated nodes is nix/lib/tests/golden/k0s-manifest.json" '.manifestMatchesGolden'
check "plain nodes keep qemu-vm.nix's 9p shares" '.plainSharedDirectories == ["nix-store","shared","xchg"]'
check "snapshot-capable nodes: store image, no host store, no 9p shares, assertions hold" '[.snapshotCapable[]] | all(.useNixStoreImage and (.mountHostNixStore | not) and .sharedDirectories == [] and .failedAssertions == [])'
check "example: every node evaluates, every assertion holds, no warnings" '[.example.nodes[].failedAssertions[]] == [] and [.example.nodes[].warnings[]] == []'
check "example: its host modules and defaults apply (sysctls, disk sizes)" '.example.sysctl.wrkr1["fs.inotify.max_user_instances"] == 1024 and ([.example.sysctl[]["vm.max_map_count"]] | all(. == 262144)) and .example.disk.ctrl == 4096 and .example.disk.wrkr2 == 8192'
check "example: roles, leader and addresses as declared" '.example.manifest.k0s.nodes == {"ctrl":{"ip":"192.168.1.1","role":"controller"},"wrkr1":{"ip":"192.168.1.2","role":"worker"},"wrkr2":{"ip":"192.168.1.3","role":"worker"}} and .example.nodes.ctrl.isLeader == true'
check "example: its image joins the bundle and the manifest's airgap images" '.example.manifest.k0s.airgap.bundles == ["docker.io_acme_shop_1.0.tar","k0s-airgap-bundle.tar"] and .example.manifest.k0s.airgap.images == ["quay.io/k0sproject/pause:3.10.1","docker.io/acme/shop:1.0"]'
check "example: its values reach the manifest, the manifests folder as a store path" '.example.manifest.values.greeting == "hello from the shop" and .example.manifest.values.shopNodePort == 30180 and (.example.manifest.values.workloadManifests | test("^/nix/store/[0-9a-z]{32}-k8s$"))'
check "example: the three k0s suites and its own" '.example.suites == ["airgap","readiness","workload"] and .example.userSuites == ["shop"]'
check "our flake outputs (nix/default.nix, built on mkClusterTest): the manifest check's input is the golden file" '.ours.manifestMatchesGolden'
check "our flake outputs: the k0s checks come from mkClusterTest" '.ours.checks == ["k0s-airgap","k0s-readiness","k0s-workload","manifest","nix-lib","unit"] and .ours.k0sChecks == ["vmtest-check-vmtest-k0s-airgap","vmtest-check-vmtest-k0s-readiness","vmtest-check-vmtest-k0s-workload"]'
check "lib.mkClusterTest on the example (nix/cluster-test.nix): the same manifest" '.example.byLib.manifest == .example.manifest'
check "lib.mkClusterTest on the example: a check per suite, ours as k0s-<suite>, and the app" '.example.byLib.checks == ["k0s-airgap","k0s-readiness","k0s-workload","shop"] and .example.byLib.app == "app"'
check "the airgap bundle's version is the k0s package's" '.airgap.version == .k0sVersion'
check "without a hash: one failing derivation, naming nix run .#airgap-hashes, is the workers' bundle" '.airgap.withoutHash.bundle == "vmtest-airgap-bundle-hash-missing" and (.airgap.withoutHash.message | test("nix run .#airgap-hashes")) and .airgap.withoutHash.workerBundle == "vmtest-airgap-bundle-hash-missing"'
check "without hashes: both systems are listed for nix run .#airgap-hashes" '[.airgap.withoutHash.missing[].system] == ["aarch64-linux","x86_64-linux"]'
check "with a hash for the version: fetchurl of the release asset" '.airgap.withHash.url == "https://github.com/k0sproject/k0s/releases/download/v\(.k0sVersion)/k0s-airgap-bundle-v\(.k0sVersion)-amd64" and .airgap.withHash.hash != null'
check "a later k0s (1.35.8+k0s.1) needs no edit: its bundle, waiting for its hash" '.airgap.k0s1358 == {"version":"1.35.8+k0s.1","bundle":"vmtest-airgap-bundle-hash-missing"}'
check "k0s 1.36: the renamed asset (-linux-<arch>.tar)" '.airgap.k0s136.url | endswith("/v1.36.3+k0s.2/k0s-airgap-bundle-v1.36.3+k0s.2-linux-amd64.tar")'
check "the package: build.json's cmakeFlags, no boost" '.package.cmakeFlags == ["-DCMAKE_INSTALL_BINDIR=bin","-DCMAKE_INSTALL_LIBDIR=lib","-DCMAKE_INSTALL_INCLUDEDIR=include"] and (.package.buildInputs | map(select(test("boost"))) == [])'

# lib.fileset's selection against the sandbox check's list.
jq -r '.package.sources[]' "$r" | LC_ALL=C sort >"$work/fileset.txt"
bash "$root/tests/nix-sandbox/source-files.sh" "$root" >"$work/sandbox.txt"
if diff -u "$work/sandbox.txt" "$work/fileset.txt" >"$work/sources.diff"; then
    echo "ok: nix/package.nix's fileset is the sandbox check's source set ($(wc -l <"$work/fileset.txt") files, bench/ and nix/ included)"
    grep -q '^bench/CMakeLists.txt$' "$work/fileset.txt" || { echo "FAIL: bench/CMakeLists.txt is not in the source set" >&2; failed=$((failed + 1)); }
    grep -q '^nix/modules/k0s-node.nix$' "$work/fileset.txt" || { echo "FAIL: nix/modules is not in the source set" >&2; failed=$((failed + 1)); }
else
    echo "FAIL: nix/package.nix's fileset differs from tests/nix-sandbox/source-files.sh:" >&2
    cat "$work/sources.diff" >&2
    failed=$((failed + 1))
fi

if ((failed)); then
    jq . "$r" >&2
    echo "nix.real-lib: $failed failed" >&2
    exit 1
fi
echo "nix.real-lib: all passed"
