#!/bin/bash
# The bubblewrap backend (plugins/bubblewrap): bundles that select it with
# mxc.isolation.backend run under bwrap(1) through the usual lifecycle.
# shellcheck disable=SC2016 # jq filters and in-container scripts are single-quoted on purpose
set -euo pipefail
. "$(dirname "$0")/lib.sh"

[ -x /usr/bin/bwrap ] || skip "/usr/bin/bwrap is missing (apt-get install -y bubblewrap)"
mxc_only || skip "the bubblewrap backend is mxc-runtime's own"

# bw_bundle DIR [JQ-FILTER [JQ-ARGS...]]: make_bundle, run by the bubblewrap backend.
bw_bundle() {
  local dir=$1 filter=${2:-.}
  shift 2 2>/dev/null || shift $#
  make_bundle "$dir" "($filter) | .mxc.isolation.backend = \"bubblewrap\"" "$@"
}
# bw_run NAME JQ-FILTER [JQ-ARGS...]: a foreground run of a fresh bundle; sets RC/OUT/ERR.
bw_run() {
  local name=$1
  shift
  bw_bundle "$WORK/$name" "$@"
  run_cmd rt run -b "$WORK/$name" "$(cid "$name")"
}

# ---- exit status and stdio ------------------------------------------------
bw_run exit7 '.process.args = ["sh", "-c", "exit 7"]'
assert_eq 7 "$RC" "run exits with the process's status (exit 7)"
bw_run stdio '.process.args = ["sh", "-c", "echo to-out; echo to-err >&2"]'
assert_eq 0 "$RC" "run of echo exits 0"
assert_eq "to-out" "$OUT" "the process's stdout is the caller's"
assert_eq "to-err" "$ERR" "the process's stderr is the caller's"
bw_run selfkill '.process.args = ["sh", "-c", "kill -KILL $$; sleep 5"]
  | .linux.namespaces |= map(select(.type != "pid"))'
assert_eq 137 "$RC" "a process killed by SIGKILL inside exits 137"

# ---- create / start / state / kill / delete ------------------------------
shared=$WORK/shared
mkdir -p "$shared"
script='echo $$ > /mnt/pid-$NAME; touch /mnt/started-$NAME; trap "exit 0" TERM; while :; do sleep 0.1; done'
mk() { # NAME
  bw_bundle "$WORK/$1" '.process.args = ["sh", "-c", $script]
    | .process.env += ["NAME=" + $name]
    | .mounts += [{destination: "/mnt", type: "bind", source: ($work + "/shared"), options: ["rbind", "rw"]}]' \
    --arg script "$script" --arg name "$1"
}
mk life
id=$(cid life)
assert_status 0 "create succeeds" rt create -b "$WORK/life" "$id"
pid=$(state_field "$id" pid)
track_pid "$pid"
assert_eq "created" "$(state_field "$id" status)" "state says created"
assert_eq "bubblewrap" "$(state_field "$id" backend)" "state names the backend"
assert_eq "yes" "$(kill -0 "$pid" 2>/dev/null && echo yes || echo no)" "the created container's process exists on the host"
sleep 0.5
assert_eq "no" "$([ -e "$shared/started-life" ] && echo yes || echo no)" "a created container is blocked: its command has not run"
assert_status 0 "start succeeds" rt start "$id"
if wait_file "$shared/started-life" 10; then pass "after start the command runs"; else fail "the command did not run after start"; fi
assert_eq "running" "$(state_field "$id" status)" "state says running"
assert_eq "$pid" "$(state_field "$id" pid)" "start keeps the pid"
assert_eq "1" "$(cat "$shared/pid-life" 2>/dev/null)" "the process is pid 1 of its pid namespace"
assert_eq "sh" "$(cat /proc/"$pid"/comm 2>/dev/null)" "state's pid is the sandboxed process itself (not bwrap)"
assert_ne "$(readlink /proc/self/ns/pid)" "$(readlink /proc/"$pid"/ns/pid)" "it has its own pid namespace"
assert_ne "$(readlink /proc/self/ns/net)" "$(readlink /proc/"$pid"/ns/net)" "it has its own network namespace"
if [ -n "$(leftover_cgroups)" ]; then
  assert_contains "$(cat /proc/"$pid"/cgroup)" "$id" "the process is in the container's cgroup"
fi
assert_status nonzero "start of a running container fails" rt start "$id"
assert_status nonzero "exec fails" rt exec "$id" true
assert_one_line_error "exec" 'does not support exec'
assert_status 0 "kill TERM succeeds" rt kill "$id" TERM
if wait_status "$id" stopped 10; then pass "the process exits on TERM: stopped"; else fail "not stopped after TERM"; fi
assert_status 0 "delete succeeds" rt delete "$id"
assert_eq "no" "$([ -d "$ROOT/$id" ] && echo yes || echo no)" "delete removes the state dir"

# Killed while still created: the command never runs.
mk never
id=$(cid never)
rt create -b "$WORK/never" "$id" </dev/null >/dev/null 2>&1
track_pid "$(state_field "$id" pid)"
assert_status 0 "kill KILL of a created container" rt kill "$id" KILL
if wait_status "$id" stopped 10; then pass "created + KILL: stopped"; else fail "created + KILL: not stopped"; fi
assert_status nonzero "start of a stopped container fails" rt start "$id"
assert_status 0 "delete of the stopped container" rt delete "$id"
assert_eq "no" "$([ -e "$shared/started-never" ] && echo yes || echo no)" "the command of a container killed before start never ran"

# delete --force of a running one, and a foreground run killed from outside.
mk forced
id=$(cid forced)
rt run -d -b "$WORK/forced" "$id" </dev/null >/dev/null 2>&1
track_pid "$(state_field "$id" pid)"
wait_file "$shared/started-forced" 10 || true
assert_status 0 "delete --force of a running container" rt delete --force "$id"
mk fg
id=$(cid fg)
rt run -b "$WORK/fg" "$id" </dev/null >/dev/null 2>&1 &
runpid=$!
if wait_file "$shared/started-fg" 10 && wait_status "$id" running 5; then
  rt kill "$id" KILL
  rc=0
  wait "$runpid" || rc=$?
  assert_eq 137 "$rc" "a foreground run whose process is killed by 'kill ID KILL' exits 137"
else
  fail "foreground container $id never ran"
  wait "$runpid" || true
fi

# ---- process settings -----------------------------------------------------
export MXC_HOST_ONLY=leak
bw_run settings '.process.args = ["sh", "-c", "echo \"$FOO|${MXC_HOST_ONLY:-unset}|$(pwd)|$(hostname)|$(id -u)\""]
  | .process.env += ["FOO=bar baz"] | .process.cwd = "/etc" | .hostname = "bw-host"'
unset MXC_HOST_ONLY
assert_eq "bar baz|unset|/etc|bw-host|0" "$OUT" "env (only process.env), cwd, hostname and uid"
bw_run caps '.process.args = ["sh", "-c", "grep CapEff /proc/self/status; grep NoNewPrivs /proc/self/status"]'
assert_contains "$OUT" "0000000020000420" "effective capabilities are the bounding list (AUDIT_WRITE, KILL, NET_BIND_SERVICE)"
assert_match "$OUT" 'NoNewPrivs:[[:space:]]+1' "no_new_privs is set"

# ---- mounts ---------------------------------------------------------------
mkdir -p "$WORK/rodir"
echo host-data >"$WORK/rodir/file"
bw_run robind '.process.args = ["sh", "-c", "cat /mnt/file; touch /mnt/new && echo wrote || echo refused"]
  | .mounts += [{destination: "/mnt", type: "bind", source: ($work + "/rodir"), options: ["rbind", "ro"]}]'
assert_eq "host-data
refused" "$OUT" "a read-only bind shows the host files and refuses writes"
assert_eq "no" "$([ -e "$WORK/rodir/new" ] && echo yes || echo no)" "nothing was written through the read-only bind"
bw_run tmpfs '.process.args = ["sh", "-c", "grep \" /tmp \" /proc/mounts | cut -d\" \" -f3; echo x > /tmp/t && cat /tmp/t"]
  | .mounts += [{destination: "/tmp", type: "tmpfs", source: "tmpfs", options: ["size=1m", "mode=1777"]}]'
assert_eq "tmpfs
x" "$OUT" "a tmpfs mount is a writable tmpfs"
bw_run rootro '.process.args = ["sh", "-c", "touch /rootfs-write && echo wrote || echo refused"] | .root.readonly = true'
assert_eq "refused" "$OUT" "root.readonly refuses writes to /"
bw_run masked '.process.args = ["sh", "-c", "wc -c < /proc/keys; ls /sys/firmware | wc -l; touch /proc/sys/x 2>/dev/null && echo w || echo ro; grep -c \" /proc/sys ro,\" /proc/self/mountinfo"]'
assert_eq "0
0
ro
1" "$OUT" "maskedPaths: /proc/keys empty, /sys/firmware empty; readonlyPaths: /proc/sys read-only"

# ---- seccomp --------------------------------------------------------------
bw_run seccomp '.process.args = ["sh", "-c", "mkdir /tmp/d 2>&1; echo rc=$?; touch /tmp/f && echo touched"]
  | .mounts += [{destination: "/tmp", type: "tmpfs", source: "tmpfs"}]
  | .linux.seccomp = {defaultAction: "SCMP_ACT_ALLOW", architectures: ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_AARCH64"],
      syscalls: [{names: ["mkdir", "mkdirat"], action: "SCMP_ACT_ERRNO", errnoRet: 1}]}'
assert_contains "$OUT" "Operation not permitted" "seccomp: mkdir fails with EPERM"
assert_contains "$OUT" "rc=1" "seccomp: mkdir exits non-zero"
assert_contains "$OUT" "touched" "seccomp: other syscalls still work"

# ---- a setup failure only bwrap sees ----------------------------------------
# create: an error naming bwrap's reason, nothing left. run (which skips the
# create/start barrier, MXC_CREATE_START_FOLLOWS): bwrap's own one-line reason
# on stderr, a non-zero exit, nothing left either.
bw_bundle "$WORK/filedir" '.mounts += [{destination: "/etc", type: "bind", source: "/etc/hostname", options: ["rbind"]}]'
run_cmd rt create -b "$WORK/filedir" "$(cid filedir)"
assert_ne 0 "$RC" "a file bound over a directory: create fails"
assert_contains "$ERR" "bwrap: Can't create file at /etc" "create reports bwrap's reason"
assert_eq "no" "$([ -d "$ROOT/$(cid filedir)" ] && echo yes || echo no)" "create: no state dir left"
run_cmd rt run -b "$WORK/filedir" "$(cid filedir)"
assert_eq 1 "$RC" "a file bound over a directory: run exits 1"
assert_eq "bwrap: Can't create file at /etc: Is a directory" "$ERR" "run shows bwrap's one-line reason"
assert_eq "no" "$([ -d "$ROOT/$(cid filedir)" ] && echo yes || echo no)" "run: no state dir left"

# ---- refused configurations -------------------------------------------------
refused() { # NAME JQ-FILTER ERROR-REGEX
  bw_bundle "$WORK/$1" "$2"
  run_cmd rt create -b "$WORK/$1" "$(cid "$1")"
  assert_ne 0 "$RC" "$1: create fails"
  assert_one_line_error "$1" "$3"
  assert_eq "no" "$([ -d "$ROOT/$(cid "$1")" ] && echo yes || echo no)" "$1: no state dir left"
}
refused badmount '.mounts += [{destination: "/mnt", type: "nfs", source: "server:/x"}]' 'mounts\[6\]\.type.*nfs'
refused badsource '.mounts += [{destination: "/mnt", type: "bind", source: "/nonexistent/src", options: ["rbind"]}]' 'mounts\[6\]\.source'
refused nsjoin '.linux.namespaces += [{type: "cgroup", path: "/proc/1/ns/cgroup"}]' 'linux\.namespaces\[5\]\.path'
refused terminal '.process.terminal = true' 'process\.terminal'
refused badcap '.process.capabilities.bounding += ["CAP_NOT_A_CAP"]' 'capabilities\.bounding\[3\].*CAP_NOT_A_CAP'
refused badsyscall '.linux.seccomp = {defaultAction: "SCMP_ACT_ALLOW", syscalls: [{names: ["nosuchsyscall"], action: "SCMP_ACT_ERRNO"}]}' \
  'linux\.seccomp\.syscalls\[0\]\.names\[0\].*nosuchsyscall'
refused nouts '.linux.namespaces |= map(select(.type != "uts"))' '^.*hostname'
# Fields the backend cannot enforce are refused, each naming itself; none is dropped.
refused noexec '.mounts += [{destination: "/tmp", type: "tmpfs", source: "tmpfs", options: ["nosuid", "noexec"]}]' \
  '^mxc-runtime: mounts\[6\]\.options: "noexec" cannot be enforced by the bubblewrap backend'
refused noexecbind '.mounts += [{destination: "/mnt", type: "bind", source: $work, options: ["rbind", "noexec"]}]' \
  'mounts\[6\]\.options: "noexec" cannot be enforced'
refused propagation '.mounts += [{destination: "/mnt", type: "bind", source: $work, options: ["rbind", "rprivate"]}]' \
  'mounts\[6\]\.options: "rprivate" cannot be enforced'
refused rootfsprop '.linux.rootfsPropagation = "private"' 'linux\.rootfsPropagation.*private'
refused tmpfspercent '.mounts += [{destination: "/tmp", type: "tmpfs", source: "tmpfs", options: ["size=50%"]}]' \
  'mounts\[6\]\.options: "size=50%" cannot be enforced'
refused rwsysfs '.mounts |= map(if .type == "sysfs" then .options -= ["ro"] else . end)' 'mounts\[5\]\.options: a writable sysfs'
refused addgids '.process.user.additionalGids = [0, 10]' 'process\.user\.additionalGids\[1\]: supplementary groups'
refused seccompflags '.linux.seccomp = {defaultAction: "SCMP_ACT_ALLOW", flags: ["SECCOMP_FILTER_FLAG_LOG"]}' \
  'linux\.seccomp\.flags: .*SECCOMP_FILTER_FLAG_LOG'
refused scheduler '.process.scheduler = {policy: "SCHED_OTHER"}' 'process\.scheduler'
refused badioprio '.process.ioPriority = {class: "IOPRIO_CLASS_BE", priority: 9}' 'process\.ioPriority\.priority'

# ... and the ones it can, honoured: ioPriority, and the default config's mount
# options (the bundles above all ran with them).
bw_bundle "$WORK/ioprio" '.process.ioPriority = {class: "IOPRIO_CLASS_BE", priority: 6}
  | .process.args = ["sleep", "30"]'
id=$(cid ioprio)
assert_status 0 "create with process.ioPriority" rt create -b "$WORK/ioprio" "$id"
pid=$(state_field "$id" pid)
track_pid "$pid"
if command -v ionice >/dev/null; then
  assert_eq "best-effort: prio 6" "$(ionice -p "$pid" 2>/dev/null)" "process.ioPriority is the sandboxed process's I/O priority"
fi
assert_status 0 "delete --force of the ioPriority container" rt delete --force "$id"

# ---- the agent policy (bwrap_policy.hpp) ------------------------------------
# Host dirs: a (allowed), b (bound in but not allowed), h (denied inside a).
mkdir -p "$WORK/pol/a/h" "$WORK/pol/b" "$WORK/pol/c"
echo a-data >"$WORK/pol/a/f"; echo b-data >"$WORK/pol/b/f"; echo h-secret >"$WORK/pol/a/h/s"
echo c-data >"$WORK/pol/c/f"; echo file-secret >"$WORK/pol/a/key"
POLB='.mounts += [{destination: "/mnt/a", type: "bind", source: ($work + "/pol/a"), options: ["rbind", "rw"]},
                  {destination: "/mnt/b", type: "bind", source: ($work + "/pol/b"), options: ["rbind", "rw"]}]'
rd='for f in /mnt/a/f /mnt/b/f /mnt/a/h/s /mnt/a/key; do cat $f 2>/dev/null || echo "no $f"; done'
bw_run polread "$POLB"' | .process.args = ["sh", "-c", $rd]
  | .mxc.filesystem = {allowRead: [$rootfs, ($work + "/pol/a")], denyRead: [($work + "/pol/a/h"), ($work + "/pol/a/key")]}' --arg rd "$rd"
assert_eq "0|a-data
no /mnt/b/f
no /mnt/a/h/s
no /mnt/a/key" "$RC|$OUT" "policy: allowRead a is readable; b (not allowed) and denyRead h, key are not"
wr='for d in /mnt/a /mnt/b /mnt/a/h /; do touch $d/w-$$ 2>/dev/null && echo "w $d" || echo "ro $d"; done'
bw_run polwrite "$POLB"' | .process.args = ["sh", "-c", $wr]
  | .mxc.filesystem = {allowRead: [$rootfs, ($work + "/pol/a")], allowWrite: [($work + "/pol/a/h")]}' --arg wr "$wr"
assert_eq "0|ro /mnt/a
ro /mnt/b
w /mnt/a/h
ro /" "$RC|$OUT" "policy: allowWrite inside allowRead is writable, the rest read-only or hidden"
assert_eq "yes" "$(ls "$WORK"/pol/a/h/w-* >/dev/null 2>&1 && echo yes || echo no)" "policy: the allowed write reached the host"
# A host path that no config.json mount shows is bound at its own path.
bw_run polhost '.process.args = ["sh", "-c", "cat $0/f; touch $0/x 2>/dev/null && echo w || echo ro", $dir]
  | .mxc.filesystem = {allowRead: [$dir]}' --arg dir "$WORK/pol/c"
assert_eq "0|c-data
ro" "$RC|$OUT" "policy: allowRead of a host dir not in the bundle binds it read-only at its own path"
bw_run polmissing '.process.args = ["true"] | .mxc.filesystem = {allowRead: [$rootfs]}
  | .mxc.filesystem.allowWrite = [$work + "/pol/nonexistent"]'
assert_ne 0 "$RC" "policy: an allowWrite path that does not exist fails"
# Network: default deny: only loopback, even when config.json shares the host's.
bw_run polnet '.process.args = ["sh", "-c", "ip -o link 2>/dev/null | wc -l; cat /proc/net/dev | tail -n +3 | cut -d: -f1 | tr -d \" \""]
  | .linux.namespaces |= map(select(.type != "network")) | .mxc.network = {default: "deny"}'
assert_eq "0|lo" "$RC|$(tail -n1 <<<"$OUT")" "policy: network.default deny leaves only loopback"
# network.allowDomains in a foreground run: the proxy is served in the netns
# of the pid create() returns there (bwrap's), which must be the sandbox's.
hostip=$(ip -4 route get 1.1.1.1 2>/dev/null | sed -n 's/.* src \([0-9.]*\).*/\1/p' | head -n1)
if [ -n "$hostip" ] && command -v python3 >/dev/null; then
  python3 -c 'import http.server,sys
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200); self.send_header("Content-Length", "8"); self.end_headers(); self.wfile.write(b"web-data")
s = http.server.HTTPServer(("0.0.0.0", 0), H); open(sys.argv[1], "w").write(str(s.server_address[1])); s.serve_forever()' "$WORK/web.tmp" &
  web=$!
  track_pid $web
  wait_file "$WORK/web.tmp" 5 && sleep 0.2
  port=$(cat "$WORK/web.tmp")
  get='for h in allowed denied; do echo $h: $(wget -q -O - http://$h.bw.test:$0/ 2>&1 | tail -n1); done'
  bw_run polproxy '.process.args = ["sh", "-c", $get, $port] | .linux.namespaces |= map(select(.type != "network"))
    | .mxc.network = {default: "deny", allowDomains: ["allowed.bw.test"], hosts: {"allowed.bw.test": [$ip], "denied.bw.test": [$ip]}}' \
    --arg get "$get" --arg port "$port" --arg ip "$hostip"
  assert_contains "$OUT" "allowed: web-data" "policy: allowDomains in a foreground run: the allowed name is reached through the proxy"
  assert_not_contains "$OUT" "denied: web-data" "policy: allowDomains in a foreground run: another name is not"
  kill "$web" 2>/dev/null
  wait "$web" 2>/dev/null || true
fi
# Desktop: abstract unix sockets of the host are out of reach (Landlock scope),
# also in the host's network namespace; a host X11 socket dir is refused.
if command -v python3 >/dev/null && cc -static -O2 -o "$WORK/abstract_connect" "$LIB_DIR/abstract_connect.c" 2>/dev/null; then
  python3 -c 'import socket,sys,time; s=socket.socket(socket.AF_UNIX); s.bind("\0"+sys.argv[1]); s.listen(8); open(sys.argv[2],"w").close(); time.sleep(120)' "mxc-bw-test-$$" "$WORK/listening" &
  listener=$!
  track_pid $listener
  wait_file "$WORK/listening" 5 || die "the abstract socket listener did not start"
  cp "$WORK/abstract_connect" "$WORK/pol/c/ac"
  hostns='.linux.namespaces |= map(select(.type != "network"))'
  bw_run abstractctl "$hostns"' | .process.args = [$ac, $name] | .mounts += [{destination: $dir, type: "bind", source: $dir, options: ["rbind", "ro"]}]' \
    --arg ac "$WORK/pol/c/ac" --arg name "mxc-bw-test-$$" --arg dir "$WORK/pol/c"
  assert_eq "0|connected" "$RC|$OUT" "control: without a policy the host's abstract socket is reachable"
  bw_run abstractpol "$hostns"' | .process.args = [$ac, $name] | .mxc.desktop = {shareClipboard: false}
    | .mxc.filesystem = {allowRead: [$rootfs, $dir]}' --arg ac "$WORK/pol/c/ac" --arg name "mxc-bw-test-$$" --arg dir "$WORK/pol/c"
  assert_eq "1|connect: Operation not permitted" "$RC|$OUT" "policy: the host's abstract unix socket is out of reach"
  kill "$listener" 2>/dev/null
  wait "$listener" 2>/dev/null || true
fi
mkdir -p "$WORK/x11"
refused x11 '.mounts += [{destination: "/tmp/.X11-unix", type: "bind", source: ($work + "/x11"), options: ["rbind"]}]
  | .mxc.desktop = {shareClipboard: false}' \
  '^mxc-runtime: mounts\[6\]: destination /tmp/.X11-unix: the agent policy gives the container no host display, session bus or audio socket \(backend bubblewrap\)$'
refused sysadmin '.process.capabilities.bounding += ["CAP_SYS_ADMIN"] | .mxc.filesystem.denyRead = [$work]' \
  '^mxc-runtime: process\.capabilities\.bounding: CAP_SYS_ADMIN would let the container unmount'
refused denyroot '.mxc.filesystem.denyRead = [$rootfs]' \
  '^mxc-runtime: policy: filesystem\.denyRead\[0\]: [^ ]+: contains the container.s root filesystem'

assert_nothing_left "bubblewrap backend"
