# shellcheck shell=bash
# config-linux.md: sysctl, rootfsPropagation, maskedPaths, readonlyPaths,
# mountLabel, personality, timeOffsets, intelRdt.

c_sysctl() {
  mkbundle c 'cat /proc/sys/kernel/shmmax /proc/sys/net/ipv4/ip_unprivileged_port_start' \
    '.linux.sysctl = {"kernel.shmmax": "123456789", "net.ipv4.ip_unprivileged_port_start": "555"}'
  run_ctr c
  expect_eq "sysctl values inside" "0 123456789 555" "$RC $(echo $OUT)"
  [ "$(cat /proc/sys/kernel/shmmax)" != 123456789 ] || fail "host kernel.shmmax changed"
}
defcase linux.sysctl "sysctl (ipc and net namespaced) applied inside" c_sysctl

c_propagation() { # shared|private|slave
  mkbundle c 'awk "\$5 == \"/\" { l = \$0 } END { print l }" /proc/self/mountinfo' '.linux.rootfsPropagation = $p' --arg p "$1"
  run_ctr c
  [ "$RC" = 0 ] || abort "run failed (exit $RC): $(q "$(tail -c 300 <<<"$ERR")")"
  local opt; opt=$(awk '{ s = ""; for (i = 7; $i != "-"; i++) s = s $i " "; print s }' <<<"$OUT")
  case $1 in
    shared) expect_match "optional fields of / (shared)" 'shared:[0-9]+' "$opt" ;;
    private) expect_nomatch "optional fields of / (private)" 'shared:|master:' "$opt" ;;
  esac
}
defcase linux.rootfsPropagation.shared "rootfsPropagation shared: / is a shared mount" c_propagation shared
defcase linux.rootfsPropagation.private "rootfsPropagation private: / has no peer group" c_propagation private

c_masked() {
  mkbundle c 'echo "cpuinfo=$(wc -c < /proc/cpuinfo)"; echo "firmware=$(ls /sys/firmware | wc -l)"; echo "etc=$(ls /etc/conformance | wc -l)"; echo x > /etc/conformance/new 2>/dev/null && echo write-ok; true' \
    '.linux.maskedPaths = ["/proc/cpuinfo", "/sys/firmware", "/etc/conformance"]'
  run_ctr c
  expect_eq "masked file, masked dirs (empty), not writable" "0 cpuinfo=0 firmware=0 etc=0" "$RC $(echo $OUT)"
  [ -e "$ROOTFS/etc/conformance/new" ] && { rm -f "$ROOTFS/etc/conformance/new"; fail "wrote through a masked dir"; }
  return 0
}
defcase linux.maskedPaths "maskedPaths: files read empty, directories are empty" c_masked

c_readonly_paths() {
  mkbundle c '(echo 1 > /proc/sys/kernel/ns_last_pid) 2>&1 | grep -c "Read-only"; touch /home/x 2>&1 | grep -c "Read-only"; echo "mnt=$(touch /mnt/x && echo ok)"' \
    '.mounts += [{destination: "/home", type: "tmpfs", source: "tmpfs", options: ["size=1m"]}, {destination: "/mnt", type: "tmpfs", source: "tmpfs", options: ["size=1m"]}]
     | .linux.readonlyPaths = ["/proc/sys", "/home"]'
  run_ctr c
  expect_eq "/proc/sys and /home read-only, /mnt writable" "0 1 1 mnt=ok" "$RC $(echo $OUT)"
}
defcase linux.readonlyPaths "readonlyPaths: paths become read-only, others stay writable" c_readonly_paths

c_mountlabel() {
  [ -e /sys/fs/selinux/enforce ] || skip "no SELinux on this host"
  mkbundle c 'true' '.linux.mountLabel = "system_u:object_r:container_file_t:s0:c1,c2"'
  run_ctr c; expect_rc "run with mountLabel" 0
}
defcase linux.mountLabel "mountLabel" c_mountlabel

c_personality() {
  mkbundle c 'uname -m' '.linux.personality = {domain: "LINUX32"}'
  run_ctr c
  expect_eq "uname -m under LINUX32" "0 i686" "$RC $OUT"
}
defcase linux.personality "personality LINUX32: uname -m is i686" c_personality

c_timeoffsets() {
  [ -e /proc/self/ns/time ] || skip "kernel has no time namespace"
  ns_advertised time || skip "runtime's features do not list the time namespace"
  mkbundle c 'cut -d" " -f1 /proc/uptime' '.linux.namespaces += [{type: "time"}] | .linux.timeOffsets = {boottime: {secs: 864000, nanosecs: 0}, monotonic: {secs: 864000, nanosecs: 0}}'
  run_ctr c
  local host; host=$(cut -d. -f1 /proc/uptime)
  local inside=${OUT%%.*}
  [ "$RC" = 0 ] && [ -n "$inside" ] && [ "$inside" -ge $((host + 863990)) ] 2>/dev/null ||
    fail "uptime inside: expected >= host ($host) + 864000, got $(q "$OUT") (exit $RC, $(q "$(tail -c 200 <<<"$ERR")"))"
}
defcase linux.timeOffsets "timeOffsets: boottime shifted in a time namespace (/proc/uptime)" c_timeoffsets

c_intelrdt() {
  grep -q resctrl /proc/self/mountinfo || skip "no resctrl filesystem (no Intel RDT) on this host"
  mkbundle c 'true' '.linux.intelRdt = {closID: "cf"}'
  run_ctr c; expect_rc "run with intelRdt" 0
}
defcase linux.intelRdt "intelRdt" c_intelrdt
