# shellcheck shell=bash
# runtime.md: operations and the state of each status.

LOOP='trap "exit 0" TERM; while :; do sleep 0.1; done'

c_state_created() {
  mkbundle c 'touch /res/ran' '.annotations = {"org.conformance.a": "1", "b": "two"}'
  create_ctr c; need_rc0 create
  local s; s=$(state_json c)
  expect_eq "state.status" created "$(jq -r .status <<<"$s")"
  expect_eq "state.id" "$(cid c)" "$(jq -r .id <<<"$s")"
  expect_eq "state.bundle" "$(bundle c)" "$(jq -r .bundle <<<"$s")"
  expect_match "state.ociVersion" '^1\.' "$(jq -r .ociVersion <<<"$s")"
  local pid; pid=$(jq -r .pid <<<"$s")
  expect_match "state.pid" '^[1-9][0-9]*$' "$pid"
  [ -d "/proc/$pid" ] || fail "state.pid $pid is not a live process"
  [ "$(readlink /proc/$pid/ns/pid)" != "$(host_ns pid)" ] || [ "$(readlink /proc/$pid/ns/mnt)" != "$(host_ns mnt)" ] ||
    fail "state.pid $pid is not in the container's namespaces"
}
defcase runtime.state.created "state of a created container: status, id, pid, bundle, ociVersion" c_state_created

c_annotations() {
  mkbundle c 'true' '.annotations = {"org.conformance.a": "1", "b": "two"}'
  create_ctr c; need_rc0 create
  expect_eq "state.annotations" '{"b":"two","org.conformance.a":"1"}' "$(state_json c | jq -cS '.annotations')"
}
defcase runtime.state.annotations "annotations of config.json are in state" c_annotations

c_create_blocks() {
  mkbundle c 'echo ran > /res/ran'
  create_ctr c; need_rc0 create
  sleep 0.5
  [ -e "$(res c)/ran" ] && fail "the user process ran before start"
  start_ctr c; need_rc0 start
  wait_file "$(res c)/ran" 5 || fail "the user process did not run after start"
}
defcase runtime.create.blocks "create leaves the process blocked; start runs it" c_create_blocks

c_state_running_stopped() {
  mkbundle c 'while [ ! -e /res/go ]; do sleep 0.05; done; exit 3'
  create_ctr c; need_rc0 create
  local pid; pid=$(ctr_pid c)
  start_ctr c; need_rc0 start
  expect_eq "status after start" running "$(state_field c status)"
  expect_eq "pid after start" "$pid" "$(state_field c pid)"
  touch "$(res c)/go"
  wait_stopped c 10 || fail "status after the process exited: expected stopped, got $(state_field c status)"
  local s; s=$(state_json c)
  expect_eq "stopped state.id" "$(cid c)" "$(jq -r .id <<<"$s")"
  expect_eq "stopped state.bundle" "$(bundle c)" "$(jq -r .bundle <<<"$s")"
}
defcase runtime.state.running-stopped "state running after start (same pid), stopped after exit" c_state_running_stopped

c_state_creating() {
  # A createRuntime hook (runs during create) records `state` and its stdin.
  local hook='cat > "$1/stdin.json"; "$2" --root "$3" state "$4" > "$1/state.json" 2>"$1/state.err"; exit 0'
  mkbundle c 'true' '.hooks.createRuntime = [{path: "/bin/sh", args: ["sh", "-c", $hook, "sh", $res, $rt, $root, $id], env: [$tag]}]' \
    --arg hook "$hook" --arg rt "$RUNTIME" --arg root "$CASE_ROOT"
  create_ctr c; need_rc0 create
  local st; st=$(jq -r .status "$(res c)/state.json" 2>/dev/null)
  if [ -n "$st" ]; then expect_eq "state during createRuntime" creating "$st"
  else
    # runc and crun only write the state after create's hooks: the status is
    # then only visible on the hooks' stdin (accepted, see README).
    expect_eq "state (hook stdin) during createRuntime" creating "$(jq -r .status "$(res c)/stdin.json" 2>/dev/null)"
  fi
}
defcase runtime.state.creating "status creating while create runs (state command, else the hook's state)" c_state_creating

c_start_noncreated() {
  mkbundle c "$LOOP"
  create_ctr c; need_rc0 create
  start_ctr c; need_rc0 start
  start_ctr c; expect_rc "start on a running container" nonzero
  rt kill "$(cid c)" KILL >/dev/null 2>&1
  wait_stopped c 10 || abort "did not stop after KILL"
  start_ctr c; expect_rc "start on a stopped container" nonzero
  run_cmd rt start "$(cid nosuch)"; expect_rc "start on a nonexistent container" nonzero
}
defcase runtime.start.non-created "start fails on running, stopped and unknown containers" c_start_noncreated

c_kill_created() {
  mkbundle c 'echo ran > /res/ran'
  create_ctr c; need_rc0 create
  local pid; pid=$(ctr_pid c)
  run_cmd rt kill "$(cid c)" KILL; expect_rc "kill KILL of created" 0
  wait_stopped c 10 || fail "created container not stopped after kill: $(state_field c status)"
  wait_gone "$pid" 5 || fail "process $pid still alive after kill"
  [ -e "$(res c)/ran" ] && fail "user process ran"
  run_cmd rt delete "$(cid c)"; expect_rc "delete after kill" 0
}
defcase runtime.kill.created "kill KILL of a created container stops it without running the process" c_kill_created

c_kill_running() {
  mkbundle c 'trap "echo TERM > /res/sig; exit 0" TERM; echo up > /res/up; while :; do sleep 0.1; done'
  create_ctr c; need_rc0 create
  start_ctr c; need_rc0 start
  wait_file "$(res c)/up" 5 || abort "process did not start"
  run_cmd rt kill "$(cid c)"; expect_rc "kill (default signal)" 0
  wait_file "$(res c)/sig" 5 || fail "no signal delivered by default kill"
  expect_eq "default signal" TERM "$(cat "$(res c)/sig" 2>/dev/null)"
  wait_stopped c 10 || fail "not stopped after TERM"
}
defcase runtime.kill.running "kill of a running container delivers SIGTERM by default" c_kill_running

c_kill_names() {
  mkbundle c 'for s in HUP USR1 USR2 WINCH; do trap "echo $s >> /res/sig" $s; done; echo up > /res/up; while :; do sleep 0.05; done'
  create_ctr c; need_rc0 create
  start_ctr c; need_rc0 start
  wait_file "$(res c)/up" 5 || abort "process did not start"
  local s n=0
  for s in USR1 SIGUSR2 1 28; do
    n=$((n + 1))
    run_cmd rt kill "$(cid c)" "$s"; expect_rc "kill $s" 0
    for _ in $(seq 30); do [ "$(wc -l <"$(res c)/sig" 2>/dev/null || echo 0)" -ge $n ] && break; sleep 0.05; done
  done
  expect_eq "signals received (USR1, SIGUSR2, 1, 28)" "USR1 USR2 HUP WINCH" "$(tr '\n' ' ' <"$(res c)/sig" 2>/dev/null | sed 's/ $//')"
  run_cmd rt kill "$(cid c)" NOSUCHSIG; expect_rc "kill with an unknown signal name" nonzero
}
defcase runtime.kill.signals "kill accepts signal names (with/without SIG) and numbers" c_kill_names

c_delete_stopped() {
  mkbundle c 'true'
  create_ctr c; need_rc0 create
  local pid; pid=$(ctr_pid c)
  start_ctr c; need_rc0 start
  wait_stopped c 10 || abort "not stopped"
  [ -d "$(host_cg memory c)" ] || [ -d "$(host_cg pids c)" ] || fail "no cgroup at cgroupsPath before delete"
  run_cmd rt delete "$(cid c)"; expect_rc "delete of stopped" 0
  run_cmd rt state "$(cid c)"; expect_rc "state after delete" nonzero
  run_cmd rt list -q; expect_nomatch "list after delete" "^$(cid c)\$" "$OUT"
  local d left=""
  for d in /sys/fs/cgroup/*/; do [ -d "$d$(cgpath c)" ] && left+="$d$(cgpath c) "; done
  [ -z "$left" ] || fail "cgroups left after delete: $left"
  [ -z "$(find "$CASE_ROOT" -mindepth 1 -maxdepth 1 2>/dev/null)" ] || fail "state left under --root: $(ls "$CASE_ROOT")"
}
defcase runtime.delete.stopped "delete of a stopped container removes state, cgroups and listing" c_delete_stopped

c_delete_running() {
  mkbundle c "$LOOP"
  create_ctr c; need_rc0 create
  start_ctr c; need_rc0 start
  local pid; pid=$(ctr_pid c)
  run_cmd rt delete "$(cid c)"; expect_rc "delete of running without --force" nonzero
  expect_eq "status after refused delete" running "$(state_field c status)"
  kill -0 "$pid" 2>/dev/null || fail "process died after a refused delete"
  run_cmd rt delete --force "$(cid c)"; expect_rc "delete --force of running" 0
  wait_gone "$pid" 5 || fail "process $pid alive after delete --force"
  run_cmd rt state "$(cid c)"; expect_rc "state after delete --force" nonzero
}
defcase runtime.delete.running "delete of running fails without --force; --force kills and removes" c_delete_running

c_delete_created() {
  mkbundle c 'echo ran > /res/ran'
  create_ctr c; need_rc0 create
  local pid; pid=$(ctr_pid c)
  run_cmd rt delete --force "$(cid c)"; expect_rc "delete --force of created" 0
  wait_gone "$pid" 5 || fail "process $pid alive after delete --force"
  [ -e "$(res c)/ran" ] && fail "user process ran"
  run_cmd rt state "$(cid c)"; expect_rc "state after delete" nonzero
}
defcase runtime.delete.created "delete --force of a created container removes it without running it" c_delete_created

c_dup_id() {
  mkbundle c "$LOOP"
  create_ctr c; need_rc0 create
  local pid; pid=$(ctr_pid c)
  run_cmd rt create -b "$(bundle c)" "$(cid c)"; expect_rc "second create with the same id" nonzero
  expect_eq "first container's status" created "$(state_field c status)"
  expect_eq "first container's pid" "$pid" "$(state_field c pid)"
  run_cmd rt run -b "$(bundle c)" "$(cid c)"; expect_rc "run with an existing id" nonzero
}
defcase runtime.create.duplicate-id "create/run with an existing id fails and leaves the first intact" c_dup_id

c_state_unknown() {
  run_cmd rt state "$(cid nosuch)"; expect_rc "state of an unknown id" nonzero
  run_cmd rt kill "$(cid nosuch)" KILL; expect_rc "kill of an unknown id" nonzero
  run_cmd rt delete "$(cid nosuch)"; expect_rc "delete of an unknown id" nonzero
}
defcase runtime.unknown-id "state/kill/delete of an unknown id fail" c_state_unknown

c_features() {
  run_cmd rt features; expect_rc "features" 0
  jq -e . >/dev/null 2>&1 <<<"$OUT" || abort "features output is not JSON: $(q "$OUT")"
  expect_match "ociVersionMin" '^1\.0\.' "$(jq -r .ociVersionMin <<<"$OUT")"
  expect_match "ociVersionMax" '^1\.' "$(jq -r .ociVersionMax <<<"$OUT")"
}
defcase runtime.features "features prints JSON with ociVersionMin/ociVersionMax" c_features

c_run_exit() {
  mkbundle c 'echo out; echo err >&2; exit 7'
  run_ctr c
  expect_eq "run exit status" 7 "$RC"
  expect_eq "stdout" out "$OUT"
  expect_match "stderr" '^err$' "$ERR"
  run_cmd rt state "$(cid c)"; expect_rc "state after foreground run" nonzero
}
defcase runtime.run.exit-status "run: stdio pass through, exit status passes through, container removed" c_run_exit

c_list() {
  mkbundle a "$LOOP"; mkbundle b 'true'
  create_ctr a; need_rc0 create
  create_ctr b; need_rc0 create
  run_cmd rt list -q
  expect_eq "list -q" "$(printf '%s\n%s' "$(cid a)" "$(cid b)")" "$(sort <<<"$OUT")"
  run_cmd rt list --format json
  expect_eq "list --format json ids/status" "$(cid a) created,$(cid b) created" \
    "$(jq -r '[.[] | "\(.id) \(.status)"] | sort | join(",")' <<<"$OUT" 2>/dev/null)"
}
defcase runtime.list "list shows the containers (-q and --format json)" c_list
