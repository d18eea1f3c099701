#!/bin/bash
# kill -9 of mxc-runtime in the middle of create: a later `delete --force`
# removes everything (state dir, cgroup, processes).
# shellcheck disable=SC2016 # jq filters are single-quoted on purpose
set -euo pipefail
. "$(dirname "$0")/lib.sh"

b=$WORK/interrupted
id=$(cid interrupted)
# The createRuntime hook runs while the container's init exists, joined to its
# cgroup, and create holds its lock: a window to kill the runtime in.
make_bundle "$b" '.process.args = ["sleep", "1000"] | .hooks.createRuntime = [{path: "/bin/sh", args: ["sh", "-c", "touch '"$WORK"'/hook-started; sleep 3"]}]'
"$RUNTIME" --root "$ROOT" create -b "$b" "$id" >/dev/null 2>&1 &
rtpid=$!
wait_file "$WORK/hook-started" 10 || true
kill -9 "$rtpid"
wait "$rtpid" 2>/dev/null || true
[ -d "$ROOT/$id" ] && pass "the interrupted create left its state dir (to be removed by delete --force)" ||
  fail "no state dir after the interrupted create"
assert_eq "creating" "$(state_field "$id" status)" "state of an interrupted create says creating"
run_cmd rt delete "$id"
assert_ne 0 "$RC" "delete without --force of an interrupted create is refused"
assert_status 0 "delete --force of an interrupted create succeeds" rt delete --force "$id"
[ ! -e "$ROOT/$id" ] && pass "the state dir is gone" || fail "state dir still there"
left=$(find /sys/fs/cgroup -maxdepth 4 -type d -path "*/mxc/$id" 2>/dev/null | head -3)
assert_eq "" "$left" "no cgroup of the interrupted container is left"
sleep 0.2
assert_eq "" "$(tagged_pids | tr '\n' ' ')" "no process of the interrupted container is left"
assert_nothing_left "interrupted create"
