#!/usr/bin/env bash
# The event log's cost at suite level: the same suite with the log and report
# on (what ctest runs) and off (VMTEST_EVENTS=0), interleaved, wall time of
# the suite process, medians of RUNS runs each; then the log's size, the
# report's size and the time `vmtest report` takes to render it.
#
#   bench/events_bench.sh [BUILD_DIR] [RUNS] [SUITE] [TOPOLOGY]
#
# Defaults: build, 5, driver_cluster_suite, trio. Boots VMs: run it under
# `flock /tmp/vmtest-vm.lock` on a shared machine.
set -euo pipefail

build=$(cd "${1:-build}" && pwd)
runs=${2:-5}
suite=$build/suites/driver/${3:-driver_cluster_suite}
manifest=$build/guests/minimal/topo/${4:-trio}/manifest.json
[[ -x $suite && -f $manifest ]] || {
  echo "build first, and build the guest: ctest --test-dir $build -R guests.minimal.build" >&2
  exit 1
}
unset VMTEST_ATTACH VMTEST_EVENTS VMTEST_REPORT
export VMTEST_LOG=quiet VMTEST_MANIFEST=$manifest

work=$(mktemp -d /tmp/vmtest-events-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT
now() { date +%s.%N; }
median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

one() { # <on|off> : one run, prints its wall time
  local t0 env=()
  [[ $1 == off ]] && env=(VMTEST_EVENTS=0)
  t0=$(now)
  env "${env[@]}" "$suite" "--gtest_output=xml:$work/$1.xml" >"$work/run.log" 2>&1 || {
    echo "suite failed ($1):" >&2
    tail -30 "$work/run.log" >&2
    exit 1
  }
  awk -v a="$t0" -v b="$(now)" 'BEGIN { printf "%.3f\n", b - a }'
}

: >"$work/on.t"
: >"$work/off.t"
for ((i = 0; i < runs; i++)); do
  one on >>"$work/on.t"
  one off >>"$work/off.t"
done
on=$(median <"$work/on.t")
off=$(median <"$work/off.t")
[[ ! -e $work/off.events.jsonl ]] || { echo "VMTEST_EVENTS=0 still wrote a log" >&2; exit 1; }
render=$( { t0=$(now); "$build/tools/vmtest/vmtest" report "$work/on.events.jsonl" -o "$work/r.html" >/dev/null
            awk -v a="$t0" -v b="$(now)" 'BEGIN { printf "%.3f", b - a }'; } )
echo "$(basename "$suite") on $(basename "$(dirname "$manifest")"), $runs runs each, interleaved:"
echo "  log+report on:  median $on s   ($(tr '\n' ' ' <"$work/on.t"))"
echo "  log+report off: median $off s   ($(tr '\n' ' ' <"$work/off.t"))"
awk -v a="$on" -v b="$off" 'BEGIN { printf "  difference: %+.3f s (%+.2f %%)\n", a - b, 100 * (a - b) / b }'
echo "  event log $(stat -c %s "$work/on.events.jsonl") bytes, $(wc -l <"$work/on.events.jsonl") events; report $(stat -c %s "$work/on.report.html") bytes; vmtest report renders it in $render s"
"$build/bench/vmtest_events_bench" --log "$work/on.events.jsonl"
