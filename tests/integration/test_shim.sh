#!/usr/bin/env bash
# mxc-shim: the container's parent and reaper in standalone use (exit status in
# `state` and `wait`, output log, control socket, process timeout), its faults
# (kill -9 of the shim, of mxc-runtime mid-create), and the monitor mode under
# a subreaper (an external supervisor such as conmon). MXC-ONLY throughout.
source "$(dirname "$0")/lib.sh"
mxc_only || skip "mxc-shim is mxc-runtime's"

shim_of() { rt state "$1" | jq -r '.shim.pid // empty'; }

# ---- parent mode: exit status, wait, log --------------------------------------
b=$WORK/exit7
make_bundle "$b" '.process.args = ["sh", "-c", "echo out-line; echo err-line >&2; exit 7"]'
id=$(cid exit7)
assert_status 0 "create (standalone)" rt create -b "$b" "$id"
shim=$(shim_of "$id")
track_pid "$shim"
assert_eq "parent running" "$(rt state "$id" | jq -r '.shim.mode + " " + .shim.state')" "state names the shim: parent mode, running"
assert_eq "$shim" "$(awk '{print $4}' /proc/"$(state_field "$id" pid)"/stat)" "the shim is the container init's parent"
sid=$(awk '{print $6}' /proc/"$shim"/stat)
assert_eq "$shim" "$sid" "the shim leads its own session (detached from the caller's)"
assert_eq "0" "$(awk '{print $7}' /proc/"$shim"/stat)" "the shim has no controlling terminal"
sock=$ROOT/$id/shim.sock
assert_eq "socket 600" "$( [ -S "$sock" ] && echo socket) $(stat -c %a "$sock" 2>/dev/null)" "control socket in the state dir, mode 0600"
rt start "$id"
run_cmd rt wait "$id"
assert_eq "0 7" "$RC $OUT" "wait prints the exit code"
run_cmd rt wait --json "$id"
assert_eq "7 0 false" "$(jq -r '"\(.exitCode) \(.signal) \(.timedOut)"' <<<"$OUT")" "wait --json: code, signal, timedOut"
st=$(rt state "$id")
assert_eq "stopped exited 7" "$(jq -r '.status + " " + .shim.state + " " + (.shim.exit.exitCode | tostring)' <<<"$st")" "state: stopped, the shim recorded exit code 7"
assert_eq '{}' "$(jq -c '.annotations // {}' <<<"$st")" "state annotations stay the bundle's"
wait_gone "$shim" 5 && pass "the shim exits after the container" || fail "the shim outlived its container"
run_cmd rt logs "$id"
assert_eq "out-line" "$OUT" "logs: stdout"
assert_eq "err-line" "$ERR" "logs: stderr"
rt delete "$id"

# A signal death: 128+N and the signal. The running process holds no fd but
# its stdio (none of the shim's, none of the runtime's).
b=$WORK/sig
make_bundle "$b" '.process.args = ["sleep", "100"]'
id=$(cid sig)
rt run -d -b "$b" "$id"
pid=$(state_field "$id" pid)
assert_eq "0 1 2" "$(ls /proc/"$pid"/fd | sort -n | tr '\n' ' ' | sed 's/ $//')" "the container process has only fds 0, 1, 2"
rt kill "$id" KILL
run_cmd rt wait --json "$id"
assert_eq "137 9" "$(jq -r '"\(.exitCode) \(.signal)"' <<<"$OUT")" "killed by SIGKILL: exit code 137, signal 9"
rt delete "$id"

# ---- the log is bounded, and a full disk never blocks the container ------------
b=$WORK/chatty
make_bundle "$b" '.process.args = ["sh", "-c", "i=0; while [ $i -lt 40000 ]; do echo line-$i-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx; i=$((i+1)); done; echo done"] | .annotations["mxc.log.maxBytes"] = "65536"'
id=$(cid chatty)
rt run -d -b "$b" "$id" </dev/null >/dev/null
run_cmd rt wait "$id"
assert_eq "0" "$OUT" "a chatty container runs to its end"
size=$(($(stat -c %s "$ROOT/$id/container.log") + $(stat -c %s "$ROOT/$id/container.log.1" 2>/dev/null || echo 0)))
# Two generations of at most mxc.log.maxBytes each.
[ "$size" -le $((2 * 65536)) ] && pass "log size bounded by mxc.log.maxBytes ($size bytes kept of ~2.5 MB of output)" || fail "log grew to $size bytes"
assert_contains "$(tail -n 1 "$ROOT/$id/container.log")" '"log":"done\n"' "the newest output is kept"
rt delete "$id"

# Full disk: the state dir on a 64 KiB tmpfs; the container still finishes.
mkdir -p "$WORK/tiny"
mount -t tmpfs -o size=64k tmpfs "$WORK/tiny"
RT_ROOT_SAVE=$ROOT
ROOT=$WORK/tiny/root
b=$WORK/full
make_bundle "$b" '.process.args = ["sh", "-c", "i=0; while [ $i -lt 20000 ]; do echo fill-$i-yyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy; i=$((i+1)); done; exit 3"]'
id=$(cid full)
rt run -d -b "$b" "$id" </dev/null >/dev/null
run_cmd rt wait "$id"
assert_eq "0 3" "$RC $OUT" "with the log disk full the container is not blocked and its exit is recorded"
rt delete "$id"
ROOT=$RT_ROOT_SAVE
umount "$WORK/tiny"

# A reader that never reads the forwarded stdout: the shim does not block, the
# container runs to its end and its exit is recorded.
mkfifo "$WORK/stuck"
exec 7<>"$WORK/stuck"
b=$WORK/slow
make_bundle "$b" '.process.args = ["sh", "-c", "i=0; while [ $i -lt 30000 ]; do echo slow-$i-zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz; i=$((i+1)); done; exit 5"]'
id=$(cid slow)
rt run -d -b "$b" "$id" </dev/null >&7 2>&7
run_cmd rt wait "$id"
assert_eq "0 5" "$RC $OUT" "stdout passed on to a pipe nobody reads: the container is not blocked"
assert_contains "$(tail -n 1 "$ROOT/$id/container.log")" "slow-29999" "the log still has everything"
exec 7>&-
rt delete "$id"

# --pid-file in a missing directory: one line, and nothing left (no shim either).
b=$WORK/pidfile
make_bundle "$b" '.process.args = ["sleep", "100"]'
id=$(cid pidfile)
run_cmd rt create -b "$b" --pid-file "$WORK/no/such/dir/pid" "$id"
assert_ne 0 "$RC" "create with a pid file in a missing directory fails"
assert_one_line_error "pid file in a missing directory" "pid-file"
assert_nothing_left "pid file in a missing directory"
run_cmd rt state "$id"
assert_ne 0 "$RC" "state of the refused container fails: it does not exist"

# --pid-file naming a device (or a directory): refused before anything runs,
# and the device is still a device (an atomic rename would have replaced it).
mknod "$WORK/null-dev" c 1 3
run_cmd rt create -b "$b" --pid-file "$WORK/null-dev" "$id"
assert_ne 0 "$RC" "create with a pid file that is a device fails"
assert_one_line_error "pid file that is a device" "not a regular file"
assert_eq "c" "$(stat -c %F "$WORK/null-dev" | cut -c1)" "the device is left as it was"
assert_nothing_left "pid file that is a device"
run_cmd rt run -b "$b" --pid-file "$WORK" "$id"
assert_ne 0 "$RC" "run with a pid file that is a directory fails"
assert_one_line_error "pid file that is a directory" "not a regular file"

# A second start: one line, and state still says running.
id=$(cid twice)
rt run -d -b "$b" "$id"
run_cmd rt start "$id"
assert_ne 0 "$RC" "a second start fails"
assert_one_line_error "second start" "it is running, not created"
assert_eq "running running" "$(rt state "$id" | jq -r '.status + " " + .shim.state')" "state after the refused start: running, shim running"
# exec with a pid file that is a directory: refused before the process runs.
run_cmd rt exec --pid-file "$WORK" "$id" touch /exec-ran
assert_ne 0 "$RC" "exec with a pid file that is a directory fails"
assert_one_line_error "exec pid file that is a directory" "not a regular file"
run_cmd rt exec "$id" sh -c 'test -e /exec-ran && echo ran || echo not-run'
assert_eq "not-run" "$OUT" "the refused exec's process never ran"
rt delete -f "$id"

# ---- process timeout (mxc.limits.timeoutMs) ------------------------------------
b=$WORK/timeout
make_bundle "$b" '.process.args = ["sleep", "30"] | .mxc = {limits: {timeoutMs: 300}}'
id=$(cid timeout)
rt create -b "$b" "$id"
sleep 0.6
assert_eq "created" "$(state_field "$id" status)" "the timeout counts from start, not create"
t0=$(date +%s%N)
rt start "$id"
run_cmd rt wait --json "$id"
ms=$((($(date +%s%N) - t0) / 1000000))
assert_eq "137 9 true" "$(jq -r '"\(.exitCode) \(.signal) \(.timedOut)"' <<<"$OUT")" "killed at its timeout: SIGKILL, timedOut"
[ "$ms" -lt 5000 ] && pass "it ran about 300 ms, not 30 s ($ms ms)" || fail "timeout took $ms ms"
assert_eq "true" "$(rt state "$id" | jq -r '.shim.exit.timedOut')" "state says it timed out"
run_cmd rt audit "$id"
assert_eq "create start timeout exit" "$(jq -r .event <<<"$OUT" | tr '\n' ' ' | sed 's/ $//')" "audit: create, start, timeout, exit"
rt delete "$id"

# ---- faults ---------------------------------------------------------------
# kill -9 of the shim: the container does not outlive it (stopped, as the
# init's parent-death signal kills it), and state says so.
b=$WORK/victim
make_bundle "$b" '.process.args = ["sleep", "100"]'
id=$(cid victim)
rt run -d -b "$b" "$id"
pid=$(state_field "$id" pid)
track_pid "$pid"
shim=$(shim_of "$id")
kill -9 "$shim"
wait_gone "$pid" 5 && pass "kill -9 of the shim: the container is stopped" || fail "the container outlived its shim"
st=$(rt state "$id")
assert_eq "stopped died" "$(jq -r '.status + " " + .shim.state' <<<"$st")" "state: stopped, shim died"
run_cmd rt kill "$id" KILL
assert_ne 0 "$RC" "kill of a container whose shim died fails"
assert_one_line_error "kill after the shim died" "shim, pid $shim, died"
run_cmd rt start "$id"
assert_ne 0 "$RC" "start of a container whose shim died fails"
assert_contains "$ERR" "died" "the error says the shim died"
run_cmd rt wait "$id"
assert_ne 0 "$RC" "wait on a container whose shim died fails (the status is unknown)"
assert_status 0 "delete after the shim died" rt delete "$id"

# Same when the shim dies before start (a created container).
id=$(cid victim2)
rt create -b "$b" "$id"
pid=$(state_field "$id" pid)
track_pid "$pid"
kill -9 "$(shim_of "$id")"
wait_gone "$pid" 5 && pass "kill -9 of the shim of a created container: it is stopped" || fail "created container outlived its shim"
run_cmd rt start "$id"
assert_ne 0 "$RC" "a second start (the first never happened, the shim is gone) fails"
rt delete "$id"

# kill -9 of mxc-runtime in the middle of create (a createRuntime hook holds it
# there): a later delete --force removes everything.
b=$WORK/midcreate
make_bundle "$b" '.process.args = ["true"] | .hooks.createRuntime = [{path: "/bin/sh", args: ["sh", "-c", "touch \($work)/in-hook; sleep 30"]}]'
id=$(cid midcreate)
"$RUNTIME" --root "$ROOT" create -b "$b" "$id" </dev/null >/dev/null 2>&1 &
rtpid=$!
wait_file "$WORK/in-hook" 10 || fail "the createRuntime hook did not run"
kill -9 "$rtpid"
wait "$rtpid" 2>/dev/null || true
sleep 0.3
assert_status 0 "delete --force after mxc-runtime was killed mid-create" rt delete --force "$id"
sleep 0.3
assert_nothing_left "kill -9 of mxc-runtime mid-create, then delete --force"

# ---- monitor mode: under a subreaper (an external supervisor) ----------------
# python3 plays conmon: a child subreaper that runs `create` and adopts the init.
b=$WORK/monitor
make_bundle "$b" '.process.args = ["sleep", "100"]'
id=$(cid monitor)
python3 - "$RUNTIME" "$ROOT" "$b" "$id" "$WORK/monitor.pid" >"$WORK/monitor.out" 2>&1 <<'PY' &
import ctypes, os, sys, time
ctypes.CDLL(None).prctl(36, 1)  # PR_SET_CHILD_SUBREAPER
rt, root, bundle, cid, pidfile = sys.argv[1:]
rc = os.spawnv(os.P_WAIT, rt, [rt, "--root", root, "create", "-b", bundle, "--pid-file", pidfile, cid])
print("create", rc, flush=True)
init = int(open(pidfile).read())
while True:  # reap whatever is adopted, as conmon does
    try:
        pid, status = os.waitpid(-1, 0)
    except ChildProcessError:
        break
    if pid == init:
        print("init-exit", os.waitstatus_to_exitcode(status), flush=True)
        break
PY
sup=$!
wait_file "$WORK/monitor.pid" 10 || fail "the supervisor's create did not write --pid-file"
sleep 0.2
pid=$(cat "$WORK/monitor.pid")
track_pid "$pid"
assert_eq "$sup" "$(awk '{print $4}' /proc/"$pid"/stat)" "under a subreaper the init is re-parented to the caller (as with runc)"
assert_eq "" "$(rt state "$id" | jq -r '.shim // empty')" "no shim without per-container services"
rt start "$id"
rt kill "$id" KILL
wait "$sup" || true
assert_contains "$(cat "$WORK/monitor.out")" "init-exit -9" "the caller reaps the init and gets its status"
rt delete "$id"

# With a per-container service (a timeout) the shim monitors, not parents.
make_bundle "$b" '.process.args = ["sleep", "100"] | .mxc = {limits: {timeoutMs: 400}}'
id=$(cid monitor2)
rm -f "$WORK/monitor.pid"
python3 - "$RUNTIME" "$ROOT" "$b" "$id" "$WORK/monitor.pid" >"$WORK/monitor.out" 2>&1 <<'PY' &
import ctypes, os, sys
ctypes.CDLL(None).prctl(36, 1)
rt, root, bundle, cid, pidfile = sys.argv[1:]
rc = os.spawnv(os.P_WAIT, rt, [rt, "--root", root, "create", "-b", bundle, "--pid-file", pidfile, cid])
init = int(open(pidfile).read())
os.spawnv(os.P_WAIT, rt, [rt, "--root", root, "start", cid])
while True:
    try:
        pid, status = os.waitpid(-1, 0)
    except ChildProcessError:
        break
    if pid == init:
        print("init-exit", os.waitstatus_to_exitcode(status), flush=True)
PY
sup=$!
wait_file "$WORK/monitor.pid" 10 || fail "create under the supervisor failed"
sleep 0.2
pid=$(cat "$WORK/monitor.pid")
track_pid "$pid"
assert_eq "monitor" "$(rt state "$id" | jq -r '.shim.mode // empty')" "a container with a timeout under a subreaper gets a monitor shim"
assert_eq "$sup" "$(awk '{print $4}' /proc/"$pid"/stat 2>/dev/null)" "the init's parent is still the supervisor"
wait_gone "$pid" 5 && pass "the monitor shim enforced the timeout" || fail "the timeout was not enforced in monitor mode"
sleep 0.3
assert_eq "true" "$(rt state "$id" | jq -r '.shim.exit.timedOut')" "state: timed out"
kill "$sup" 2>/dev/null || true
rt delete "$id"


# kill -9 of a monitor shim: it is not the parent, so the container lives on,
# but without its policy services: the egress proxy's listening socket (in the
# container's network namespace) belonged to the shim, and only loopback is left.
port=$((20000 + $$ % 20000))
python3 -m http.server "$port" --bind 127.0.0.1 --directory "$WORK" >/dev/null 2>&1 &
web=$!
track_pid "$web"
echo proxied-ok >"$WORK/probe.txt"
make_bundle "$b" '.process.args = ["sleep", "100"]
  | .mxc = {network: {default: "deny", allowDomains: ["web.test"], hosts: {"web.test": ["127.0.0.1"]}}}'
id=$(cid monitor3)
rm -f "$WORK/monitor.pid"
python3 - "$RUNTIME" "$ROOT" "$b" "$id" "$WORK/monitor.pid" >"$WORK/monitor.out" 2>&1 <<'PY' &
import ctypes, os, sys
ctypes.CDLL(None).prctl(36, 1)
rt, root, bundle, cid, pidfile = sys.argv[1:]
os.spawnv(os.P_WAIT, rt, [rt, "--root", root, "create", "-b", bundle, "--pid-file", pidfile, cid])
os.spawnv(os.P_WAIT, rt, [rt, "--root", root, "start", cid])
while True:
    try:
        os.waitpid(-1, 0)
    except ChildProcessError:
        break
PY
sup=$!
wait_file "$WORK/monitor.pid" 10 || fail "create of the proxied container under the supervisor failed"
sleep 0.3
pid=$(cat "$WORK/monitor.pid")
track_pid "$pid"
assert_eq "monitor" "$(rt state "$id" | jq -r '.shim.mode // empty')" "a proxied container under a subreaper gets a monitor shim"
run_cmd rt exec "$id" wget -q -O - "http://web.test:$port/probe.txt"
assert_eq "0 proxied-ok" "$RC $OUT" "through the monitor shim's proxy the allowed name is reachable"
kill -9 "$(rt state "$id" | jq -r '.shim.pid')"
sleep 0.3
assert_eq "running died" "$(rt state "$id" | jq -r '.status + " " + .shim.state')" "kill -9 of the monitor shim: the container runs on, state says the shim died"
run_cmd rt exec "$id" wget -q -O - "http://web.test:$port/probe.txt"
assert_ne 0 "$RC" "after the monitor shim died the container has no way out"
assert_contains "$ERR" "Connection refused" "the proxy port is closed: only loopback is left"
rt delete -f "$id"
kill "$sup" "$web" 2>/dev/null || true
