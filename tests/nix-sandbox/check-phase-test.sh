# nix/check-phase.sh, the flake checks' check phase, against a stand-in ctest that writes what
# vmtest_add_suite makes a VM suite write (Testing/junit/<name>.xml, Testing/vmtest-artifacts/<name>/)
# and exits with a chosen status. Asserts what a check's $out holds, for a pass, a strict failure and
# the .report variant, that -V streams when asked, and that the heartbeat speaks while ctest is quiet.
#
#   bash tests/nix-sandbox/check-phase-test.sh [<check-phase.sh>]
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
script=${1:-$here/../../nix/check-phase.sh}
work=$(mktemp -d "${TMPDIR:-/tmp}/vmtest-check-phase.XXXXXX")
trap 'rm -rf "$work"' EXIT

failed=0
check() { # <what> <command>...
    local what=$1
    shift
    if "$@"; then
        echo "ok: $what"
    else
        echo "FAIL: $what" >&2
        failed=$((failed + 1))
    fi
}

# ctest stand-in: FAKE_CTEST_RC is its status; FAKE_CTEST_SLEEP seconds it stays quiet; it logs its
# arguments and writes the junit file it is asked for.
mkdir -p "$work/bin"
cat >"$work/bin/ctest" <<'EOF'
#!/bin/sh
printf '%s\n' "$@" >"$FAKE_CTEST_ARGS"
junit=
prev=
for a in "$@"; do
    [ "$prev" = --output-junit ] && junit=$a
    prev=$a
done
[ -n "$junit" ] && echo '<testsuite name="fake"/>' >"$junit"
mkdir -p Testing/junit Testing/vmtest-artifacts/k0s.airgap Testing/Temporary
echo '<testsuite name="k0s.airgap"/>' >Testing/junit/k0s.airgap.xml
echo '{"type":"run","t":0,"version":1}' >Testing/junit/k0s.airgap.events.jsonl
echo '<!DOCTYPE html>' >Testing/junit/k0s.airgap.report.html
echo 'serial console of ctrl' >Testing/vmtest-artifacts/k0s.airgap/ctrl-serial.log
echo 'last test log' >Testing/Temporary/LastTest.log
sleep "${FAKE_CTEST_SLEEP:-0}"
exit "${FAKE_CTEST_RC:-0}"
EOF
chmod +x "$work/bin/ctest"

# run <name> <rc> [VAR=value...]: the phase in a fresh build dir and TMPDIR; prints its status.
run() {
    local name=$1 rc=$2
    shift 2
    mkdir -p "$work/$name/build" "$work/$name/tmp"
    (
        cd "$work/$name/build"
        export PATH=$work/bin:$PATH TMPDIR=$work/$name/tmp FAKE_CTEST_RC=$rc FAKE_CTEST_ARGS=$work/$name/args
        for kv in "$@"; do export "${kv?}"; done
        # shellcheck source=../../nix/check-phase.sh
        source "$script"
        vmtest_check_phase "$work/$name/out" -R '^k0s\.airgap$'
    ) >"$work/$name/log" 2>&1 && echo 0 || echo $?
}

# A passing run: everything in $out.
status=$(run pass 0 VMTEST_CHECK_STRICT=1 VMTEST_CHECK_HEARTBEAT=299.5)
out=$work/pass/out
check "pass: the phase succeeds" test "$status" = 0
check "pass: ctest's junit.xml in \$out" test -s "$out/junit.xml"
check "pass: the suite's gtest XML in \$out/junit" test -s "$out/junit/k0s.airgap.xml"
check "pass: the suite's event log in \$out/junit" test -s "$out/junit/k0s.airgap.events.jsonl"
check "pass: the suite's report in \$out/junit" test -s "$out/junit/k0s.airgap.report.html"
check "pass: the suite's artifacts in \$out/artifacts" test -s "$out/artifacts/k0s.airgap/ctrl-serial.log"
check "pass: LastTest.log in \$out" test -s "$out/LastTest.log"
check "pass: ctest-exit-code is 0" test "$(cat "$out/ctest-exit-code")" = 0
check "pass: ctest got the test selection" grep -qxF -- '^k0s\.airgap$' "$work/pass/args"
no_heartbeat_left() { ! pgrep -fx 'sleep 299.5' >/dev/null; }
check "pass: nothing of the heartbeat outlives the phase" no_heartbeat_left
check "pass: output on failure only, by default" grep -qx -- --output-on-failure "$work/pass/args"

# A strict failure: the build fails with ctest's status, the results stay in TMPDIR.
status=$(run strict 8 VMTEST_CHECK_STRICT=1)
check "strict: the phase fails with ctest's status" test "$status" = 8
check "strict: no \$out" test ! -e "$work/strict/out"
check "strict: the results stay in TMPDIR (nix build --keep-failed)" test -s "$work/strict/tmp/vmtest-results/artifacts/k0s.airgap/ctrl-serial.log"
check "strict: the message names the .report attribute" grep -q "report attribute" "$work/strict/log"

# The .report variant: a failing ctest still gives $out, with its status.
status=$(run report 8 VMTEST_CHECK_STRICT=0)
check "report: the phase succeeds" test "$status" = 0
check "report: ctest-exit-code is 8" test "$(cat "$work/report/out/ctest-exit-code")" = 8
check "report: the artifacts in \$out" test -s "$work/report/out/artifacts/k0s.airgap/ctrl-serial.log"
check "report: the event log and the report in \$out/junit" test -s "$work/report/out/junit/k0s.airgap.report.html" -a -s "$work/report/out/junit/k0s.airgap.events.jsonl"

# Long VM suites: streamed output, and a heartbeat while ctest says nothing.
status=$(run verbose 0 VMTEST_CHECK_VERBOSE=1 VMTEST_CHECK_HEARTBEAT=1 FAKE_CTEST_SLEEP=2.5)
check "verbose: the phase succeeds" test "$status" = 0
check "verbose: ctest -V" grep -qx -- --verbose "$work/verbose/args"
check "verbose: the heartbeat speaks while ctest is quiet" grep -q "ctest still running after" "$work/verbose/log"

if ((failed)); then
    echo "check-phase: $failed failed" >&2
    exit 1
fi
echo "check-phase: all passed"
