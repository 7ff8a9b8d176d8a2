#!/usr/bin/env bash
# guest-minimal: the `vmtest` command against a real VM.
#
#   cli_test.sh VMTEST MINIMAL_SUITE CRASH_SUITE MANIFEST [CLUSTER_SUITE TRIO_MANIFEST]
#
# up, a second up refused, exec (byte-exact, exit status, timeout), status,
# shell, logs, the minimal suite attached twice with different filters and
# twice at the same time, a disruptive suite refused, the broker socket out
# of reach of another user, down with nothing left over; then an up that is
# SIGKILLed leaves nothing running, the next up on that folder cleans up
# after it, a node that dies is reported by name, and SIGINT stops an up.
# With the trio: a disruptive suite run attached through the override
# (block/unblock forwarded, three nodes in parallel), and a suite given
# another manifest than the attached cluster's fails.
set -euo pipefail

vmtest=$1 suite=$2 crash_suite=$3 manifest=$4 cluster_suite=${5:-} trio=${6:-}
# shellcheck source=common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
require_manifest

# Under /tmp and traversable, so that the state folder's own mode is the only
# thing between another user and the broker socket.
make_work cli
chmod 755 "$work"

cleanup() {
  if [[ -n $up_pid ]]; then kill -KILL "$up_pid" 2>/dev/null || true; fi
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

# Processes whose command line mentions the state folder (QEMU's sockets and
# vde_switch's control folder live in it).
# pgrep (procps) must be there: without it every "nothing left" check
# would pass. Its status 1 means "none"; anything else is an error.
command -v pgrep >/dev/null || { echo "FAIL: pgrep (Debian: procps) is needed for the leftover checks" >&2; exit 1; }
leftovers() {
  local out rc=0
  out=$(pgrep -af -- "$state") || rc=$?
  ((rc <= 1)) || fail "pgrep failed with status $rc"
  sed '/pgrep/d' <<<"$out"
}

expect_nothing_left() {
  local deadline=$((SECONDS + 15))
  while [[ -n $(leftovers) ]]; do
    ((SECONDS < deadline)) || fail "$1: still running after 15 s:\n$(leftovers)"
    sleep 0.2
  done
}

step "up"
start_up up1
[[ $(stat -c %a "$state") == 700 ]] || fail "state folder mode is $(stat -c %a "$state"), not 700"
[[ $(stat -c %a "$state/broker.sock") == 600 ]] || fail "broker socket mode is $(stat -c %a "$state/broker.sock")"
export VMTEST_ATTACH=$state

step "a second up on the same folder is refused"
set +e
timeout 60 "$vmtest" up --state-dir "$state" "$manifest" >"$work/up2.out" 2>"$work/up2.err"
rc=$?
set -e
[[ $rc != 0 && $rc != 124 ]] || fail "second up: exit status $rc"
grep -q "already up in $state" "$work/up2.err" || fail "second up: message: $(cat "$work/up2.err")"
grep -q "pid $up_pid" "$work/up2.err" || fail "second up: does not name pid $up_pid: $(cat "$work/up2.err")"
kill -0 "$up_pid" || fail "the first up died"

step "exec: byte-exact stdout and stderr, exit status"
set +e
"$vmtest" exec machine -- 'printf "a\000b\377\n"; printf "e\001" >&2; exit 7' >"$work/exec.stdout" 2>"$work/exec.stderr"
rc=$?
set -e
[[ $rc == 7 ]] || fail "exec exit status $rc, want 7"
cmp <(printf 'a\000b\377\n') "$work/exec.stdout" || fail "exec stdout differs: $(od -c "$work/exec.stdout")"
cmp <(printf 'e\001') "$work/exec.stderr" || fail "exec stderr differs: $(od -c "$work/exec.stderr")"
[[ $("$vmtest" exec machine -- seq 1 200000 | md5sum) == $(seq 1 200000 | md5sum) ]] || fail "exec: 1.3 MB of output differs"
[[ $("$vmtest" exec --state-dir "$state" machine -- hostname) == machine ]] || fail "exec with --state-dir"
[[ $("$vmtest" exec machine -- cat) == "" ]] || fail "exec: stdin is not /dev/null"
head -c 300000 /dev/urandom >"$work/blob"
[[ $("$vmtest" exec -i machine -- md5sum <"$work/blob" | cut -d' ' -f1) == $(md5sum <"$work/blob" | cut -d' ' -f1) ]] ||
  fail "exec -i: stdin did not arrive byte-exact"
set +e
t0=$(now)
"$vmtest" exec --timeout 1 machine -- sleep 30 2>"$work/exec-timeout.err"
rc=$?
set -e
[[ $rc == 124 ]] || fail "exec --timeout: exit status $rc, want 124"
grep -q "timed out" "$work/exec-timeout.err" || fail "exec --timeout: $(cat "$work/exec-timeout.err")"
echo "exec --timeout 1 returned after $(elapsed "$t0") s" >&2
set +e
"$vmtest" exec nosuchnode -- true 2>"$work/exec-node.err"
rc=$?
set -e
[[ $rc == 255 ]] && grep -q 'nodes: machine' "$work/exec-node.err" || fail "exec on an unknown node: $rc $(cat "$work/exec-node.err")"

step "status"
"$vmtest" status >"$work/status.txt"
grep -Eq "^machine +running +[0-9]+" "$work/status.txt" || fail "status: $(cat "$work/status.txt")"
grep -q "vmtest up pid $up_pid" "$work/status.txt" || fail "status does not name the up pid: $(cat "$work/status.txt")"

step "shell: one line at a time, the folder carries over"
out=$(printf 'cd /tmp\npwd\necho "$((6 * 7))" \\\n  more\nfalse\n' | "$vmtest" shell machine) && rc=0 || rc=$?
[[ $out == $'/tmp\n42 more' ]] || fail "shell output: $out"
[[ $rc == 1 ]] || fail "shell exit status $rc, want 1 (the last line's)"

step "logs"
"$vmtest" logs machine >"$work/logs.txt"
grep -q "vmtest-init: starting backdoor" "$work/logs.txt" || fail "logs: no boot messages"
# Followed until the cluster stops (checked after `down`).
"$vmtest" logs -f machine >"$work/follow.txt" &
follow_pid=$!
"$vmtest" exec machine -- 'echo vmtest-follow-marker > /dev/ttyS0'
deadline=$((SECONDS + 20))
until grep -q vmtest-follow-marker "$work/follow.txt"; do
  ((SECONDS < deadline)) || fail "logs -f: new console output did not appear within 20 s"
  sleep 0.1
done

step "attached suite, two different filters"
t0=$(now)
"$suite" --gtest_filter='Minimal.ExecuteReturns*:Minimal.EveryByteValueSurvives:Minimal.QmpCommand:Minimal.WaitForQmpEvent*' \
  >"$work/suite1.log" 2>&1 || fail "attached suite (1): $(tail -30 "$work/suite1.log")"
grep -q '\[  PASSED  \] 4 tests' "$work/suite1.log" || fail "attached suite (1) did not run 4 tests"
echo "attached run 1: $(elapsed "$t0") s" >&2
"$suite" --gtest_filter='Minimal.CopyFilesBothWaysByteExact:Minimal.MonitorCommand:Minimal.WaitForConsoleText' \
  >"$work/suite2.log" 2>&1 || fail "attached suite (2): $(tail -30 "$work/suite2.log")"
grep -q '\[  PASSED  \] 3 tests' "$work/suite2.log" || fail "attached suite (2) did not run 3 tests"
grep -q "starting VM" "$work/suite1.log" "$work/suite2.log" && fail "an attached suite booted a VM"

step "two attached suites at the same time"
"$suite" --gtest_filter='Minimal.EightMebibytesOfOutputAreExact:Minimal.QuotesAndNewlinesInCommands' >"$work/par1.log" 2>&1 &
p1=$!
"$suite" --gtest_filter='Minimal.CopyFilesBothWaysByteExact:Minimal.WaitUntil*' >"$work/par2.log" 2>&1 &
p2=$!
wait "$p1" || fail "parallel suite 1: $(tail -30 "$work/par1.log")"
wait "$p2" || fail "parallel suite 2: $(tail -30 "$work/par2.log")"

step "a disruptive suite refuses the shared cluster"
if "$crash_suite" >"$work/crash.log" 2>&1; then fail "the crash suite ran attached"; fi
grep -q "VMTEST_ATTACH_DISRUPTIVE=1" "$work/crash.log" || fail "no hint at the override: $(tail -20 "$work/crash.log")"
[[ $("$vmtest" exec machine -- echo alive) == alive ]] || fail "the node did not survive the refused suite"

step "the broker socket is out of reach of another user"
if [[ $(id -u) != 0 ]]; then
  echo "skipped: needs root to act as another user (running as uid $(id -u))" >&2
else
  probe=$work/probe
  mkdir "$probe"
  cp "$vmtest" "$probe/vmtest"
  chmod 755 "$probe" "$probe/vmtest"
  # Control: the copied binary reaches the broker as root.
  "$probe/vmtest" status --state-dir "$state" >/dev/null || fail "the probe binary cannot reach the broker as root"
  set +e
  setpriv --reuid=65534 --regid=65534 --clear-groups "$probe/vmtest" status --state-dir "$state" \
    >"$work/other.out" 2>"$work/other.err"
  rc=$?
  set -e
  [[ $rc == 1 ]] || fail "another user: status exit $rc: $(cat "$work/other.out" "$work/other.err")"
  grep -q "permission denied" "$work/other.err" || fail "another user: $(cat "$work/other.err")"
fi

step "down: everything stops"
"$vmtest" down || fail "down failed"
wait "$up_pid" && rc=0 || rc=$?
up_pid=
[[ $rc == 0 ]] || fail "vmtest up exited with $rc after down"
expect_nothing_left "after down"
timeout 10 tail --pid="$follow_pid" -f /dev/null || fail "logs -f still follows after down"
wait "$follow_pid" || fail "logs -f exited with $? after down"
[[ ! -e $state ]] || fail "the state folder is still there: $(ls -la "$state")"
if "$suite" --gtest_filter='Minimal.SucceedReturnsStdout' >"$work/after-down.log" 2>&1; then
  fail "an attached suite passed with no cluster up"
fi
grep -q "no cluster is up in $state" "$work/after-down.log" || fail "after down: $(tail -10 "$work/after-down.log")"

step "an up that is SIGKILLed leaves nothing running"
start_up up3
leftovers | grep -q qemu || fail "no QEMU mentions the state folder (the leftover check would prove nothing)"
stale=$(ls -d "$state"/vmtest-*)
kill -KILL "$up_pid"
wait "$up_pid" 2>/dev/null || true
up_pid=
expect_nothing_left "after SIGKILL of vmtest up"
[[ -d $state ]] || fail "expected the killed up's state folder to remain"

step "the next up on that folder takes over and cleans up"
start_up up4
grep -q "left by an earlier vmtest up" "$work/up4.err" || fail "no note about the stale state"
[[ ! -e $stale ]] || fail "the killed up's state $stale remains"

step "a node that dies is reported by name"
qemu_pid=$("$vmtest" status | awk '$1 == "machine" { print $3 }')
kill -KILL "$qemu_pid"
set +e
"$vmtest" exec machine -- true 2>"$work/dead.err"
rc=$?
set -e
[[ $rc == 255 ]] || fail "exec on a dead node: exit $rc"
# Either the broker noticed first ("QEMU killed ...; the machine is down") or
# the command met the closing channel; both name the node and how it died.
grep -q "^vmtest exec: machine: .*QEMU killed by signal 9" "$work/dead.err" || fail "dead node: $(cat "$work/dead.err")"
grep -q "last serial console lines of machine" "$work/dead.err" || fail "dead node: no console tail"
"$vmtest" status | grep -Eq "^machine +down" || fail "status does not show the node down"

step "SIGINT stops vmtest up"
kill -INT "$up_pid"
wait "$up_pid" && rc=0 || rc=$?
up_pid=
[[ $rc == 0 ]] || fail "vmtest up exited with $rc after SIGINT"
expect_nothing_left "after SIGINT"
[[ ! -e $state ]] || fail "the state folder is still there after SIGINT"

if [[ -n $cluster_suite && -f $trio ]]; then
  step "trio: a disruptive suite attached with VMTEST_ATTACH_DISRUPTIVE=1"
  single=$manifest
  manifest=$trio
  start_up up5
  VMTEST_ATTACH_DISRUPTIVE=1 "$cluster_suite" \
    --gtest_filter='Trio.AllNodesAreUp:Trio.BlockCutsANodeOffAndUnblockBringsItBack:Trio.CommandsRunOnSeveralMachinesAtOnce' \
    >"$work/trio.log" 2>&1 || fail "attached cluster suite: $(tail -30 "$work/trio.log")"
  grep -q '\[  PASSED  \] 3 tests' "$work/trio.log" || fail "the attached cluster suite did not run 3 tests"

  step "trio: a suite given another manifest than the attached cluster's fails"
  if VMTEST_MANIFEST=$single "$suite" --gtest_filter='Minimal.SucceedReturnsStdout' >"$work/mismatch.log" 2>&1; then
    fail "a suite ran against the wrong topology"
  fi
  grep -q "runs the cluster of $trio" "$work/mismatch.log" || fail "mismatch: $(tail -10 "$work/mismatch.log")"
  "$vmtest" down >/dev/null 2>&1 || fail "down of the trio failed"
  wait "$up_pid" && rc=0 || rc=$?
  up_pid=
  [[ $rc == 0 ]] || fail "vmtest up of the trio exited with $rc"
  expect_nothing_left "after down of the trio"
else
  echo "trio part skipped: no cluster suite or trio manifest given" >&2
fi

echo "PASS" >&2
