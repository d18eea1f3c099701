#!/usr/bin/env bash
# mxc-runtime as a docker runtime (daemon.json "runtimes"), through dockerd's own containerd
# and the runc shim:
#   RUNTIME=/path/to/mxc-runtime SOURCE_DIR=/path/to/repo tests/clients/test_docker.sh
# Starts its own dockerd (data-root, exec-root, socket in a temp dir; --iptables=false,
# --bridge=none, --ip-forward=false: no host network or firewall changes; cgroup parent
# /mxc-clients-docker-PID, absolute: a relative parent is placed differently by runc
# (under the runtime's own cgroup) and mxc-runtime (under /mxc), see docs/clients.md), loads a docker-archive of the busybox rootfs from
# tests/lib/make-rootfs.sh, and runs containers with --runtime mxc.
# Exit 0 all passed, 1 some failed, 77 dockerd is not usable here.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"
require_runtime

command -v dockerd >/dev/null || skip "dockerd is not installed (tests/clients/install-clients.sh docker)"
command -v docker >/dev/null || skip "the docker CLI is not installed"
command -v jq >/dev/null || skip "jq is not installed"

WORK=$(mktemp -d /tmp/mxc-clients-docker.XXXXXX)
CGPARENT=mxc-clients-docker-$$
had_key=0; [ -e /etc/docker/key.json ] && had_key=1          # dockerd writes its trust key there
had_run_docker=0; [ -d /run/docker ] && had_run_docker=1      # /run/docker/plugins is fixed
had_run_containerd=0; [ -d /run/containerd ] && had_run_containerd=1 # shim sockets: /run/containerd/s
DOCKERD_PID=
export DOCKER_HOST=unix://$WORK/docker.sock DOCKER_CONFIG=$WORK/cli

cleanup() {
  set +e
  if [ -n "$DOCKERD_PID" ] && kill -0 "$DOCKERD_PID" 2>/dev/null; then
    docker ps -aq | xargs -r docker rm -f >/dev/null 2>&1
    kill "$DOCKERD_PID" 2>/dev/null
    for _ in $(seq 100); do kill -0 "$DOCKERD_PID" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$DOCKERD_PID" 2>/dev/null
  fi
  # dockerd's containerd and its shims, if they outlived it
  for p in $(pgrep -f "$WORK/exec/containerd" 2>/dev/null); do kill -9 "$p" 2>/dev/null; done
  for p in $(pgrep -f "containerd-shim-runc-v2 -namespace moby -id .* -address $WORK/" 2>/dev/null); do
    kill -9 "$p" 2>/dev/null; done
  for d in "$WORK"/exec/runtime-*/moby; do
    [ -d "$d" ] || continue
    for id in $(ls "$d"); do
      "$RUNTIME" --root "$d" kill "$id" KILL >/dev/null 2>&1
      "$RUNTIME" --root "$d" delete --force "$id" >/dev/null 2>&1
    done
  done
  umount_under "$WORK"
  rm -rf "$WORK"
  for d in /sys/fs/cgroup/*/"$CGPARENT" /sys/fs/cgroup/unified/"$CGPARENT"; do
    [ -d "$d" ] && find "$d" -depth -type d -exec rmdir {} \; 2>/dev/null
  done
  [ $had_key -eq 0 ] && rm -f /etc/docker/key.json
  [ $had_run_docker -eq 0 ] && rm -rf /run/docker
  [ $had_run_containerd -eq 0 ] && rm -rf /run/containerd
}
trap cleanup EXIT

# Test fixture, used only while the known bug below stops `docker run --runtime mxc`:

# The daemon.json docs/clients.md describes, plus temp-dir isolation.
cat >"$WORK/daemon.json" <<EOF
{
  "runtimes": {
    "mxc": { "path": "$RUNTIME" }
  },
  "iptables": false,
  "ip-forward": false,
  "ip-masq": false,
  "bridge": "none",
  "cgroup-parent": "/$CGPARENT",
  "storage-driver": "overlay2"
}
EOF
dockerd --config-file "$WORK/daemon.json" --data-root "$WORK/data" --exec-root "$WORK/exec" \
  --pidfile "$WORK/docker.pid" -H "$DOCKER_HOST" >"$WORK/dockerd.log" 2>&1 &
DOCKERD_PID=$!
if ! wait_for 60 docker version; then
  tail -20 "$WORK/dockerd.log"; skip "dockerd did not come up"
fi

make_image_tar "$WORK" "$WORK/busybox.tar"
docker load -i "$WORK/busybox.tar" >/dev/null || skip "docker load failed"
IMG=localhost/busybox:latest
RT=mxc

# --- docker's default resources: it writes cpu.shares 0 and blockIO.weight 0 for "unset" ----
rc=0; out=$(docker run --rm --runtime mxc $IMG echo hi 2>&1) || rc=$?
if [ $rc -eq 0 ] && [ "$out" = hi ]; then
  ok "run --rm --runtime mxc echo hi (docker's default cpu.shares=0, blockIO.weight=0)"
else
  fail "run --rm --runtime mxc echo hi"; printf '%s\n' "$out" | sed 's/^/    /'
fi
D() { docker "$@"; }
cname() { echo "mxcd-$1-$$"; }
rtroot() { ls -d "$WORK"/exec/runtime-*/moby 2>/dev/null | head -1; }

out=$(D run --rm --runtime $RT $IMG echo hi 2>&1) || true
expect_eq "run --rm echo hi" hi "$out"
rc=0; D run --rm --runtime $RT $IMG sh -c 'exit 3' || rc=$?
expect_eq "run --rm: exit status (sh -c 'exit 3')" 3 "$rc"
out=$(D run --rm --runtime $RT -e FOO=bar -w /tmp -u 65534:65534 $IMG sh -c 'echo $FOO $(pwd) $(id -u):$(id -g)' 2>&1) || true
expect_eq "env, workdir and user reach the process" "bar /tmp 65534:65534" "$out"
out=$(printf 'from-stdin\n' | D run --rm -i --runtime $RT $IMG cat 2>&1) || true
expect_eq "run -i: stdin reaches the container" from-stdin "$out"
out=$(script -qec "docker run --rm -it --runtime $RT $IMG sh -c 'tty; echo tty-ok'" /dev/null </dev/null 2>&1 | tr -d '\r') || true
expect_contains "run -it: pty through --console-socket" /dev/pts/ "$out"
expect_contains "run -it: output through the pty" tty-ok "$out"

# --- run -d, exec, top, update, pause, stop, rm ---------------------------------------------
c1=$(cname c1)
check "run -d" D run -d --runtime $RT --name "$c1" $IMG sleep 1000
id1=$(D inspect -f '{{.Id}}' "$c1" 2>/dev/null || echo none)
expect_eq "run -d: running" running "$(D inspect -f '{{.State.Status}}' "$c1" 2>&1)"
root=$(rtroot)
st=$("$RUNTIME" --root "${root:-/nonexistent}" state "$id1" 2>&1) || true
expect_contains "runtime state under dockerd's runtime root: running" '"status": "running"' "$st"

out=$(D exec "$c1" sh -c 'echo in-exec; echo to-stderr >&2' 2>&1) || true
expect_contains "exec: stdout" in-exec "$out"
expect_contains "exec: stderr" to-stderr "$out"
rc=0; D exec "$c1" sh -c 'exit 5' || rc=$?
expect_eq "exec: exit status" 5 "$rc"
out=$(printf 'exec-stdin\n' | D exec -i "$c1" cat 2>&1) || true
expect_eq "exec -i: stdin" exec-stdin "$out"
out=$(script -qec "docker exec -it $c1 sh -c 'tty; echo exec-tty-ok'" /dev/null </dev/null 2>&1 | tr -d '\r') || true
expect_contains "exec -it: pty through --console-socket" /dev/pts/ "$out"
expect_contains "exec -it: output through the pty" exec-tty-ok "$out"

out=$(D top "$c1" 2>&1) || true
expect_contains "top lists the container's process" "sleep 1000" "$out"

mem=/sys/fs/cgroup/memory/$CGPARENT/$id1
if [ -d "$mem" ]; then ok "cgroup is $CGPARENT/<id> (daemon cgroup-parent)"; else fail "cgroup is $CGPARENT/<id> (no $mem)"; fi
soft_before=$(cat "$mem/memory.soft_limit_in_bytes" 2>/dev/null || echo none)
# docker sends every field, unset ones as 0:
# {"memory":{"limit":N,"reservation":0,"swap":M,"kernel":0},"cpu":{"shares":0,"quota":0,"period":0},"blockIO":{"weight":0}}
rc=0; out=$(D update --memory 64m --memory-swap 128m "$c1" 2>&1) || rc=$?
expect_eq "update --memory 64m: memory.limit_in_bytes" 67108864 "$(cat "$mem/memory.limit_in_bytes" 2>&1)"
expect_eq "update --memory-swap 128m: memory.memsw.limit_in_bytes" 134217728 "$(cat "$mem/memory.memsw.limit_in_bytes" 2>&1)"
known_bug "update --memory 64m succeeds (docker sends cpu.shares/quota/period and blockIO.weight as 0)" \
  "update writes the zeros instead of leaving them unset" test "$rc" -eq 0
known_bug "update leaves memory.soft_limit_in_bytes alone (docker sends reservation 0)" \
  "memory.reservation 0 is written as a 0 soft limit" \
  test "$soft_before" = "$(cat "$mem/memory.soft_limit_in_bytes" 2>&1)"
known_bug "docker inspect: HostConfig.Memory is the new limit" "docker keeps the old value when update fails" \
  test "$(D inspect -f '{{.HostConfig.Memory}}' "$c1" 2>&1)" = 67108864

check "pause" D pause "$c1"
expect_eq "pause: docker says paused" paused "$(D inspect -f '{{.State.Status}}' "$c1" 2>&1)"
expect_contains "pause: runtime says paused" '"status": "paused"' "$("$RUNTIME" --root "${root:-/nonexistent}" state "$id1" 2>&1)"
check "unpause" D unpause "$c1"
expect_eq "unpause: running" running "$(D inspect -f '{{.State.Status}}' "$c1" 2>&1)"

t0=$SECONDS
check "stop -t 2 (sleep ignores SIGTERM: docker escalates to SIGKILL)" D stop -t 2 "$c1"
expect_eq "stop: exited 137" "exited 137" "$(D inspect -f '{{.State.Status}} {{.State.ExitCode}}' "$c1" 2>&1)"
check "start after stop" D start "$c1"
expect_eq "start: running" running "$(D inspect -f '{{.State.Status}}' "$c1" 2>&1)"
check "rm -f a running container" D rm -f "$c1"
if D inspect "$c1" >/dev/null 2>&1; then fail "rm: gone from docker"; else ok "rm: gone from docker"; fi
if [ -e "${root:-/nonexistent}/$id1" ]; then fail "rm: gone from the runtime's state"; else ok "rm: gone from the runtime's state"; fi
if [ -d "$mem" ]; then fail "rm: cgroup removed"; else ok "rm: cgroup removed"; fi

# --- signals: kill -s TERM and a graceful stop ---------------------------------------------
c2=$(cname c2)
D run -d --runtime $RT --name "$c2" $IMG sh -c 'trap "exit 42" TERM; echo ready; while :; do sleep 0.1; done' >/dev/null
wait_for 10 sh -c "docker logs $c2 2>&1 | grep -q ready" || true
check "kill -s TERM" D kill -s TERM "$c2"
expect_eq "kill -s TERM: the TERM trap ran (exit 42)" 42 "$(timeout 30 docker wait "$c2" 2>&1)"
D rm -f "$c2" >/dev/null 2>&1 || true

c3=$(cname c3)
D run -d --runtime $RT --name "$c3" $IMG sh -c 'trap "exit 0" TERM; echo ready; while :; do sleep 0.1; done' >/dev/null
wait_for 10 sh -c "docker logs $c3 2>&1 | grep -q ready" || true
t0=$SECONDS
check "stop (graceful: SIGTERM handled)" D stop -t 20 "$c3"
expect_eq "stop: exit code 0" 0 "$(D inspect -f '{{.State.ExitCode}}' "$c3" 2>&1)"
[ $((SECONDS - t0)) -lt 15 ] && ok "stop: did not wait for the timeout" || fail "stop: took $((SECONDS - t0)) s"
check "rm a stopped container" D rm "$c3"

# --- create failures -----------------------------------------------------------------------
rc=0; out=$(D run --rm --runtime $RT $IMG no-such-command 2>&1) || rc=$?
expect_contains "missing command: 'OCI runtime create failed'" "OCI runtime create failed" "$out"
expect_contains "missing command: our message" "executable file not found" "$out"
expect_eq "missing command (PATH lookup): docker run exits 127" 127 "$rc"
rc=0; out=$(D run --rm --runtime $RT $IMG /no/such/file 2>&1) || rc=$?
known_bug "missing command (absolute path): docker run exits 127 like with runc" \
  "message lacks 'no such file or directory', docker maps it to 125" test "$rc" -eq 127

finish
