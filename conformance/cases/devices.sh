# shellcheck shell=bash
# config-linux.md devices, default devices and /dev symlinks, device cgroup.

c_dev_nodes() {
  mkbundle c 'for d in /dev/cf-null /dev/cf-loop /dev/cf-fifo; do stat -c "%n %F %t %T %a %u %g" $d; done' \
    '.linux.devices = [
       {path: "/dev/cf-null", type: "c", major: 1, minor: 3, fileMode: 416, uid: 1000, gid: 1001},
       {path: "/dev/cf-loop", type: "b", major: 7, minor: 1, fileMode: 384, uid: 0, gid: 6},
       {path: "/dev/cf-fifo", type: "p", fileMode: 420, uid: 3, gid: 4}]'
  run_ctr c
  [ "$RC" = 0 ] || abort "run failed (exit $RC): $(q "$(tail -c 300 <<<"$ERR")")"
  expect_match "char device" '^/dev/cf-null character special file 1 3 640 1000 1001$' "$OUT"
  expect_match "block device" '^/dev/cf-loop block special file 7 1 600 0 6$' "$OUT"
  expect_match "fifo" '^/dev/cf-fifo fifo 0 0 644 3 4$' "$OUT"
}
defcase linux.devices "device nodes: type, major/minor, fileMode, uid, gid" c_dev_nodes

c_dev_default() {
  mkbundle c 'for d in null zero full random urandom tty; do stat -c "%n %F %t:%T" /dev/$d; done; echo x > /dev/null && head -c 4 /dev/zero | wc -c; head -c 4 /dev/urandom | wc -c; stat -L -c "%n %t:%T" /dev/ptmx'
  run_ctr c
  local d
  for d in "null 1:3" "zero 1:5" "full 1:7" "random 1:8" "urandom 1:9" "tty 5:0"; do
    expect_match "/dev/${d% *}" "^/dev/${d% *} character special file ${d#* }\$" "$OUT"
  done
  expect_eq "write /dev/null, read /dev/zero and /dev/urandom" "4 4" "$(sed -n 7,8p <<<"$OUT" | tr '\n' ' ' | sed 's/ $//')"
  expect_match "/dev/ptmx (symlink to pts/ptmx or bind)" '^/dev/ptmx 5:2$' "$OUT"
}
defcase linux.devices.default "default devices exist with the right numbers and are usable" c_dev_default

c_dev_symlinks() {
  mkbundle c 'for l in fd stdin stdout stderr; do echo "$l=$(readlink /dev/$l)"; done'
  run_ctr c
  expect_eq "/dev symlinks" "fd=/proc/self/fd stdin=/proc/self/fd/0 stdout=/proc/self/fd/1 stderr=/proc/self/fd/2" "$(echo $OUT)"
}
defcase linux.devices.symlinks "/dev/fd, /dev/stdin, /dev/stdout, /dev/stderr symlinks" c_dev_symlinks

# The test device is the host's /dev/kmsg (1:11), bind-mounted (not a
# linux.devices entry: runc and crun implicitly allow those) and opened
# write-only (no CAP_SYSLOG needed); no runtime allows it by default.
c_dev_cgroup() { # deny|allow|mknod
  local mode=$1 filter
  [ -c /dev/kmsg ] || skip "host has no /dev/kmsg to bind-mount"
  filter='.mounts += [{destination: "/dev/cf-kmsg", type: "bind", source: "/dev/kmsg", options: ["bind"]}]
    | .process.capabilities |= with_entries(.value += ["CAP_MKNOD"])
    | .linux.resources.devices = [{allow: false, access: "rwm"}]'
  [ "$mode" = allow ] && filter+=' | .linux.resources.devices += [{allow: true, type: "c", major: 1, minor: 11, access: "rwm"}]'
  mkbundle c 'while [ ! -e /res/go ]; do sleep 0.05; done; (exec 3>/dev/cf-kmsg) 2>&1 && echo open-ok; mknod /dev/shm/kmsg2 c 1 11 2>&1 && echo mknod-ok' "$filter"
  create_ctr c; need_rc0 create
  local list; list=$(cat "$(host_cg devices c)/devices.list" 2>/dev/null)
  touch "$(res c)/go"; start_ctr c; need_rc0 start
  wait_stopped c 10
  local o; o=$(ctr_out c)
  case $mode in
    deny)
      expect_match "open of a denied device" 'Operation not permitted' "$(sed -n 1p <<<"$o")"
      expect_nomatch "open of a denied device" 'open-ok' "$o"
      expect_nomatch "host devices.list" '^(a|c 1:11|c \*:\* [rw])' "$list" ;;
    mknod)
      expect_nomatch "mknod of a denied device" 'mknod-ok' "$o"
      expect_nomatch "host devices.list" '^(a|c 1:11|c \*:\*) .*m' "$list" ;;
    allow)
      expect_match "open of an allowed device" '^open-ok$' "$o"
      expect_match "mknod of an allowed device" '^mknod-ok$' "$o"
      expect_match "host devices.list" '^c 1:11 rwm$' "$list" ;;
  esac
}
defcase linux.resources.devices.deny-mknod "devices cgroup: mknod of a denied device fails" c_dev_cgroup mknod
defcase linux.resources.devices.deny "devices cgroup: a denied device cannot be opened" c_dev_cgroup deny
defcase linux.resources.devices.allow "devices cgroup: an allowed device can be opened and mknod-ed" c_dev_cgroup allow
