#!/bin/sh
# Builds a minimal root filesystem from Debian's busybox-static at test time:
#   tests/lib/make-rootfs.sh DIR
# DIR gets bin/busybox plus one symlink per applet, and the directories and
# files a container expects (/proc, /sys, /dev, /tmp, /etc/passwd, /etc/group).
set -eu
dir=${1:?usage: make-rootfs.sh DIR}
busybox=${BUSYBOX:-/bin/busybox}
if [ ! -x "$busybox" ]; then
  echo "make-rootfs.sh: $busybox: not found; install Debian's busybox-static" >&2
  exit 1
fi
mkdir -p "$dir"/bin "$dir"/sbin "$dir"/usr/bin "$dir"/usr/sbin "$dir"/etc "$dir"/proc "$dir"/sys \
  "$dir"/dev "$dir"/tmp "$dir"/root "$dir"/home "$dir"/var "$dir"/run "$dir"/mnt
chmod 1777 "$dir"/tmp
cp "$busybox" "$dir"/bin/busybox
for applet in $("$dir"/bin/busybox --list); do
  [ "$applet" = busybox ] && continue
  [ -e "$dir/bin/$applet" ] || ln -s busybox "$dir/bin/$applet"
done
cat >"$dir"/etc/passwd <<'P'
root:x:0:0:root:/root:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
P
cat >"$dir"/etc/group <<'G'
root:x:0:
nogroup:x:65534:
G
echo "$dir"
