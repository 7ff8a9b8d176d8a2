# Sourced by cli_test.sh and cancel_test.sh (guest-minimal): the set-up they
# share. The caller sets `vmtest` and `manifest` first, then calls
# require_manifest and make_work, and defines its own cleanup trap.

# VMTEST_REQUIRE as vmtest::required() reads it: all, 1, or a comma list of exact labels.
required() {
  local req=${VMTEST_REQUIRE:-} label
  [[ $req == all || $req == 1 ]] && return 0
  IFS=, read -ra labels <<<"$req"
  for label in "${labels[@]}"; do [[ $label == "$1" ]] && return 0; done
  return 1
}

# Skips (77) when the guest is not built, fails when it was required.
require_manifest() {
  if [[ ! -f $manifest ]]; then
    if required guest-minimal; then
      echo "FAIL: required, but the manifest $manifest does not exist" >&2
      exit 1
    fi
    echo "vmtest-skip: no cluster: the manifest $manifest does not exist (build the guests first?)"
    exit 77  # SKIP_RETURN_CODE: nothing ran
  fi
  unset VMTEST_ATTACH VMTEST_MANIFEST VMTEST_ATTACH_DISRUPTIVE
}

# work: a fresh folder under /tmp (named after $1); state: the up's folder in it.
make_work() {
  work=$(mktemp -d "/tmp/vmtest-$1.XXXXXX")
  state=$work/s
  up_pid=
}

fail() {
  echo "FAIL: $*" >&2
  for f in "$work"/*.err; do [[ -f $f ]] && { echo "--- $f" >&2; tail -20 "$f" >&2; }; done
  exit 1
}
step() { echo "== $*" >&2; }
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.2f", b - a }'; }

# Starts `vmtest up` in the background and waits for its export line.
#   start_up TAG [MANIFEST [UP-OPTION...]]    (MANIFEST defaults to $manifest)
start_up() {
  local tag=$1 up_manifest=${2:-$manifest}
  shift $(($# < 2 ? $# : 2))
  "$vmtest" up --state-dir "$state" "$@" "$up_manifest" >"$work/$tag.out" 2>"$work/$tag.err" &
  up_pid=$!
  local deadline=$((SECONDS + 300))
  until grep -qs '^export VMTEST_ATTACH=' "$work/$tag.out"; do
    kill -0 "$up_pid" 2>/dev/null || fail "$tag: vmtest up exited before the cluster was up"
    ((SECONDS < deadline)) || fail "$tag: no export line within 300 s"
    sleep 0.1
  done
  [[ $(cat "$work/$tag.out") == "export VMTEST_ATTACH=$state" ]] || fail "$tag: unexpected output: $(cat "$work/$tag.out")"
}
