#!/bin/bash
# process.terminal: the pty master reaches the --console-socket peer, the
# process has it as its controlling terminal, consoleSize applies; without a
# console socket a foreground run relays the caller's terminal.
# shellcheck disable=SC2016 # jq filters and in-container scripts are single-quoted on purpose
set -euo pipefail
. "$(dirname "$0")/lib.sh"
command -v python3 >/dev/null || skip "python3 is needed for the console-socket peer"
receiver=$(dirname "$0")/console_receiver.py

b=$WORK/tty
make_bundle "$b" '.process.terminal = true | .process.consoleSize = {height: 33, width: 101}
  | .process.args = ["sh", "-c", "read line; echo got:$line; tty; stty size; [ -t 0 ] && echo stdin-is-tty"]'
id=$(cid tty)
sock=$WORK/console.sock
python3 "$receiver" "$sock" "$WORK/ready" $'typed-input\n' >"$WORK/console.out" 2>&1 &
rpid=$!
wait_file "$WORK/ready" 10 || true
rt create -b "$b" --console-socket "$sock" "$id"
track_pid "$(state_field "$id" pid)"
rt start "$id"
wait "$rpid" || true
out=$(tr -d '\r' <"$WORK/console.out")
assert_contains "$out" "got:typed-input" "input written to the pty master reaches the process"
assert_match "$out" "/dev/pts/[0-9]+" "the process's stdin is a pty"
assert_contains "$out" "33 101" "process.consoleSize sets the pty size"
assert_contains "$out" "stdin-is-tty" "stdin is a terminal"
wait_status "$id" stopped 10 || true
rt delete "$id"

# A console socket that is not a socket: one-line error, nothing left.
b=$WORK/notsock
make_bundle "$b" '.process.terminal = true | .process.args = ["true"]'
: >"$WORK/plainfile"
id=$(cid notsock)
run_cmd rt create -b "$b" --console-socket "$WORK/plainfile" "$id"
assert_ne 0 "$RC" "a console socket that is not a socket fails create"
assert_one_line_error "console socket that is not a socket" "console-socket"
assert_contains "$ERR" "console-socket" "the error names --console-socket"
assert_nothing_left "console socket that is not a socket"

# terminal without a console socket and detached: runc refuses it; under
# mxc-runtime the shim holds the console and logs what the container writes.
id=$(cid detached)
if mxc_only; then
  make_bundle "$WORK/held" '.process.terminal = true | .process.args = ["sh", "-c", "tty; echo held-console"]'
  run_cmd rt run -d -b "$WORK/held" "$id"
  assert_eq 0 "$RC" "run -d of a terminal container without --console-socket: the shim holds the console"
  wait_status "$id" stopped 10 || true
  run_cmd rt logs --json "$id"
  assert_contains "$(jq -r 'select(.stream == "console") | .log' <<<"$OUT" | tr -d '\r')" "held-console" \
    "the console's output is in the log as stream console"
  assert_match "$(jq -r '.log' <<<"$OUT" | tr -d '\r')" "/dev/pts/[0-9]+" "the process had a pty"
  rt delete "$id"
else
  run_cmd rt run -d -b "$b" "$id"
  assert_ne 0 "$RC" "run -d of a terminal container without --console-socket fails"
  assert_contains "$ERR" "process.terminal" "the error names process.terminal"
fi
assert_nothing_left "detached terminal without console socket"

# Foreground run relays the caller's terminal (script(1) gives us one).
if command -v script >/dev/null; then
  b=$WORK/fg
  make_bundle "$b" '.process.terminal = true | .process.args = ["sh", "-c", "tty; exit 4"]'
  id=$(cid fg)
  rc=0
  script -qec "$RUNTIME --root $ROOT run -b $b $id" /dev/null </dev/null >"$WORK/fg.out" 2>&1 || rc=$?
  assert_eq 4 "$rc" "foreground terminal run passes the exit status through"
  assert_match "$(tr -d '\r' <"$WORK/fg.out")" "/dev/pts/[0-9]+" "foreground run relayed the container's pty output"
else
  log "SKIP - script(1) not installed: foreground terminal relay not checked"
fi
