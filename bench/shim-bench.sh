#!/usr/bin/env bash
# mxc-shim memory and the cost of mxc-runtime under podman, side by side:
#
#   bench/shim-bench.sh [--count N] [-n ITER] [--mxc PATH] [--no-podman]
#
# 1. Shim memory: N (default 200) `sleep 1000` containers started at once with
#    `mxc-runtime run -d` (mxc-shim is each one's parent); RSS and PSS of every
#    mxc-shim from /proc/PID/smaps_rollup, per container. For comparison, the
#    same N containers under podman, whose per-container monitor is conmon.
# 2. `podman run --rm --network none busybox true` with --runtime mxc-runtime,
#    crun and runc, alternated in every iteration (ITER, default 20); medians
#    and ratios. (Under podman, conmon is the container's parent and mxc-runtime
#    starts no shim: see README "Who supervises a container".)
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
count=200 iter=20 mxc=$repo/build/bin/mxc-runtime podman_on=1
while [ $# -gt 0 ]; do
  case $1 in
    --count) count=$2; shift 2 ;;
    -n) iter=$2; shift 2 ;;
    --mxc) mxc=$2; shift 2 ;;
    --no-podman) podman_on=0; shift ;;
    -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
    *) echo "shim-bench: unknown option $1" >&2; exit 2 ;;
  esac
done
[ "$(id -u)" = 0 ] || { echo "shim-bench: run as root" >&2; exit 2; }
mxc=$(realpath "$mxc")
work=$(mktemp -d /tmp/mxc-shim-bench.XXXXXX)
root=$work/state
cleanup() {
  set +e
  for id in $("$mxc" --root "$root" list -q 2>/dev/null); do "$mxc" --root "$root" delete -f "$id" >/dev/null 2>&1; done
  if [ "$podman_on" = 1 ] && [ -n "${CONTAINERS_CONF:-}" ]; then
    podman rm -af -t 0 >/dev/null 2>&1
  fi
  rm -rf "$work"
}
trap cleanup EXIT

sh "$repo/tests/lib/make-rootfs.sh" "$work/rootfs" >/dev/null
mkdir -p "$work/bundle"
"$mxc" spec --bundle "$work/bundle" >/dev/null 2>&1 || (cd "$work/bundle" && "$mxc" spec)
jq --arg r "$work/rootfs" '.root.path = $r | .process.terminal = false | .process.args = ["sleep", "1000"]' \
  "$work/bundle/config.json" >"$work/bundle/c.json" && mv "$work/bundle/c.json" "$work/bundle/config.json"

# Sums Rss and Pss (kB) of the given pids; prints "n rss_avg pss_avg rss_max".
mem_of() {
  local pids=("$@")
  python3 - "${pids[@]}" <<'PY'
import sys
rss, pss = [], []
for pid in sys.argv[1:]:
    vals = {}
    with open(f"/proc/{pid}/smaps_rollup") as f:
        for line in f:
            k, _, v = line.partition(":")
            if k in ("Rss", "Pss"):
                vals[k] = int(v.split()[0])
    rss.append(vals["Rss"]); pss.append(vals["Pss"])
n = len(rss)
print(f"{n} {sum(rss)/n/1024:.2f} {sum(pss)/n/1024:.2f} {max(rss)/1024:.2f}")
PY
}

echo "== 1. per-container supervisor memory, $count sleep containers at once"
sync  # the binaries' page-cache pages are clean, as on an installed system
for i in $(seq 1 "$count"); do
  "$mxc" --root "$root" run -d -b "$work/bundle" "s$i" </dev/null >/dev/null
done
mapfile -t shims < <(for i in $(seq 1 "$count"); do jq -r .shimPid "$root/s$i/state.json"; done)
read -r n rss pss rssmax < <(mem_of "${shims[@]}")
printf '%-28s %5s  RSS %6s MiB  PSS %6s MiB  (max RSS %s MiB)\n' "mxc-shim (mxc-runtime run -d)" "$n" "$rss" "$pss" "$rssmax"
for i in $(seq 1 "$count"); do "$mxc" --root "$root" delete -f "s$i" >/dev/null 2>&1; done

have_podman=0
if [ "$podman_on" = 1 ] && command -v podman >/dev/null; then
  mkdir -p "$work"/{storage,run,tmp,networks}
  printf '[storage]\ndriver = "overlay"\ngraphroot = "%s"\nrunroot = "%s"\n' "$work/storage" "$work/run" >"$work/storage.conf"
  cat >"$work/containers.conf" <<CONF
[containers]
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]
[network]
network_backend = "netavark"
network_config_dir = "$work/networks"
[engine]
cgroup_manager = "cgroupfs"
events_logger = "none"
tmp_dir = "$work/tmp"
runtime_supports_json = ["crun", "runc", "mxc"]
[engine.runtimes]
mxc = ["$mxc"]
CONF
  export CONTAINERS_CONF=$work/containers.conf CONTAINERS_STORAGE_CONF=$work/storage.conf
  if tar -C "$work/rootfs" -c . | podman import - localhost/busybox >/dev/null 2>&1; then
    have_podman=1
  else
    echo "podman import failed: podman rows skipped"
  fi
fi

if [ "$have_podman" = 1 ]; then
  for i in $(seq 1 "$count"); do
    podman --runtime crun run -d --network none --name "c$i" localhost/busybox sleep 1000 >/dev/null 2>&1 ||
      podman --runtime runc run -d --network none --name "c$i" localhost/busybox sleep 1000 >/dev/null
  done
  mapfile -t conmons < <(pgrep -x conmon)
  read -r n rss pss rssmax < <(mem_of "${conmons[@]}")
  printf '%-28s %5s  RSS %6s MiB  PSS %6s MiB  (max RSS %s MiB)\n' "conmon (podman run -d)" "$n" "$rss" "$pss" "$rssmax"
  podman rm -af -t 0 >/dev/null 2>&1

  echo "== 2. podman run --rm --network none busybox true, $iter iterations, alternated"
  python3 - "$iter" "$mxc" <<'PY'
import statistics, subprocess, sys, time
iters, mxc = int(sys.argv[1]), sys.argv[2]
runtimes = {"mxc-runtime": mxc, "crun": "crun", "runc": "runc"}
times = {k: [] for k in runtimes}
order = list(runtimes)
for i in range(iters):
    order = order[1:] + order[:1]
    for name in order:
        t0 = time.perf_counter_ns()
        r = subprocess.run(["podman", "--runtime", runtimes[name], "run", "--rm", "--network", "none",
                            "localhost/busybox", "true"], capture_output=True)
        dt = (time.perf_counter_ns() - t0) / 1e6
        if r.returncode != 0:
            sys.exit(f"{name}: podman run failed: {r.stderr.decode().strip()}")
        times[name].append(dt)
med = {k: statistics.median(v) for k, v in times.items()}
for k in runtimes:
    print(f"{k:12s} median {med[k]:7.1f} ms  p90 {sorted(times[k])[int(0.9 * (len(times[k]) - 1))]:7.1f} ms")
print(f"ratio mxc/crun {med['mxc-runtime'] / med['crun']:.2f}   mxc/runc {med['mxc-runtime'] / med['runc']:.2f}")
PY
fi
