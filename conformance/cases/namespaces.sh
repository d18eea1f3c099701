# shellcheck shell=bash
# config-linux.md namespaces, user namespace mappings.

NSFILE=(pid:pid network:net mount:mnt ipc:ipc uts:uts user:user cgroup:cgroup time:time)
nsfile() { local e; for e in "${NSFILE[@]}"; do [ "${e%%:*}" = "$1" ] && echo "${e#*:}"; done; }

c_ns_new() { # TYPE
  local t=$1 f; f=$(nsfile "$t")
  [ -e "/proc/self/ns/$f" ] || skip "kernel has no $t namespace"
  ns_advertised "$t" || skip "runtime's features do not list the $t namespace"
  local extra='.'
  [ "$t" = user ] && extra='.linux.uidMappings = [{containerID: 0, hostID: 200000, size: 65536}] | .linux.gidMappings = [{containerID: 0, hostID: 200000, size: 65536}]'
  local check='true'
  case $t in
    pid) check='echo "pid=$$"' ;;
    network) check='echo "ifaces=$(tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d " " | tr "\n" " ")"' ;;
    uts) check='echo "host=$(hostname)"' ;;
  esac
  mkbundle c "readlink /proc/self/ns/$f; $check" \
    "$extra | .linux.namespaces = ((.linux.namespaces | map(select(.type != \$t))) + [{type: \$t}])" --arg t "$t"
  run_ctr c
  [ "$RC" = 0 ] || abort "run failed (exit $RC): $(q "$(tail -c 300 <<<"$ERR")")"
  local inside; inside=$(sed -n 1p <<<"$OUT")
  expect_match "$t namespace link" "^$f:\\[[0-9]+\\]\$" "$inside"
  [ "$inside" != "$(host_ns "$f")" ] || fail "$t namespace is the host's ($inside)"
  case $t in
    pid) expect_match "pid of the process" '^pid=1$' "$OUT" ;;
    network) expect_match "interfaces in a new net ns" '^ifaces=lo $' "$OUT" ;;
    uts) expect_match "hostname" '^host=conformance$' "$OUT" ;;
  esac
}
for _t in pid network mount ipc uts user cgroup time; do
  defcase "linux.namespaces.$_t" "a new $_t namespace" c_ns_new "$_t"
done

c_ns_omitted() {
  mkbundle c 'readlink /proc/self/ns/net; readlink /proc/self/ns/ipc' '.linux.namespaces |= map(select(.type != "network" and .type != "ipc"))'
  run_ctr c
  expect_eq "net and ipc ns when omitted (the runtime's)" "0 $(host_ns net) $(host_ns ipc)" "$RC $(echo $OUT)"
}
defcase linux.namespaces.omitted "omitted namespace types are inherited from the runtime" c_ns_omitted

c_ns_path() {
  unshare --uts --net sh -c 'hostname joined-uts; exec sleep 60' &
  local hp=$!; bg_track $hp
  for _ in $(seq 50); do [ "$(readlink /proc/$hp/ns/uts)" != "$(host_ns uts)" ] && [ "$(cat /proc/$hp/comm)" = sleep ] && break; sleep 0.05; done
  mkbundle c 'hostname; readlink /proc/self/ns/uts; readlink /proc/self/ns/net' \
    'del(.hostname) | .linux.namespaces = ((.linux.namespaces | map(select(.type != "uts" and .type != "network"))) + [{type: "uts", path: ("/proc/" + $p + "/ns/uts")}, {type: "network", path: ("/proc/" + $p + "/ns/net")}])' --arg p "$hp"
  run_ctr c
  expect_eq "joined uts (hostname) and net namespaces" "0 joined-uts $(readlink /proc/$hp/ns/uts) $(readlink /proc/$hp/ns/net)" "$RC $(echo $OUT)"
  kill $hp 2>/dev/null
}
defcase linux.namespaces.path "namespaces joined by path (uts hostname, net inode)" c_ns_path

c_userns_map() {
  ns_advertised user || skip "runtime's features do not list the user namespace"
  mkbundle c 'cat /proc/self/uid_map /proc/self/gid_map; id -u; touch /res/f; echo up > /res/up; while [ ! -e /res/go ]; do sleep 0.05; done' \
    '.linux.namespaces += [{type: "user"}] | .linux.uidMappings = [{containerID: 0, hostID: 300000, size: 1000}]
     | .linux.gidMappings = [{containerID: 0, hostID: 310000, size: 2000}]'
  create_ctr c; need_rc0 create
  start_ctr c; need_rc0 start
  wait_file "$(res c)/up" 5 || abort "process did not start: $(cat "$WORK/c.err")"
  local pid; pid=$(ctr_pid c)
  expect_eq "host view of uid/gid (Uid/Gid lines)" "300000 310000" "$(awk '/^Uid:/ {u=$2} /^Gid:/ {g=$2} END {print u, g}' /proc/$pid/status)"
  expect_eq "file created inside owned by mapped ids on the host" "300000:310000" "$(stat -c %u:%g "$(res c)/f")"
  touch "$(res c)/go"; wait_stopped c 10
  expect_eq "uid_map gid_map id" "0 300000 1000 0 310000 2000 0" "$(echo $(ctr_out c))"
}
defcase linux.uidMappings "uid/gid mappings of a user namespace (inside and host views)" c_userns_map
