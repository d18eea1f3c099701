#!/usr/bin/env bash
# mxc-runtime under containerd's runc shim (io.containerd.runc.v2), driven with ctr:
#   RUNTIME=/path/to/mxc-runtime SOURCE_DIR=/path/to/repo tests/clients/test_containerd.sh
# Starts its own containerd (root, state, sockets in a temp dir; CRI plugin off) and the
# image is a docker-archive of the busybox rootfs from tests/lib/make-rootfs.sh.
# ctr run --runc-binary $RUNTIME --runc-root DIR: the shim calls
#   $RUNTIME --root DIR/NS --log .../log.json --log-format json create --bundle B --pid-file P ID
# Exit 0 all passed, 1 some failed, 77 containerd is not usable here.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"
require_runtime

command -v containerd >/dev/null || skip "containerd is not installed (tests/clients/install-clients.sh containerd)"
command -v ctr >/dev/null || skip "ctr is not installed"
command -v containerd-shim-runc-v2 >/dev/null || skip "containerd-shim-runc-v2 is not installed"

WORK=$(mktemp -d /tmp/mxc-clients-containerd.XXXXXX)
SOCK=$WORK/containerd.sock
NS=mxc-clients-$$          # containerd namespace; also the cgroup parent (/NS/ID)
RROOT=$WORK/runtime-root   # --runc-root: the shim adds /NS
had_run_containerd=0; [ -d /run/containerd ] && had_run_containerd=1 # shim sockets go to /run/containerd/s
CTD_PID=

C() { ctr -a "$SOCK" -n "$NS" "$@"; }
RUN=(--runc-binary "$RUNTIME" --runc-root "$RROOT")
R() { "$RUNTIME" --root "$RROOT/$NS" "$@"; }

cleanup() {
  set +e
  if [ -n "$CTD_PID" ] && kill -0 "$CTD_PID" 2>/dev/null; then
    for t in $(C task ls -q 2>/dev/null); do C task kill -s KILL "$t" >/dev/null 2>&1; done
    sleep 0.5
    for t in $(C task ls -q 2>/dev/null); do C task delete -f "$t" >/dev/null 2>&1; done
    for c in $(C container ls -q 2>/dev/null); do C container delete "$c" >/dev/null 2>&1; done
    C image rm localhost/busybox:latest >/dev/null 2>&1
    kill "$CTD_PID" 2>/dev/null
    for _ in $(seq 50); do kill -0 "$CTD_PID" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$CTD_PID" 2>/dev/null
  fi
  # shims outlive containerd by design: end the ones that served this containerd
  for p in $(pgrep -f "containerd-shim-runc-v2 -namespace $NS " 2>/dev/null); do kill -9 "$p" 2>/dev/null; done
  # anything left in the runtime's state (a failure half-way through)
  if [ -d "$RROOT/$NS" ]; then
    for id in $(ls "$RROOT/$NS"); do R kill "$id" KILL >/dev/null 2>&1; R delete --force "$id" >/dev/null 2>&1; done
  fi
  umount_under "$WORK"
  rm -rf "$WORK"
  for d in /sys/fs/cgroup/*/"$NS" /sys/fs/cgroup/unified/"$NS"; do
    [ -d "$d" ] && find "$d" -depth -type d -exec rmdir {} \; 2>/dev/null
  done
  if [ $had_run_containerd -eq 0 ]; then rm -rf /run/containerd; fi
}
trap cleanup EXIT

cat >"$WORK/config.toml" <<EOF
version = 2
root = "$WORK/root"
state = "$WORK/state"
disabled_plugins = ["io.containerd.grpc.v1.cri"]
[grpc]
  address = "$SOCK"
[ttrpc]
  address = "$SOCK.ttrpc"
[debug]
  level = "debug"
EOF
containerd --config "$WORK/config.toml" >"$WORK/containerd.log" 2>&1 &
CTD_PID=$!
if ! wait_for 30 ctr -a "$SOCK" version; then
  tail -20 "$WORK/containerd.log"; skip "containerd did not come up"
fi

make_image_tar "$WORK" "$WORK/busybox.tar"
C image import "$WORK/busybox.tar" >/dev/null || skip "ctr image import failed"
IMG=localhost/busybox:latest

# --- run --rm ---------------------------------------------------------------------
out=$(C run --rm "${RUN[@]}" $IMG r1 echo hi 2>&1) || true
expect_eq "run --rm echo hi" hi "$out"
rc=0; C run --rm "${RUN[@]}" $IMG r2 sh -c 'exit 3' >/dev/null 2>&1 || rc=$?
expect_eq "run --rm: exit status (sh -c 'exit 3')" 3 "$rc"
if R state r1 >/dev/null 2>&1 || C container info r1 >/dev/null 2>&1; then fail "run --rm: container gone (ctr and runtime)"
else ok "run --rm: container gone (ctr and runtime)"; fi
out=$(script -qec "ctr -a $SOCK -n $NS run --rm -t ${RUN[*]} $IMG r3 sh -c 'tty; echo tty-ok'" /dev/null </dev/null 2>&1 | tr -d '\r') || true
expect_contains "run -t: pty through --console-socket" "/dev/pts/" "$out"
expect_contains "run -t: output through the pty" "tty-ok" "$out"

# --- run -d, exec, ps, pause/resume, cgroup, kill, delete ---------------------------------
check "run -d (--detach)" C run -d "${RUN[@]}" $IMG d1 sleep 1000
status=$(C task ls 2>/dev/null | awk '$1=="d1"{print $3}')
expect_eq "task ls: RUNNING" RUNNING "$status"
pid=$(C task ls 2>/dev/null | awk '$1=="d1"{print $2}')
st=$(R state d1 2>&1) || true
expect_contains "runtime state (--root DIR/NS): running" '"status": "running"' "$st"
expect_contains "runtime state: same pid as containerd's" "\"pid\": $pid" "$st"

out=$(C task exec --exec-id x1 d1 sh -c 'echo in-exec; echo to-stderr >&2' 2>&1) || true
expect_contains "task exec: stdout" in-exec "$out"
expect_contains "task exec: stderr" to-stderr "$out"
rc=0; C task exec --exec-id x2 d1 sh -c 'exit 5' || rc=$?
expect_eq "task exec: exit status" 5 "$rc"
out=$(script -qec "ctr -a $SOCK -n $NS task exec -t --exec-id x3 d1 sh -c 'tty; echo exec-tty-ok'" /dev/null </dev/null 2>&1 | tr -d '\r') || true
expect_contains "task exec -t: pty through --console-socket" "/dev/pts/" "$out"
expect_contains "task exec -t: output through the pty" exec-tty-ok "$out"

C task exec -d --exec-id x4 d1 sleep 999 >/dev/null 2>&1 || true
sleep 0.3
out=$(C task ps d1 2>&1) || true
expect_contains "task ps: lists the init pid" "$pid" "$out"
n=$(printf '%s\n' "$out" | tail -n +2 | grep -c . || true)
expect_eq "task ps: init + the detached exec" 2 "$n"

if grep -qx "$pid" /sys/fs/cgroup/memory/"$NS"/d1/cgroup.procs 2>/dev/null ||
   grep -qx "$pid" /sys/fs/cgroup/unified/"$NS"/d1/cgroup.procs 2>/dev/null; then
  ok "linux.cgroupsPath /$NS/d1 is the task's cgroup"
else fail "linux.cgroupsPath /$NS/d1 is the task's cgroup (pid $pid; $(cat /proc/$pid/cgroup 2>&1 | tr '\n' ' '))"; fi

check "task pause" C task pause d1
expect_eq "task ls: PAUSED" PAUSED "$(C task ls 2>/dev/null | awk '$1=="d1"{print $3}')"
check "task resume" C task resume d1
expect_eq "task ls: RUNNING after resume" RUNNING "$(C task ls 2>/dev/null | awk '$1=="d1"{print $3}')"

out=$(C task metrics d1 2>&1) || true
expect_contains "task metrics (the shim reads the container's cgroup)" "memory.usage_in_bytes" "$out"

check "task kill -s KILL" C task kill -s KILL d1
wait_for 10 sh -c "ctr -a $SOCK -n $NS task ls | awk '\$1==\"d1\"{print \$3}' | grep -qx STOPPED" || true
expect_eq "task ls: STOPPED after kill" STOPPED "$(C task ls 2>/dev/null | awk '$1=="d1"{print $3}')"
out=$(C task delete d1 2>&1) && ok "task delete" || { fail "task delete"; echo "    $out"; }
expect_contains "task delete reports the exit code (137)" 137 "$out"
if R state d1 >/dev/null 2>&1; then fail "task delete: gone from the runtime"; else ok "task delete: gone from the runtime"; fi
check "container delete" C container delete d1
if C container info d1 >/dev/null 2>&1; then fail "container delete: gone"; else ok "container delete: gone"; fi
if [ -d /sys/fs/cgroup/memory/"$NS"/d1 ]; then fail "task delete removed the cgroup"; else ok "task delete removed the cgroup"; fi

# --- kill -s TERM reaches the container's init (it traps TERM and exits 42) ----------------
C run -d "${RUN[@]}" $IMG d2 sh -c 'trap "exit 42" TERM; while :; do sleep 0.1; done' >/dev/null
sleep 0.5
check "task kill (default SIGTERM)" C task kill d2
wait_for 10 sh -c "ctr -a $SOCK -n $NS task ls | awk '\$1==\"d2\"{print \$3}' | grep -qx STOPPED" || true
out=$(C task delete d2 2>&1) || true
expect_contains "task kill: the TERM trap ran (exit 42)" 42 "$out"
C container delete d2 >/dev/null 2>&1 || true

# --- create failure: containerd reads our --log JSON ---------------------------------------
F1=fail-create-$$
rc=0; out=$(C run --rm "${RUN[@]}" $IMG $F1 no-such-command 2>&1) || rc=$?
[ $rc -ne 0 ] && ok "missing command: ctr run fails" || fail "missing command: ctr run fails"
expect_contains "missing command: 'OCI runtime create failed'" "OCI runtime create failed" "$out"
expect_contains "missing command: our message" "executable file not found" "$out"
if R state $F1 >/dev/null 2>&1; then fail "missing command: nothing left in the runtime"
else ok "missing command: nothing left in the runtime"; fi
C container delete $F1 >/dev/null 2>&1 || true
sleep 0.5
# What the shim runs after a failed create: `delete --force` of an id the
# runtime no longer has must succeed (runc and crun exit 0).
rc=0; out=$(R --log "$WORK/cleanup-log.json" --log-format json delete --force "$F1" 2>&1) || rc=$?
if [ $rc -eq 0 ]; then ok "failed create: 'delete --force' of the gone container exits 0 (as the shim runs it)"
else fail "failed create: 'delete --force' of the gone container exits $rc: $out"; fi
# containerd's own log, for the record (its cleanup runs asynchronously).
if grep 'failed to remove runc container' "$WORK/containerd.log" | grep -F "$F1"; then
  echo "# note: containerd logged a failed removal of $F1 (see above)"
fi

finish
