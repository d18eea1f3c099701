#!/bin/bash
# Bad input: non-zero exit, one error line naming the problem, nothing left
# behind (state dir under --root, process, mount).
# shellcheck disable=SC2016 # jq filters and in-container scripts are single-quoted on purpose
set -euo pipefail
. "$(dirname "$0")/lib.sh"

# bad_create NAME ERE BUNDLE [ID]: create must fail with one error line
# matching ERE and leave nothing behind.
bad_create() {
  local name=$1 re=$2 bundle=$3 id=${4-$(cid bad)}
  run_cmd rt create -b "$bundle" "$id"
  if [ "$RC" -ne 0 ]; then pass "$name: create fails (exit $RC)"; else fail "$name: create succeeded"; fi
  assert_one_line_error "$name" "$re"
  assert_nothing_left "$name"
  # Do not let one case leak into the next (but never hand a runtime an
  # invalid id to delete: only ids it lists).
  if rt list -q 2>/dev/null | grep -qxF -- "$id"; then rt delete --force "$id" >/dev/null 2>&1 || true; fi
  reap_leftovers >/dev/null || true
}

ok_bundle=$WORK/ok
make_bundle "$ok_bundle" '.process.args = ["sleep", "1000"]'

# ---- bundle / config.json -------------------------------------------------
bad_create "missing bundle dir" 'nope' "$WORK/nope"
mkdir -p "$WORK/cfgdir/config.json"
bad_create "config.json is a directory" 'config\.json|directory' "$WORK/cfgdir"
mkdir -p "$WORK/nocfg"
bad_create "missing config.json" 'config\.json' "$WORK/nocfg"
mkdir -p "$WORK/malformed"
printf '{"ociVersion": "1.0.2-dev", "process": ' >"$WORK/malformed/config.json"
bad_create "malformed JSON" 'json|EOF|parse|syntax' "$WORK/malformed"
if mxc_only; then
  assert_match "$(error_lines)" 'config\.json' "MXC-ONLY: the malformed-JSON error names config.json"
fi
printf '{"ociVersion": "1.0.2-dev", "process": {"args": ["sh"],}}' >"$WORK/malformed/config.json"
bad_create "malformed JSON (trailing comma)" 'json|parse|syntax|invalid|character' "$WORK/malformed"

# ---- wrong values -----------------------------------------------------------
make_bundle "$WORK/argsstr" '.process.args = "sh"'
bad_create "process.args is a string" 'args' "$WORK/argsstr"
make_bundle "$WORK/argsempty" '.process.args = []'
bad_create "process.args is empty" 'args' "$WORK/argsempty"
make_bundle "$WORK/badns" '.linux.namespaces += [{type: "bogusns"}]'
bad_create "unknown namespace type" 'bogusns|namespace' "$WORK/badns"
make_bundle "$WORK/badmnt" '.process.args = ["true"] | .mounts += [{destination: "/mnt", type: "bogusfs", source: "none"}]'
bad_create "unknown mount type" 'bogusfs|/mnt' "$WORK/badmnt"
make_bundle "$WORK/noroot" '.root.path = ($work + "/no-such-rootfs")'
bad_create "missing root.path" 'no-such-rootfs|root' "$WORK/noroot"

# MXC-ONLY: a relative root.path that climbs out of the bundle. The OCI spec
# does not forbid it and runc accepts it. The bundle sits deep enough that
# ../../.. is a rootfs copy inside this test's temp dir, so a runtime that
# accepts it does no harm.
if mxc_only; then
  esc=$WORK/x
  mkdir -p "$esc/y/z"
  cp -a "$ROOTFS_CACHE/." "$esc/"
  make_bundle "$esc/y/z/bundle" '.process.args = ["true"] | .root.path = "../../.."'
  bad_create "MXC-ONLY: relative root.path escaping the bundle" 'root' "$esc/y/z/bundle"
fi

# ---- ids ------------------------------------------------------------------
long=$(printf 'x%.0s' $(seq 1025))
idre='(^|[^a-z])id([^a-z]|$)'
bad_create "empty id" "$idre|empty" "$ok_bundle" ""
bad_create "id 'a/b'" "$idre" "$ok_bundle" "a/b"
bad_create "id '..'" "$idre" "$ok_bundle" ".."
bad_create "id '.'" "$idre" "$ok_bundle" "."
bad_create "id with a newline" "$idre" "$ok_bundle" $'a\nb'
bad_create "id with a tab" "$idre" "$ok_bundle" $'a\tb'
bad_create "1025-character id" "$idre|too long" "$ok_bundle" "$long"
if mxc_only; then
  assert_match "$(error_lines)" "$idre" "MXC-ONLY: the over-long id error says it is the id"
fi
assert_eq "" "$(ls -A "$ROOT")" "invalid ids created nothing under --root"

# ---- id in use, start/delete of a running container -------------------------------
id=$(cid inuse)
rt create -b "$ok_bundle" "$id" </dev/null >/dev/null 2>&1
pid=$(state_field "$id" pid); track_pid "$pid"
run_cmd rt create -b "$ok_bundle" "$id"
if [ "$RC" -ne 0 ]; then pass "id already in use: create fails (exit $RC)"; else fail "id already in use: create succeeded"; fi
assert_one_line_error "id already in use" 'exist|in use|already'
assert_eq "created $pid" "$(state_field "$id" status) $(state_field "$id" pid)" "the existing container is untouched"
run_cmd rt run -b "$ok_bundle" "$id"
if [ "$RC" -ne 0 ]; then pass "id already in use: run fails (exit $RC)"; else fail "id already in use: run succeeded"; fi
assert_one_line_error "id already in use (run)" 'exist|in use|already'
rt start "$id"
assert_status nonzero "start on a running container fails" rt start "$id"
assert_one_line_error "start on a running container" 'running|already|created|state'
assert_status nonzero "delete of a running container without --force fails" rt delete "$id"
assert_one_line_error "delete of a running container" 'running|stopped|force|state'
assert_eq "running" "$(state_field "$id" status)" "the container still runs"
rt delete --force "$id"
wait_gone "$pid" 5 || true

# ---- commands on a missing container ----------------------------------------
for cmd in start state delete "kill"; do
  assert_status nonzero "$cmd of a missing container fails" rt $cmd "$(cid missing)"
  assert_one_line_error "$cmd of a missing container" 'not exist|not found|no such'
done
assert_nothing_left "commands on a missing container"

# ---- usage errors -----------------------------------------------------------
run_cmd rt create --no-such-flag -b "$ok_bundle" "$(cid flag)"
assert_ne 0 "$RC" "unknown flag: exits non-zero"
assert_match "$OUT$ERR" 'usage' "unknown flag: prints usage"
assert_match "$ERR" 'no-such-flag' "unknown flag: stderr names the flag"
assert_nothing_left "unknown flag"
run_cmd rt --no-such-global-flag list
assert_ne 0 "$RC" "unknown global flag: exits non-zero"
assert_match "$ERR" 'no-such-global-flag' "unknown global flag: stderr names the flag"
run_cmd rt no-such-command
assert_ne 0 "$RC" "unknown command: exits non-zero"
assert_match "$OUT$ERR" 'no-such-command|usage' "unknown command: names it or prints usage"
run_cmd rt create
assert_ne 0 "$RC" "create without an id: exits non-zero"
run_cmd rt kill "$(cid x)" NOSUCHSIG
assert_ne 0 "$RC" "kill with an unknown signal name: exits non-zero"
assert_nothing_left "usage errors"

# ---- --opt=value and --opt value -------------------------------------------
b=$WORK/opts
make_bundle "$b" '.process.args = ["sh", "-c", "echo opt-ok"]'
run_cmd "$RUNTIME" "--root=$ROOT" run "--bundle=$b" "$(cid eq)"
assert_eq "0 opt-ok" "$RC $OUT" "--root=DIR run --bundle=DIR works"
run_cmd "$RUNTIME" --root "$ROOT" run --bundle "$b" "$(cid sp)"
assert_eq "0 opt-ok" "$RC $OUT" "--root DIR run --bundle DIR works"
run_cmd "$RUNTIME" --root "$ROOT" run -b "$b" "$(cid short)"
assert_eq "0 opt-ok" "$RC $OUT" "run -b DIR works"
id=$(cid pf)
rt create "--bundle=$b" "--pid-file=$WORK/pf1" "$id" </dev/null >/dev/null 2>&1 || true
assert_eq "$(state_field "$id" pid)" "$(cat "$WORK/pf1" 2>/dev/null)" "--pid-file=FILE works"
run_cmd rt list "--format=json"
assert_eq "$id" "$(jq -r '.[].id' <<<"$OUT" 2>/dev/null)" "list --format=json works"
run_cmd rt list --format json
assert_eq "$id" "$(jq -r '.[].id' <<<"$OUT" 2>/dev/null)" "list --format json works"
rt delete --force "$id"
