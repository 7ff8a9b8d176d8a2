#!/usr/bin/env bash
# vmtest beside nixpkgs' real Python test driver, in one run, on the same
# start scripts (issue 16). For each guest and each round: the Python
# driver's benchmark script (boot, succeed("true")/execute("true") round
# trips, output throughput, wait_until_succeeds lateness), then
# vmtest_peer_bench measuring the same things the same way. Each run holds
# the VM lock (/tmp/vmtest-vm.lock) for itself only. Prints the medians over
# the rounds and keeps every JSON in OUT.
#
#   peer_bench.sh --driver-bench BENCH_PY [--driver-src DIR] [--rounds N] [--n-cmds N]
#                 [--out DIR] NAME=MANIFEST...
#
# BENCH_PY drives test_driver.machine.QemuMachine from DIR (the driver's
# sources, recreated outside this repository: bench/README.md). Each
# MANIFEST is a single-node manifest; its node's start script is used.
set -euo pipefail

driver_bench= driver_src=/tmp/nixos-test-driver rounds=3 n_cmds=300 out=/tmp/vmtest-peer-bench
guests=()
while (($#)); do
  case $1 in
    --driver-bench) driver_bench=$2; shift 2 ;;
    --driver-src) driver_src=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    --n-cmds) n_cmds=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    *=*) guests+=("$1"); shift ;;
    *) echo "peer_bench.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
[[ -f $driver_bench ]] || { echo "peer_bench.sh: --driver-bench: no such file: ${driver_bench:-(none)}" >&2; exit 2; }
[[ -d $driver_src/test_driver ]] || { echo "peer_bench.sh: $driver_src/test_driver is missing" >&2; exit 2; }
((${#guests[@]})) || { echo "peer_bench.sh: name at least one NAME=MANIFEST" >&2; exit 2; }
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
build=${VMTEST_BUILD:-$here/../build}
peer=$build/bench/vmtest_peer_bench
[[ -x $peer ]] || { echo "peer_bench.sh: $peer is not built (cmake --build build --target vmtest_peer_bench)" >&2; exit 2; }
mkdir -p "$out"

for g in "${guests[@]}"; do
  name=${g%%=*} manifest=$(realpath "${g#*=}")
  script=$(/usr/bin/python3 -c 'import json,sys,os; m=json.load(open(sys.argv[1])); v=list(m["vms"].values())[0] if isinstance(m["vms"], dict) else m["vms"][0]; s=v["start_script"]; print(s if os.path.isabs(s) else os.path.join(os.path.dirname(sys.argv[1]), s))' "$manifest")
  for ((r = 1; r <= rounds; r++)); do
    echo "== $name round $r/$rounds: Python driver" >&2
    flock /tmp/vmtest-vm.lock /usr/bin/python3 "$driver_bench" --start-script "$script" --driver-src "$driver_src" \
      --only single --reps 1 --n-cmds "$n_cmds" --sweep 2.1 2.3 2.5 2.7 2.9 --out "$out/$name-py-$r.json" 2>"$out/$name-py-$r.log"
    echo "== $name round $r/$rounds: vmtest" >&2
    flock /tmp/vmtest-vm.lock "$peer" --manifest "$manifest" --n-cmds "$n_cmds" --wait-trials 6 >"$out/$name-vmtest-$r.json"
  done
done

/usr/bin/python3 - "$out" "$rounds" "${guests[@]}" <<'PY'
import json, statistics, sys
out, rounds, guests = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
med = statistics.median
print(f"{'guest':<16} {'':<8} {'succeed(true) ms':>17} {'execute(true) ms':>17} {'10 MB MB/s':>11} {'wait late s':>12} {'boot s':>7}")
for g in guests:
    name = g.split("=", 1)[0]
    py = [json.load(open(f"{out}/{name}-py-{r}.json")) for r in range(1, rounds + 1)]
    vm = [json.load(open(f"{out}/{name}-vmtest-{r}.json")) for r in range(1, rounds + 1)]
    s_py = med(p["summary"]["succeed_true_median_ms"] for p in py)
    x_py = med(p["summary"]["execute_true_median_ms"] for p in py)
    t_py = med(p["summary"]["throughput_10000000_MBps"] for p in py)
    w_py = med(x for p in py for x in [p["single"][0]["wait"]["delay_s"]] + [w["delay_s"] for w in p["single"][0].get("wait_sweep", [])])
    b_py = med(p["summary"]["boot_connected_s"] for p in py)
    s_vm = med(v["succeed_true_ms"]["median"] for v in vm)
    x_vm = med(v["execute_true_ms"]["median"] for v in vm)
    t_vm = med(v["throughput"]["10000000"]["MB_per_s"] for v in vm)
    w_vm = med(x for v in vm for x in v["wait"]["delays_s"])
    b_vm = med(v["boot_s"] for v in vm)
    print(f"{name:<16} {'python':<8} {s_py:>17.1f} {x_py:>17.1f} {t_py:>11.2f} {w_py:>12.3f} {b_py:>7.2f}")
    print(f"{'':<16} {'vmtest':<8} {s_vm:>17.1f} {x_vm:>17.1f} {t_vm:>11.2f} {w_vm:>12.3f} {b_vm:>7.2f}")
    print(f"{'':<16} {'ratio':<8} {s_py / s_vm:>16.1f}x {x_py / x_vm:>16.1f}x {t_vm / t_py:>10.1f}x {w_py / max(w_vm, 1e-3):>11.1f}x")
PY
