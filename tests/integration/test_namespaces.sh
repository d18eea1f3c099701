#!/bin/bash
# User namespaces with id mappings, joining namespaces by path, fresh netns.
# shellcheck disable=SC2016 # jq filters and in-container scripts are single-quoted on purpose
set -euo pipefail
. "$(dirname "$0")/lib.sh"

# ---- user namespace ---------------------------------------------------------
grep -q . /proc/self/uid_map || skip "no user namespace support"
if [ -r /proc/sys/user/max_user_namespaces ] && [ "$(cat /proc/sys/user/max_user_namespaces)" = 0 ]; then
  skip "user namespaces disabled (user.max_user_namespaces=0)"
fi
ushared=$WORK/ushared
mkdir -p "$ushared"
chmod 777 "$ushared"
# A private rootfs: it must be reachable by the mapped root (host uid 100000).
b=$WORK/userns
make_bundle_private "$b" '.process.args = ["sh", "-c", "cat /proc/self/uid_map /proc/self/gid_map; id -u; touch /mnt/made-inside; mkdir /mnt/dir-inside; ls -ln /bin/busybox | awk \"{print \\$3}\""]
  | .linux.namespaces += [{type: "user"}]
  | .linux.uidMappings = [{containerID: 0, hostID: 100000, size: 65536}]
  | .linux.gidMappings = [{containerID: 0, hostID: 100000, size: 65536}]
  | .mounts += [{destination: "/mnt", type: "bind", source: ($work + "/ushared"), options: ["rbind", "rw"]}]'
run_cmd rt run -b "$b" "$(cid userns)"
assert_eq 0 "$RC" "run with a user namespace succeeds${ERR:+ ($(error_lines | tail -n1))}"
maps=$(printf '%s\n' "$OUT" | head -n2 | awk '{print $1, $2, $3}')
assert_eq $'0 100000 65536\n0 100000 65536' "$maps" "uid_map and gid_map inside show 0 -> 100000 (65536)"
assert_eq "0" "$(printf '%s\n' "$OUT" | sed -n 3p)" "the process is root inside the user namespace"
assert_eq "100000:100000" "$(stat -c %u:%g "$ushared/made-inside" 2>/dev/null)" "a file created inside is owned by 100000:100000 on the host"
assert_eq "100000:100000" "$(stat -c %u:%g "$ushared/dir-inside" 2>/dev/null)" "a dir created inside is owned by 100000:100000 on the host"
assert_eq "65534" "$(printf '%s\n' "$OUT" | sed -n 4p)" "host-root-owned rootfs files appear as the overflow uid inside"
assert_eq "0" "$(awk '{print $2}' /proc/self/uid_map | head -n1)" "control: the host's own uid_map is the identity"

# Mapping with a non-zero container range start.
b=$WORK/userns2
make_bundle_private "$b" '.process.args = ["sh", "-c", "cat /proc/self/uid_map; id -u"]
  | .process.user = {uid: 1000, gid: 1000}
  | .linux.namespaces += [{type: "user"}]
  | .linux.uidMappings = [{containerID: 0, hostID: 200000, size: 100}, {containerID: 1000, hostID: 201000, size: 10}]
  | .linux.gidMappings = [{containerID: 0, hostID: 200000, size: 100}, {containerID: 1000, hostID: 201000, size: 10}]'
run_cmd rt run -b "$b" "$(cid userns2)"
assert_eq $'0 200000 100\n1000 201000 10\n1000' "$(printf '%s\n' "$OUT" | awk 'NF == 3 {print $1, $2, $3; next} {print}')" \
  "two-range uidMappings are applied; the process runs as uid 1000"

# ---- joining a namespace by path --------------------------------------------
shared=$WORK/shared
mkdir -p "$shared"
a=$(cid alpha)
make_bundle "$WORK/alpha" '.hostname = "alpha-host" | .process.args = ["sh", "-c", "touch /mnt/ready; sleep 1000"]
  | .mounts += [{destination: "/mnt", type: "bind", source: ($work + "/shared"), options: ["rbind", "rw"]}]'
rt run -d -b "$WORK/alpha" "$a" </dev/null >/dev/null 2>&1 || true
apid=$(state_field "$a" pid); track_pid "$apid"
wait_file "$shared/ready" 10 || true
if [ -z "$apid" ]; then
  fail "container $a did not start"
else
  # Join alpha's uts, ipc and net namespaces by path.
  make_bundle "$WORK/beta" 'del(.hostname) | .process.args = ["sh", "-c", "hostname; for n in uts ipc net; do readlink /proc/self/ns/$n; done"]
    | .linux.namespaces |= map(if .type == "uts" or .type == "ipc" or .type == "network" then .path = ("/proc/" + $pid + "/ns/" + (if .type == "network" then "net" else .type end)) else . end)' \
    --arg pid "$apid"
  run_cmd rt run -b "$WORK/beta" "$(cid beta)"
  assert_eq 0 "$RC" "run joining another container's namespaces by path succeeds"
  expected=$(printf 'alpha-host\n%s\n%s\n%s' "$(readlink /proc/"$apid"/ns/uts)" "$(readlink /proc/"$apid"/ns/ipc)" "$(readlink /proc/"$apid"/ns/net)")
  assert_eq "$expected" "$OUT" "joined uts/ipc/net: same hostname and same namespace inodes as the other container"
  assert_ne "$(readlink /proc/self/ns/uts)" "$(readlink /proc/"$apid"/ns/uts)" "control: that uts namespace is not the host's"
  # Control: without path, a new uts namespace with its own hostname.
  make_bundle "$WORK/gamma" '.process.args = ["hostname"]'
  run_cmd rt run -b "$WORK/gamma" "$(cid gamma)"
  assert_eq "mxc-test" "$OUT" "control: a new uts namespace has the configured hostname"
fi
rt delete --force "$a" >/dev/null 2>&1 || true
wait_gone "$apid" 5 || true

# ---- joining a named netns (ip netns add) -----------------------------------
if command -v ip >/dev/null; then
  ns=mxcit$$
  register_netns "$ns"
  ip netns add "$ns"
  ip -n "$ns" link set lo mtu 12345   # the marker
  make_bundle "$WORK/netjoin" '.process.args = ["sh", "-c", "readlink /proc/self/ns/net; cat /sys/class/net/lo/mtu"]
    | .linux.namespaces |= map(if .type == "network" then .path = ("/run/netns/" + $ns) else . end)' --arg ns "$ns"
  run_cmd rt run -b "$WORK/netjoin" "$(cid netjoin)"
  nsino=$(ip netns exec "$ns" readlink /proc/self/ns/net)
  assert_eq "$nsino" "$(printf '%s\n' "$OUT" | head -n1)" "joining /run/netns/NAME: same net namespace inode"
  assert_eq "12345" "$(printf '%s\n' "$OUT" | sed -n 2p)" "joined netns has the lo mtu set from the host"
  ip netns del "$ns"
else
  log "skip - ip (iproute2) not installed: named netns join not tested"
fi

# ---- a new network namespace has only lo ---------------------------------
make_bundle "$WORK/newnet" '.process.args = ["sh", "-c", "readlink /proc/self/ns/net; ls /sys/class/net; ip -o link | wc -l; cat /sys/class/net/lo/mtu"]'
run_cmd rt run -b "$WORK/newnet" "$(cid newnet)"
assert_ne "$(readlink /proc/self/ns/net)" "$(printf '%s\n' "$OUT" | head -n1)" "the container's netns is not the host's"
assert_eq $'lo\n1' "$(printf '%s\n' "$OUT" | sed -n 2,3p)" "a new netns has only lo"
assert_ne "12345" "$(printf '%s\n' "$OUT" | sed -n 4p)" "control: a new netns's lo does not have the marker mtu"
make_bundle "$WORK/hostnet" '.process.args = ["sh", "-c", "readlink /proc/self/ns/net"] | .linux.namespaces |= map(select(.type != "network"))'
run_cmd rt run -b "$WORK/hostnet" "$(cid hostnet)"
assert_eq "$(readlink /proc/self/ns/net)" "$OUT" "control: without a network namespace the host's is kept"

# ---- pid / ipc / mount namespaces are new -----------------------------------
make_bundle "$WORK/nsids" '.process.args = ["sh", "-c", "for n in pid ipc mnt uts; do readlink /proc/self/ns/$n; done"]'
run_cmd rt run -b "$WORK/nsids" "$(cid nsids)"
host_ns=$(for n in pid ipc mnt uts; do readlink /proc/self/ns/$n; done)
i=0
for n in pid ipc mnt uts; do
  i=$((i + 1))
  assert_ne "$(printf '%s\n' "$host_ns" | sed -n ${i}p)" "$(printf '%s\n' "$OUT" | sed -n ${i}p)" "the container has its own $n namespace"
done
