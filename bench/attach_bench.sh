#!/usr/bin/env bash
# Cold run vs attached run of the same suite and filter: wall time of the
# suite process, median over RUNS runs each.
#
#   bench/attach_bench.sh [BUILD_DIR] [RUNS] [FILTER...]
#
# Defaults: build, 5 runs, filters "Minimal.SucceedReturnsStdout" and "*"
# (the whole minimal suite). Cold: VMTEST_MANIFEST, the suite boots and stops
# its VM. Attached: one `vmtest up` (its boot is reported, not counted), then
# VMTEST_ATTACH. Boots VMs: run it under `flock /tmp/vmtest-vm.lock` on a
# shared machine.
set -euo pipefail

build=$(cd "${1:-build}" && pwd)
runs=${2:-5}
shift $(($# > 2 ? 2 : $#))
filters=("$@")
((${#filters[@]})) || filters=("Minimal.SucceedReturnsStdout" "*")

vmtest=$build/tools/vmtest/vmtest
suite=$build/suites/driver/driver_minimal_suite
manifest=$build/guests/minimal/topo/single/manifest.json
[[ -x $vmtest && -x $suite && -f $manifest ]] || {
  echo "build first, and build the guest: ctest --test-dir $build -R guests.minimal.build" >&2
  exit 1
}
unset VMTEST_ATTACH VMTEST_MANIFEST
export VMTEST_LOG=quiet

work=$(mktemp -d /tmp/vmtest-bench.XXXXXX)
up_pid=
trap '[[ -n $up_pid ]] && kill -INT "$up_pid" 2>/dev/null; wait; rm -rf "$work"' EXIT

now() { date +%s.%N; }
median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# time_runs LABEL ENV... : runs the suite $runs times, prints one time per line.
time_runs() {
  local filter=$1
  shift
  for ((i = 0; i < runs; i++)); do
    local t0
    t0=$(now)
    env "$@" "$suite" --gtest_filter="$filter" >"$work/run.log" 2>&1 || {
      echo "suite failed ($*):" >&2
      tail -30 "$work/run.log" >&2
      exit 1
    }
    awk -v a="$t0" -v b="$(now)" 'BEGIN { printf "%.3f\n", b - a }'
  done
}

declare -A cold
for f in "${filters[@]}"; do
  cold[$f]=$(time_runs "$f" VMTEST_MANIFEST="$manifest" | median)
done

t0=$(now)
"$vmtest" up --state-dir "$work/up" "$manifest" >"$work/up.out" 2>"$work/up.err" &
up_pid=$!
until grep -q '^export' "$work/up.out"; do
  kill -0 "$up_pid" || { cat "$work/up.err" >&2; exit 1; }
  sleep 0.05
done
boot=$(awk -v a="$t0" -v b="$(now)" 'BEGIN { printf "%.2f", b - a }')

echo "suite: driver_minimal_suite on $(basename "$(dirname "$manifest")"), $runs runs each, medians (s)"
echo "vmtest up (boot to export line, once): $boot s"
printf '%-34s %10s %10s %8s\n' "filter" "cold" "attached" "ratio"
for f in "${filters[@]}"; do
  attached=$(time_runs "$f" VMTEST_ATTACH="$work/up" | median)
  printf '%-34s %10s %10s %8s\n' "$f" "${cold[$f]}" "$attached" \
    "$(awk -v c="${cold[$f]}" -v a="$attached" 'BEGIN { printf "%.1fx", c / a }')"
done
"$vmtest" down --state-dir "$work/up" 2>/dev/null
wait "$up_pid" || true
up_pid=
