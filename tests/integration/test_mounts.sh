#!/bin/bash
# mounts, maskedPaths, readonlyPaths, root.readonly, devices, and symlink
# escapes in mount destinations.
# shellcheck disable=SC2016 # jq filters and in-container scripts are single-quoted on purpose
set -euo pipefail
. "$(dirname "$0")/lib.sh"

n=0
# in_ctr FILTER SCRIPT [JQ-ARGS...]: runs `sh -c SCRIPT` in a fresh container
# (shared rootfs) built with FILTER; sets RC, OUT, ERR.
in_ctr() {
  local filter=$1 script=$2
  shift 2
  n=$((n + 1))
  make_bundle "$WORK/b$n" ".process.args = [\"sh\", \"-c\", \$script] | $filter" --arg script "$script" "$@"
  run_cmd rt run -b "$WORK/b$n" "$(cid m$n)"
}
mountinfo_line='awk -v m="$M" '"'"'$5 == m'"'"' /proc/self/mountinfo | tail -n1'

# ---- bind mounts ----------------------------------------------------------
host=$WORK/hostdir
mkdir -p "$host"
echo "from-host" >"$host/hello"
bind_rw='.mounts += [{destination: "/mnt", type: "bind", source: ($work + "/hostdir"), options: ["rbind", "rw"]}]'
bind_ro='.mounts += [{destination: "/mnt", type: "bind", source: ($work + "/hostdir"), options: ["rbind", "ro"]}]'

in_ctr "$bind_rw" 'cat /mnt/hello && echo from-ctr >/mnt/written'
assert_eq "from-host" "$OUT" "bind mount of a host dir shows its file"
assert_eq "from-ctr" "$(cat "$host/written" 2>/dev/null)" "rw bind mount: a write inside reaches the host dir"
rm -f "$host/written"

in_ctr "$bind_ro" 'cat /mnt/hello; if echo x >/mnt/written; then echo WRITABLE; else echo refused; fi'
assert_eq $'from-host\nrefused' "$OUT" "ro bind mount refuses writes"
assert_eq "no" "$([ -e "$host/written" ] && echo yes || echo no)" "ro bind mount: host dir unchanged"

echo "file-bind" >"$WORK/group.file"
in_ctr '.mounts += [{destination: "/etc/group", type: "bind", source: ($work + "/group.file"), options: ["bind", "ro"]}]' 'cat /etc/group'
assert_eq "file-bind" "$OUT" "bind mount of a single file onto a file"

# ---- tmpfs options --------------------------------------------------------
in_ctr '.mounts += [{destination: "/tmp", type: "tmpfs", source: "tmpfs", options: ["nosuid", "noexec", "nodev", "size=2m"]}]' \
  "M=/tmp; $mountinfo_line"
line=$(printf '%s\n' "$OUT" | head -n1)
opts=$(printf '%s\n' "$line" | awk '{print $6}')
assert_contains "$line" " - tmpfs " "tmpfs mounted at /tmp"
assert_match "$opts" '(^|,)nosuid(,|$)' "tmpfs nosuid visible in mountinfo ($opts)"
assert_match "$opts" '(^|,)noexec(,|$)' "tmpfs noexec visible in mountinfo"
assert_match "$opts" '(^|,)nodev(,|$)' "tmpfs nodev visible in mountinfo"
assert_match "$line" 'size=2048k' "tmpfs size=2m visible in mountinfo super options"
in_ctr '.mounts += [{destination: "/tmp", type: "tmpfs", source: "tmpfs", options: ["size=1m"]}]' "M=/tmp; $mountinfo_line"
opts=$(printf '%s\n' "$OUT" | awk '{print $6}')
assert_match "$opts" '^rw' "tmpfs without flags is rw ($opts)"
assert_not_contains "$opts" "noexec" "tmpfs without noexec is exec"

# ---- maskedPaths ----------------------------------------------------------
mkdir -p "$host/maskdir"
echo "secret" >"$host/secret.txt"
echo "inner" >"$host/maskdir/inner"
# A default-masked /proc file that this kernel has and that has content.
procf=
for f in /proc/kcore /proc/timer_list /proc/sched_debug /proc/keys; do
  if [ "$(head -c 1 "$f" 2>/dev/null | wc -c)" = 1 ]; then procf=$f; break; fi
done
script='cat /mnt/secret.txt; echo "|"; ls -A /mnt/maskdir; echo "|"; head -c 1 "$1" | wc -c'
in_ctr "$bind_rw"' | .linux.maskedPaths += ["/mnt/secret.txt", "/mnt/maskdir"] | .process.args += ["sh", $f]' "$script" --arg f "${procf:-/proc/kcore}"
assert_eq $'|\n|\n0' "$OUT" "masked file reads empty, masked dir is empty, ${procf:-/proc/kcore} reads empty"
in_ctr "$bind_rw"' | .linux.maskedPaths = [] | .process.args += ["sh", $f]' "$script" --arg f "${procf:-/proc/kcore}"
assert_eq $'secret\n|\ninner\n|' "$(printf '%s\n' "$OUT" | head -n4)" "control: without maskedPaths the file and dir are visible"
if [ -n "$procf" ]; then
  assert_eq "1" "$(printf '%s\n' "$OUT" | sed -n 5p)" "control: without maskedPaths $procf has content"
fi
in_ctr '.' 'ls -A /sys/firmware | wc -l'
assert_eq "0" "$OUT" "/sys/firmware (a default masked dir) is empty"
assert_eq "$host/secret.txt: secret" "$host/secret.txt: $(cat "$host/secret.txt")" "host file behind a masked path is untouched"

# ---- readonlyPaths --------------------------------------------------------
# CAP_SYS_ADMIN lets the container set its own (uts-namespaced) hostname
# through /proc/sys, so only readonlyPaths can refuse the write.
sysadmin='.process.capabilities |= map_values(. + ["CAP_SYS_ADMIN"])'
script='if echo newname >/proc/sys/kernel/hostname 2>/dev/null; then echo writable; else echo refused; fi; hostname'
in_ctr "$sysadmin" "$script"
assert_eq $'refused\nmxc-test' "$OUT" "readonlyPaths /proc/sys refuses writes"
in_ctr "$sysadmin | .linux.readonlyPaths -= [\"/proc/sys\"]" "$script"
assert_eq $'writable\nnewname' "$OUT" "control: without /proc/sys in readonlyPaths the write works"
in_ctr "$bind_rw"' | .linux.readonlyPaths += ["/mnt"]' 'if touch /mnt/ro-test 2>/dev/null; then echo writable; else echo refused; fi; cat /mnt/hello'
assert_eq $'refused\nfrom-host' "$OUT" "readonlyPaths on a rw bind mount refuses writes"
assert_eq "no" "$([ -e "$host/ro-test" ] && echo yes || echo no)" "host dir behind a readonly path unchanged"

# ---- root.readonly --------------------------------------------------------
script='M=/; '"$mountinfo_line"' | awk "{print \$6}"; if touch /root/rootfs-write-test 2>/dev/null; then echo writable; rm -f /root/rootfs-write-test; else echo refused; fi'
in_ctr '.root.readonly = true' "$script"
assert_match "$(printf '%s\n' "$OUT" | head -n1)" '^ro(,|$)' "root.readonly: / is mounted ro"
assert_eq "refused" "$(printf '%s\n' "$OUT" | sed -n 2p)" "root.readonly: writing to / is refused"
in_ctr '.root.readonly = false' "M=/; $mountinfo_line"' | awk "{print \$6}"'
assert_match "$OUT" '^rw(,|$)' "control: root.readonly false: / is mounted rw"

# ---- devices --------------------------------------------------------------
script='for d in null zero full random urandom tty; do stat -c "$d %F %t:%T" /dev/$d; done
for l in fd stdin stdout stderr ptmx; do echo "$l -> $(readlink /dev/$l)"; done
echo x >/dev/null && echo null-ok
if echo x 2>/dev/null >/dev/full; then echo full-accepts; else echo full-refuses; fi
head -c 4 /dev/zero | od -An -tx1 | tr -d " "
test -e /dev/fd/0 && echo fd-ok'
in_ctr '.' "$script"
expected='null character special file 1:3
zero character special file 1:5
full character special file 1:7
random character special file 1:8
urandom character special file 1:9
tty character special file 5:0
fd -> /proc/self/fd
stdin -> /proc/self/fd/0
stdout -> /proc/self/fd/1
stderr -> /proc/self/fd/2
ptmx -> pts/ptmx
null-ok
full-refuses
00000000
fd-ok'
assert_eq "$expected" "$OUT" "default devices and /dev symlinks exist and work"

in_ctr '.linux.devices = [{path: "/dev/mynull", type: "c", major: 1, minor: 3, fileMode: 438, uid: 0, gid: 0}]' \
  'stat -c "%F %t:%T %a %u:%g" /dev/mynull; echo x >/dev/mynull && echo write-ok; wc -c </dev/mynull'
assert_eq $'character special file 1:3 666 0:0\nwrite-ok\n0' "$OUT" "linux.devices adds /dev/mynull c 1:3 0666"
in_ctr '.linux.devices = [{path: "/dev/myzero", type: "c", major: 1, minor: 5, fileMode: 384, uid: 1000, gid: 44}]' \
  'stat -c "%F %t:%T %a %u:%g" /dev/myzero'
assert_eq "character special file 1:5 600 1000:44" "$OUT" "linux.devices honours fileMode 0600, uid, gid"

# ---- symlink escapes in mount destinations (CVE-2021-30465 class) -------------
outside=$TEST_TMP/outside-host-dir
outside_rel=$TEST_TMP/outside-host-dir-rel
mkdir -p "$outside" "$outside_rel"
echo keep >"$outside/keep"
b=$WORK/evil
make_bundle_private "$b" '.process.args = ["sh", "-c", "ls -A /evil/sub /evil2/sub; mount | grep -c /evil || true"]
  | .mounts += [
      {destination: "/evil/sub", type: "tmpfs", source: "tmpfs", options: ["size=1m"]},
      {destination: "/evil2/sub", type: "bind", source: ($work + "/hostdir"), options: ["rbind", "ro"]}]'
ln -s "$outside" "$b/rootfs/evil"
ln -s "../../../../../../../../../..$outside_rel" "$b/rootfs/evil2"
run_cmd rt run -b "$b" "$(cid evil)"
log "     (run through escaping symlinks exited $RC)"
assert_eq "keep" "$(ls -A "$outside")" "mount via /evil -> host dir: host dir untouched (nothing created)"
assert_eq "" "$(ls -A "$outside_rel")" "mount via relative ../ symlink: host dir untouched"
assert_eq "" "$(awk -v a="$outside" 'index($5, a)' /proc/self/mountinfo)" "nothing mounted on the host path"
if [ "$RC" -eq 0 ]; then
  assert_contains "$OUT" "hello" "the bind mount went inside the rootfs instead"
else
  pass "runtime refused the escaping destination instead: $(error_lines | tail -n1)"
fi
