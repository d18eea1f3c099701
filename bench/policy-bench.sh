#!/usr/bin/env bash
# Cost of the agent policy: `mxc-runtime run /bin/true` (foreground) with a full
# policy against the same bundle without one, alternated, medians.
#
#   bench/policy-bench.sh [-n N] [--mxc PATH] [--json FILE] [--parts]
#
# --parts also times each part of the policy alone (where the cost goes).
# The full policy: filesystem allowRead/allowWrite/denyRead (bind mounts +
# Landlock), network default deny + allowDomains + hosts (new network namespace,
# the shim's egress proxy inside it), agent (audit log), limits.timeoutMs (the
# shim's timer). Target (issue 5, item 9): it adds at most 3 ms.
set -euo pipefail

prog=${0##*/}
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
iterations=30
mxc=$repo/build/bin/mxc-runtime
json_out=
parts=0
while [ "$#" -gt 0 ]; do
  case $1 in
    -n) iterations=$2; shift 2 ;;
    --mxc) mxc=$2; shift 2 ;;
    --json) json_out=$2; shift 2 ;;
    --parts) parts=1; shift ;;
    -h|--help) sed -n '2,10p' "$0"; exit 0 ;;
    *) echo "$prog: unknown argument: $1" >&2; exit 2 ;;
  esac
done
[ "$(id -u)" -eq 0 ] || { echo "$prog: must run as root" >&2; exit 2; }
[ -x "$mxc" ] || { echo "$prog: not an executable: $mxc" >&2; exit 2; }

tmp=$(mktemp -d /tmp/mxc-policy-bench.XXXXXX)
# The state root on its own tmpfs, as the default /run/mxc-runtime is on most
# hosts: on ext4 every file created in a state dir pays for ext4's scan of
# recently deleted inodes (perf: recently_deleted, find_inode_bit), and a
# policy's container creates more files (shim.json, audit.log, exit.json, ...).
state=$tmp/state
mkdir -p "$state"
mount -t tmpfs -o mode=0700,size=64m tmpfs "$state"
trap 'for id in $("$mxc" --root "$state" list -q 2>/dev/null); do "$mxc" --root "$state" delete -f "$id"; done; umount "$state"; rm -rf "$tmp"' EXIT
sh "$repo/tests/lib/make-rootfs.sh" "$tmp/rootfs" >/dev/null
mkdir -p "$tmp/ws/build" "$tmp/ws/secret" "$tmp/plain" "$tmp/policy"
echo key >"$tmp/ws/secret/key"

jq -n --arg rootfs "$tmp/rootfs" '{
  ociVersion: "1.0.2-dev",
  process: {terminal: false, user: {uid: 0, gid: 0}, args: ["/bin/true"], env: ["PATH=/bin"], cwd: "/"},
  root: {path: $rootfs},
  mounts: [{destination: "/proc", type: "proc", source: "proc"},
           {destination: "/dev", type: "tmpfs", source: "tmpfs", options: ["nosuid", "mode=755"]}],
  linux: {namespaces: [{type: "pid"}, {type: "ipc"}, {type: "uts"}, {type: "mount"}, {type: "network"}]}
}' >"$tmp/plain/config.json"
jq --arg ws "$tmp/ws" '.mxc = {
  schemaVersion: "1.0",
  agent: {name: "bench-agent", identity: {provider: "local"}},
  isolation: {tier: "process", backend: "processcontainer"},
  filesystem: {allowRead: [$ws + "/**"], allowWrite: [$ws + "/build"], denyRead: [$ws + "/secret"]},
  network: {default: "deny", allowDomains: ["api.example.test", "*.npm.example.test"],
            hosts: {"api.example.test": ["127.0.0.1"]}},
  limits: {timeoutMs: 60000}
}' "$tmp/plain/config.json" >"$tmp/policy/config.json"
kinds="plain policy"
if [ "$parts" = 1 ]; then
  for part in filesystem network agent limits; do
    mkdir -p "$tmp/$part"
    jq --arg p "$part" '.mxc = {($p): .mxc[$p]}' "$tmp/policy/config.json" >"$tmp/$part/config.json"
    kinds="$kinds $part"
  done
  mkdir -p "$tmp/netdeny"
  jq '.mxc = {network: {default: "deny"}}' "$tmp/policy/config.json" >"$tmp/netdeny/config.json"
  kinds="$kinds netdeny"
fi

echo "host: $(nproc) cpus, load average $(cut -d' ' -f1-3 /proc/loadavg), kernel $(uname -r)"
echo "runtime: $mxc ($("$mxc" --version | head -n1))"
echo "state root: $state ($(stat -f -c %T "$state"))"
python3 - "$mxc" "$tmp" "$iterations" "$json_out" "$state" $kinds <<'PY'
import json, os, statistics, subprocess, sys, time
mxc, tmp, n, json_out = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
root = sys.argv[5]
kinds = {k: os.path.join(tmp, k) for k in sys.argv[6:]}
samples = {k: [] for k in kinds}
seq = 0

def run(kind):
    global seq
    seq += 1
    cid = f"pb-{kind}-{seq}"
    t0 = time.perf_counter_ns()
    p = subprocess.run([mxc, "--root", root, "run", "-b", kinds[kind], cid],
                       stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    dt = (time.perf_counter_ns() - t0) / 1e6
    if p.returncode != 0:
        sys.exit(f"policy-bench: {kind} run failed ({p.returncode}): {p.stderr.decode().strip()}")
    return dt

for k in kinds:  # warm-up, untimed
    run(k)
for i in range(n):
    # Alternated: every kind back to back, the order reversed every other round.
    order = list(kinds) if i % 2 == 0 else list(reversed(kinds))
    for k in order:
        samples[k].append(run(k))

med = {k: statistics.median(v) for k, v in samples.items()}
q = {k: statistics.quantiles(v, n=10) for k, v in samples.items()}
added = med["policy"] - med["plain"]
ratio = med["policy"] / med["plain"]
for k in kinds:
    extra = "" if k == "plain" else f"  (+{med[k] - med['plain']:.2f} ms)"
    print(f"{k:10s} run /bin/true, N={n}: median {med[k]:.2f} ms  p10 {q[k][0]:.2f}  p90 {q[k][-1]:.2f}{extra}")
print(f"full policy adds {added:.2f} ms (ratio {ratio:.2f})  "
      f"[target <= 3 ms: {'met' if added <= 3.0 else 'NOT met'}]")
if json_out:
    with open(json_out, "w") as f:
        json.dump({"n": n, "median_ms": med, "added_ms": added, "ratio": ratio, "samples_ms": samples}, f)
PY
