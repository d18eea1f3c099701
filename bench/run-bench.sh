#!/usr/bin/env bash
# Startup-latency and memory benchmark: mxc-runtime vs crun vs runc.
#
#   bench/run-bench.sh [-n N] [--json FILE] [--mxc PATH] [--crun PATH] [--runc PATH]
#                      [--cgroups] [--many COUNT [--many-rounds R]]
#                      [--setup-crun-hugetlb]
#
# Runtimes are ALTERNATED round-robin inside every iteration, and the order
# cycles through all permutations, so drift and carry-over from the previous
# command hit all runtimes equally. Timing is done by a small python3 loop (time.perf_counter_ns around subprocess.run); the
# table shows medians. See bench/README.md for how to read the output.
set -euo pipefail

prog=${0##*/}
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

usage() {
  cat <<EOF
usage: $prog [options]
  -n N                    iterations (default 50)
  --json FILE             also write results as JSON to FILE
  --mxc PATH              mxc-runtime binary (default $repo/build/bin/mxc-runtime)
  --crun PATH             crun binary (default: crun from PATH)
  --runc PATH             runc binary (default: runc from PATH)
  --cgroups               set linux.resources (memory 256M, pids 100, cpu shares 512)
                          and a per-container linux.cgroupsPath; each runtime uses
                          its default cgroup manager
  --many COUNT            also: start COUNT 'sleep 1000' containers with 'run -d'
                          (timed total), then kill+delete them all (timed total)
  --many-rounds R         rounds of the --many test per runtime (default 3)
  --setup-crun-hugetlb    on a hybrid cgroup host where cgroup2 still holds the
                          hugetlb controller (crun 1.8 refuses that), mount a v1
                          hugetlb hierarchy at /sys/fs/cgroup/hugetlb first.
                          It is left mounted; the script prints how to undo it.
  -h, --help              this text
EOF
}

iterations=50
json_out=
mxc=$repo/build/bin/mxc-runtime
crun=crun
runc=runc
cgroups=0
many=0
many_rounds=3
setup_hugetlb=0

need_arg() { [ "$#" -ge 2 ] || { echo "$prog: $1 needs an argument" >&2; exit 2; }; }
while [ "$#" -gt 0 ]; do
  case $1 in
    -n) need_arg "$@"; iterations=$2; shift 2 ;;
    --json) need_arg "$@"; json_out=$2; shift 2 ;;
    --mxc) need_arg "$@"; mxc=$2; shift 2 ;;
    --crun) need_arg "$@"; crun=$2; shift 2 ;;
    --runc) need_arg "$@"; runc=$2; shift 2 ;;
    --cgroups) cgroups=1; shift ;;
    --many) need_arg "$@"; many=$2; shift 2 ;;
    --many-rounds) need_arg "$@"; many_rounds=$2; shift 2 ;;
    --setup-crun-hugetlb) setup_hugetlb=1; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "$prog: unknown argument: $1" >&2; usage >&2; exit 2 ;;
  esac
done
for v in "$iterations" "$many" "$many_rounds"; do
  case $v in ''|*[!0-9]*) echo "$prog: not a number: '$v'" >&2; exit 2 ;; esac
done
[ "$iterations" -ge 1 ] || { echo "$prog: -n must be >= 1" >&2; exit 2; }
[ "$many_rounds" -ge 1 ] || { echo "$prog: --many-rounds must be >= 1" >&2; exit 2; }
if [ -n "$json_out" ] && [ ! -w "$(dirname -- "$json_out")" ]; then
  echo "$prog: --json: directory of '$json_out' does not exist or is not writable" >&2; exit 2
fi
[ "$(id -u)" -eq 0 ] || { echo "$prog: must run as root (rootful runtimes only)" >&2; exit 2; }
command -v python3 >/dev/null || { echo "$prog: python3 is required (Debian package python3)" >&2; exit 2; }

# Resolve a runtime argument to an absolute path; keep it as given if not found
# (python reports it as skipped with the reason).
resolve() {
  local p
  if p=$(command -v -- "$1" 2>/dev/null) && [ -n "$p" ]; then
    case $p in /*) printf '%s\n' "$p"; return ;; esac
  fi
  printf '%s\n' "$1"
}
mxc=$(resolve "$mxc")
crun=$(resolve "$crun")
runc=$(resolve "$runc")

# ---------------------------------------------------------------- cgroup setup
# Describe (and with --setup-crun-hugetlb, adjust) the cgroup layout. The text
# ends up in the output and in the JSON so every result says what was used.
cg_layout=unknown
cg_setup="none"
cgfs=$(stat -f -c %T /sys/fs/cgroup 2>/dev/null || echo missing)
if [ "$cgfs" = cgroup2fs ]; then
  cg_layout="unified (cgroup v2 only)"
elif [ "$cgfs" = tmpfs ]; then
  v2ctl=
  if mountpoint -q /sys/fs/cgroup/unified 2>/dev/null; then
    v2ctl=$(cat /sys/fs/cgroup/unified/cgroup.controllers 2>/dev/null || true)
  fi
  hugetlb_dir=/sys/fs/cgroup/hugetlb
  if mountpoint -q "$hugetlb_dir" 2>/dev/null; then
    cg_setup="v1 hugetlb hierarchy at $hugetlb_dir already mounted before this run (not touched)"
  elif [ "$setup_hugetlb" -eq 1 ]; then
    case " $v2ctl " in
      *" hugetlb "*)
        mkdir -p "$hugetlb_dir"
        mount -t cgroup -o hugetlb cgroup "$hugetlb_dir"
        cg_setup="MOUNTED by this run: v1 hugetlb hierarchy at $hugetlb_dir (mkdir -p $hugetlb_dir && mount -t cgroup -o hugetlb cgroup $hugetlb_dir); left mounted, undo with: umount $hugetlb_dir && rmdir $hugetlb_dir"
        ;;
      *) cg_setup="--setup-crun-hugetlb given but cgroup2 does not hold hugetlb; nothing done" ;;
    esac
  else
    case " $v2ctl " in
      *" hugetlb "*) cg_setup="none: hugetlb is still on cgroup2, crun 1.8 refuses this layout (pass --setup-crun-hugetlb)" ;;
    esac
  fi
  v2ctl=$(cat /sys/fs/cgroup/unified/cgroup.controllers 2>/dev/null || true)
  cg_layout="hybrid (v1 controllers under /sys/fs/cgroup/<controller>; cgroup2 at /sys/fs/cgroup/unified, v2 controllers now: ${v2ctl:-none})"
elif [ "$setup_hugetlb" -eq 1 ]; then
  cg_setup="--setup-crun-hugetlb given but /sys/fs/cgroup is '$cgfs', not a tmpfs; nothing done"
fi

# ------------------------------------------------------------ temp + cleanup
tmp=$(mktemp -d /tmp/mxc-bench.XXXXXX)
cg_prefix="mxc-bench-$$"
pypid=

# shellcheck disable=SC2317  # invoked via trap
cleanup() {
  local rc=$? d id rt name root ids
  trap - EXIT INT TERM
  if [ -n "$pypid" ] && kill -0 "$pypid" 2>/dev/null; then
    kill -TERM "$pypid" 2>/dev/null || true
    wait "$pypid" 2>/dev/null || true
  fi
  # Safety net: python deletes what it created, but sweep every state root.
  for d in "$tmp"/roots/*; do
    [ -d "$d" ] || continue
    name=${d##*/}
    root=$d
    rt=$(cat "$tmp/runtimes/$name" 2>/dev/null || true)
    if [ -z "$rt" ] || [ ! -x "$rt" ]; then continue; fi
    ids=$({ "$rt" --root "$root" list -q 2>/dev/null || true; ls -1 "$root" 2>/dev/null; } | sort -u)
    for id in $ids; do
      [ -d "$root/$id" ] || continue
      timeout 10 "$rt" --root "$root" kill "$id" KILL >/dev/null 2>&1 || true
      timeout 10 "$rt" --root "$root" delete -f "$id" >/dev/null 2>&1 || true
    done
  done
  # Leaf cgroups from --cgroups whose container could not be deleted.
  for d in /sys/fs/cgroup/*/"$cg_prefix"-* /sys/fs/cgroup/"$cg_prefix"-*; do
    if [ -d "$d" ]; then rmdir "$d" 2>/dev/null || true; fi
  done
  rm -rf "$tmp"
  exit "$rc"
}
# shellcheck disable=SC2317  # invoked via trap
on_signal() {
  # Stop the python loop (it deletes its containers), then exit -> cleanup.
  if [ -n "$pypid" ]; then
    kill -TERM "$pypid" 2>/dev/null || true
    wait "$pypid" 2>/dev/null || true
  fi
  exit "$1"
}
trap cleanup EXIT
trap 'on_signal 130' INT
trap 'on_signal 143' TERM

mkdir -p "$tmp/roots" "$tmp/runtimes" "$tmp/bundles"
"$repo/tests/lib/make-rootfs.sh" "$tmp/rootfs" >/dev/null

# ------------------------------------------------------------- timing loop
cat >"$tmp/bench.py" <<'PY'
import itertools, json, os, platform, signal, statistics, subprocess, sys, time

signal.signal(signal.SIGINT, signal.default_int_handler)  # bash may start us with SIGINT ignored
def _term(signum, frame):
    raise KeyboardInterrupt
signal.signal(signal.SIGTERM, _term)

A = json.loads(sys.argv[1])
TMP, ROOTFS, CGPREFIX = A["tmp"], A["tmp"] + "/rootfs", A["cg_prefix"]
N, CGROUPS, MANY, MANY_ROUNDS = A["iterations"], A["cgroups"], A["many"], A["many_rounds"]
TIME_BIN = "/usr/bin/time"
DEVNULL = subprocess.DEVNULL
ms = lambda ns: ns / 1e6

def config(args, cgroups_path=None):
    c = {
        "ociVersion": "1.0.2-dev",
        "process": {"terminal": False, "user": {"uid": 0, "gid": 0}, "args": args,
                    "env": ["PATH=/usr/sbin:/usr/bin:/sbin:/bin"], "cwd": "/"},
        "root": {"path": ROOTFS, "readonly": False},
        "hostname": "bench",
        "mounts": [
            {"destination": "/proc", "type": "proc", "source": "proc"},
            {"destination": "/dev", "type": "tmpfs", "source": "tmpfs",
             "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]},
        ],
        "linux": {"namespaces": [{"type": t} for t in ("pid", "ipc", "uts", "mount", "network")]},
    }
    if cgroups_path:
        c["linux"]["resources"] = {"memory": {"limit": 256 * 1024 * 1024},
                                   "pids": {"limit": 100}, "cpu": {"shares": 512}}
        c["linux"]["cgroupsPath"] = cgroups_path
    return c

def write_bundle(d, cfg):
    os.makedirs(d, exist_ok=True)
    with open(d + "/config.json", "w") as f:
        json.dump(cfg, f, indent=1)
    return d

SHARED = {"true": write_bundle(TMP + "/bundles/true", config(["/bin/true"])),
          "sleep": write_bundle(TMP + "/bundles/sleep", config(["/bin/sleep", "1000"]))}

class RT:
    def __init__(self, name, path):
        self.name, self.path, self.status, self.reason, self.version = name, path, "ok", "", ""
        self.root = f"{TMP}/roots/{name}"
        self.samples = {k: [] for k in ("run", "create", "start", "delete", "rss_kib")}
        self.many = {"start_total": [], "kill_delete_total": [], "delete_retries": []}
        self.live = set()
        self.cgroup_check = None
        self.seq = 0
        with open(f"{TMP}/runtimes/{name}", "w") as f:
            f.write(path)
        self.err = open(f"{TMP}/{name}.stderr", "w+")

    def bundle(self, kind, cid):
        if not CGROUPS:
            return SHARED[kind]
        return write_bundle(f"{TMP}/bundles/c/{self.name}-{cid}",
                            config(["/bin/true"] if kind == "true" else ["/bin/sleep", "1000"],
                                   f"/{CGPREFIX}-{self.name}-{cid}"))

    def drop_bundle(self, cid):
        if CGROUPS:
            d = f"{TMP}/bundles/c/{self.name}-{cid}"
            try:
                os.unlink(d + "/config.json"); os.rmdir(d)
            except OSError:
                pass

    def new_id(self, tag):
        self.seq += 1
        return f"b{os.getpid()}-{self.name}-{tag}-{self.seq}"

    def cmd(self, *args, prefix=()):
        """Run one runtime command; return (rc, elapsed ms). stdout goes to
        /dev/null and stderr to a file (never a pipe: detached containers keep
        the runtime's stdio open)."""
        self.err.seek(0); self.err.truncate()
        argv = [*prefix, self.path, "--root", self.root, *args]
        t0 = time.perf_counter_ns()
        p = subprocess.run(argv, stdin=DEVNULL, stdout=DEVNULL, stderr=self.err)
        t1 = time.perf_counter_ns()
        return p.returncode, ms(t1 - t0)

    def errtext(self):
        self.err.flush(); self.err.seek(0)
        lines = [l.strip() for l in self.err.read().splitlines() if l.strip()]
        return " | ".join(lines[-3:])[-400:] or "(no stderr)"

    def state(self, cid):
        p = subprocess.run([self.path, "--root", self.root, "state", cid],
                           stdin=DEVNULL, capture_output=True, text=True)
        if p.returncode != 0:
            return None
        try:
            return json.loads(p.stdout).get("status")
        except ValueError:
            return None

    def wait_status(self, cid, want, timeout=10.0):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if self.state(cid) == want:
                return True
            time.sleep(0.001)
        return False

    def force_delete(self, cid):
        subprocess.run([self.path, "--root", self.root, "kill", cid, "KILL"],
                       stdin=DEVNULL, stdout=DEVNULL, stderr=DEVNULL)
        subprocess.run([self.path, "--root", self.root, "delete", "-f", cid],
                       stdin=DEVNULL, stdout=DEVNULL, stderr=DEVNULL)
        self.live.discard(cid)
        self.drop_bundle(cid)

class Fail(Exception):
    pass

def cgroup_check(rt, cid):
    """Read memory and pids limits of the created container's cgroup."""
    p = subprocess.run([rt.path, "--root", rt.root, "state", cid], capture_output=True, text=True)
    try:
        pid = json.loads(p.stdout)["pid"]
        lines = open(f"/proc/{pid}/cgroup").read().splitlines()
    except (ValueError, KeyError, OSError) as e:
        return f"could not inspect: {e}"
    unified = os.path.exists("/sys/fs/cgroup/cgroup.controllers")
    got = {}
    for line in lines:
        hid, ctrls, path = line.split(":", 2)
        ctrls = ctrls.split(",")
        for want, v1, v2 in (("memory", "memory.limit_in_bytes", "memory.max"), ("pids", "pids.max", "pids.max")):
            f = None
            if want in ctrls:
                f = f"/sys/fs/cgroup/{want}{path}/{v1}"
            elif hid == "0" and unified:
                f = f"/sys/fs/cgroup{path}/{v2}"
            if f:
                try:
                    got[want] = open(f).read().strip()
                except OSError:
                    got.setdefault(want, "unreadable")
    ok = got.get("memory") == str(256 * 1024 * 1024) and got.get("pids") == "100"
    return ("ok: " if ok else "LIMITS NOT APPLIED: ") + ", ".join(f"{k}={v}" for k, v in sorted(got.items()))

def check(rt, rc, what):
    if rc != 0:
        raise Fail(f"{what} exited {rc}: {rt.errtext()}")

# ---- one measurement of each kind --------------------------------------
def m_run(rt, record=True):
    cid = rt.new_id("run")
    b = rt.bundle("true", cid)
    rt.live.add(cid)
    rc, t = rt.cmd("run", "--bundle", b, cid)
    check(rt, rc, "run")
    rt.live.discard(cid); rt.drop_bundle(cid)
    if record:
        rt.samples["run"].append(t)

def m_lifecycle(rt, record=True):
    cid = rt.new_id("csd")
    b = rt.bundle("true", cid)
    rt.live.add(cid)
    rc, tc = rt.cmd("create", "--bundle", b, cid); check(rt, rc, "create")
    if CGROUPS and not record:  # warm-up: check the limits were really applied
        rt.cgroup_check = cgroup_check(rt, cid)
    rc, ts = rt.cmd("start", cid); check(rt, rc, "start")
    if not rt.wait_status(cid, "stopped"):  # untimed: let /bin/true exit
        raise Fail("container did not reach 'stopped' within 10s after start")
    rc, td = rt.cmd("delete", cid); check(rt, rc, "delete")
    rt.live.discard(cid); rt.drop_bundle(cid)
    if record:
        for k, v in (("create", tc), ("start", ts), ("delete", td)):
            rt.samples[k].append(v)

def m_rss(rt, record=True):
    if not os.access(TIME_BIN, os.X_OK):
        return
    cid = rt.new_id("rss")
    b = rt.bundle("true", cid)
    out = f"{TMP}/{rt.name}.time"
    rt.live.add(cid)
    rc, _ = rt.cmd("run", "--bundle", b, cid, prefix=(TIME_BIN, "-f", "%M", "-o", out))
    check(rt, rc, "/usr/bin/time run")
    rt.live.discard(cid); rt.drop_bundle(cid)
    with open(out) as f:
        kib = int(f.read().strip().splitlines()[-1])
    if record:
        rt.samples["rss_kib"].append(kib)

def m_many(rt):
    ids = [rt.new_id("many") for _ in range(MANY)]
    bundles = [rt.bundle("sleep", cid) for cid in ids]
    t0 = time.perf_counter_ns()
    for cid, b in zip(ids, bundles):
        rt.live.add(cid)
        rc, _ = rt.cmd("run", "--detach", "--bundle", b, cid)
        check(rt, rc, f"run -d ({len(rt.live)}th container)")
    t1 = time.perf_counter_ns()
    for cid in ids:  # untimed sanity check
        if rt.state(cid) != "running":
            raise Fail(f"{cid} not running after run -d")
    retries = 0
    t2 = time.perf_counter_ns()
    for cid in ids:
        rc, _ = rt.cmd("kill", cid, "KILL"); check(rt, rc, "kill")
    for cid in ids:
        end = time.monotonic() + 10
        while True:
            rc, _ = rt.cmd("delete", cid)
            if rc == 0:
                break
            retries += 1  # still 'running' right after kill: retry (counted in the time)
            if time.monotonic() > end:
                check(rt, rc, "delete after kill")
            time.sleep(0.001)
        rt.live.discard(cid)
    t3 = time.perf_counter_ns()
    for cid in ids:
        rt.drop_bundle(cid)
    rt.many["start_total"].append(ms(t1 - t0))
    rt.many["kill_delete_total"].append(ms(t3 - t2))
    rt.many["delete_retries"].append(retries)

# ---- setup -----------------------------------------------------------
rts = [RT(n, p) for n, p in (("mxc", A["mxc"]), ("crun", A["crun"]), ("runc", A["runc"]))]
for rt in rts:
    os.makedirs(rt.root, exist_ok=True)
    if not os.path.isabs(rt.path) or not os.path.exists(rt.path):
        rt.status, rt.reason = "skipped", f"not found: {rt.path}"
        continue
    if not os.access(rt.path, os.X_OK):
        rt.status, rt.reason = "skipped", f"not executable: {rt.path}"
        continue
    try:
        v = subprocess.run([rt.path, "--version"], capture_output=True, text=True, timeout=10)
        first = (v.stdout or v.stderr).strip().splitlines()
        rt.version = first[0].replace(" version ", " ") if first else "?"
    except (OSError, subprocess.TimeoutExpired) as e:
        rt.version = f"? ({e})"

def alive():
    return [r for r in rts if r.status == "ok"]

def schedule(i):
    """Order of the runtimes in iteration i: cycle through ALL permutations,
    so each runtime goes first, last, and right after each other runtime
    equally often (exactly so when the iteration count is a multiple of 6).
    A plain rotation would always put the same runtime right after runc, and
    whatever runc leaves behind (async namespace/cgroup teardown) then
    biases that one runtime."""
    live = alive()
    perms = list(itertools.permutations(live))
    return list(perms[i % len(perms)]) if perms else []

def guard(rt, fn, where):
    try:
        fn(rt)
    except Fail as e:
        rt.status, rt.reason = ("skipped" if where == "warm-up" else "failed"), f"{where}: {e}"
        if "hybrid mode not supported" in str(e):
            rt.reason += " (hint: rerun with --setup-crun-hugetlb)"
        for cid in list(rt.live):
            rt.force_delete(cid)

baseline = []
started = time.strftime("%Y-%m-%dT%H:%M:%S%z")
load_start = os.getloadavg()
interrupted = False
try:
    for rt in alive():  # warm-up: one of each, not recorded
        guard(rt, lambda r: (m_run(r, False), m_lifecycle(r, False), m_rss(r, False)), "warm-up")
    for i in range(N):
        order = schedule(i)
        t0 = time.perf_counter_ns(); subprocess.run(["/bin/true"]); baseline.append(ms(time.perf_counter_ns() - t0))
        for fn, where in ((m_run, "run"), (m_lifecycle, "create/start/delete"), (m_rss, "rss")):
            for rt in order:
                if rt.status == "ok":
                    guard(rt, fn, f"iteration {i + 1} {where}")
        if sys.stderr.isatty():
            print(f"\r  iteration {i + 1}/{N}", end="", file=sys.stderr, flush=True)
    if sys.stderr.isatty():
        print(file=sys.stderr)
    if MANY:
        for rnd in range(MANY_ROUNDS):
            for rt in schedule(rnd):
                print(f"  --many {MANY}: round {rnd + 1}/{MANY_ROUNDS} {rt.name}", file=sys.stderr, flush=True)
                guard(rt, m_many, f"--many round {rnd + 1}")
except KeyboardInterrupt:
    interrupted = True
finally:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # do not let a second signal abort the cleanup
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    for rt in rts:
        for cid in list(rt.live):
            rt.force_delete(cid)
if interrupted:
    print("interrupted: containers deleted, no results", file=sys.stderr)
    sys.exit(130)

# ---- report ----------------------------------------------------------
def summary(xs):
    if not xs:
        return None
    s = sorted(xs)
    q = lambda p: s[min(len(s) - 1, int(round(p * (len(s) - 1))))]
    return {"n": len(s), "median": statistics.median(s), "min": s[0], "p10": q(0.10),
            "p90": q(0.90), "max": s[-1]}

COLS = [("run", "run ms"), ("create", "create ms"), ("start", "start ms"),
        ("delete", "delete ms"), ("rss_mib", "peak RSS MiB")]
if MANY:
    COLS += [("many_start", f"{MANY}x run -d ms"), ("many_kill_delete", f"{MANY}x kill+del ms")]

def medians(rt):
    if rt.status != "ok":
        return {}
    out = {k: statistics.median(v) for k, v in rt.samples.items() if v and k != "rss_kib"}
    if rt.samples["rss_kib"]:
        out["rss_mib"] = statistics.median(rt.samples["rss_kib"]) / 1024
    if rt.many["start_total"]:
        out["many_start"] = statistics.median(rt.many["start_total"])
        out["many_kill_delete"] = statistics.median(rt.many["kill_delete_total"])
    return out

med = {rt.name: medians(rt) for rt in rts}
by = {rt.name: rt for rt in rts}

def ratio(a, b):
    if by[a].status != "ok" or by[b].status != "ok":
        return None, f"n/a ({a if by[a].status != 'ok' else b} {by[a].status if by[a].status != 'ok' else by[b].status})"
    r = {k: med[a][k] / med[b][k] for k in med[a] if k in med[b] and med[b][k]}
    return r, None

ratios = {f"{a}/{b}": ratio(a, b) for a, b in (("mxc", "crun"), ("mxc", "runc"), ("crun", "runc"))}

W = max(14, *(len(h) + 2 for _, h in COLS))
print(f"mxc-runtime bench: {N} iterations, round-robin, cgroups={'on' if CGROUPS else 'off'}"
      + (f", many={MANY}x{MANY_ROUNDS} rounds" if MANY else "") + f", started {started}")
print(f"host: kernel {platform.release()}, {os.cpu_count()} cpus; cgroup layout: {A['cg_layout']}")
print(f"cgroup setup: {A['cg_setup']}")
load_end = os.getloadavg()
print(f"load average (1/5/15 min): start {load_start[0]:.2f}/{load_start[1]:.2f}/{load_start[2]:.2f},"
      f" end {load_end[0]:.2f}/{load_end[1]:.2f}/{load_end[2]:.2f}"
      + ("  <- busy machine, numbers are noisy" if max(load_start[0], load_end[0]) > 0.5 * (os.cpu_count() or 1) else ""))
if not os.access(TIME_BIN, os.X_OK):
    print(f"peak RSS: skipped, {TIME_BIN} missing (Debian package 'time')")
print()
print(f"{'runtime':<8} {'version':<18}" + "".join(f"{h:>{W}}" for _, h in COLS))
for rt in rts:
    if rt.status != "ok":
        print(f"{rt.name:<8} {rt.status.upper()}: {rt.reason}")
        continue
    cells = "".join(f"{med[rt.name][k]:>{W}.2f}" if k in med[rt.name] else f"{'-':>{W}}" for k, _ in COLS)
    print(f"{rt.name:<8} {rt.version[:18]:<18}{cells}")
print()
print("ratios of medians (< 1.00: left side faster / smaller)")
for name, (r, why) in ratios.items():
    if r is None:
        print(f"{name:<27}{why}")
    else:
        print(f"{name:<27}" + "".join(f"{r[k]:>{W}.2f}" if k in r else f"{'-':>{W}}" for k, _ in COLS))
print()
print(f"reference: host fork+exec of /bin/true from the timing loop: median {statistics.median(baseline):.2f} ms"
      " (included in every timed command)")
for rt in rts:
    if rt.status == "ok" and rt.cgroup_check:
        print(f"cgroups check {rt.name}: {rt.cgroup_check}")
for rt in rts:
    if rt.status == "ok" and rt.many["delete_retries"] and any(rt.many["delete_retries"]):
        print(f"note: {rt.name} --many: delete retried {rt.many['delete_retries']} times per round "
              "(container still running right after kill; included in kill+del time)")

if A["json"]:
    doc = {
        "schema": "mxc-bench/1",
        "started": started, "finished": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "host": {"kernel": platform.release(), "cpus": os.cpu_count(), "machine": platform.machine(),
                 "loadavg_start": load_start, "loadavg_end": load_end,
                 "cgroup_layout": A["cg_layout"], "cgroup_setup": A["cg_setup"]},
        "params": {"iterations": N, "cgroups": bool(CGROUPS), "many": MANY,
                   "many_rounds": MANY_ROUNDS if MANY else 0, "order": "round-robin; the order cycles through all permutations of the runtimes",
                   "timer": "python time.perf_counter_ns around subprocess.run",
                   "rss": "GNU time %M (max RSS of runtime process and its reaped children), KiB"},
        "baseline_true_ms": summary(baseline),
        "runtimes": {},
        "ratios": {k: (r if r is not None else why) for k, (r, why) in ratios.items()},
    }
    for rt in rts:
        e = {"path": rt.path, "version": rt.version, "status": rt.status, "reason": rt.reason or None,
             "cgroup_check": rt.cgroup_check}
        if rt.status == "ok":
            e["median"] = med[rt.name]
            e["stats_ms"] = {k: summary(v) for k, v in rt.samples.items() if k != "rss_kib"}
            e["stats_rss_kib"] = summary(rt.samples["rss_kib"])
            e["samples"] = rt.samples
            if MANY:
                e["many"] = rt.many
        doc["runtimes"][rt.name] = e
    tmpf = A["json"] + ".tmp"
    with open(tmpf, "w") as f:
        json.dump(doc, f, indent=2)
        f.write("\n")
    os.replace(tmpf, A["json"])
    print(f"JSON written to {A['json']}")
PY

args_json=$(python3 -c 'import json,sys; a=sys.argv[1:]; print(json.dumps({
  "tmp": a[0], "cg_prefix": a[1], "iterations": int(a[2]), "cgroups": int(a[3]),
  "many": int(a[4]), "many_rounds": int(a[5]), "mxc": a[6], "crun": a[7], "runc": a[8],
  "json": a[9], "cg_layout": a[10], "cg_setup": a[11]}))' \
  "$tmp" "$cg_prefix" "$iterations" "$cgroups" "$many" "$many_rounds" \
  "$mxc" "$crun" "$runc" "$json_out" "$cg_layout" "$cg_setup")

# Background + wait so INT/TERM traps run promptly (bash defers traps while a
# foreground child runs); python restores its own SIGINT handler.
python3 "$tmp/bench.py" "$args_json" &
pypid=$!
rc=0
wait "$pypid" || rc=$?
pypid=
exit "$rc"
