#!/bin/bash
# stdin, stdout and stderr of a foreground `run` are the caller's.
# shellcheck disable=SC2016 # jq filters and in-container scripts are single-quoted on purpose
set -euo pipefail
. "$(dirname "$0")/lib.sh"

b=$WORK/outerr
make_bundle "$b" '.process.args = ["sh", "-c", "echo out; echo err >&2"]'
run_cmd rt run -b "$b" "$(cid outerr)"
assert_eq 0 "$RC" "run exits 0"
assert_eq "out" "$OUT" "stdout carries only the stdout line"
assert_eq "err" "$(error_lines)" "stderr carries the stderr line"
assert_not_contains "$ERR" "out" "stdout did not leak into stderr"

b=$WORK/cat
make_bundle "$b" '.process.args = ["cat"]'
printf 'hi\nthere\n' >"$WORK/in.txt"
STDIN_FILE=$WORK/in.txt run_cmd rt run -b "$b" "$(cid cat)"
assert_eq 0 "$RC" "cat exits 0 at end of stdin"
assert_eq $'hi\nthere' "$OUT" "stdin from a file passes through"

out=$(echo hi | rt run -b "$b" "$(cid pipe)" 2>"$WORK/pipe.err") || true
assert_eq "hi" "$out" "stdin and stdout as pipes: 'echo hi | run ... cat' prints hi"

# Large data both ways (more than a pipe buffer).
head -c 1048576 /dev/urandom >"$WORK/big"
STDIN_FILE=$WORK/big run_cmd rt run -b "$b" "$(cid big)"
assert_eq "$(sha256sum <"$WORK/big")" "$(sha256sum <"$OUT_FILE")" "1 MiB through stdin/stdout is unchanged"

# A detached container's stdio go where the caller's fds point (runc's
# pass-through); under mxc-runtime the shim also keeps the output in the
# container's JSON-lines log, which `logs` prints.
b=$WORK/detached
id=$(cid detached)
make_bundle "$b" '.process.args = ["sh", "-c", "echo dout; echo derr >&2"]'
rt run -d -b "$b" "$id" </dev/null >"$WORK/d.out" 2>"$WORK/d.err"
wait_status "$id" stopped 10 || true
sleep 0.2
assert_eq "dout" "$(cat "$WORK/d.out")" "run -d: stdout went to the caller's stdout"
assert_contains "$(cat "$WORK/d.err")" "derr" "run -d: stderr went to the caller's stderr"
if mxc_only; then
  run_cmd rt logs "$id"
  assert_eq "dout" "$OUT" "run -d: logs prints the container's stdout"
  assert_contains "$ERR" "derr" "run -d: logs prints the container's stderr on stderr"
  run_cmd rt logs --json "$id"
  assert_eq "stdout dout|stderr derr" "$(jq -rs 'map(.stream + " " + (.log | rtrimstr("\n"))) | join("|")' <<<"$OUT")" \
    "run -d: the log is JSON lines with stream and text"
  assert_eq "0" "$(jq -s 'map(select((.time | type) != "string")) | length' <<<"$OUT")" "every log line has a time"
fi
rt delete "$id"
