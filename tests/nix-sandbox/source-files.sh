# The package's source set as a sorted list of paths relative to <repo>, one per line: the files a
# flake copies from a git checkout (the tracked ones, with their work-tree contents; every file when
# <repo> is not a git checkout) less the top-level names in nix/build.json's excludedSources.
# nix/package.nix selects the same with lib.fileset; nix/tests/real-lib/run.sh compares the two.
#
#   bash tests/nix-sandbox/source-files.sh <repo>
set -euo pipefail
repo=$1
mapfile -t excluded < <(jq -r '.excludedSources[]' "$repo/nix/build.json")
if git -C "$repo" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    git -C "$repo" ls-files --cached -z | tr '\0' '\n'
else
    (cd "$repo" && find . -type f -not -path './.git/*' | sed 's|^\./||')
fi | while IFS= read -r f; do
    top=${f%%/*}
    for e in "${excluded[@]}"; do [[ $top == "$e" ]] && continue 2; done
    [[ -e $repo/$f || -L $repo/$f ]] && printf '%s\n' "$f"
done | LC_ALL=C sort
