#!/bin/bash
# `mxc-runtime mxc-exec`: MXC 0.8 wire configurations run as MXC's Linux runner
# runs them: commandLine through /bin/sh -c with cwd/env/timeout, the child's
# status passed through, request errors (exit 1, one line naming the field),
# infrastructure errors (exit 125, one JSON line), --dry-run, --config-base64;
# the host's system directories read-only, a private /tmp, the policy's paths,
# and nothing left behind.
# shellcheck disable=SC2016 # in-container scripts are single-quoted on purpose
set -euo pipefail
. "$(dirname "$0")/lib.sh"

mxc_only || skip "mxc-exec is mxc-runtime's"

EACCES="Permission denied"
EROFS="Read-only file system"

n=0
# wire JSON: writes $WORK/w$n.json and sets CFG to its path.
wire() {
  n=$((n + 1))
  CFG=$WORK/w$n.json
  printf '%s\n' "$1" >"$CFG"
}
# mx ARGS...: mxc-exec with this test's --root.
mx() { run_cmd rt mxc-exec "$@"; }

# Host paths the policy shows or hides (under $WORK, itself under /tmp).
RW=$WORK/rw
RW2=$WORK/rw2 # holds a denied path: nothing can be created directly in it (processcontainer)
RO=$WORK/ro
mkdir -p "$RW" "$RW2/deep/hidden" "$RO/secretdir"
echo rw-secret >"$RW2/deep/hidden/key"
echo old >"$RW2/deep/existing"
echo ro-data >"$RO/data"
echo ro-secret >"$RO/secretdir/key"
FS=$(jq -n --arg rw "$RW" --arg rw2 "$RW2" --arg ro "$RO" '{
  readwritePaths: [$rw, $rw2], readonlyPaths: [$ro],
  deniedPaths: [$ro + "/secretdir", $rw2 + "/deep/hidden"]}')

# ---- exit status, stdout/stderr, cwd, env ---------------------------------------
wire '{"version": "0.8.0-alpha", "process": {"commandLine": "echo out; echo err >&2; exit 7"}}'
mx "$CFG"
assert_eq 7 "$RC" "exit 7 is passed through"
assert_eq out "$OUT" "stdout is the child's stdout"
assert_eq err "$ERR" "stderr is the child's stderr"

wire '{"process": {"commandLine": "sh -c '\''kill -KILL $$'\''"}}'
mx "$CFG"
assert_eq 137 "$RC" "a child killed by SIGKILL: 128+9"

wire "$(jq -n --arg rw "$RW" --argjson fs "$FS" '{
  process: {commandLine: "pwd; echo \"$FOO|$BAR\"", cwd: $rw, env: ["FOO=foo value", "BAR=b=c"]},
  filesystem: $fs}')"
mx "$CFG"
assert_eq 0 "$RC" "cwd/env: exit 0"
assert_eq "$RW
foo value|b=c" "$OUT" "cwd and env reach the process"

wire '{"process": {"commandLine": "pwd; echo \"${HOSTVAR:-unset}\""}}'
HOSTVAR=leak mx "$CFG"
assert_eq "/
unset" "$OUT" "default cwd is /, the host environment is not inherited"

# ---- timeout ----------------------------------------------------------------------
wire '{"process": {"commandLine": "echo started; sleep 20; echo not-reached", "timeout": 300}}'
start=$(date +%s%N)
mx "$CFG"
elapsed_ms=$((($(date +%s%N) - start) / 1000000))
assert_eq 255 "$RC" "timeout: exit 255"
assert_eq started "$OUT" "timeout: output until the kill"
assert_contains "$ERR" "timed out" "timeout: 'timed out' on stderr"
if [ "$elapsed_ms" -lt 5000 ]; then pass "timeout: killed after ${elapsed_ms} ms"; else fail "timeout: took ${elapsed_ms} ms"; fi

wire '{"process": {"commandLine": "sleep 0.1; exit 3", "timeout": 10000}}'
mx "$CFG"
assert_eq 3 "$RC" "within the timeout: the child's status"
assert_not_contains "$ERR" "timed out" "within the timeout: no 'timed out'"

# ---- request errors: exit 1, one line naming the field ----------------------------
wire '{"process": {"commandLine": 42}}'
mx "$CFG"
assert_eq 1 "$RC" "wrong type: exit 1"
assert_one_line_error "wrong type" "process\.commandLine"

wire '{"version": "0.5.0", "process": {"commandLine": "true"}}'
mx "$CFG"
assert_eq 1 "$RC" "unsupported version: exit 1"
assert_one_line_error "unsupported version" "version.*0\.5\.0"

wire '{"version": "0.9.1", "process": {"commandLine": "exit 4"}}'
mx "$CFG"
assert_eq 4 "$RC" "version 0.9.x is accepted"

wire '{"process": {"commandLine": "true", "shell": "bash"}}'
mx "$CFG"
assert_eq 1 "$RC" "unknown field: exit 1"
assert_one_line_error "unknown field" "process\.shell"

wire '{"process": {}}'
mx "$CFG"
assert_eq 1 "$RC" "no commandLine: exit 1"
assert_one_line_error "no commandLine" "process\.commandLine"

wire "$(jq -n --arg p "$WORK/does-not-exist" '{process: {commandLine: "true"}, filesystem: {readonlyPaths: [$p]}}')"
mx "$CFG"
assert_eq 1 "$RC" "missing readonlyPaths entry: exit 1"
assert_one_line_error "missing readonlyPaths entry" "filesystem\.readonlyPaths\[0\].*does-not-exist"

wire '{"process": {"commandLine": "true"}, "network": {"blockedHosts": ["example.com"]}}'
mx "$CFG"
assert_eq 1 "$RC" "unenforceable network field: exit 1"
assert_one_line_error "unenforceable network field" "network\.blockedHosts"

wire '{"process": {"commandLine": "true"}, "runtimeConfig": {"networkProxy": "http://127.0.0.1:8080"}}'
mx "$CFG"
assert_eq 1 "$RC" "runtimeConfig.networkProxy (a host loopback proxy): exit 1"
assert_one_line_error "runtimeConfig.networkProxy" "runtimeConfig\.networkProxy: a host loopback proxy is not reachable"

mx "$WORK/no-such-config.json"
assert_eq 1 "$RC" "missing CONFIG file: exit 1"
assert_one_line_error "missing CONFIG file" "no-such-config\.json"

# ---- infrastructure errors: one JSON line ------------------------------------------
if [ -e "$BUILD_DIR/lib/mxc-runtime/plugins/liblxc.so" ]; then
  log "note - an lxc plugin exists: the unavailable-backend check is skipped"
else
  wire '{"containment": "lxc", "process": {"commandLine": "true"}}'
  mx "$CFG"
  assert_eq 125 "$RC" "unavailable backend: exit 125"
  assert_eq backend_unavailable "$(printf '%s' "$ERR" | jq -r .error.code)" "unavailable backend: error.code"
  assert_contains "$(printf '%s' "$ERR" | jq -r .error.message)" "lxc" "unavailable backend: message names it"
  assert_eq 1 "$(printf '%s\n' "$ERR" | grep -c '')" "unavailable backend: one stderr line"
fi

# ---- --dry-run and --config-base64 -------------------------------------------------
wire "$(jq -n --arg f "$RW/dry-run-ran" '{process: {commandLine: ("touch " + $f)},
  filesystem: {readwritePaths: [$f | sub("/dry-run-ran$"; "")]}}')"
mx --dry-run "$CFG"
assert_eq 0 "$RC" "dry-run of a valid config: exit 0"
assert_eq "" "$OUT$ERR" "dry-run of a valid config prints nothing"
if [ -e "$RW/dry-run-ran" ]; then fail "dry-run ran the command"; else pass "dry-run does not run the command"; fi

wire '{"process": {"commandLine": "true", "timeout": -1}}'
mx --dry-run "$CFG"
assert_eq 1 "$RC" "dry-run of an invalid config: exit 1"
assert_one_line_error "dry-run of an invalid config" "process\.timeout"

mx --config-base64 "$(printf '%s' '{"process": {"commandLine": "echo b64; exit 5"}}' | base64 -w0)"
assert_eq 5 "$RC" "--config-base64: the child's status"
assert_eq b64 "$OUT" "--config-base64: the child's output"

mx --config-base64 'not base64!'
assert_eq 1 "$RC" "--config-base64 with bad base64: exit 1"
assert_one_line_error "--config-base64 with bad base64" "config-base64.*base64"

mx --config-base64 "$(printf '%s' '{"process": {"commandLine": "true"}}' | base64 -w0)" "$CFG"
assert_eq 1 "$RC" "CONFIG and --config-base64 together: exit 1"

# ---- the container's view ------------------------------------------------------------
probe="mxc-exec-probe-$$-$RANDOM"
wire "$(jq -n --arg p "$probe" '{process: {commandLine: (
  "ls /usr/bin/env >/dev/null && echo usr-visible; cat /etc/hostname >/dev/null && echo etc-visible; " +
  "touch /usr/" + $p + " 2>&1; touch /etc/" + $p + " 2>&1; " +
  "echo tmp > /tmp/" + $p + " && cat /tmp/" + $p + "; ls -d /proc/self /dev/null")}}')"
mx "$CFG"
assert_eq 0 "$RC" "view: exit 0"
assert_contains "$OUT" "usr-visible" "host /usr is visible"
assert_contains "$OUT" "etc-visible" "host /etc is visible"
assert_contains "$OUT" "touch: cannot touch '/usr/$probe': $EROFS" "host /usr is read-only"
assert_contains "$OUT" "touch: cannot touch '/etc/$probe': $EROFS" "host /etc is read-only"
assert_contains "$OUT" "
tmp
" "/tmp is writable"
assert_contains "$OUT" "/proc/self" "/proc is mounted"
assert_contains "$OUT" "/dev/null" "/dev has the default devices"
for f in "/usr/$probe" "/etc/$probe" "/tmp/$probe"; do
  if [ -e "$f" ]; then fail "$f was written on the host"; rm -f "$f"; else pass "$f is not on the host"; fi
done

# readwritePaths writable, readonlyPaths read-only, deniedPaths unreadable.
wire "$(jq -n --arg rw "$RW" --arg rw2 "$RW2" --arg ro "$RO" --argjson fs "$FS" '{process: {commandLine: (
  "echo new > " + $rw + "/new && cat " + $rw + "/new; " +
  "cat " + $ro + "/data; echo x 2>&1 > " + $ro + "/new || true; " +
  "cat " + $ro + "/secretdir/key 2>&1; cat " + $rw2 + "/deep/hidden/key 2>&1; " +
  "echo rw2-new > " + $rw2 + "/deep/existing && cat " + $rw2 + "/deep/existing")},
  filesystem: $fs}')"
mx "$CFG"
assert_eq 0 "$RC" "policy paths: exit 0"
assert_contains "$OUT" "new" "readwritePaths: writable inside"
assert_eq new "$(cat "$RW/new" 2>/dev/null)" "readwritePaths: the write reaches the host"
assert_contains "$OUT" "ro-data" "readonlyPaths: readable"
assert_contains "$OUT" "$RO/new: $EROFS" "readonlyPaths: not writable"
if [ -e "$RO/new" ]; then fail "readonlyPaths: a file was created on the host"; else pass "readonlyPaths: nothing created on the host"; fi
assert_not_contains "$OUT" "ro-secret" "deniedPaths under a readonly path: content not shown"
assert_not_contains "$OUT" "rw-secret" "deniedPaths under a readwrite path: content not shown"
assert_match "$OUT" "$RO/secretdir/key: ($EACCES|No such file)" "deniedPaths under a readonly path: access fails"
assert_match "$OUT" "$RW2/deep/hidden/key: ($EACCES|No such file)" "deniedPaths under a readwrite path: access fails"
assert_contains "$OUT" "
rw2-new" "an existing file beside the denied path stays writable"

# Outside the policy's paths, the host's files are not there.
wire "$(jq -n --arg rw "$RW" --argjson fs "$FS" '{process: {commandLine: "ls /root /home 2>&1; ls '"$WORK"' 2>&1; true"},
  filesystem: $fs}')"
mx "$CFG"
assert_not_contains "$OUT" "w1.json" "host paths outside the policy are not visible"

# ---- network ---------------------------------------------------------------------------
host_net=$(readlink /proc/self/ns/net)
wire '{"process": {"commandLine": "readlink /proc/self/ns/net; grep -c : /proc/net/dev"}}'
mx "$CFG"
assert_ne "$host_net" "$(printf '%s\n' "$OUT" | head -n1)" "no network section: own network namespace"
assert_eq 1 "$(printf '%s\n' "$OUT" | sed -n 2p)" "no network section: only loopback"

wire '{"process": {"commandLine": "readlink /proc/self/ns/net"}, "network": {"egress": {"default": "allow"}}}'
mx "$CFG"
assert_eq "$host_net" "$OUT" "egress default allow: the host's network"

# The host's loopback (ingress.hostLoopback): with direct egress the container
# shares the host's network, so 127.0.0.1 there is the host's. A server on it:
lo_port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
python3 -c 'import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(16)
while True:
    c, _ = s.accept(); c.sendall(b"host-loopback-service\n"); c.close()' "$lo_port" &
lo_srv=$!
track_pid "$lo_srv"
for _ in $(seq 50); do python3 -c 'import socket, sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), 1)' "$lo_port" 2>/dev/null && break; sleep 0.1; done
# CONNECT ADDR: what connecting from inside says (the first line the service sends, or the error).
probe() {
  printf 'python3 -c '"'"'import socket\ntry:\n  print(socket.create_connection(("%s", %s), 3).recv(64).decode().strip())\nexcept OSError as e:\n  print(type(e).__name__)'"'" "$1" "$lo_port"
}
lo_rules='{"allow": [{"to": [{"cidr": "10.0.0.0/8"}]}]}'
wire "$(jq -n --arg c "$(probe 127.0.0.1); $(probe 0.0.0.0); $(probe ::1)" --argjson e "$lo_rules" \
  '{process: {commandLine: $c}, network: {egress: $e}}')"
mx "$CFG"
assert_eq "PermissionError
PermissionError
PermissionError" "$OUT" "egress rules: the host's loopback (127.0.0.1, 0.0.0.0, ::1) is refused with EPERM"
# The rules themselves: a service on this host's own non-loopback address is
# outside 10.0.0.0/8 (when the host has one there, it is inside).
host_ip=$(ip -4 -o addr show scope global 2>/dev/null | awk '{sub("/.*", "", $4); print $4; exit}')
if [ -n "$host_ip" ]; then
  python3 -c 'import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[1], int(sys.argv[2]))); s.listen(16)
while True:
    c, _ = s.accept(); c.sendall(b"host-address-service\n"); c.close()' "$host_ip" "$lo_port" &
  ip_srv=$!
  track_pid "$ip_srv"
  for _ in $(seq 50); do python3 -c 'import socket, sys; socket.create_connection((sys.argv[1], int(sys.argv[2])), 1)' "$host_ip" "$lo_port" 2>/dev/null && break; sleep 0.1; done
  case $host_ip in 10.*) want="host-address-service" ;; *) want="PermissionError" ;; esac
  wire "$(jq -n --arg c "$(probe "$host_ip")" --argjson e "$lo_rules" '{process: {commandLine: $c}, network: {egress: $e}}')"
  mx "$CFG"
  assert_eq "$want" "$OUT" "egress rules allow 10.0.0.0/8: this host's $host_ip is judged by them ($want)"
  wire "$(jq -n --arg c "$(probe "$host_ip")" --arg cidr "$host_ip/32" '{process: {commandLine: $c}, network: {egress: {allow: [{to: [{cidr: $cidr}]}]}}}')"
  mx "$CFG"
  assert_eq "host-address-service" "$OUT" "egress rules allowing $host_ip/32: its service answers"
  kill "$ip_srv" 2>/dev/null || true
else
  log "SKIP - egress rules against a host address: this host has no global IPv4 address"
fi
wire "$(jq -n --arg c "$(probe 127.0.0.1); $(probe ::1)" --argjson e "$lo_rules" \
  '{process: {commandLine: $c}, network: {egress: $e, ingress: {hostLoopback: "allow"}}}')"
mx "$CFG"
assert_eq "host-loopback-service
ConnectionRefusedError" "$OUT" "ingress.hostLoopback allow: the host's loopback service answers (::1 has none)"
wire "$(jq -n --arg c "$(probe 127.0.0.1)" '{process: {commandLine: $c}, network: {egress: {default: "allow"}, ingress: {hostLoopback: "deny"}}}')"
mx "$CFG"
assert_eq "PermissionError" "$OUT" "egress default allow, hostLoopback deny: the host's loopback is refused"
wire "$(jq -n --arg c "$(probe 127.0.0.1)" '{process: {commandLine: $c}, network: {egress: {default: "allow"}}}')"
mx "$CFG"
assert_eq "host-loopback-service" "$OUT" "egress default allow alone: the host's network, unfiltered"
wire '{"process": {"commandLine": "true"}, "network": {"ingress": {"hostLoopback": "allow"}}}'
mx "$CFG"
assert_eq 1 "$RC" "hostLoopback allow without direct egress: a request error (exit 1)"
assert_contains "$ERR" "network.ingress.hostLoopback: allow needs direct egress" "the error names the field"
kill "$lo_srv" 2>/dev/null || true

wire '{"process": {"commandLine": "echo $HTTPS_PROXY"}, "network": {"defaultPolicy": "block", "allowedHosts": ["example.com"]}}'
mx "$CFG"
assert_eq 0 "$RC" "allowedHosts: exit 0"
assert_match "$OUT" "^http://127\.0\.0\.1:[0-9]+$" "allowedHosts: the proxy is announced"

# ---- nothing left behind ---------------------------------------------------------------
ids=$(jq -r .id "$ROOT/audit.log" 2>/dev/null | sort -u)
count=$(printf '%s\n' "$ids" | grep -c '^mxc-exec-[0-9a-f]\{16\}$' || true)
if [ "$count" -ge 10 ]; then pass "$count containers recorded in the audit log"; else fail "audit ids: $ids"; fi
left=""
for id in $ids; do
  [ -e "$ROOT/$id" ] && left+=" state:$id"
  [ -e "$ROOT/@mxc-exec/$id" ] && left+=" bundle:$id"
  left+=$(find /sys/fs/cgroup -maxdepth 6 -type d -name "$id" -printf ' cgroup:%p' 2>/dev/null)
done
[ -e "$ROOT/@mxc-exec" ] && left+=" $ROOT/@mxc-exec"
if [ -z "$left" ]; then pass "no state dir, bundle or cgroup left"; else fail "left behind:$left"; fi
assert_eq "" "$(rt list -q)" "no container listed"
assert_eq "" "$(leftover_mounts)" "no mount left"
