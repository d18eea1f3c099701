#!/bin/bash
# Foreground `run` exits with the container process's exit status.
# shellcheck disable=SC2016 # jq filters and in-container scripts are single-quoted on purpose
set -euo pipefail
. "$(dirname "$0")/lib.sh"

b=$WORK/exit7
make_bundle "$b" '.process.args = ["sh", "-c", "exit 7"]'
assert_status 7 "run of 'sh -c \"exit 7\"' exits 7" rt run -b "$b" "$(cid exit7)"

b=$WORK/true
make_bundle "$b" '.process.args = ["true"]'
assert_status 0 "run of 'true' exits 0" rt run -b "$b" "$(cid true)"

b=$WORK/exit255
make_bundle "$b" '.process.args = ["sh", "-c", "exit 255"]'
assert_status 255 "run of 'sh -c \"exit 255\"' exits 255" rt run -b "$b" "$(cid exit255)"

# A pid-namespace init ignores signals it has no handler for, even from
# itself, so the self-kill runs without a pid namespace (sh is then not pid 1).
b=$WORK/selfterm
make_bundle "$b" '.process.args = ["sh", "-c", "kill -TERM $$; sleep 5"]
  | .linux.namespaces |= map(select(.type != "pid"))'
assert_status 143 "process killed by SIGTERM inside exits 143 (128+15)" rt run -b "$b" "$(cid selfterm)"

b=$WORK/selfkill
make_bundle "$b" '.process.args = ["sh", "-c", "kill -KILL $$; sleep 5"]
  | .linux.namespaces |= map(select(.type != "pid"))'
assert_status 137 "process killed by SIGKILL inside exits 137 (128+9)" rt run -b "$b" "$(cid selfkill)"

# Init of a pid namespace killed from outside by `kill ID KILL` while `run`
# waits in the foreground.
b=$WORK/outkill
id=$(cid outkill)
make_bundle "$b" '.process.args = ["sleep", "1000"]'
rt run -b "$b" "$id" </dev/null >"$WORK/outkill.out" 2>&1 &
runpid=$!
if wait_status "$id" running 10; then
  rt kill "$id" KILL
  rc=0; wait "$runpid" || rc=$?
  assert_eq 137 "$rc" "foreground run whose init is killed by 'kill ID KILL' exits 137"
else
  fail "container $id never reached running"
  wait "$runpid" || true
fi

# The exit status of `run` is the container's, so the container is deleted
# afterwards (run removes it when the process exits).
run_cmd rt list -q
assert_eq "" "$OUT" "foreground run leaves no container behind"
