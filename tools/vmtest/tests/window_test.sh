#!/usr/bin/env bash
# guest-minimal: a QEMU window per VM (issue 16). On an Xvfb display of its
# own: `vmtest up` without --window opens no window although DISPLAY is set
# (the check below fails there: that run is its negative control); with
# --window the X server lists QEMU's window "QEMU (machine)" while the
# backdoor runs commands and the serial log fills as before; --window without
# DISPLAY or WAYLAND_DISPLAY is an error naming the machine and the variables;
# a start script with its own -nographic is named in the log.
#
# The start script is the single topology's with its -nographic taken out:
# nixpkgs' qemu-vm.nix writes -nographic into run-<name>-vm only when
# virtualisation.graphics is false, and it is true by default.
#
#   window_test.sh VMTEST MANIFEST
set -euo pipefail

vmtest=$1 manifest=$2
# shellcheck source=common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
require_manifest
for tool in Xvfb xwininfo; do
  command -v "$tool" >/dev/null || { echo "FAIL: $tool is missing (ci/setup installs it)" >&2; exit 1; }
done
make_work window
xvfb_pid=
cleanup() {
  if [[ -n $up_pid ]]; then
    "$vmtest" down --state-dir "$state" >/dev/null 2>&1 || kill -KILL "$up_pid" 2>/dev/null || true
    wait "$up_pid" 2>/dev/null || true
  fi
  [[ -n $xvfb_pid ]] && kill "$xvfb_pid" 2>/dev/null && wait "$xvfb_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

original=$(dirname "$manifest")/bin/run-machine-vm
[[ -x $original ]] || fail "no start script $original"
grep -q -- ' -nographic' "$original" || fail "$original has no -nographic to take out"
mkdir -p "$work/bin"
sed 's/ -nographic / /' "$original" >"$work/bin/run-machine-vm"
chmod +x "$work/bin/run-machine-vm"
! grep -q -- '-nographic' "$work/bin/run-machine-vm" || fail "the copied start script still has -nographic"
graphics_manifest=$work/manifest.json
printf '{"vms": {"machine": {"start_script": "%s"}}}\n' "$work/bin/run-machine-vm" >"$graphics_manifest"

# Xvfb picks a free display and writes its number to fd 3.
step "starting Xvfb"
Xvfb -displayfd 3 -nolisten tcp -screen 0 1024x768x24 3>"$work/display" 2>"$work/xvfb.err" &
xvfb_pid=$!
deadline=$((SECONDS + 30))
until [[ -s $work/display ]]; do
  kill -0 "$xvfb_pid" 2>/dev/null || fail "Xvfb exited: $(cat "$work/xvfb.err")"
  ((SECONDS < deadline)) || fail "Xvfb gave no display number within 30 s"
  sleep 0.1
done
export DISPLAY=":$(tr -d '\n' <"$work/display")"
unset WAYLAND_DISPLAY VMTEST_WINDOW
step "display $DISPLAY"

# The QEMU windows on the display; an unreadable display is a failure, not
# "no windows" (that would pass the check without --window vacuously).
qemu_windows() {
  local tree
  tree=$(xwininfo -root -tree) || fail "xwininfo cannot read display $DISPLAY"
  grep -c '"QEMU (machine)"' <<<"$tree" || true  # grep -c prints 0 and exits 1 for none
}
# After the export line QEMU has run for the whole boot: a window it opens is
# mapped by then.
boot() {  # tag, then vmtest up's options
  local tag=$1
  shift
  start_up "$tag" "$graphics_manifest" "$@"
}
down() {
  "$vmtest" down --state-dir "$state" >/dev/null
  wait "$up_pid" || fail "vmtest up exited with $?"
  up_pid=
}

step "vmtest up without --window, DISPLAY set: no window"
boot plain
[[ $("$vmtest" exec --state-dir "$state" machine -- echo plain-ok) == plain-ok ]] || fail "plain: exec"
# The guest's init writes to its console (ttyS0, console=ttyS0): the serial
# log, the same line in both runs.
serial_marker='vmtest-init: starting backdoor on hvc0'
"$vmtest" logs --state-dir "$state" machine >"$work/plain-serial.log"
grep -q "$serial_marker" "$work/plain-serial.log" || fail "plain: the serial log lacks '$serial_marker'"
n=$(qemu_windows)
[[ $n == 0 ]] || fail "without --window the X server lists $n QEMU window(s): $(xwininfo -root -tree | grep QEMU)"
down

step "vmtest up --window: a window, the backdoor and the serial log"
boot window --window
n=$(qemu_windows)
[[ $n == 1 ]] || fail "with --window the X server lists $n windows \"QEMU (machine)\" (want 1); its windows: $(xwininfo -root -tree | head -20)"
xwininfo -root -tree | grep '"QEMU (machine)"' >&2
[[ $("$vmtest" exec --state-dir "$state" machine -- 'echo window-$((6 * 7))') == window-42 ]] ||
  fail "with --window the backdoor did not run a command"
"$vmtest" logs --state-dir "$state" machine >"$work/serial.log"
grep -q "$serial_marker" "$work/serial.log" || fail "with --window the serial log lacks '$serial_marker': $(tail -5 "$work/serial.log")"
# Only the firmware's (SeaBIOS, iPXE) lines differ: without -nographic QEMU sets no
# serial console for SeaBIOS, so they go to the window (as with nixpkgs' driver).
step "serial log: $(wc -l <"$work/serial.log") lines (without --window: $(wc -l <"$work/plain-serial.log"), with the firmware's)"
down

step "vmtest up --window without DISPLAY or WAYLAND_DISPLAY: an error naming both"
set +e
env -u DISPLAY -u WAYLAND_DISPLAY timeout 120 "$vmtest" up --state-dir "$state" --window "$graphics_manifest" \
  >"$work/nodisplay.out" 2>"$work/nodisplay.err"
rc=$?
set -e
[[ $rc == 1 ]] || fail "without a display vmtest up --window exited with $rc (want 1)"
grep -q 'machine' "$work/nodisplay.err" && grep -q 'neither DISPLAY nor WAYLAND_DISPLAY' "$work/nodisplay.err" ||
  fail "without a display: $(cat "$work/nodisplay.err")"

step "vmtest up --window on a start script with its own -nographic: named in the log"
"$vmtest" up --state-dir "$state" --window "$manifest" >"$work/own.out" 2>"$work/own.err" &
up_pid=$!
deadline=$((SECONDS + 60))
until grep -q 'passes -nographic itself' "$work/own.err"; do
  kill -0 "$up_pid" 2>/dev/null || fail "own -nographic: vmtest up exited without naming it"
  ((SECONDS < deadline)) || fail "own -nographic: not named within 60 s"
  sleep 0.1
done
kill -TERM "$up_pid"
wait "$up_pid" || true
up_pid=
echo "PASS" >&2
