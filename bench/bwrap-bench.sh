#!/bin/bash
# The bubblewrap backend's overhead: `mxc-runtime run` of /bin/true through the
# bubblewrap plugin against plain `bwrap` with the same sandbox options, run
# alternately (so drift hits both alike); prints medians and their difference.
#
#   bench/bwrap-bench.sh [-n N] [--mxc PATH] [--cgroups] [--tmp DIR] [--state DIR]
#
# -n N         iterations (default 50)
# --mxc        runtime binary (default: build/bin/mxc-runtime)
# --tmp DIR    where the rootfs goes (default /tmp)
# --state DIR  the runtime's --root (its state) for the headline numbers. Default:
#              a directory on a tmpfs (/dev/shm): the runtime's own default,
#              /run/mxc-runtime, is on a tmpfs on any systemd machine. The same
#              runs are also timed with the state on DIR of --tmp, which on this
#              VM is ext4 mounted with `discard` (no systemd: /run is on that
#              disk too), where each new inode costs a tenth of a millisecond or
#              more: that line shows what a disk-backed --root adds.
# --cgroups    let mxc-runtime create its default cgroup (plain bwrap has none;
#              the default is --cgroup-manager disabled, like for like)
# Also times the same container through the default backend (processcontainer),
# as a reference for the runtime's own share.
# As root (for a cgroup-free comparison any user works); needs /usr/bin/bwrap
# (package bubblewrap) and busybox for the rootfs (tests/lib/make-rootfs.sh).
set -euo pipefail

SRC=$(cd "$(dirname "$0")/.." && pwd)
N=50
MXC=$SRC/build/bin/mxc-runtime
TMPBASE=/tmp
STATEBASE=/dev/shm
CGROUP_ARGS=(--cgroup-manager disabled)
while [ $# -gt 0 ]; do
  case $1 in
    -n) N=$2; shift 2 ;;
    --mxc) MXC=$2; shift 2 ;;
    --cgroups) CGROUP_ARGS=(); shift ;;
    --tmp) TMPBASE=$2; shift 2 ;;
    --state) STATEBASE=$2; shift 2 ;;
    -h | --help) sed -n '2,26p' "$0"; exit 0 ;;
    *) echo "bwrap-bench: unknown option $1" >&2; exit 2 ;;
  esac
done
BWRAP=/usr/bin/bwrap
[ -x "$BWRAP" ] || { echo "bwrap-bench: $BWRAP missing (apt-get install -y bubblewrap)" >&2; exit 1; }
[ -x "$MXC" ] || { echo "bwrap-bench: $MXC is not executable (build first, or --mxc)" >&2; exit 1; }
command -v jq >/dev/null || { echo "bwrap-bench: jq is required" >&2; exit 1; }

TMP=$(mktemp -d "$TMPBASE/mxc-bwrap-bench.XXXXXX")
chmod 755 "$TMP"
STATE=$(mktemp -d "$STATEBASE/mxc-bwrap-bench-state.XXXXXX")
cleanup() {
  local root
  for root in "$STATE" "$TMP/state"; do
    "$MXC" --root "$root" list -q 2>/dev/null | while read -r id; do
      "$MXC" --root "$root" delete --force "$id" >/dev/null 2>&1 || true
    done
  done
  rm -rf "$TMP" "$STATE"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

sh "$SRC/tests/lib/make-rootfs.sh" "$TMP/rootfs" >/dev/null
chmod 755 "$TMP/rootfs"
mkdir -p "$TMP/bundle" "$TMP/state"
PATH_ENV=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
jq -n --arg rootfs "$TMP/rootfs" --arg path "PATH=$PATH_ENV" '{
  ociVersion: "1.0.2", mxc: {isolation: {backend: "bubblewrap"}},
  process: {terminal: false, user: {uid: 0, gid: 0}, args: ["/bin/true"], env: [$path], cwd: "/"},
  root: {path: $rootfs, readonly: false}, hostname: "bench",
  mounts: [{destination: "/proc", type: "proc", source: "proc"},
           {destination: "/dev", type: "tmpfs", source: "tmpfs", options: ["nosuid", "mode=755"]}],
  linux: {namespaces: [{type: "pid"}, {type: "ipc"}, {type: "uts"}, {type: "mount"}, {type: "network"}]}
}' >"$TMP/bundle/config.json"
# The same container through the default backend: the runtime's own floor
# (its create/start/delete bookkeeping), for attributing the difference.
mkdir -p "$TMP/bundle-pc"
jq 'del(.mxc)' "$TMP/bundle/config.json" >"$TMP/bundle-pc/config.json"

# What the plugin asks of bwrap for this bundle in a foreground run, minus its
# own plumbing (--block-fd, --info-fd): the same sandbox, built directly.
USERNS=()
[ "$(id -u)" = 0 ] || USERNS=(--unshare-user --uid 0 --gid 0)
BWRAP_ARGS=(--unshare-pid --as-pid-1 --unshare-ipc --unshare-uts --unshare-net "${USERNS[@]}"
  --hostname bench --clearenv --setenv PATH "$PATH_ENV" --chdir / --cap-drop ALL
  --bind "$TMP/rootfs" / --proc /proc --dev /dev --new-session --die-with-parent -- /bin/true)

ms_since() { # START (an $EPOCHREALTIME): elapsed ms
  awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.3f\n", (b - a) * 1000 }'
}
median() { sort -n | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else printf "%.3f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

run_mxc() { "$MXC" --root "$STATE" "${CGROUP_ARGS[@]}" run -b "$TMP/bundle" "bench-$1" </dev/null >/dev/null; }
run_disk() { "$MXC" --root "$TMP/state" "${CGROUP_ARGS[@]}" run -b "$TMP/bundle" "disk-$1" </dev/null >/dev/null; }
run_pc() { "$MXC" --root "$STATE" "${CGROUP_ARGS[@]}" run -b "$TMP/bundle-pc" "pc-$1" </dev/null >/dev/null; }
run_bwrap() { "$BWRAP" "${BWRAP_ARGS[@]}" </dev/null >/dev/null; }

# Warm-up (page cache, plugin load) and a correctness check of both sides.
run_mxc warm || { echo "bwrap-bench: mxc-runtime run through the bubblewrap backend failed" >&2; exit 1; }
run_bwrap || { echo "bwrap-bench: plain bwrap failed" >&2; exit 1; }
PC=1
run_pc warm 2>/dev/null || PC=0 # the reference only; not every host runs the default backend

: >"$TMP/mxc.ms"
: >"$TMP/disk.ms"
: >"$TMP/bwrap.ms"
: >"$TMP/pc.ms"
run_disk warm >/dev/null 2>&1 || true
for ((i = 0; i < N; i++)); do
  t=$EPOCHREALTIME; run_mxc "$i"; ms_since "$t" >>"$TMP/mxc.ms"
  t=$EPOCHREALTIME; run_bwrap; ms_since "$t" >>"$TMP/bwrap.ms"
  t=$EPOCHREALTIME; run_disk "$i"; ms_since "$t" >>"$TMP/disk.ms"
  if [ "$PC" = 1 ]; then t=$EPOCHREALTIME; run_pc "$i"; ms_since "$t" >>"$TMP/pc.ms"; fi
done
m_mxc=$(median <"$TMP/mxc.ms")
m_disk=$(median <"$TMP/disk.ms")
m_bwrap=$(median <"$TMP/bwrap.ms")
printf 'bwrap %s (%s), %d iterations, cgroups: %s, load average %s\n' "$("$BWRAP" --version | awk '{print $2}')" \
  "$( [ "$(id -u)" = 0 ] && echo root || echo rootless)" "$N" "$([ ${#CGROUP_ARGS[@]} = 0 ] && echo mxc default || echo disabled)" \
  "$(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-44s %8s ms (median)\n' "plain bwrap, same sandbox" "$m_bwrap"
printf '%-44s %8s ms (median)\n' "mxc-runtime run, state on $STATEBASE ($(stat -f -c %T "$STATE"))" "$m_mxc"
awk -v a="$m_mxc" -v b="$m_bwrap" 'BEGIN { printf "%-44s %8.3f ms (%+.0f%%)  [target <= 2 ms: %s]\n", "  difference", a - b, (a - b) / b * 100, (a - b <= 2 ? "met" : "NOT met") }'
printf '%-44s %8s ms (median)\n' "mxc-runtime run, state on $TMPBASE ($(stat -f -c %T "$TMP"))" "$m_disk"
awk -v a="$m_disk" -v b="$m_bwrap" 'BEGIN { printf "%-44s %8.3f ms (%+.0f%%)\n", "  difference", a - b, (a - b) / b * 100 }'
if [ "$PC" = 1 ]; then
  printf '%-44s %8s ms (median; the runtime alone, for reference)\n' "mxc-runtime run (processcontainer)" "$(median <"$TMP/pc.ms")"
fi
