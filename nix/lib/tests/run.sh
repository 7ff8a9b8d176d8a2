#!/usr/bin/env bash
# Tests of the Nix side that run without a NixOS host, only `nix-instantiate` (Debian: nix-bin):
#   1. every .nix file in the repository parses;
#   2. each case in cases.nix evaluates to its golden JSON file (compared as JSON, keys unordered);
#   3. each case in bad.nix fails, and its error names the attribute at fault.
# No arguments. Exit 0: all passed; 1: something failed; 77: cannot run here (ctest: skipped).
# VMTEST_UPDATE_GOLDEN=1 rewrites the golden files from the cases instead of comparing.
# The Nix expressions are single-quoted on purpose: their ${name} is Nix's, not the shell's.
# shellcheck disable=SC2016
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../../.." && pwd)

skip() {
    echo "nix.lib: SKIPPED: $*" >&2
    exit 77
}

nix_instantiate=${VMTEST_NIX_INSTANTIATE:-$(command -v nix-instantiate || true)}
[[ -n $nix_instantiate ]] || skip "nix-instantiate not found (Debian: apt-get install nix-bin; NixOS: it comes with nix)"
[[ -x $nix_instantiate ]] || skip "$nix_instantiate is not executable"

# normalise FILE: the JSON in FILE, keys sorted, one way of spacing. lines: a JSON string or list of
# strings on stdin, as raw lines.
if command -v jq >/dev/null; then
    normalise() { jq -S . "$1"; }
    lines() { jq -r 'if type == "array" then .[] else . end'; }
elif command -v python3 >/dev/null; then
    normalise() { python3 -c 'import json, sys; print(json.dumps(json.load(open(sys.argv[1])), indent=2, sort_keys=True))' "$1"; }
    lines() { python3 -c 'import json, sys; v = json.load(sys.stdin); print("\n".join(v if isinstance(v, list) else [v]))'; }
else
    skip "neither jq nor python3 found to compare JSON"
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/vmtest-nix-lib.XXXXXX")
trap 'rm -rf "$work"' EXIT

# Evaluation without a daemon or a store: a dummy store, and Nix's state, config and cache dirs in
# our temp dir, so this runs as any user, root included, on a machine where Nix was never set up.
export NIX_STATE_DIR=$work/state NIX_LOG_DIR=$work/log NIX_CONF_DIR=$work/conf \
    HOME=$work/home XDG_CACHE_HOME=$work/cache XDG_CONFIG_HOME=$work/config NIX_PATH=
unset NIX_REMOTE
mkdir -p "$NIX_CONF_DIR" "$HOME"
nix() { "$nix_instantiate" --store dummy:// "$@"; }

passed=0
failed=0
pass() { passed=$((passed + 1)); }
fail() {
    failed=$((failed + 1))
    echo "FAIL: $*" >&2
}

# --- 1. every .nix file parses ------------------------------------------------------------------
if git -C "$root" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    mapfile -t files < <(git -C "$root" ls-files --cached --others --exclude-standard -- '*.nix')
else
    mapfile -t files < <(cd "$root" && find . -name '*.nix' -not -path './.git/*' -not -path '*/build/*' | sed 's|^\./||')
fi
parsed=0
for f in "${files[@]}"; do
    [[ -f $root/$f ]] || continue # deleted in the work tree, still in the index
    if nix --parse "$root/$f" >/dev/null 2>"$work/err"; then
        parsed=$((parsed + 1))
    else
        fail "parse $f: $(cat "$work/err")"
    fi
done
if ((parsed > 0)); then pass; else fail "no .nix file found under $root"; fi
echo "nix.lib: parsed $parsed .nix files"

# --- 2. good cases against golden files -----------------------------------------------------------
cd "$here"
names() { nix --eval --strict --json -E "builtins.attrNames (import ./$1)" | lines; }
field() { nix --eval --strict --json --argstr name "$2" -E "{ name }: (import ./$1).\${name}.$3" | lines; }

# A case list that does not evaluate must not pass as "no cases".
mapfile -t good < <(names cases.nix || echo "?")
mapfile -t badcases < <(names bad.nix || echo "?")

for name in "${good[@]}"; do
    if [[ $name == "?" ]] || ! golden=golden/$(field cases.nix "$name" golden 2>"$work/err"); then
        fail "cases.nix does not evaluate: $(cat "$work/err" 2>/dev/null)"
        continue
    fi
    if ! nix --eval --strict --json --argstr name "$name" -E '{ name }: (import ./cases.nix).${name}.result' \
        >"$work/actual.json" 2>"$work/err"; then
        fail "case $name: evaluation failed: $(cat "$work/err")"
        continue
    fi
    if [[ ${VMTEST_UPDATE_GOLDEN:-} == 1 ]]; then
        normalise "$work/actual.json" >"$golden"
        echo "nix.lib: wrote $golden"
        pass
    elif [[ ! -f $golden ]]; then
        fail "case $name: no golden file $golden (VMTEST_UPDATE_GOLDEN=1 writes it)"
    elif diff -u <(normalise "$golden") <(normalise "$work/actual.json") >"$work/diff"; then
        pass
    else
        fail "case $name differs from $golden:"$'\n'"$(cat "$work/diff")"
    fi
done

# --- 3. bad inputs throw a clear message ------------------------------------------------------------
for name in "${badcases[@]}"; do
    if [[ $name == "?" ]] || ! expect=$(field bad.nix "$name" expect 2>"$work/err"); then
        fail "bad.nix does not evaluate: $(cat "$work/err" 2>/dev/null)"
        continue
    fi
    if nix --eval --strict --json --argstr name "$name" -E '{ name }: (import ./bad.nix).${name}.result' \
        >/dev/null 2>"$work/err"; then
        fail "bad case $name: evaluated, expected an error containing: $expect"
    elif grep -qF -- "$expect" "$work/err"; then
        pass
    else
        fail "bad case $name: error does not contain: $expect"$'\n'"$(cat "$work/err")"
    fi
done

echo "nix.lib: $passed passed, $failed failed"
((failed == 0))
