#!/usr/bin/env bash
# guest-minimal: a client of `vmtest up` that goes away ends its command in
# the guest (issue 16). For Ctrl-C (SIGINT to the process group, as a
# terminal sends it), SIGTERM and SIGKILL of `vmtest exec ... 'sleep 300'`:
# the next `vmtest exec ... true` runs within seconds, and no process of the
# cancelled command's tree is left in the guest. Before the fix the node
# stayed busy for the command's whole timeout (fails 1/1 on the old code:
# the next command did not start within 20 s).
#
#   cancel_test.sh VMTEST MANIFEST
set -euo pipefail

vmtest=$1 manifest=$2
# shellcheck source=common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
require_manifest
make_work cancel
cleanup() {
  if [[ -n $up_pid ]]; then
    "$vmtest" down --state-dir "$state" >/dev/null 2>&1 || kill -KILL "$up_pid" 2>/dev/null || true
    wait "$up_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

start_up up
node=machine  # the single topology's one node

# Guest processes whose command line starts with "sleep <mark>".
count_sleeps() {
  "$vmtest" exec --state-dir "$state" --timeout 30 "$node" -- \
    "for p in /proc/[0-9]*/cmdline; do tr '\\0' ' ' <\$p 2>/dev/null; echo; done | grep -c '^sleep $1' || true"
}

# Job control: each background job is its own process group with SIGINT
# not ignored, as a command started from a terminal.
set -m
n=0
for sig in INT TERM KILL; do
  n=$((n + 1))
  mark=300.$$$n
  step "exec 'sleep $mark' (and a child of it), then SIG$sig to the client"
  "$vmtest" exec --state-dir "$state" "$node" -- "touch /tmp/started.$mark; sleep $mark & sleep $mark" \
    >"$work/exec$n.out" 2>"$work/exec$n.err" &
  exec_pid=$!
  # Commands on a node run one at a time, so nothing can look while it
  # runs: give it time to start (the started file shows it did).
  sleep 2
  kill -"$sig" -- -"$exec_pid"
  wait "$exec_pid" 2>/dev/null || true
  start=$(date +%s.%N)
  timeout 20 "$vmtest" exec --state-dir "$state" "$node" -- true ||
    fail "SIG$sig: the next command did not run within 20 s (the node stayed busy)"
  took=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }')
  step "the next command ran after ${took} s"
  awk -v t="$took" 'BEGIN { exit !(t < 5) }' || fail "SIG$sig: the next command took ${took} s (want < 5 s)"
  "$vmtest" exec --state-dir "$state" --timeout 30 "$node" -- "test -e /tmp/started.$mark" ||
    fail "SIG$sig: the cancelled command never started (the test proves nothing)"
  left=$(count_sleeps "$mark")
  [[ $left == 0 ]] || fail "SIG$sig: $left processes of the cancelled command are still running in the guest"
done
echo "PASS: cancelled commands end in the guest and free the node"
