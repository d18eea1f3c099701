# shellcheck shell=bash
# runtime operations beyond the lifecycle: exec, ps, pause/resume, update,
# events (runc-compatible command line).

# A running container with the cgroup fs mounted that answers requests: the
# host writes a script to RES/req, the container runs it into RES/ans.
SERVE='echo up > /res/up; while :; do if [ -e /res/req ]; then sh /res/req > /res/ans.tmp 2>&1; mv /res/ans.tmp /res/ans; rm -f /res/req; fi; echo $(( $(cat /res/tick 2>/dev/null || echo 0) + 1 )) > /res/tick; sleep 0.05; done'
CGM='.mounts += [{destination: "/sys/fs/cgroup", type: "cgroup", source: "cgroup", options: ["nosuid", "noexec", "nodev", "relatime", "ro"]}] | .linux.namespaces += [{type: "cgroup"}]'
serve_ctr() { # [EXTRA-FILTER]
  mkbundle c "$SERVE" "$CGM | ${1:-.}"
  create_ctr c; need_rc0 create
  start_ctr c; need_rc0 start
  wait_file "$(res c)/up" 5 || abort "container did not start"
  CPID=$(ctr_pid c)
}
ask() { # SCRIPT: runs SCRIPT inside, prints its output
  local r; r=$(res c); rm -f "$r/ans"
  printf '%s\n' "$1" >"$r/req.tmp"; mv "$r/req.tmp" "$r/req"
  wait_file "$r/ans" 5 && cat "$r/ans"
}

c_exec_ns() {
  serve_ctr
  run_cmd rt exec "$(cid c)" sh -c 'for n in pid mnt net uts ipc cgroup; do readlink /proc/self/ns/$n; done; hostname; cat /proc/self/cgroup | sort'
  expect_rc "exec" 0
  local want n; want=$(for n in pid mnt net uts ipc cgroup; do readlink /proc/$CPID/ns/$n; done; echo conformance)
  expect_eq "namespaces and hostname of the exec'd process" "$want" "$(head -n 7 <<<"$OUT")"
  expect_eq "cgroups of the exec'd process (as seen inside)" "$(ask 'sort /proc/self/cgroup')" "$(tail -n +8 <<<"$OUT")"
}
defcase runtime.exec.namespaces "exec runs in the container's namespaces and cgroups" c_exec_ns

c_exec_hostcg() {
  serve_ctr
  run_cmd rt exec -d --pid-file "$WORK/exec.pid" "$(cid c)" sleep 3
  expect_rc "exec -d" 0
  local p; p=$(cat "$WORK/exec.pid" 2>/dev/null)
  [ -n "$p" ] || abort "no --pid-file written"
  expect_eq "host /proc/PID/cgroup of the exec'd process" "$(sort /proc/$CPID/cgroup)" "$(sort /proc/$p/cgroup 2>/dev/null)"
  grep -qx "$p" "$(host_cg pids c)/cgroup.procs" || fail "exec'd pid $p not in $(host_cg pids c)/cgroup.procs"
}
defcase runtime.exec.cgroup "exec -d --pid-file: the process is in the container's cgroups (host view)" c_exec_hostcg

c_exec_status() {
  serve_ctr
  run_cmd rt exec "$(cid c)" sh -c 'echo out; echo err >&2; exit 7'
  expect_eq "exec exit status and stdout" "7 out" "$RC $OUT"
  expect_match "exec stderr" '^err$' "$ERR"
  run_cmd rt exec "$(cid c)" /nonexistent
  expect_rc "exec of a missing binary" nonzero
}
defcase runtime.exec.exit-status "exec: exit status and stdio pass through" c_exec_status

c_exec_opts() {
  serve_ctr
  run_cmd rt exec --env FOO=bar --cwd /etc/conformance --user 1000:1001 "$(cid c)" /bin/sh -c 'echo "$FOO $(pwd) $(id -u) $(id -g)"; echo "PATH=$PATH"'
  expect_eq "exec --env --cwd --user" "0 bar /etc/conformance 1000 1001" "$RC $(head -n1 <<<"$OUT")"
  expect_eq "exec --env adds to process.env (PATH kept)" "$PATH_ENV" "$(sed -n 2p <<<"$OUT")"
  run_cmd rt exec "$(cid c)" sh -c 'echo "$CONF_TAG"'
  expect_eq "exec inherits process.env of config.json" "0 CONF_TAG=$CONF_TAG" "$RC CONF_TAG=$OUT"
}
defcase runtime.exec.options "exec --env/--cwd/--user; process.env is inherited" c_exec_opts

c_exec_tty() {
  serve_ctr
  start_receiver "$WORK/console.sock" "$WORK/console.out"
  run_cmd rt exec -t -d --console-socket "$WORK/console.sock" --pid-file "$WORK/exec.pid" "$(cid c)" sh -c 'tty; [ -t 0 ] && [ -t 1 ] && echo is-tty; sleep 0.2'
  expect_rc "exec -t -d --console-socket" 0
  wait_file "$WORK/console.out.done" 10 || fail "console output did not end"
  local o; o=$(tr -d '\r' <"$WORK/console.out" 2>/dev/null)
  expect_match "exec'd tty" '^/dev/pts/[0-9]+$' "$o"
  expect_match "stdio are the terminal" '^is-tty$' "$o"
}
defcase runtime.exec.tty "exec -t with --console-socket: the process gets a pty" c_exec_tty

c_exec_notrunning() {
  mkbundle c 'true'
  create_ctr c; need_rc0 create
  start_ctr c; need_rc0 start
  wait_stopped c 10
  run_cmd rt exec "$(cid c)" true
  expect_rc "exec in a stopped container" nonzero
}
defcase runtime.exec.stopped "exec in a stopped container fails" c_exec_notrunning

c_ps() {
  serve_ctr
  run_cmd rt exec -d --pid-file "$WORK/exec.pid" "$(cid c)" sleep 5
  local p; p=$(cat "$WORK/exec.pid" 2>/dev/null)
  run_cmd rt ps --format json "$(cid c)"
  expect_rc "ps --format json" 0
  expect_eq "ps json contains init pid" true "$(jq --argjson p "$CPID" 'index($p) != null' <<<"$OUT" 2>/dev/null)"
  [ -n "$p" ] && expect_eq "ps json contains the exec'd pid" true "$(jq --argjson p "$p" 'index($p) != null' <<<"$OUT" 2>/dev/null)"
  run_cmd rt ps "$(cid c)"
  expect_rc "ps (table)" 0
  expect_match "ps table lists the init pid" "(^|[[:space:]])$CPID([[:space:]]|\$)" "$OUT"
}
defcase runtime.ps "ps lists the container's processes (json and table)" c_ps

c_pause() {
  serve_ctr
  run_cmd rt pause "$(cid c)"; expect_rc pause 0
  expect_eq "status after pause" paused "$(state_field c status)"
  expect_eq "host freezer.state" FROZEN "$(cat "$(host_cg freezer c)/freezer.state" 2>/dev/null)"
  local t1 t2; t1=$(cat "$(res c)/tick"); sleep 0.4; t2=$(cat "$(res c)/tick")
  expect_eq "the process makes no progress while paused" "$t1" "$t2"
  run_cmd rt resume "$(cid c)"; expect_rc resume 0
  expect_eq "status after resume" running "$(state_field c status)"
  expect_eq "host freezer.state" THAWED "$(cat "$(host_cg freezer c)/freezer.state" 2>/dev/null)"
  sleep 0.4
  [ "$(cat "$(res c)/tick")" != "$t2" ] || fail "the process makes no progress after resume"
}
defcase runtime.pause-resume "pause freezes (paused, FROZEN, no progress); resume thaws" c_pause

c_pause_bad() {
  mkbundle c 'true'
  create_ctr c; need_rc0 create
  run_cmd rt resume "$(cid c)"; expect_rc "resume of a non-paused (created) container" nonzero
  start_ctr c; wait_stopped c 10
  run_cmd rt pause "$(cid c)"; expect_rc "pause of a stopped container" nonzero
}
defcase runtime.pause.invalid "pause of stopped / resume of non-paused fail" c_pause_bad

c_update() { # memory|pids|resources
  serve_ctr '.linux.resources = {memory: {limit: 67108864}, pids: {limit: 100}, cpu: {shares: 1024}}'
  case $1 in
    memory)
      run_cmd rt update --memory 134217728 "$(cid c)"; expect_rc "update --memory" 0
      expect_eq "host memory.limit_in_bytes" 134217728 "$(cat "$(host_cg memory c)/memory.limit_in_bytes")"
      expect_eq "inside memory.limit_in_bytes" 134217728 "$(ask 'cat /sys/fs/cgroup/memory/memory.limit_in_bytes')" ;;
    pids)
      run_cmd rt update --pids-limit 77 "$(cid c)"; expect_rc "update --pids-limit" 0
      expect_eq "host pids.max" 77 "$(cat "$(host_cg pids c)/pids.max")"
      expect_eq "inside pids.max" 77 "$(ask 'cat /sys/fs/cgroup/pids/pids.max')" ;;
    resources)
      echo '{"memory": {"limit": 100663296}, "pids": {"limit": 55}, "cpu": {"shares": 300}}' >"$WORK/r.json"
      STDIN_FILE=$WORK/r.json run_cmd rt update --resources - "$(cid c)"; expect_rc "update --resources -" 0
      expect_eq "host memory pids cpu.shares" "100663296 55 300" \
        "$(cat "$(host_cg memory c)/memory.limit_in_bytes") $(cat "$(host_cg pids c)/pids.max") $(cat "$(host_cg cpu c)/cpu.shares")"
      expect_eq "inside" "100663296 55 300" "$(ask 'echo $(cat /sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/pids/pids.max /sys/fs/cgroup/cpu/cpu.shares)')" ;;
  esac
}
defcase runtime.update.memory "update --memory changes memory.limit_in_bytes (host and inside)" c_update memory
defcase runtime.update.pids "update --pids-limit changes pids.max (host and inside)" c_update pids
defcase runtime.update.resources "update --resources - (JSON on stdin) changes memory, pids, cpu" c_update resources

c_events() {
  serve_ctr '.linux.resources = {memory: {limit: 67108864}, pids: {limit: 100}}'
  run_cmd rt events --stats "$(cid c)"
  expect_rc "events --stats" 0
  expect_eq "number of lines" 1 "$(grep -c . <<<"$OUT")"
  expect_eq "type" stats "$(jq -r .type <<<"$OUT" 2>/dev/null)"
  expect_eq "id" "$(cid c)" "$(jq -r .id <<<"$OUT" 2>/dev/null)"
  expect_match "data.pids.current" '^[1-9][0-9]*$' "$(jq -r '.data.pids.current' <<<"$OUT" 2>/dev/null)"
  expect_match "data.memory.usage.limit" '^67108864$' "$(jq -r '.data.memory.usage.limit' <<<"$OUT" 2>/dev/null)"
}
defcase runtime.events.stats "events --stats prints one JSON line of type stats" c_events
