#!/bin/bash
# The bubblewrap backend run by an unprivileged user: bwrap builds the sandbox
# in a user namespace (no setuid, no cgroups: --cgroup-manager disabled).
# Needs root only to create the user and to hand it its directories.
# shellcheck disable=SC2016 # jq filters and in-container scripts are single-quoted on purpose
set -euo pipefail
. "$(dirname "$0")/lib.sh"

[ -x /usr/bin/bwrap ] || skip "/usr/bin/bwrap is missing (apt-get install -y bubblewrap)"
mxc_only || skip "the bubblewrap backend is mxc-runtime's own"
RUSER=mxcrootless
if ! id -u "$RUSER" >/dev/null 2>&1; then
  command -v useradd >/dev/null || skip "no user $RUSER and no useradd to create it"
  useradd -m "$RUSER" 2>/dev/null || id -u "$RUSER" >/dev/null # idempotent under races
fi
RUID=$(id -u "$RUSER")
if [ "$(cat /proc/sys/kernel/unprivileged_userns_clone 2>/dev/null || echo 1)" = 0 ] ||
  ! runuser -u "$RUSER" -- unshare --user true 2>/dev/null; then
  skip "unprivileged user namespaces are disabled"
fi
runuser -u "$RUSER" -- test -x "$RUNTIME" || skip "$RUNTIME is not executable by $RUSER"
runuser -u "$RUSER" -- test -r "$ROOTFS_CACHE/bin/busybox" || skip "$ROOTFS_CACHE is not readable by $RUSER"

# The user's own --root; lib.sh's cleanup force-deletes whatever is left there.
RROOT=$TEST_TMP/rootless-state
mkdir -p "$RROOT"
chown "$RUSER:" "$RROOT"
chmod 700 "$RROOT"
register_root "$RROOT"
shared=$WORK/rl-shared
mkdir -p "$shared"
chown "$RUSER:" "$shared"

# rrt ARGS...: the runtime as the unprivileged user, with a clean environment.
rrt() {
  timeout -k 5 "${RT_TIMEOUT:-60}" runuser -u "$RUSER" -- env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
    HOME="$(getent passwd "$RUSER" | cut -d: -f6)" "$RUNTIME" --root "$RROOT" --cgroup-manager disabled "$@"
}
rstate() { rrt state "$1" 2>/dev/null | jq -r ".$2 // empty" 2>/dev/null || true; }
rwait_status() { # ID STATUS
  local i
  for ((i = 0; i < 100; i++)); do
    [ "$(rstate "$1" status)" = "$2" ] && return 0
    sleep 0.1
  done
  return 1
}
# rl_bundle NAME [JQ-FILTER [JQ-ARGS...]]: a bubblewrap bundle owned by the user.
rl_bundle() {
  local name=$1 filter=${2:-.}
  shift 2 2>/dev/null || shift $#
  make_bundle "$WORK/$name" "($filter) | .mxc.isolation.backend = \"bubblewrap\"" "$@"
  chown -R "$RUSER:" "$WORK/$name"
}
rl_run() { # NAME JQ-FILTER
  rl_bundle "$@"
  run_cmd rrt run -b "$WORK/$1" "$(cid "$1")"
}

# ---- run ------------------------------------------------------------------
rl_run exit7 '.process.args = ["sh", "-c", "exit 7"]'
assert_eq 7 "$RC" "rootless run exits with the process's status (exit 7)"
rl_run stdio '.process.args = ["sh", "-c", "echo to-out; echo to-err >&2"]'
assert_eq "to-out|to-err" "$OUT|$ERR" "rootless run: stdout and stderr are the caller's"
rl_run settings '.process.args = ["sh", "-c", "echo \"$FOO|$(pwd)|$(hostname)|$(id -u):$(id -g)|$$\""]
  | .process.env += ["FOO=bar"] | .process.cwd = "/etc" | .hostname = "rl-host"'
assert_eq "bar|/etc|rl-host|0:0|1" "$OUT" "rootless: env, cwd, hostname, uid 0 inside, pid 1"
rl_run mapped '.process.args = ["id", "-u"]
  | .linux.namespaces += [{type: "user"}]
  | .linux.uidMappings = [{containerID: 0, hostID: $uid, size: 1}]
  | .linux.gidMappings = [{containerID: 0, hostID: $uid, size: 1}]' --argjson uid "$RUID"
assert_eq "0|0" "$RC|$OUT" "rootless: explicit one-id uidMappings/gidMappings of the caller"

# ---- create / start / state / kill / delete ------------------------------
script='touch /mnt/started; trap "exit 0" TERM; while :; do sleep 0.1; done'
rl_bundle life '.process.args = ["sh", "-c", $script]
  | .mounts += [{destination: "/mnt", type: "bind", source: $shared, options: ["rbind", "rw"]}]' \
  --arg script "$script" --arg shared "$shared"
id=$(cid life)
assert_status 0 "rootless create succeeds" rrt create -b "$WORK/life" "$id"
pid=$(rstate "$id" pid)
track_pid "$pid"
assert_eq "created" "$(rstate "$id" status)" "rootless: state says created"
sleep 0.5
assert_eq "no" "$([ -e "$shared/started" ] && echo yes || echo no)" "rootless: a created container is blocked"
assert_status 0 "rootless start succeeds" rrt start "$id"
if wait_file "$shared/started" 10; then pass "rootless: the command runs after start"; else fail "rootless: the command did not run"; fi
assert_eq "running" "$(rstate "$id" status)" "rootless: state says running"
assert_eq "$RUID" "$(awk '/^Uid:/ {print $3}' /proc/"$pid"/status 2>/dev/null)" "the process is the unprivileged user on the host"
assert_eq "$RUSER" "$(stat -c %U "$shared/started" 2>/dev/null)" "files it creates belong to the user on the host"
assert_ne "$(readlink /proc/self/ns/user)" "$(readlink /proc/"$pid"/ns/user)" "it runs in its own user namespace"
assert_status 0 "rootless kill TERM" rrt kill "$id" TERM
if rwait_status "$id" stopped; then pass "rootless: stopped after TERM"; else fail "rootless: not stopped after TERM"; fi
assert_status 0 "rootless delete" rrt delete "$id"

# ---- mounts, masks, seccomp ---------------------------------------------------
mkdir -p "$WORK/rl-ro" && echo host-data >"$WORK/rl-ro/file"
rl_run mounts '.process.args = ["sh", "-c", "cat /mnt/file; touch /mnt/x 2>/dev/null && echo w || echo ro; echo t > /tmp/t && cat /tmp/t; wc -c < /proc/keys; mkdir /tmp/d 2>&1"]
  | .mounts += [{destination: "/mnt", type: "bind", source: ($work + "/rl-ro"), options: ["rbind", "ro"]},
                {destination: "/tmp", type: "tmpfs", source: "tmpfs", options: ["size=1m"]}]
  | .linux.seccomp = {defaultAction: "SCMP_ACT_ALLOW",
      syscalls: [{names: ["mkdir", "mkdirat"], action: "SCMP_ACT_ERRNO", errnoRet: 1}]}'
assert_eq "host-data
ro
t
0" "$(printf '%s\n' "$OUT" | head -n4)" "rootless: ro bind, tmpfs, masked /proc/keys"
assert_contains "$OUT" "Operation not permitted" "rootless: seccomp makes mkdir fail with EPERM"

# ---- the agent policy -----------------------------------------------------------
pd=$WORK/rl-pol
mkdir -p "$pd/a/h" "$pd/b"
echo a-data >"$pd/a/f"; echo b-data >"$pd/b/f"; echo h-secret >"$pd/a/h/s"
chown -R "$RUSER:" "$pd"
rd='for f in /mnt/a/f /mnt/b/f /mnt/a/h/s; do cat $f 2>/dev/null || echo "no $f"; done
  touch /mnt/a/w 2>/dev/null && echo "w a" || echo "ro a"; touch /mnt/a/h/w 2>/dev/null && echo "w h" || echo "ro h"'
rl_run pol '.process.args = ["sh", "-c", $rd]
  | .mounts += [{destination: "/mnt/a", type: "bind", source: ($pd + "/a"), options: ["rbind", "rw"]},
                {destination: "/mnt/b", type: "bind", source: ($pd + "/b"), options: ["rbind", "rw"]}]
  | .mxc.filesystem = {allowRead: [$rootfs, ($pd + "/a")], denyRead: [($pd + "/a/h")]}' --arg rd "$rd" --arg pd "$pd"
assert_eq "0|a-data
no /mnt/b/f
no /mnt/a/h/s
ro a
ro h" "$RC|$OUT" "rootless policy: allowRead readable and read-only, not-allowed b and denyRead h hidden"
rl_run polw '.process.args = ["sh", "-c", "touch /mnt/a/w && echo w"]
  | .mounts += [{destination: "/mnt/a", type: "bind", source: ($pd + "/a"), options: ["rbind", "rw"]}]
  | .mxc.filesystem = {allowWrite: [($pd + "/a")]}' --arg pd "$pd"
assert_eq "0|w|yes" "$RC|$OUT|$([ -e "$pd/a/w" ] && echo yes)" "rootless policy: allowWrite reaches the host"
rl_run polnet '.process.args = ["sh", "-c", "cat /proc/net/dev | tail -n +3 | cut -d: -f1 | tr -d \" \""]
  | .linux.namespaces |= map(select(.type != "network")) | .mxc.network = {default: "deny"}'
assert_eq "0|lo" "$RC|$OUT" "rootless policy: network.default deny leaves only loopback"
rl_bundle proxy '.mxc.network = {default: "deny", allowDomains: ["example.com"]}'
run_cmd rrt create -b "$WORK/proxy" "$(cid proxy)"
assert_one_line_error "rootless policy: allowDomains is refused, naming the field" \
  '^mxc-runtime: policy: network\.allowDomains: the bubblewrap backend without root cannot'
rl_bundle x11 '.mounts += [{destination: "/tmp/.X11-unix", type: "bind", source: $pd, options: ["rbind"]}]
  | .mxc.desktop = {shareClipboard: false}' --arg pd "$pd"
run_cmd rrt create -b "$WORK/x11" "$(cid x11)"
assert_one_line_error "rootless policy: a host X11 socket dir is refused" \
  '^mxc-runtime: mounts\[6\]: destination /tmp/.X11-unix: the agent policy gives the container no host display'

# ---- refused ----------------------------------------------------------------
rl_bundle badmount '.mounts += [{destination: "/mnt", type: "nfs", source: "server:/x"}]'
run_cmd rrt create -b "$WORK/badmount" "$(cid badmount)"
assert_ne 0 "$RC" "rootless: an unsupported mount type fails create"
assert_one_line_error "rootless bad mount" 'mounts\[6\]\.type.*nfs'
rl_bundle badmap '.linux.namespaces += [{type: "user"}]
  | .linux.uidMappings = [{containerID: 0, hostID: 0, size: 65536}]'
run_cmd rrt create -b "$WORK/badmap" "$(cid badmap)"
assert_one_line_error "rootless uid range" 'linux\.uidMappings'

run_cmd rrt list -q
assert_eq "" "$OUT" "rootless: no container left listed"
assert_eq "" "$(find "$RROOT" -mindepth 1 -maxdepth 1 ! -name audit.log)" "rootless: nothing left in the user's --root (but the audit log)"
assert_nothing_left "rootless bubblewrap backend"
