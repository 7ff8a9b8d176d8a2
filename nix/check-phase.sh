# The check phase of every flake check (nix/checks.nix), and of the sandboxed-build check
# (tests/nix-sandbox/run.sh), which runs it the same way. Sourced by bash in the CMake build
# directory after the build:
#
#   source nix/check-phase.sh <out> <ctest arguments>...
#
# Runs ctest, then collects into <out> (and first into $TMPDIR/vmtest-results, which
# `nix build --keep-failed` keeps when the check fails):
#   junit.xml        ctest's report of the selected tests
#   junit/           the gtest XML of each VM suite (vmtest_add_suite writes Testing/junit/<name>.xml),
#                    its event log <name>.events.jsonl and its HTML report <name>.report.html
#                    (docs/events.md)
#   artifacts/       what the suites saved: serial logs, journals (Testing/vmtest-artifacts/<name>/,
#                    which vmtest_add_suite sets as each suite's VMTEST_ARTIFACTS)
#   LastTest.log, ctest-exit-code
# Environment: VMTEST_CHECK_STRICT=1 fails the build when ctest fails (0: the .report variant,
# which keeps the results whatever ctest said); VMTEST_CHECK_VERBOSE=1 streams every test's output
# while it runs (ctest -V) instead of holding it until the test ends; VMTEST_CHECK_HEARTBEAT
# seconds between "still running" lines (default 300), so a builder's max-silent-time cannot kill
# a suite that waits quietly; the suites' own deadlines and ctest's TIMEOUT still bound every run.
vmtest_check_phase() {
    local out=$1
    shift
    local results=$TMPDIR/vmtest-results
    mkdir -p "$results/artifacts"

    local output=(--output-on-failure)
    if [[ ${VMTEST_CHECK_VERBOSE:-0} == 1 ]]; then
        output=(--verbose)
    fi

    # The sleep is killed with the loop, so nothing of it outlives the phase holding the log open.
    local started=$SECONDS
    (
        trap 'kill "$nap" 2>/dev/null; exit 0' TERM
        while :; do
            sleep "${VMTEST_CHECK_HEARTBEAT:-300}" &
            nap=$!
            wait "$nap"
            echo "vmtest: ctest still running after $((SECONDS - started)) s"
        done
    ) &
    local heartbeat=$!

    local rc=0
    ctest "${output[@]}" --no-tests=error -j1 "$@" --output-junit "$results/junit.xml" || rc=$?
    kill "$heartbeat"
    wait "$heartbeat"

    if [[ -f Testing/Temporary/LastTest.log ]]; then
        cp Testing/Temporary/LastTest.log "$results/"
    fi
    if [[ -d Testing/junit ]]; then
        cp -r Testing/junit "$results/junit"
    fi
    if [[ -d Testing/vmtest-artifacts ]]; then
        cp -r Testing/vmtest-artifacts/. "$results/artifacts/"
    fi
    echo "$rc" >"$results/ctest-exit-code"

    if [[ $rc -ne 0 && ${VMTEST_CHECK_STRICT:-1} == 1 ]]; then
        echo "vmtest: ctest failed (exit $rc). JUnit report, serial logs and journals are in $results:" \
            "rerun with 'nix build --keep-failed' to keep them, or build this check's .report attribute" \
            "to get them in its output." >&2
        return "$rc"
    fi
    mkdir -p "$out"
    cp -r "$results"/. "$out"/
}
