#!/bin/bash
# create / start / state / kill / delete / list / run -d.
# shellcheck disable=SC2016 # jq filters and in-container scripts are single-quoted on purpose
set -euo pipefail
. "$(dirname "$0")/lib.sh"

shared=$WORK/shared
mkdir -p "$shared"
# The process announces that it ran by creating a file in a bind-mounted host
# dir; TERM is handled (a pid-1 shell would otherwise ignore it).
script='touch /mnt/started-$NAME; trap "exit 0" TERM; while :; do sleep 0.1; done'
mk() { # NAME -> bundle $WORK/NAME
  make_bundle "$WORK/$1" '.process.args = ["sh", "-c", $script]
    | .process.env += ["NAME=" + $name]
    | .mounts += [{destination: "/mnt", type: "bind", source: ($work + "/shared"), options: ["rbind", "rw"]}]' \
    --arg script "$script" --arg name "$1"
}

# ---- create ---------------------------------------------------------------
mk one
id=$(cid one)
pidfile=$WORK/one.pid
assert_status 0 "create succeeds" rt create -b "$WORK/one" --pid-file "$pidfile" "$id"
filepid=$(cat "$pidfile" 2>/dev/null || true)   # read right after create returned
run_cmd rt state "$id"
assert_eq 0 "$RC" "state of a created container succeeds"
st=$OUT
pid=$(jq -r .pid <<<"$st"); track_pid "$pid"
assert_eq "created" "$(jq -r .status <<<"$st")" "state says created"
assert_eq "$id" "$(jq -r .id <<<"$st")" "state has the id"
assert_eq "$WORK/one" "$(jq -r .bundle <<<"$st")" "state has the bundle path"
assert_match "$(jq -r .ociVersion <<<"$st")" '^1\.' "state has ociVersion"
assert_match "$pid" '^[1-9][0-9]*$' "state pid > 0 ($pid)"
assert_eq "$pid" "$filepid" "--pid-file, written before create returned, holds the state pid"
assert_eq "yes" "$(kill -0 "$pid" 2>/dev/null && echo yes || echo no)" "the created container's process exists on the host"
sleep 0.5
assert_eq "no" "$([ -e "$shared/started-one" ] && echo yes || echo no)" "created container is blocked: its command has not run"
run_cmd rt list -q
assert_eq "$id" "$OUT" "list -q shows the created container"

# ---- start ----------------------------------------------------------------
assert_status 0 "start succeeds" rt start "$id"
if wait_file "$shared/started-one" 10; then pass "after start the command runs (file appeared)"; else fail "file did not appear after start"; fi
assert_eq "running" "$(state_field "$id" status)" "state says running"
assert_eq "$pid" "$(state_field "$id" pid)" "pid is unchanged by start"
assert_status nonzero "start on a running container fails" rt start "$id"
assert_one_line_error "start on a running container" 'running|already|state|created'

# ---- list -----------------------------------------------------------------
mk two
id2=$(cid two)
rt create -b "$WORK/two" "$id2" </dev/null >/dev/null 2>&1
track_pid "$(state_field "$id2" pid)"
run_cmd rt list
hdr=$(printf '%s\n' "$OUT" | head -n1)
for col in ID PID STATUS BUNDLE CREATED; do assert_contains "$hdr" "$col" "list table header has $col"; done
assert_match "$OUT" "^$id +$pid +running +$WORK/one " "list table row for the running container"
assert_match "$OUT" "^$id2 +[0-9]+ +created +$WORK/two " "list table row for the created container"
run_cmd rt list --format json
assert_eq 0 "$RC" "list --format json succeeds"
assert_eq "$id2 created|$id running" "$(jq -r 'sort_by(.id) | map(.id + " " + .status) | reverse | join("|")' <<<"$OUT" 2>/dev/null || echo invalid-json)" \
  "list --format json has both containers with their status"
assert_eq "$pid" "$(jq -r --arg id "$id" '.[] | select(.id == $id) | .pid' <<<"$OUT" 2>/dev/null)" "list --format json has the pid"
run_cmd rt list -q
assert_eq "$(printf '%s\n' "$id" "$id2" | sort)" "$(printf '%s\n' "$OUT" | sort)" "list -q prints exactly the two ids"

# ---- delete without --force, then --force ----------------------------------
assert_status nonzero "delete of a running container without --force fails" rt delete "$id"
assert_one_line_error "delete of a running container" 'running|stopped|force|state'
assert_eq "running" "$(state_field "$id" status)" "the container survived the refused delete"
assert_status 0 "delete --force of a running container succeeds" rt delete --force "$id"
if wait_gone "$pid" 5; then pass "delete --force left no process"; else fail "process $pid still alive after delete --force"; fi
assert_status nonzero "state of a deleted container fails" rt state "$id"
run_cmd rt list -q
assert_eq "$id2" "$OUT" "list -q no longer shows the force-deleted container"
assert_status 0 "delete --force of a created container succeeds" rt delete --force "$id2"
assert_eq "" "$(find "$ROOT" -mindepth 1 -maxdepth 1 -type d)" "no state dir left under --root"

# ---- kill with each signal spelling ----------------------------------------
for sig in KILL SIGKILL 9 TERM SIGTERM 15; do
  name=k$sig
  mk "$name"
  kid=$(cid "$name")
  rt run -d -b "$WORK/$name" "$kid" </dev/null >/dev/null 2>&1 || true
  kpid=$(state_field "$kid" pid); track_pid "$kpid"
  wait_file "$shared/started-$name" 10 || true
  assert_status 0 "kill $sig of a running container succeeds" rt kill "$kid" "$sig"
  if wait_status "$kid" stopped 10; then pass "after kill $sig state says stopped"; else fail "after kill $sig state is '$(state_field "$kid" status)'"; fi
  assert_status 0 "delete of the stopped container succeeds" rt delete "$kid"
  assert_status nonzero "state after delete fails" rt state "$kid"
  if wait_gone "$kpid" 5; then pass "no process left after kill $sig + delete"; else fail "process $kpid left"; fi
done
run_cmd rt list -q
assert_eq "" "$OUT" "list -q is empty after deletes"

# kill with the default signal (TERM).
mk kdefault
kid=$(cid kdefault)
rt run -d -b "$WORK/kdefault" "$kid" </dev/null >/dev/null 2>&1 || true
wait_file "$shared/started-kdefault" 10 || true
assert_status 0 "kill with no signal (default SIGTERM) succeeds" rt kill "$kid"
if wait_status "$kid" stopped 10; then pass "default signal stopped it"; else fail "default kill did not stop it"; fi
assert_status nonzero "kill of a stopped container fails" rt kill "$kid" KILL
rt delete "$kid"

# ---- run -d returns while the container runs ---------------------------------
mk detach
did=$(cid detach)
start=$(date +%s)
assert_status 0 "run -d returns 0" rt run -d -b "$WORK/detach" "$did"
assert_eq "running" "$(state_field "$did" status)" "run -d: container is running after return"
assert_eq 1 "$(( $(date +%s) - start < 20 ))" "run -d returned promptly"
if wait_file "$shared/started-detach" 10; then pass "run -d: the command ran"; else fail "run -d: the command did not run"; fi
dpid=$(state_field "$did" pid); track_pid "$dpid"
rt kill "$did" KILL; wait_status "$did" stopped 10 || true
rt delete "$did"
mk detach2
assert_status 0 "run --detach returns 0" rt run --detach -b "$WORK/detach2" "$(cid detach2)"
assert_eq "running" "$(state_field "$(cid detach2)" status)" "run --detach: container is running"
rt delete --force "$(cid detach2)"

# ---- kill --all ---------------------------------------------------------------
# Without a pid namespace, killing init alone would leave its children.
make_bundle "$WORK/all" '.process.args = ["sh", "-c", "sleep 1001 & sleep 1002 & touch /mnt/started-all; wait"]
  | .linux.namespaces |= map(select(.type != "pid"))
  | .mounts += [{destination: "/mnt", type: "bind", source: ($work + "/shared"), options: ["rbind", "rw"]}]'
aid=$(cid all)
rt run -d -b "$WORK/all" "$aid" </dev/null >/dev/null 2>&1 || true
wait_file "$shared/started-all" 10 || true
track_pid "$(state_field "$aid" pid)"
before=$(tagged_pids | wc -l)
assert_eq 3 "$before" "kill --all: the container has 3 processes (sh, 2 sleeps)"
assert_status 0 "kill --all KILL succeeds" rt kill --all "$aid" KILL
for ((i = 0; i < 50; i++)); do [ -z "$(tagged_pids)" ] && break; sleep 0.1; done
assert_eq "" "$(tagged_pids | tr '\n' ' ')" "kill --all killed every process of the container"
wait_status "$aid" stopped 10 || true
assert_eq "stopped" "$(state_field "$aid" status)" "kill --all: state says stopped"
rt delete "$aid"
