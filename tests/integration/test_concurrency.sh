#!/bin/bash
# Two concurrent creates of one id: exactly one wins, every round.
# shellcheck disable=SC2016 # jq filters and in-container scripts are single-quoted on purpose
set -euo pipefail
. "$(dirname "$0")/lib.sh"

ROUNDS=${ROUNDS:-10}
b=$WORK/bundle
make_bundle "$b" '.process.args = ["sleep", "1000"]'

for ((r = 1; r <= ROUNDS; r++)); do
  id=$(cid "race$r")
  rt create -b "$b" "$id" </dev/null >"$WORK/r$r.a.out" 2>"$WORK/r$r.a.err" &
  pa=$!
  rt create -b "$b" "$id" </dev/null >"$WORK/r$r.b.out" 2>"$WORK/r$r.b.err" &
  pb=$!
  ra=0; wait "$pa" || ra=$?
  rb=0; wait "$pb" || rb=$?
  ok=$(( (ra == 0) + (rb == 0) ))
  assert_eq 1 "$ok" "round $r: exactly one of two concurrent creates succeeds (exit codes $ra, $rb)"
  if [ "$ra" -ne 0 ]; then ERR=$(cat "$WORK/r$r.a.err"); elif [ "$rb" -ne 0 ]; then ERR=$(cat "$WORK/r$r.b.err"); else ERR=""; fi
  if [ "$ok" = 1 ]; then
    assert_one_line_error "round $r: the loser" 'exist|in use|already|busy|lock'
  fi
  run_cmd rt list -q
  assert_eq "$id" "$OUT" "round $r: exactly one container exists"
  assert_eq "created" "$(state_field "$id" status)" "round $r: it is in state created"
  pid=$(state_field "$id" pid); track_pid "$pid"
  rt start "$id" </dev/null >/dev/null 2>&1 || true
  for ((i = 0; i < 50; i++)); do [ "$(tagged_pids | wc -l)" -ge 1 ] && break; sleep 0.1; done
  assert_eq 1 "$(tagged_pids | wc -l)" "round $r: after start exactly one container process runs"
  rt delete --force "$id" </dev/null >/dev/null 2>&1 || true
  wait_gone "$pid" 5 || true
  assert_nothing_left "round $r"
  reap_leftovers || true   # so that the next round starts clean
done
