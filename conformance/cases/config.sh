# shellcheck shell=bash
# config.md: ociVersion, root, mounts, hostname/domainname.

# mi DEST: the mountinfo line of the topmost mount at DEST (inside).
MI='mi() { awk -v d="$1" '"'"'$5 == d { l = $0 } END { print l }'"'"' /proc/self/mountinfo; }; '

c_ociversion() {
  local v
  for v in 1.0.0 1.0.2 1.1.0; do
    mkbundle "v${v//./}" 'echo ok' '.ociVersion = $v' --arg v "$v"
    run_ctr "v${v//./}"
    expect_eq "run with ociVersion $v" "0 ok" "$RC $OUT"
  done
}
defcase config.ociVersion "configs with ociVersion 1.0.0, 1.0.2 and 1.1.0 run" c_ociversion

c_root_relative() {
  MKBUNDLE_PRIVATE=1 mkbundle c 'cat /etc/conformance/private' '.root.path = "rootfs"'
  echo "private-$$" >"$(bundle c)/rootfs/etc/conformance/private"
  run_ctr c
  expect_eq "file of bundle/rootfs seen inside" "0 private-$$" "$RC $OUT"
}
defcase config.root.path.relative "root.path relative to the bundle" c_root_relative

c_root_absolute() {
  mkbundle c 'cat /etc/conformance/marker; ls /'
  run_ctr c
  expect_eq "exit" 0 "$RC"
  expect_match "marker file of root.path" '^conformance-rootfs$' "$OUT"
  expect_nomatch "host-only top-level dirs" '^(work|boot|lost\+found)$' "$OUT"
}
defcase config.root.path.absolute "root.path absolute: the container sees that tree as /" c_root_absolute

c_root_readonly() {
  mkbundle c "${MI}"'mi / | cut -d" " -f6; touch /rootfile 2>&1; echo rc=$?' '.root.readonly = true'
  run_ctr c
  expect_match "mount options of /" '(^|,)ro(,|$)' "$(sed -n 1p <<<"$OUT")"
  expect_match "touch /rootfile" 'Read-only file system' "$OUT"
  expect_match "touch result" '^rc=1$' "$OUT"
}
defcase config.root.readonly "root.readonly makes / read-only (EROFS)" c_root_readonly

c_hostname() {
  mkbundle c 'hostname; cat /proc/sys/kernel/hostname' '.hostname = "cf-host-x"'
  run_ctr c
  expect_eq "hostname" "cf-host-x cf-host-x" "$(echo $OUT)"
  expect_ne_host=$(hostname)
  [ "$expect_ne_host" != cf-host-x ] || fail "host hostname changed"
}
defcase config.hostname "hostname is set in the UTS namespace" c_hostname

c_domainname() {
  mkbundle c 'cat /proc/sys/kernel/domainname' '.domainname = "conformance.example"'
  run_ctr c
  expect_eq "domainname" "0 conformance.example" "$RC $OUT"
  expect_nomatch "host domainname" 'conformance.example' "$(cat /proc/sys/kernel/domainname)"
}
defcase config.domainname "domainname is set in the UTS namespace" c_domainname

# ---- mounts ----------------------------------------------------------------
c_mount_bind() {
  mkdir -p "$WORK/src"; echo hostdata >"$WORK/src/file"
  mkbundle c 'cat /mnt/file; echo fromctr > /mnt/new' '.mounts += [{destination: "/mnt", type: "bind", source: ($work + "/src"), options: ["bind"]}]'
  run_ctr c
  expect_eq "host file seen through the bind mount" "0 hostdata" "$RC $OUT"
  expect_eq "file written inside seen on the host" fromctr "$(cat "$WORK/src/new" 2>/dev/null)"
}
defcase config.mounts.bind "bind mount: host dir visible and writable" c_mount_bind

c_mount_rbind() {
  mkdir -p "$WORK/src/sub"; echo top >"$WORK/src/top"
  mount -t tmpfs -o size=1m cftmp "$WORK/src/sub" || abort "cannot mount a tmpfs on the host"
  echo submount >"$WORK/src/sub/file"
  mkbundle c 'echo "r=$(cat /mnt/sub/file 2>/dev/null) b=$(cat /home/sub/file 2>/dev/null) t=$(cat /home/top)"' \
    '.mounts += [{destination: "/mnt", type: "bind", source: ($work + "/src"), options: ["rbind"]},
                 {destination: "/home", type: "bind", source: ($work + "/src"), options: ["bind"]}]'
  run_ctr c
  umount "$WORK/src/sub"
  expect_eq "rbind includes the submount; bind does not" "0 r=submount b= t=top" "$RC $OUT"
}
defcase config.mounts.rbind "rbind is recursive (submounts seen), bind is not" c_mount_rbind

c_mount_ro() {
  mkdir -p "$WORK/src"; echo data >"$WORK/src/file"
  mkbundle c "${MI}"'mi /mnt | cut -d" " -f6; cat /mnt/file; echo x > /mnt/new 2>&1 || echo write-failed' \
    '.mounts += [{destination: "/mnt", type: "bind", source: ($work + "/src"), options: ["rbind", "ro"]}]'
  run_ctr c
  expect_match "per-mount options of /mnt" '(^|,)ro(,|$)' "$(sed -n 1p <<<"$OUT")"
  expect_match "read works" '^data$' "$OUT"
  expect_match "write fails" 'write-failed' "$OUT"
  [ -e "$WORK/src/new" ] && fail "file was created through the ro bind mount"
  return 0
}
defcase config.mounts.ro "ro option: read-only bind mount" c_mount_ro

c_mount_flag() { # FLAG
  local flag=$1
  mkbundle c "${MI}"'mi /mnt | cut -d" " -f6; cp /bin/busybox /mnt/true; /mnt/true 2>/dev/null && echo exec=ok || echo exec=denied' \
    '.mounts += [{destination: "/mnt", type: "tmpfs", source: "tmpfs", options: [$f, "size=16m"]}]' --arg f "$flag"
  run_ctr c
  expect_match "per-mount options of /mnt" "(^|,)$flag(,|\$)" "$(sed -n 1p <<<"$OUT")"
  if [ "$flag" = noexec ]; then expect_match "exec from noexec" '^exec=denied$' "$OUT"
  else expect_match "exec from a $flag mount" '^exec=ok$' "$OUT"; fi
}
defcase config.mounts.nosuid "nosuid option on a tmpfs" c_mount_flag nosuid
defcase config.mounts.nodev "nodev option on a tmpfs" c_mount_flag nodev
defcase config.mounts.noexec "noexec option: executing from the mount fails" c_mount_flag noexec

c_mount_nodev_behaviour() {
  mkbundle c 'mknod /mnt/null c 1 3 && (echo x > /mnt/null) 2>&1; echo rc=$?' \
    '.mounts += [{destination: "/mnt", type: "tmpfs", source: "tmpfs", options: ["nodev"]}]
     | .process.capabilities |= with_entries(.value += ["CAP_MKNOD"])'
  run_ctr c
  expect_match "opening a device node on a nodev mount" 'Permission denied' "$OUT"
}
defcase config.mounts.nodev.open "nodev: a device node on the mount cannot be opened" c_mount_nodev_behaviour

c_mount_tmpfs() {
  mkbundle c 'stat -c %a /mnt; df -k /mnt | awk "NR==2 {print \$2}"' \
    '.mounts += [{destination: "/mnt", type: "tmpfs", source: "tmpfs", options: ["size=3m", "mode=711"]}]'
  run_ctr c
  expect_eq "tmpfs mode and size (KiB)" "0 711 3072" "$RC $(echo $OUT)"
}
defcase config.mounts.tmpfs "tmpfs size= and mode= options" c_mount_tmpfs

c_mount_types() {
  mkbundle c 'awk "{ for (i = 7; \$i != \"-\"; i++); print \$5, \$(i + 1) }" /proc/self/mountinfo'
  run_ctr c
  local t
  for t in "/proc proc" "/sys sysfs" "/dev tmpfs" "/dev/pts devpts" "/dev/shm tmpfs" "/dev/mqueue mqueue"; do
    expect_match "mount $t" "^$t\$" "$OUT"
  done
}
defcase config.mounts.types "proc, sysfs, tmpfs, devpts, mqueue mounts have their types" c_mount_types

c_mount_proc_sys() {
  mkbundle c "${MI}"'echo "self=$(readlink /proc/self)"; mi /sys | cut -d" " -f6; ls /sys/kernel >/dev/null && echo sys-ok'
  run_ctr c
  expect_match "proc of the container pid ns (sh is pid 1, readlink is small)" '^self=[0-9]$' "$OUT"
  expect_match "sysfs ro option" '(^|,)ro(,|$)' "$(sed -n 2p <<<"$OUT")"
  expect_match "sysfs readable" '^sys-ok$' "$OUT"
}
defcase config.mounts.proc-sysfs "proc shows the container's pid namespace; sysfs honours ro" c_mount_proc_sys

c_mount_devpts() {
  mkbundle c "${MI}"'mi /dev/pts; ls -l /dev/ptmx'
  run_ctr c
  expect_match "devpts options (newinstance => own ptmx mode 666)" 'ptmxmode=0?666' "$OUT"
  expect_match "devpts gid=5 mode=620" 'mode=0?620' "$OUT"
}
defcase config.mounts.devpts "devpts with ptmxmode/mode options" c_mount_devpts

c_mount_cgroup() {
  mkbundle c 'ls /sys/fs/cgroup; ls /sys/fs/cgroup/memory/ 2>/dev/null | grep -c "^memory\\.limit_in_bytes$"; ls /sys/fs/cgroup/pids/ 2>/dev/null | grep -c "^pids\\.max$"' \
    '.mounts += [{destination: "/sys/fs/cgroup", type: "cgroup", source: "cgroup", options: ["nosuid", "noexec", "nodev", "relatime", "ro"]}]
     | .linux.resources = {pids: {limit: 99}}'
  run_ctr c
  expect_match "controllers mounted under /sys/fs/cgroup" '^memory$' "$OUT"
  expect_match "controllers mounted under /sys/fs/cgroup" '^pids$' "$OUT"
  expect_eq "memory.limit_in_bytes and pids.max present" "1 1" "$(tail -n2 <<<"$OUT" | tr '\n' ' ' | sed 's/ $//')"
}
defcase config.mounts.cgroup "cgroup mount exposes the controllers" c_mount_cgroup

c_mount_order() {
  mkdir -p "$WORK/src"; echo bound >"$WORK/src/file"
  mkbundle c 'df -k /mnt | awk "NR==2 {print \$2}"; cat /mnt/sub/file' \
    '.mounts += [{destination: "/mnt", type: "tmpfs", source: "tmpfs", options: ["size=1m"]},
                 {destination: "/mnt", type: "tmpfs", source: "tmpfs", options: ["size=2m"]},
                 {destination: "/mnt/sub", type: "bind", source: ($work + "/src"), options: ["bind"]}]'
  run_ctr c
  expect_eq "later mounts on top, in order (size KiB, file)" "0 2048 bound" "$RC $(echo $OUT)"
}
defcase config.mounts.order "mounts are applied in order (later ones on top of earlier)" c_mount_order

c_mount_mkdir() {
  MKBUNDLE_PRIVATE=1 mkbundle c 'ls -d /newdir/deep && stat -c %a /newdir/deep' \
    '.mounts += [{destination: "/newdir/deep", type: "tmpfs", source: "tmpfs", options: ["mode=755"]}]'
  run_ctr c
  expect_eq "missing destination created" "0 /newdir/deep 755" "$RC $(echo $OUT)"
}
defcase config.mounts.destination-created "a missing mount destination is created" c_mount_mkdir
