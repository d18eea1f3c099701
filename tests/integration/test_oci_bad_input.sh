#!/bin/bash
# Bad input for cgroups, seccomp, capabilities and exec: a one-line error
# naming the field or id, a non-zero exit, and nothing left behind.
# shellcheck disable=SC2016 # jq filters are single-quoted on purpose
set -euo pipefail
. "$(dirname "$0")/lib.sh"

refused() { # NAME JQ-FILTER ERROR-REGEX
  local b=$WORK/$1 id
  id=$(cid "$1")
  make_bundle "$b" ".process.args = [\"true\"] | $2"
  run_cmd rt create -b "$b" "$id"
  assert_ne 0 "$RC" "$1: create fails"
  assert_one_line_error "$1" "$3"
  assert_nothing_left "$1"
}

refused unknown-syscall '.linux.seccomp = {defaultAction: "SCMP_ACT_ALLOW", syscalls: [{names: ["nosuchsyscall"], action: "SCMP_ACT_ERRNO"}]}' \
  'linux\.seccomp\.syscalls\[0\]\.names\[0\].*nosuchsyscall'
refused unknown-action '.linux.seccomp = {defaultAction: "SCMP_ACT_BOGUS"}' 'linux\.seccomp\.defaultAction'
refused unknown-capability '.process.capabilities.bounding += ["CAP_NOT_A_CAP"]' 'capabilities\.bounding.*CAP_NOT_A_CAP'
refused cgroup-dotdot '.linux.cgroupsPath = "/mxc/../../escape"' 'linux\.cgroupsPath'
if [ "$(stat -fc %T /sys/fs/cgroup)" != cgroup2fs ]; then
  # memory is a v1 controller here, so a v2 key for it cannot be honoured.
  refused unified-on-v1 '.linux.resources = {unified: {"memory.max": "1G"}}' 'linux\.resources\.unified'
fi

# exec into a stopped container names the container.
b=$WORK/stopped
make_bundle "$b" '.process.args = ["true"]'
id=$(cid stopped)
rt run -d -b "$b" "$id" >/dev/null 2>&1
wait_status "$id" stopped 10 || true
run_cmd rt exec "$id" true
assert_ne 0 "$RC" "exec into a stopped container fails"
assert_one_line_error "exec into a stopped container" "stopped"
rt delete "$id"

# --systemd-cgroup without systemd is a clear error.
if [ ! -d /run/systemd/system ]; then
  b=$WORK/systemd
  make_bundle "$b" '.process.args = ["true"] | .linux.cgroupsPath = "system.slice:mxc:x"'
  id=$(cid systemd)
  run_cmd "$RUNTIME" --root "$ROOT" --systemd-cgroup create -b "$b" "$id"
  assert_ne 0 "$RC" "--systemd-cgroup without systemd fails"
  assert_one_line_error "--systemd-cgroup without systemd" "systemd is not running"
  assert_nothing_left "--systemd-cgroup without systemd"
fi

# --preserve-fds passes the caller's fd 3 through.
b=$WORK/preserve
make_bundle "$b" '.process.args = ["sh", "-c", "cat <&3"]'
echo from-fd-3 >"$WORK/fd3"
out=$(rt run --preserve-fds 1 -b "$b" "$(cid preserve)" 3<"$WORK/fd3")
assert_eq "from-fd-3" "$out" "--preserve-fds 1 hands fd 3 to the container"
