#!/bin/bash
# Command line: --version, --help, spec, features, --log/--log-format,
# --root, --debug.
# shellcheck disable=SC2016 # jq filters and in-container scripts are single-quoted on purpose
set -euo pipefail
. "$(dirname "$0")/lib.sh"

# ---- version / help ---------------------------------------------------------
run_cmd "$RUNTIME" --version
assert_eq 0 "$RC" "--version exits 0"
assert_match "$OUT" 'version.*[0-9]+\.[0-9]+' "--version prints a version number"
assert_match "$OUT" 'spec.*1\.[0-9]+' "--version prints the OCI spec version"
run_cmd "$RUNTIME" --help
assert_eq 0 "$RC" "--help exits 0"
assert_match "$OUT" 'usage' "--help prints usage"
cmds="create start run state kill delete list spec features"
for c in $cmds; do
  assert_match "$OUT" "(^|[[:space:]])$c([[:space:]]|,|$)" "--help lists the '$c' command"
done
# Optional commands: their --help is checked when --help lists them.
for c in exec ps pause resume events update; do
  if printf '%s\n' "$OUT" | grep -qE "^[[:space:]]+$c([[:space:]]|,|$)"; then cmds="$cmds $c"; fi
done
for c in $cmds; do
  run_cmd "$RUNTIME" "$c" --help
  if [ "$RC" -eq 0 ] && printf '%s\n' "$OUT$ERR" | grep -qi usage && printf '%s\n' "$OUT$ERR" | grep -q "$c"; then
    pass "$c --help exits 0 and prints its usage"
  else
    fail "$c --help: exit $RC, output: $(printf '%q' "${OUT:0:200}${ERR:0:200}")"
  fi
done

# ---- spec ---------------------------------------------------------------------
sd=$WORK/spec
mkdir -p "$sd"
run_cmd sh -c 'cd "$1" && exec "$2" spec' sh "$sd" "$RUNTIME"
assert_eq 0 "$RC" "spec exits 0 in an empty dir"
if jq -e . "$sd/config.json" >/dev/null 2>&1; then pass "spec writes a valid JSON config.json"; else fail "spec: config.json missing or not JSON"; fi
assert_match "$(jq -r .ociVersion "$sd/config.json" 2>/dev/null)" '^1\.' "spec: ociVersion 1.x"
assert_eq "rootfs" "$(jq -r .root.path "$sd/config.json" 2>/dev/null)" "spec: root.path is rootfs"
assert_ne "0" "$(jq -r '.process.args | length' "$sd/config.json" 2>/dev/null)" "spec: process.args is set"
assert_eq "ipc mount network pid uts" "$(jq -r '[.linux.namespaces[].type] | sort | join(" ")' "$sd/config.json" 2>/dev/null)" "spec: default namespaces"
# The generated spec runs (with our rootfs and a non-interactive command).
jq --arg r "$ROOTFS_CACHE" '.root.path = $r | .process.terminal = false | .process.args = ["sh", "-c", "echo spec-works"]' \
  "$sd/config.json" >"$WORK/spec-run.json"
mkdir -p "$WORK/specrun" && mv "$WORK/spec-run.json" "$WORK/specrun/config.json"
run_cmd rt run -b "$WORK/specrun" "$(cid specrun)"
assert_eq "0 spec-works" "$RC $OUT" "the config written by spec runs"

# runc refuses to overwrite an existing config.json; so must we.
echo '{"marker": true}' >"$sd/config.json"
run_cmd sh -c 'cd "$1" && exec "$2" spec' sh "$sd" "$RUNTIME"
assert_ne 0 "$RC" "spec refuses to overwrite an existing config.json"
assert_one_line_error "spec over an existing config.json" 'config\.json|exist'
assert_eq '{"marker": true}' "$(cat "$sd/config.json")" "the existing config.json is unchanged"

mkdir -p "$WORK/spec-b"
run_cmd "$RUNTIME" spec --bundle "$WORK/spec-b"
assert_eq 0 "$RC" "spec --bundle DIR exits 0"
if jq -e .ociVersion "$WORK/spec-b/config.json" >/dev/null 2>&1; then pass "spec --bundle DIR writes DIR/config.json"; else fail "spec --bundle did not write DIR/config.json"; fi

mkdir -p "$WORK/spec-rl"
run_cmd sh -c 'cd "$1" && exec "$2" spec --rootless' sh "$WORK/spec-rl" "$RUNTIME"
assert_eq 0 "$RC" "spec --rootless exits 0"
rl=$WORK/spec-rl/config.json
assert_contains "$(jq -r '[.linux.namespaces[].type] | join(" ")' "$rl" 2>/dev/null)" "user" "spec --rootless: has a user namespace"
assert_eq "$(id -u)" "$(jq -r '.linux.uidMappings[0].hostID' "$rl" 2>/dev/null)" "spec --rootless: uidMappings maps the caller's uid"
assert_eq "$(id -g)" "$(jq -r '.linux.gidMappings[0].hostID' "$rl" 2>/dev/null)" "spec --rootless: gidMappings maps the caller's gid"
assert_not_contains "$(jq -r '[.linux.namespaces[].type] | join(" ")' "$rl" 2>/dev/null)" "network" "spec --rootless: no network namespace"

# ---- features -------------------------------------------------------------------
run_cmd "$RUNTIME" features
assert_eq 0 "$RC" "features exits 0"
if jq -e . >/dev/null 2>&1 <<<"$OUT"; then pass "features prints JSON"; else fail "features output is not JSON: ${OUT:0:200}"; fi
assert_match "$(jq -r .ociVersionMin <<<"$OUT" 2>/dev/null)" '^1\.[0-9]+\.[0-9]+' "features: ociVersionMin"
assert_match "$(jq -r .ociVersionMax <<<"$OUT" 2>/dev/null)" '^1\.[0-9]+\.[0-9]+' "features: ociVersionMax"
assert_eq "cgroup ipc mount network pid user uts" \
  "$(jq -r '[.linux.namespaces[] | select(. == "cgroup" or . == "ipc" or . == "mount" or . == "network" or . == "pid" or . == "user" or . == "uts")] | sort | join(" ")' <<<"$OUT" 2>/dev/null)" \
  "features: linux.namespaces lists the namespaces"
assert_eq "true" "$(jq -r '.hooks | type == "array" and length > 0' <<<"$OUT" 2>/dev/null)" "features: hooks is a non-empty list"

# ---- --log FILE --log-format json -------------------------------------------------
logf=$WORK/log.json
run_cmd rt --log "$logf" --log-format json start "$(cid nosuch)"
assert_ne 0 "$RC" "start of a missing id fails"
if [ -s "$logf" ]; then
  bad=$(grep -v '^[[:space:]]*$' "$logf" | while IFS= read -r l; do
    jq -e 'type == "object" and (.level | type == "string") and (.msg | type == "string") and (.time | type == "string")' >/dev/null 2>&1 <<<"$l" || echo "$l"
  done)
  assert_eq "" "$bad" "--log-format json: every log line is a JSON object with level, msg, time"
  assert_match "$(jq -r 'select(.level == "error") | .msg' "$logf" 2>/dev/null)" 'not exist|not found|no such' "--log-format json: an error record names the problem"
  assert_match "$(jq -r 'select(.level == "error") | .time' "$logf" 2>/dev/null | head -n1)" '^[0-9]{4}-[0-9]{2}-[0-9]{2}T' "--log-format json: time is RFC 3339"
else
  fail "--log FILE: nothing written to $logf"
fi
run_cmd rt "--log=$WORK/log2.json" "--log-format=json" start "$(cid nosuch)"
assert_match "$(jq -r .level "$WORK/log2.json" 2>/dev/null)" 'error' "--log=FILE --log-format=json also works"

# ---- --root -----------------------------------------------------------------------
other=$WORK/other-root
register_root "$other"
b=$WORK/sleeper
make_bundle "$b" '.process.args = ["sleep", "1000"]'
id=$(cid rooted)
"$RUNTIME" --root "$other" create -b "$b" "$id" </dev/null >/dev/null 2>&1 || true
opid=$("$RUNTIME" --root "$other" state "$id" 2>/dev/null | jq -r '.pid // empty' || true); track_pid "$opid"
run_cmd "$RUNTIME" --root "$other" list -q
assert_eq "$id" "$OUT" "--root A: the container is listed under A"
assert_ne "" "$(find "$other" -mindepth 1 -maxdepth 1 2>/dev/null)" "--root A: state is kept under A"
run_cmd rt list -q
assert_eq "" "$OUT" "--root B: the container is not listed under another root"
assert_status nonzero "--root B: state of A's container fails" rt state "$id"
"$RUNTIME" --root "$other" delete --force "$id" >/dev/null 2>&1 || true
wait_gone "$opid" 5 || true
assert_eq "" "$(find "$other" -mindepth 1 -maxdepth 1 -type d 2>/dev/null)" "--root A: delete removes the state dir"

# ---- --debug -----------------------------------------------------------------------
b=$WORK/dbg
make_bundle "$b" '.process.args = ["sh", "-c", "echo dbg-out"]'
run_cmd rt --debug --log "$WORK/debug.json" --log-format json run -b "$b" "$(cid dbg)"
assert_eq "0 dbg-out" "$RC $OUT" "--debug: run still works and its stdout is clean"
assert_ne "0" "$(jq -r 'select(.level == "debug") | .msg' "$WORK/debug.json" 2>/dev/null | grep -c '' || true)" "--debug: debug records are logged"
run_cmd rt --log "$WORK/nodebug.json" --log-format json run -b "$b" "$(cid nodbg)"
assert_eq "0" "$(jq -r 'select(.level == "debug") | .msg' "$WORK/nodebug.json" 2>/dev/null | grep -c '' || true)" "control: without --debug no debug records"
