#!/usr/bin/env bash
# ctest report.browser: a real guest-minimal run whose test fails on purpose
# (driver_failing_suite), then its event log and its report checked:
#   - the failure message names the event log;
#   - the log names the failing command and its node (jq);
#   - headless Chromium renders the report with the checks of check-report.mjs;
#     the screenshot stays in OUT/report.png.
#
#   browser-check.sh FAILING_SUITE MANIFEST OUT
set -euo pipefail
suite=$1 manifest=$2 out=$3
here=$(cd "$(dirname "$0")" && pwd)
rm -rf "$out"
mkdir -p "$out"
out=$(cd "$out" && pwd)

rc=0
VMTEST_ARTIFACTS="$out/artifacts" "$suite" "--manifest=$manifest" \
    --gtest_filter='Failing.CommandFailsOnPurpose:Failing.PassesBeside' \
    "--gtest_output=xml:$out/failing.xml" >"$out/suite.log" 2>&1 || rc=$?
cat "$out/suite.log"
if [[ $rc -eq 0 ]]; then
    echo "browser-check: the failing suite passed; it must fail on purpose" >&2
    exit 1
fi
events=$out/failing.events.jsonl
report=$out/failing.report.html
for f in "$events" "$report"; do
    [[ -s $f ]] || { echo "browser-check: $f was not written" >&2; exit 1; }
done
grep -qF "(event log: $events)" "$out/suite.log" || {
    echo "browser-check: no failure message names the event log $events" >&2
    exit 1
}

# The command that failed, and the node it ran on, from the log alone.
node=$(jq -r -s 'map(select(.type == "command" and .status == 3 and (.command | test("failing-on-purpose")))) |
                 if length == 1 then .[0].node else error("expected one failing failing-on-purpose command, got \(length)") end' "$events")
jq -e -s --arg n "$node" \
    'map(select(.type == "error" and .node == $n and (.command | test("failing-on-purpose")) and (.message | test("exit status 3")))) | length == 1' \
    "$events" >/dev/null || { echo "browser-check: no error event names node $node and the failing command" >&2; exit 1; }
jq -e -s 'map(select(.type == "test_end" and .name == "CommandFailsOnPurpose" and .result == "failed")) | length == 1' \
    "$events" >/dev/null || { echo "browser-check: the log does not record the failed test" >&2; exit 1; }
echo "browser-check: the event log names the failing command on node $node: $(jq -c -s 'map(select(.type == "error" and (.command | test("failing-on-purpose")))) | .[0] | {node, command}' "$events")"
echo "browser-check: report $(stat -c %s "$report") bytes, event log $(stat -c %s "$events") bytes"

node "$here/check-report.mjs" "$report" "$events" "$out/report.png"
