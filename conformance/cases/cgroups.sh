# shellcheck shell=bash
# config-linux.md cgroupsPath and resources, read back from inside (the
# container's cgroup mount, under a cgroup namespace) and from the host.

CG_MOUNT='.mounts += [{destination: "/sys/fs/cgroup", type: "cgroup", source: "cgroup", options: ["nosuid", "noexec", "nodev", "relatime", "ro"]}] | .linux.namespaces += [{type: "cgroup"}]'

# cg_check RESOURCES-JSON "ctrl/file=expected"...: the container prints each
# file from /sys/fs/cgroup/<ctrl>/<file>; the host reads it under cgroupsPath.
cg_check() {
  local resources=$1; shift
  local spec ctrl file want script="" f
  for spec in "$@"; do f=${spec%%=*}; script+="echo \"$f=\$(cat /sys/fs/cgroup/$f 2>&1)\"; "; done
  mkbundle c "$script" "$CG_MOUNT | .linux.resources = \$r" --argjson r "$resources"
  create_ctr c; need_rc0 create
  local host=""
  for spec in "$@"; do
    f=${spec%%=*} want=${spec#*=} ctrl=${f%%/*} file=${f#*/}
    host=$(cat "$(host_cg "$ctrl" c)/$file" 2>&1)
    expect_eq "host $(host_cg "$ctrl" c)/$file" "$want" "$(cg_norm "$file" "$host")"
  done
  start_ctr c; need_rc0 start
  wait_stopped c 10
  local o; o=$(ctr_out c)
  for spec in "$@"; do
    f=${spec%%=*} want=${spec#*=}; file=${f#*/}
    expect_eq "inside /sys/fs/cgroup/$f" "$want" "$(cg_norm "$file" "$(grep "^$f=" <<<"$o" | cut -d= -f2-)")"
  done
}
cg_norm() { case $1 in memory.oom_control) grep oom_kill_disable <<<"$2" ;; *) printf '%s' "$2" ;; esac; }
need_cgfile() { [ -e "/sys/fs/cgroup/$1" ] || skip "this host has no /sys/fs/cgroup/$1 ($2)"; }

defcase linux.resources.memory.limit "memory.limit => memory.limit_in_bytes" cg_check '{"memory":{"limit":67108864}}' memory/memory.limit_in_bytes=67108864
defcase linux.resources.memory.reservation "memory.reservation => memory.soft_limit_in_bytes" cg_check '{"memory":{"reservation":33554432}}' memory/memory.soft_limit_in_bytes=33554432
c_mem_swap() {
  need_cgfile memory/memory.memsw.limit_in_bytes "no swap accounting"
  cg_check '{"memory":{"limit":67108864,"swap":100663296}}' memory/memory.limit_in_bytes=67108864 memory/memory.memsw.limit_in_bytes=100663296
}
defcase linux.resources.memory.swap "memory.swap => memory.memsw.limit_in_bytes" c_mem_swap
c_mem_swappiness() {
  need_cgfile memory/memory.swappiness "no per-cgroup swappiness"
  cg_check '{"memory":{"swappiness":42}}' memory/memory.swappiness=42
}
defcase linux.resources.memory.swappiness "memory.swappiness" c_mem_swappiness
defcase linux.resources.memory.disableOOMKiller "memory.disableOOMKiller => oom_kill_disable 1" cg_check '{"memory":{"disableOOMKiller":true}}' "memory/memory.oom_control=oom_kill_disable 1"
defcase linux.resources.cpu.shares "cpu.shares" cg_check '{"cpu":{"shares":512}}' cpu/cpu.shares=512
defcase linux.resources.cpu.quota-period "cpu.quota/period => cfs_quota_us/cfs_period_us" cg_check '{"cpu":{"quota":30000,"period":200000}}' cpu/cpu.cfs_quota_us=30000 cpu/cpu.cfs_period_us=200000
c_cpuset() {
  [ "$(nproc --all)" -ge 2 ] || skip "needs 2 CPUs"
  cg_check '{"cpu":{"cpus":"1","mems":"0"}}' cpuset/cpuset.cpus=1 cpuset/cpuset.mems=0
}
defcase linux.resources.cpu.cpus-mems "cpu.cpus/mems => cpuset.cpus/mems" c_cpuset
c_cpu_rt() { need_cgfile cpu/cpu.rt_runtime_us "no RT group scheduling (CONFIG_RT_GROUP_SCHED)"; cg_check '{"cpu":{"realtimeRuntime":1000,"realtimePeriod":1000000}}' cpu/cpu.rt_runtime_us=1000; }
defcase linux.resources.cpu.realtime "cpu.realtimeRuntime/Period" c_cpu_rt
defcase linux.resources.pids "pids.limit => pids.max" cg_check '{"pids":{"limit":42}}' pids/pids.max=42
c_blkio_weight() {
  need_cgfile blkio/blkio.weight "no blkio.weight: no CFQ/BFQ weight interface"
  cg_check '{"blockIO":{"weight":500}}' blkio/blkio.weight=500
}
defcase linux.resources.blockIO.weight "blockIO.weight" c_blkio_weight
c_blkio_throttle() {
  need_cgfile blkio/blkio.throttle.read_bps_device "no blkio throttling"
  local dev; dev=$(awk 'NR > 2 && $4 !~ /^(loop|ram|zram|sr)/ && $2 == 0 { print $1 ":" $2; exit }' /proc/partitions)
  [ -n "$dev" ] || skip "no whole-disk block device on this host"
  cg_check "{\"blockIO\":{\"throttleReadBpsDevice\":[{\"major\":${dev%:*},\"minor\":${dev#*:},\"rate\":1048576}],\"throttleWriteIOPSDevice\":[{\"major\":${dev%:*},\"minor\":${dev#*:},\"rate\":123}]}}" \
    "blkio/blkio.throttle.read_bps_device=$dev 1048576" "blkio/blkio.throttle.write_iops_device=$dev 123"
}
defcase linux.resources.blockIO.throttle "blockIO throttleReadBpsDevice/WriteIOPSDevice" c_blkio_throttle
c_hugetlb() {
  need_cgfile hugetlb/hugetlb.2MB.limit_in_bytes "no hugetlb cgroup with 2MB pages"
  cg_check '{"hugepageLimits":[{"pageSize":"2MB","limit":4194304}]}' hugetlb/hugetlb.2MB.limit_in_bytes=4194304
}
defcase linux.resources.hugepageLimits "hugepageLimits => hugetlb.2MB.limit_in_bytes" c_hugetlb
c_netcls() { need_cgfile net_cls/net_cls.classid "no net_cls hierarchy mounted"; cg_check '{"network":{"classID":1048577}}' net_cls/net_cls.classid=1048577; }
defcase linux.resources.network.classID "network.classID => net_cls.classid" c_netcls
c_netprio() { need_cgfile net_prio/net_prio.ifpriomap "no net_prio hierarchy mounted"; cg_check '{"network":{"priorities":[{"name":"lo","priority":7}]}}' "net_prio/net_prio.ifpriomap=lo 7"; }
defcase linux.resources.network.priorities "network.priorities => net_prio.ifpriomap" c_netprio

c_unified() {
  [ "$(stat -fc %T /sys/fs/cgroup)" = cgroup2fs ] && skip "host is cgroup v2 only; covered by the v2 run"
  local ctrls; ctrls=$(cat /sys/fs/cgroup/unified/cgroup.controllers 2>/dev/null)
  [[ " $ctrls " == *" pids "* ]] && skip "host has pids on cgroup2 (hybrid with controllers); not covered"
  # No controller is on cgroup v2 here: a unified pids.max cannot be applied;
  # the runtime must refuse rather than silently ignore it.
  mkbundle c 'true' '.linux.resources.unified = {"pids.max": "10"}'
  create_ctr c
  expect_rc "create with unified pids.max on a host without cgroup v2 pids" nonzero
}
defcase linux.resources.unified "unified on a cgroup v1 host (no v2 controllers) is an error" c_unified

c_cgroups_path() {
  local p="/${ID_PREFIX}parent/${ID_PREFIX}child"
  mkbundle c 'cat /proc/self/cgroup; echo up > /res/up; while [ ! -e /res/go ]; do sleep 0.05; done' '.linux.cgroupsPath = $p' --arg p "$p"
  create_ctr c; need_rc0 create
  local pid ctrl missing=""; pid=$(ctr_pid c)
  for ctrl in memory pids cpu devices freezer; do
    grep -qx "$pid" "/sys/fs/cgroup/$ctrl$p/cgroup.procs" 2>/dev/null || missing+="$ctrl "
  done
  [ -z "$missing" ] || fail "pid $pid not in cgroupsPath $p of: $missing"
  start_ctr c; need_rc0 start
  wait_file "$(res c)/up" 5
  local hostview; hostview=$(grep -E ':(memory|pids):' /proc/$pid/cgroup | cut -d: -f3 | sort -u)
  expect_eq "host /proc/PID/cgroup (memory, pids)" "$p" "$hostview"
  touch "$(res c)/go"; wait_stopped c 10
  run_cmd rt delete "$(cid c)"
  for ctrl in /sys/fs/cgroup/*/; do rmdir "$ctrl${p%/*}" 2>/dev/null; done
  return 0
}
defcase linux.cgroupsPath "cgroupsPath: the process is placed in that (nested) cgroup of every controller" c_cgroups_path

c_cg_mem_oom() {
  mkbundle c 'dd if=/dev/zero of=/dev/shm/fill bs=1M count=48 2>/dev/null; echo "dd=$?"; rm -f /dev/shm/fill' \
    '.linux.resources.memory = {limit: 16777216}'
  run_ctr c
  # dd (or the shell) is OOM-killed; either way dd never reports success.
  expect_nomatch "writing 48MiB to tmpfs under a 16MiB limit" '^dd=0$' "$OUT"
  [ "$RC" = 0 ] && [ -z "$OUT" ] && fail "no output and exit 0"
  return 0
}
defcase linux.resources.memory.enforced "memory limit is enforced (48MiB in tmpfs under 16MiB is OOM-killed)" c_cg_mem_oom

c_cg_pids_enforced() {
  mkbundle c 'sh -c "for i in 1 2 3 4 5 6 7 8; do sleep 1 & echo \$i > /res/n; done" 2>/dev/null; wait; sleep 1.2; echo "started=$(cat /res/n)"' '.linux.resources.pids = {limit: 4}'
  run_ctr c
  expect_match "background processes started under pids.max=4 (sh counts)" '^started=[0-3]$' "$OUT"
}
defcase linux.resources.pids.enforced "pids limit is enforced (fork fails beyond it)" c_cg_pids_enforced
