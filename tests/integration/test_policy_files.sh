#!/bin/bash
# Agent policy, files and desktop, on the processcontainer backend: config.json's
# `mxc` section (filesystem.allowRead/allowWrite/denyRead: host paths; desktop).
# For each rule the allowed case works and the denied case fails with busybox's
# exact error text, including the symlink, `..`, hard link, /proc/self/root,
# /proc/<pid>/cwd and mount/umount tricks.
# shellcheck disable=SC2016 # jq filters and in-container scripts are single-quoted on purpose
set -euo pipefail
. "$(dirname "$0")/lib.sh"

mxc_only || skip "the mxc policy section is mxc-runtime's"

n=0
# pol FILTER SCRIPT [JQ-ARGS...]: runs `sh -c SCRIPT` (stderr into stdout) in a
# fresh container on a private rootfs ($WORK/b$n/rootfs) built with FILTER.
pol() {
  local filter=$1 script=$2
  shift 2
  n=$((n + 1))
  make_bundle_private "$WORK/b$n" ".process.args = [\"sh\", \"-c\", \$script] | $filter" \
    --arg script "{ $script; } 2>&1" "$@"
  run_cmd rt run -b "$WORK/b$n" "$(cid p$n)"
}

EACCES="Permission denied"
ENOENT="No such file or directory"
EPERM="Operation not permitted"
EROFS="Read-only file system"

# Host files: $WORK/h is bind-mounted at /mnt/h by the bundle.
H=$WORK/h
mkdir -p "$H/sub" "$H/secretdir"
echo pub >"$H/pub"
echo top-secret >"$H/secret.txt"
echo dir-secret >"$H/secretdir/key"
BIND_H='.mounts += [{destination: "/mnt/h", type: "bind", source: ($work + "/h"), options: ["rbind", "rw"]}]'
DENY_H="$BIND_H"' | .mxc.filesystem.denyRead = [$work + "/h/secret.txt", $work + "/h/secretdir"]'

# ---- control: without the policy everything is readable -----------------------
pol "$BIND_H" 'cat /mnt/h/secret.txt /mnt/h/secretdir/key'
assert_eq $'top-secret\ndir-secret' "$OUT" "control: no policy, the bind-mounted secrets are readable"

# ---- denyRead through a config.json bind mount (host path translated) ---------
pol "$DENY_H" 'cat /mnt/h/pub; cat /mnt/h/secret.txt; cat /mnt/h/secretdir/key; ls -A /mnt/h/secretdir | wc -l'
assert_eq "pub
cat: can't open '/mnt/h/secret.txt': $EACCES
cat: can't open '/mnt/h/secretdir/key': $EACCES
ls: can't open '/mnt/h/secretdir': $EACCES
0" "$OUT" "denyRead: sibling readable, denied file and dir EACCES (the dir is an empty mode-000 tmpfs)"

pol "$DENY_H" 'ln -s /mnt/h/secret.txt /tmp/l; cat /tmp/l; cat /mnt/h/sub/../secret.txt; cat /proc/self/root/mnt/h/secret.txt'
assert_eq "cat: can't open '/tmp/l': $EACCES
cat: can't open '/mnt/h/sub/../secret.txt': $EACCES
cat: can't open '/proc/self/root/mnt/h/secret.txt': $EACCES" "$OUT" "denyRead: symlink, .. and /proc/self/root reach the same denial"

pol "$DENY_H" 'cd /mnt/h/secretdir; (cd /mnt/h && exec sleep 3) & sleep 0.3; cat /proc/$!/cwd/pub /proc/$!/cwd/secret.txt /proc/$!/root/mnt/h/secretdir/key; kill $!'
assert_eq "sh: cd: line 0: can't cd to /mnt/h/secretdir: $EACCES
pub
cat: can't open '/proc/PID/cwd/secret.txt': $EACCES
cat: can't open '/proc/PID/root/mnt/h/secretdir/key': $EACCES" "$(sed 's|/proc/[0-9]*/|/proc/PID/|g' <<<"$OUT")" \
  "denyRead: no cd into a denied dir; /proc/<pid>/cwd and /proc/<pid>/root reach the same denial"

pol "$DENY_H" 'ln /mnt/h/secret.txt /mnt/h/hl; ln /mnt/h/secretdir/key /mnt/h/hl2; ls /mnt/h'
assert_eq "ln: /mnt/h/hl: Invalid cross-device link
ln: /mnt/h/secretdir/key: $EACCES
pub
secret.txt
secretdir
sub" "$OUT" "denyRead: no hard link to a denied file can be made"

# Mount tricks need CAP_SYS_ADMIN: the control shows the container has it.
ALLCAPS='.process.capabilities = {bounding: ["CAP_SYS_ADMIN", "CAP_DAC_OVERRIDE"], effective: ["CAP_SYS_ADMIN", "CAP_DAC_OVERRIDE"], permitted: ["CAP_SYS_ADMIN", "CAP_DAC_OVERRIDE"]}'
pol "$BIND_H | $ALLCAPS" 'mkdir -p /tmp/x && mount -t tmpfs none /tmp/x && echo mounted; umount /mnt/h && echo unmounted'
assert_eq $'mounted\nunmounted' "$OUT" "control: with CAP_SYS_ADMIN and no policy, mount and umount work"
pol "$DENY_H | $ALLCAPS" 'umount /mnt/h/secret.txt; umount -l /mnt/h/secretdir; mount --bind /mnt/h /tmp; mount -t tmpfs none /tmp; cat /mnt/h/secretdir/key'
assert_eq "umount: can't unmount /mnt/h/secret.txt: $EPERM
umount: can't unmount /mnt/h/secretdir: $EPERM
mount: permission denied (are you root?)
mount: permission denied (are you root?)
cat: can't open '/mnt/h/secretdir/key': $ENOENT" "$OUT" "denyRead: umount of the cover and bind tricks are refused (Landlock)"

# ---- denyRead inside the root filesystem (Landlock holds for its content) -----
pol '.mxc.filesystem.denyRead = [$rootfs + "/etc/secret", $rootfs + "/etc/nothere"]' \
  'cat /etc/secret; cat /etc/passwd >/dev/null && echo etc-readable; echo x >/etc/nothere; ln /etc/secret /tmp/hl; echo x >/tmp/ok && cat /tmp/ok'
echo rootfs-secret >"$WORK/b$n/rootfs/etc/secret" # (for the record: written after the run)
assert_eq "cat: can't open '/etc/secret': $ENOENT
etc-readable
sh: can't create /etc/nothere: $EACCES
ln: /etc/secret: $ENOENT
x" "$OUT" "denyRead in the rootfs: a missing path cannot be created; siblings and /tmp work"
n=$((n + 1))
make_bundle_private "$WORK/b$n" '.process.args = ["sh", "-c", "{ cat /etc/secret; ln /etc/secret /tmp/hl; ls /etc/secret; cat /etc/passwd >/dev/null && echo passwd; } 2>&1"] | .mxc.filesystem.denyRead = [$rootfs + "/etc/secret"]'
echo rootfs-secret >"$WORK/b$n/rootfs/etc/secret"
run_cmd rt run -b "$WORK/b$n" "$(cid p$n)"
assert_eq "cat: can't open '/etc/secret': $EACCES
ln: /tmp/hl: Invalid cross-device link
/etc/secret
passwd" "$OUT" "denyRead of a rootfs file: EACCES, no hard link; other files readable"

# ---- allowRead / allowWrite: host paths at the same path, nothing else ---------
W=$WORK
mkdir -p "$W/ro" "$W/rw" "$W/other"
echo ro-file >"$W/ro/f"
echo other-file >"$W/other/f"
BIND_OTHER='.mounts += [{destination: "/mnt/other", type: "bind", source: ($work + "/other"), options: ["rbind", "rw"]}]'
pol "$BIND_OTHER"' | .mxc.filesystem = {allowRead: [$work + "/ro"], allowWrite: [$work + "/rw"]}' \
  "cat $W/ro/f; echo x >$W/ro/n; echo y >$W/rw/n && echo wrote; cat /mnt/other/f; ls -A /mnt/other | wc -l; echo z >/mnt/other/n; ls $W/other; cat $W/other/f"
assert_eq "ro-file
sh: can't create $W/ro/n: $EROFS
wrote
cat: can't open '/mnt/other/f': $EACCES
ls: can't open '/mnt/other': $EACCES
0
sh: can't create /mnt/other/n: $EACCES
ls: $W/other: $ENOENT
cat: can't open '$W/other/f': $ENOENT" "$OUT" "allowRead/allowWrite: shown at their host path (ro / rw); a host bind mount not allowed is hidden"
assert_eq "y" "$(cat "$W/rw/n" 2>/dev/null)" "allowWrite: the write reached the host"
assert_eq "no" "$([ -e "$W/ro/n" ] || [ -e "$W/other/n" ] && echo yes || echo no)" "allowRead / unlisted: nothing written on the host"

# Read-only means read/execute rights even where the mount is writable: the
# bundle's rw bind mount of an allowRead path.
BIND_RO='.mounts += [{destination: "/mnt/ro", type: "bind", source: ($work + "/ro"), options: ["rbind", "rw"]}]'
pol "$BIND_RO"' | .mxc.filesystem.allowRead = [$work + "/ro"]' 'cat /mnt/ro/f; echo x >>/mnt/ro/f; rm /mnt/ro/f; ls /mnt/ro'
assert_eq "ro-file
sh: can't create /mnt/ro/f: $EROFS
rm: can't remove '/mnt/ro/f': $EROFS
f" "$OUT" "allowRead over a rw bind mount: read-only"

# ---- the most specific path wins; deny > ro > rw for the same path ------------
mkdir -p "$W/t1/rw" "$W/t2/ro" "$W/same" "$W/same2" "$W/d/pub"
echo t >"$W/same2/f"
echo dpub >"$W/d/pub/f"
echo dsecret >"$W/d/f"
pol '.mxc.filesystem = {allowRead: [$work + "/t1", $work + "/t2/ro"], allowWrite: [$work + "/t1/rw", $work + "/t2"]}' \
  "echo a >$W/t1/rw/a && echo rw-in-ro; echo b >$W/t1/b; echo c >$W/t2/c && echo rw-outer; echo d >$W/t2/ro/d"
assert_eq "rw-in-ro
sh: can't create $W/t1/b: $EROFS
rw-outer
sh: can't create $W/t2/ro/d: $EROFS" "$OUT" "most specific wins: rw inside ro is writable, ro inside rw is not"
pol '.mxc.filesystem = {allowRead: [$work + "/same", $work + "/same2"], allowWrite: [$work + "/same"], denyRead: [$work + "/same2"]}' \
  "echo a >$W/same/a; cat $W/same2/f"
assert_eq "sh: can't create $W/same/a: $EROFS
cat: can't open '$W/same2/f': $ENOENT" "$OUT" "same path: read-only beats read-write, deny beats read-only"
pol '.mxc.filesystem = {allowRead: [$work + "/d/pub"], denyRead: [$work + "/d"]}' "cat $W/d/pub/f; cat $W/d/f"
assert_eq "dpub
cat: can't open '$W/d/f': $ENOENT" "$OUT" "an allowed path inside a denied one stays readable"

# ---- /proc, /dev, /sys and the bundle's own mounts keep working ---------------
pol "$DENY_H"' | .mxc.filesystem.allowRead = [$rootfs]' \
  'echo x >/dev/null && ls /proc/self/fd >/dev/null && ls /sys/class >/dev/null && ls /dev/pts >/dev/null && echo ok; echo y >/tmp/y'
assert_eq "ok
sh: can't create /tmp/y: $EROFS" "$OUT" "allowRead [rootfs]: /proc /dev /sys work, the rootfs is read-only"

# ---- exec: the same rules for another process in the container ----------------
n=$((n + 1))
make_bundle_private "$WORK/b$n" ".process.args = [\"sleep\", \"30\"] | $DENY_H | $ALLCAPS"
run_cmd rt run -d -b "$WORK/b$n" "$(cid p$n)"
assert_eq 0 "$RC" "exec: detached container with a policy runs ($ERR)"
run_cmd rt exec "$(cid p$n)" sh -c 'cat /mnt/h/pub; cat /mnt/h/secret.txt 2>&1; umount /mnt/h/secret.txt 2>&1'
assert_eq "pub
cat: can't open '/mnt/h/secret.txt': $EACCES
umount: can't unmount /mnt/h/secret.txt: $EPERM" "$OUT" "exec: denied file and umount refused as in the init"
rt delete -f "$(cid p$n)" >/dev/null 2>&1 || true

# ---- bad input: one line naming the field and the backend ---------------------
pol '.mxc.filesystem.allowExecute = ["/bin"]' true
assert_one_line_error "unknown filesystem field" 'config\.json: mxc\.filesystem\.allowExecute: unknown field'
pol '.mxc.filesystem.denyRead = ["relative/path"]' true
assert_one_line_error "relative denyRead path" 'mxc\.filesystem\.denyRead\[0\]: must be an absolute path after expansion: "relative/path"'
pol '.mxc.filesystem.denyRead = [$rootfs | sub("/[^/]*$"; "")]' true
assert_one_line_error "denyRead of the rootfs itself" "contains the container's root filesystem"
pol '.mxc.desktop.shareClipboard = true' true
assert_one_line_error "shareClipboard on the process tier" 'mxc\.desktop\.shareClipboard: needs the session tier'
assert_nothing_left "refused policies"

# ---- desktop: no host display sockets ------------------------------------------
if [ -d /tmp/.X11-unix ]; then x11src=/tmp/.X11-unix; else x11src=/run/dbus; mkdir -p /run/dbus; fi
pol ".mounts += [{destination: \"/mnt/x\", type: \"bind\", source: \"$x11src\", options: [\"rbind\"]}] | .mxc.desktop = {shareClipboard: false}" true
assert_one_line_error "desktop: a host display socket mount is refused" "mounts\[6\]: source $x11src: the agent policy gives the container no host display"
mkdir -p "$W/x11"
pol '.mounts += [{destination: "/tmp/.X11-unix", type: "bind", source: ($work + "/x11"), options: ["rbind"]}] | .mxc.desktop = {}' true
assert_one_line_error "desktop: a mount at /tmp/.X11-unix is refused" 'mounts\[6\]: destination /tmp/.X11-unix'

# Abstract unix socket @/tmp/.X11-unix/X0 on the host; the container shares
# the host's network namespace.
command -v cc >/dev/null || skip "cc is needed to build the abstract-socket client"
cc -static -O2 -o "$WORK/aconnect" "$LIB_DIR/abstract_connect.c"
name="/tmp/.X11-unix/X0-mxc-$$"
python3 -c 'import socket,sys,time; s=socket.socket(socket.AF_UNIX); s.bind("\0"+sys.argv[1]); s.listen(8); open(sys.argv[2],"w").close(); time.sleep(120)' "$name" "$WORK/listening" &
listener=$!
track_pid $listener
wait_file "$WORK/listening" 5 || die "the abstract socket listener did not start"
HOSTNET='.linux.namespaces |= map(select(.type != "network")) | .mounts += [{destination: "/aconnect", type: "bind", source: ($work + "/aconnect"), options: ["bind", "ro"]}]'
pol "$HOSTNET" "/aconnect $name"
assert_eq "connected" "$OUT" "control: without a policy the host's abstract X11 socket is reachable"
pol "$HOSTNET"' | .mxc.desktop = {shareClipboard: false, shareInput: false}' "/aconnect $name"
assert_eq "connect: $EPERM" "$OUT" "desktop: the host's abstract X11 socket cannot be reached (Landlock scope)"
pol "$HOSTNET"' | .mxc.filesystem.denyRead = ["/nonexistent"]' "/aconnect $name"
assert_eq "connect: $EPERM" "$OUT" "desktop: any policy scopes abstract sockets"

kill "$listener" && wait "$listener" 2>/dev/null || true
assert_nothing_left "policy containers"
