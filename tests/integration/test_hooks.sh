#!/bin/bash
# OCI hooks: each kind runs at its moment, in its namespace, with the state
# JSON on stdin carrying the status of that moment; failure semantics; timeout.
# shellcheck disable=SC2016 # jq filters and hook scripts are single-quoted on purpose
set -euo pipefail
. "$(dirname "$0")/lib.sh"

out=$WORK/hooks-out
mkdir -p "$out"
# A host-side hook: saves its stdin and the mount namespace it ran in.
hook() { # KIND -> jq object
  printf '{"path":"/bin/sh","args":["sh","-c","cat > %s/%s.json; readlink /proc/self/ns/mnt > %s/%s.mnt"]}' \
    "$out" "$1" "$out" "$1"
}
b=$WORK/all
make_bundle "$b" ".process.args = [\"sh\", \"-c\", \"echo main > /out/main.txt; sleep 1000\"]
  | .mounts += [{destination: \"/out\", type: \"bind\", source: \"$out\", options: [\"rbind\", \"rw\"]}]
  | .hooks = {
      prestart: [$(hook prestart)],
      createRuntime: [$(hook createRuntime)],
      createContainer: [$(hook createContainer)],
      startContainer: [{path: \"/bin/sh\", args: [\"sh\", \"-c\", \"cat > /out/startContainer.json; test -e /out/main.txt && echo late > /out/sc-order || echo early > /out/sc-order\"]}],
      poststart: [$(hook poststart)],
      poststop: [$(hook poststop)]}"
id=$(cid all)
rt create -b "$b" "$id"
pid=$(state_field "$id" pid)
track_pid "$pid"
host_mnt=$(readlink /proc/self/ns/mnt)
ctr_mnt=$(readlink "/proc/$pid/ns/mnt")

for k in prestart createRuntime createContainer; do
  assert_eq "creating" "$(jq -r .status "$out/$k.json" 2>/dev/null)" "$k hook ran during create with status creating"
  assert_eq "$id" "$(jq -r .id "$out/$k.json" 2>/dev/null)" "$k hook got the container id"
  assert_eq "$pid" "$(jq -r .pid "$out/$k.json" 2>/dev/null)" "$k hook got the init's pid"
  assert_eq "$b" "$(jq -r .bundle "$out/$k.json" 2>/dev/null)" "$k hook got the bundle"
done
assert_eq "$host_mnt" "$(cat "$out/createRuntime.mnt" 2>/dev/null)" "createRuntime ran in the runtime's mount namespace"
assert_eq "$ctr_mnt" "$(cat "$out/createContainer.mnt" 2>/dev/null)" "createContainer ran in the container's mount namespace"
[ ! -e "$out/startContainer.json" ] && pass "startContainer did not run at create" || fail "startContainer ran at create"
[ ! -e "$out/poststart.json" ] && pass "poststart did not run at create" || fail "poststart ran at create"

rt start "$id"
wait_file "$out/main.txt" 10 || true
assert_eq "created" "$(jq -r .status "$out/startContainer.json" 2>/dev/null)" "startContainer ran at start (path resolved in the container)"
assert_eq "early" "$(cat "$out/sc-order" 2>/dev/null)" "startContainer ran before the process"
assert_eq "running" "$(jq -r .status "$out/poststart.json" 2>/dev/null)" "poststart ran after start with status running"
assert_eq "$host_mnt" "$(cat "$out/poststart.mnt" 2>/dev/null)" "poststart ran in the runtime's mount namespace"
[ ! -e "$out/poststop.json" ] && pass "poststop did not run before delete" || fail "poststop ran before delete"
rt delete -f "$id"
assert_eq "stopped" "$(jq -r .status "$out/poststop.json" 2>/dev/null)" "poststop ran at delete with status stopped"

# A failing createRuntime hook fails create, names the hook, leaves nothing.
b=$WORK/failing
make_bundle "$b" '.process.args = ["true"] | .hooks.createRuntime = [{path: "/bin/sh", args: ["sh", "-c", "echo hook-broke >&2; exit 3"]}]'
id=$(cid failing)
run_cmd rt create -b "$b" "$id"
assert_ne 0 "$RC" "a failing createRuntime hook fails create"
assert_contains "$ERR" "hooks.createRuntime[0]" "the error names the hook"
assert_contains "$ERR" "hook-broke" "the error carries the hook's stderr"
assert_nothing_left "failed createRuntime hook"

# A hook over its timeout is killed and fails create.
b=$WORK/slow
make_bundle "$b" '.process.args = ["true"] | .hooks.createContainer = [{path: "/bin/sleep", args: ["sleep", "30"], timeout: 1}]'
id=$(cid slow)
start=$(date +%s)
run_cmd rt create -b "$b" "$id"
assert_ne 0 "$RC" "a hook past its timeout fails create"
assert_contains "$ERR" "timed out" "the error says it timed out"
[ $(($(date +%s) - start)) -lt 20 ] && pass "the slow hook was killed at its timeout" || fail "create waited for the slow hook"
assert_nothing_left "timed-out hook"

# A missing hook path fails create.
b=$WORK/missing
make_bundle "$b" '.process.args = ["true"] | .hooks.prestart = [{path: "/nonexistent/hook"}]'
id=$(cid missing)
run_cmd rt create -b "$b" "$id"
assert_ne 0 "$RC" "a hook whose path does not exist fails create"
assert_contains "$ERR" "hooks.prestart[0]" "the error names the missing hook"
assert_nothing_left "missing hook"

# A failing poststop hook is a warning: delete still succeeds.
b=$WORK/poststop
make_bundle "$b" '.process.args = ["true"] | .hooks.poststop = [{path: "/bin/false"}]'
id=$(cid poststop)
rt create -b "$b" "$id"
assert_status 0 "delete succeeds although a poststop hook fails" rt delete -f "$id"
assert_nothing_left "failing poststop"

