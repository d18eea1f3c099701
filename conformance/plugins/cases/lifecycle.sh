# shellcheck shell=bash
# Lifecycle semantics every backend must have (plugins/sdk/README.md, "The
# contract"), observed through the runtime's commands and on the host.
. "$CONF_DIR/lib/kit.sh"

# A long-running container: marks that it ran in /res, has a second process
# (a background sleep), and exits 143 on SIGTERM (it is pid 1 of its pid
# namespace on most backends, where a signal without a handler is ignored).
PK_LONG='trap "exit 143" TERM; sleep 1000 & echo started >/res/started; while :; do sleep 1 & wait $!; done'

# pk_up NAME: create + start of PK_LONG, waits until it ran.
pk_up() {
  pk_bundle "$1" "$PK_LONG"
  create_ctr "$1"; need_rc0 "create"
  start_ctr "$1"; need_rc0 "start"
  wait_file "$(pk_res "$1")/started" 10 || abort "the process did not run after start"
}
pk_expect_gone() { # NAME PIDS...: state dir, list entry and processes gone
  local n=$1 p; shift
  [ -e "$CASE_ROOT/$(cid "$n")" ] && fail "state dir $CASE_ROOT/$(cid "$n") remains"
  rt list -q 2>/dev/null | grep -qxF -- "$(cid "$n")" && fail "list still shows $(cid "$n")"
  for p in "$@"; do wait_gone "$p" 5 || fail "process $p ($(tr '\0' ' ' </proc/"$p"/cmdline 2>/dev/null | cut -c1-60)) still alive"; done
  p=$(pk_procs "$n" | tr '\n' ' ')
  [ -n "$p" ] && fail "container processes remain: $p"
  return 0
}

pk_create_blocked() {
  pk_bundle c "$PK_LONG"
  create_ctr c; need_rc0 "create"
  sleep 1
  [ -e "$(pk_res c)/started" ] && fail "the process ran before start (it wrote /res/started)"
  start_ctr c; need_rc0 "start"
  wait_file "$(pk_res c)/started" 10 || fail "the process did not run after start"
}
defcase lifecycle.create.blocked "create leaves the process blocked until start" pk_create_blocked

pk_state_created() {
  local s pid
  pk_bundle c "$PK_LONG"
  create_ctr c; need_rc0 "create"
  run_cmd rt state "$(cid c)"; need_rc0 "state"
  s=$OUT
  expect_eq "state .status" created "$(jq -r .status <<<"$s")"
  expect_eq "state .id" "$(cid c)" "$(jq -r .id <<<"$s")"
  expect_eq "state .backend" "$PK_BACKEND" "$(jq -r '.backend // .annotations["mxc.isolation.backend"] // empty' <<<"$s")"
  pid=$(jq -r '.pid // 0' <<<"$s")
  [[ $pid =~ ^[1-9][0-9]*$ ]] || abort "state .pid is not a pid: $(q "$pid")"
  pid_alive "$pid" || fail "state .pid $pid is not a live process"
  # (Before start it may still be the backend's init, not yet the program.)
}
defcase lifecycle.state.created "state after create: created, with the live pid of the container's process" pk_state_created

pk_start_runs() {
  pk_bundle c 'echo ran >/res/ran'
  create_ctr c; need_rc0 "create"
  start_ctr c; need_rc0 "start"
  wait_file "$(pk_res c)/ran" 10 || fail "the process did not run after start"
  wait_stopped c 10 || fail "a process that exited is not stopped: $(state_field c status)"
}
defcase lifecycle.start.runs "start runs the process (then stopped once it exits)" pk_start_runs

pk_state_running() {
  local pid0 pid
  pk_bundle c "$PK_LONG"
  create_ctr c; need_rc0 "create"
  pid0=$(ctr_pid c)
  start_ctr c; need_rc0 "start"
  wait_file "$(pk_res c)/started" 10 || abort "the process did not run after start"
  expect_eq "state .status" running "$(state_field c status)"
  pid=$(ctr_pid c)
  expect_eq "state .pid after start" "$pid0" "$pid"
  pid_alive "$pid" || fail "state .pid $pid is not alive"
  grep -qaF "PK_CTR=$(cid c)" "/proc/$pid/environ" 2>/dev/null ||
    fail "state .pid $pid is not the container's process ($(tr '\0' ' ' </proc/"$pid"/cmdline 2>/dev/null | cut -c1-60))"
}
defcase lifecycle.state.running "state after start: running, same pid, now the container's process" pk_state_running

pk_kill() { # SIGNAL
  local pid
  pk_up c
  pid=$(ctr_pid c)
  run_cmd rt kill "$(cid c)" "$1"; need_rc0 "kill $1"
  wait_stopped c 10 || fail "after kill $1: status $(q "$(state_field c status)"), want stopped"
  wait_gone "$pid" 5 || fail "pid $pid still alive after kill $1"
}
defcase lifecycle.kill.TERM "kill TERM: the container becomes stopped" pk_kill TERM
defcase lifecycle.kill.KILL "kill KILL: the container becomes stopped" pk_kill KILL

pk_delete_stopped() {
  local pids
  pk_up c
  pids=$(pk_procs c "$(ctr_pid c)")
  [ "$(wc -w <<<"$pids")" -ge 2 ] || fail "expected 2+ container processes before delete, found: $(q "$pids")"
  run_cmd rt kill "$(cid c)" KILL; need_rc0 "kill KILL"
  wait_stopped c 10 || fail "not stopped after kill KILL"
  run_cmd rt delete "$(cid c)"; need_rc0 "delete"
  pk_expect_gone c $pids
}
defcase lifecycle.delete.stopped "delete of a stopped container removes its state dir and every process" pk_delete_stopped

pk_delete_created() {
  local pids
  pk_bundle c "$PK_LONG"
  create_ctr c; need_rc0 "create"
  pids=$(pk_procs c "$(ctr_pid c)")
  run_cmd rt delete "$(cid c)"; need_rc0 "delete"
  pk_expect_gone c $pids
  [ -e "$(pk_res c)/started" ] && fail "the blocked process ran when deleted"
  return 0
}
defcase lifecycle.delete.created "delete of a created (never started) container removes its blocked process" pk_delete_created

pk_start_twice() {
  pk_up c
  run_cmd rt start "$(cid c)"
  expect_rc "second start" nonzero
  expect_eq "status after a second start" running "$(state_field c status)"
}
defcase lifecycle.start.twice "a second start fails" pk_start_twice

pk_delete_running() {
  local pid
  pk_up c
  pid=$(ctr_pid c)
  run_cmd rt delete "$(cid c)"
  expect_rc "delete of a running container without --force" nonzero
  expect_eq "status after the refused delete" running "$(state_field c status)"
  pid_alive "$pid" || fail "the refused delete killed pid $pid"
}
defcase lifecycle.delete.running "delete of a running container without --force fails and leaves it running" pk_delete_running

pk_delete_force() {
  local pids
  pk_up c
  pids=$(pk_procs c "$(ctr_pid c)")
  run_cmd rt delete --force "$(cid c)"; need_rc0 "delete --force"
  pk_expect_gone c $pids
}
defcase lifecycle.delete.force "delete --force of a running container removes it and every process" pk_delete_force

pk_run_fg() {
  pk_bundle c 'echo hello-from-run; exit 7'
  run_ctr c
  expect_rc "foreground run of sh -c 'exit 7'" 7
  expect_eq "run stdout" hello-from-run "$OUT"
  [ -e "$CASE_ROOT/$(cid c)" ] && fail "state dir remains after a foreground run"
  return 0
}
defcase lifecycle.run.foreground "foreground run passes the exit status (7) and stdout through" pk_run_fg

pk_create_broken() {
  local n
  pk_bundle c 'true' '.process.args = []'
  create_ctr c
  expect_rc "create with process.args empty" nonzero
  n=$(grep -c . <<<"$ERR")
  [ "$n" = 1 ] || fail "create error: expected one line, got $n: $(q "$ERR")"
  [ -e "$CASE_ROOT/$(cid c)" ] && fail "state dir left by the failed create"
  rt list -q 2>/dev/null | grep -qxF -- "$(cid c)" && fail "list shows the failed container"
  [ -n "$(pk_procs c)" ] && fail "processes left by the failed create: $(pk_procs c | tr '\n' ' ')"
  [ -n "$(find /sys/fs/cgroup -maxdepth 5 -type d -name "$(cid c)" 2>/dev/null)" ] && fail "cgroup left by the failed create"
  return 0
}
defcase lifecycle.create.broken "create with a broken config (process.args empty) fails with one line and leaves nothing" pk_create_broken

pk_create_dup() {
  local pid
  pk_bundle c "$PK_LONG"
  create_ctr c; need_rc0 "create"
  pid=$(ctr_pid c)
  RC=0
  ERR=$(rt create -b "$(bundle c)" "$(cid c)" </dev/null 2>&1 >/dev/null) || RC=$?
  expect_rc "create of an existing id" nonzero
  expect_eq "status of the first after the refused create" created "$(state_field c status)"
  expect_eq "pid of the first after the refused create" "$pid" "$(ctr_pid c)"
  pid_alive "$pid" || fail "the refused create killed the first container's pid $pid"
}
defcase lifecycle.create.duplicate "create of an existing id fails and leaves the first one alone" pk_create_dup

pk_deleted_lookup() {
  pk_bundle c 'true'
  create_ctr c; need_rc0 "create"
  run_cmd rt delete "$(cid c)"; need_rc0 "delete"
  run_cmd rt state "$(cid c)"
  expect_rc "state of a deleted id" nonzero
  run_cmd rt list -q
  expect_nomatch "list after delete" "^$(cid c)\$" "$OUT"
  run_cmd rt kill "$(cid c)" KILL
  expect_rc "kill of a deleted id" nonzero
}
defcase lifecycle.deleted.lookup "state/list/kill of a deleted id fail or omit it" pk_deleted_lookup
