# shellcheck shell=bash
# Shared helpers for the integration tests. Every test_*.sh sources this file.
#
# The tests drive a runc-compatible command line, so they run against any such
# runtime:
#   RUNTIME=/usr/sbin/runc ROOTFS_CACHE=/tmp/rootfs tests/integration/test_lifecycle.sh
#
# Environment:
#   RUNTIME       runtime binary (default: $BUILD_DIR/bin/mxc-runtime)
#   BUILD_DIR     build tree (default: $SOURCE_DIR/build)
#   SOURCE_DIR    source tree (default: two levels above this file)
#   ROOTFS_CACHE  busybox rootfs shared by all tests of a run, built on first
#                 use by tests/lib/make-rootfs.sh (default: $BUILD_DIR/test-rootfs)
#   KEEP_TMP=1    keep the per-test temporary dir (debugging)
#
# Exit codes: 0 pass, 1 fail, 77 skip (ctest SKIP_RETURN_CODE).
#
# Checks marked with mxc_only / MXC-ONLY test promises that only mxc-runtime
# makes (e.g. its exact error wording); they are expected to fail against
# other runtimes. Set MXC_ONLY=0 to skip them, MXC_ONLY=1 to force them; by
# default they run when $RUNTIME's basename starts with "mxc".

# shellcheck disable=SC2034 # RC/OUT/ERR/OUT_FILE/ERR_FILE are outputs for the tests
set -euo pipefail

LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SOURCE_DIR=${SOURCE_DIR:-$(cd "$LIB_DIR/../.." && pwd)}
BUILD_DIR=${BUILD_DIR:-$SOURCE_DIR/build}
RUNTIME=${RUNTIME:-$BUILD_DIR/bin/mxc-runtime}
ROOTFS_CACHE=${ROOTFS_CACHE:-$BUILD_DIR/test-rootfs}
TEST_NAME=$(basename "$0" .sh)

FAILS=0
CHECKS=0
SKIPPED=0
_CMD_SEQ=0
_NETNS=()
_ROOTS=()
_PIDS=()

log() { printf '%s\n' "$*"; }
pass() { CHECKS=$((CHECKS + 1)); log "ok   - $*"; }
fail() { CHECKS=$((CHECKS + 1)); FAILS=$((FAILS + 1)); log "FAIL - $*"; }
# Aborts the test (after cleanup) as a failure.
die() { log "FAIL - $*"; FAILS=$((FAILS + 1)); exit 1; }
skip() { log "SKIP - ${*:-skipped}"; SKIPPED=1; exit 77; }

# ---- preconditions --------------------------------------------------------
[ "$(id -u)" = 0 ] || skip "integration tests need root"
command -v jq >/dev/null || { echo "FAIL - jq is required (apt-get install -y jq)" >&2; exit 1; }
[ -x "$RUNTIME" ] || { echo "FAIL - RUNTIME=$RUNTIME is not an executable" >&2; exit 1; }

mxc_only() {
  # Returns 0 when MXC-ONLY checks should run.
  case "${MXC_ONLY:-auto}" in
    1) return 0 ;;
    0) return 1 ;;
    *) case "$(basename "$RUNTIME")" in mxc*) return 0 ;; *) return 1 ;; esac ;;
  esac
}

# runtime_is_runc_before X.Y: true when $RUNTIME is runc older than X.Y; used
# only to skip (with a message) checks of spec features the reference runc
# does not implement.
runtime_is_runc_before() {
  local v
  v=$("$RUNTIME" --version 2>/dev/null | sed -n 's/^runc version \([0-9]*\.[0-9]*\).*/\1/p' | head -n1)
  [ -n "$v" ] || return 1
  [ "$(printf '%s\n%s\n' "$v" "$1" | sort -V | head -n1)" = "$v" ] && [ "$v" != "$1" ]
}

# ---- per-test temp dirs ---------------------------------------------------
TEST_TMP=$(mktemp -d /tmp/mxc-it.XXXXXX)
# Traversable by mapped (user-namespace) ids; contents are still ours.
chmod 755 "$TEST_TMP"
# The runtime's --root, one level down so that a runtime that mishandles an
# id like ".." can only touch $TEST_TMP/state.
ROOT=$TEST_TMP/state/root
WORK=$TEST_TMP/work    # bundles, host dirs, captured output
mkdir -p "$ROOT" "$WORK"
# Marks every container process started from a make_bundle config, so that
# leftovers can be found by scanning /proc/*/environ.
TEST_TAG="MXC_TEST_TAG=$TEST_TMP"

# ---- rootfs ---------------------------------------------------------------
ensure_rootfs() {
  if [ ! -x "$ROOTFS_CACHE/bin/busybox" ]; then
    mkdir -p "$(dirname "$ROOTFS_CACHE")"
    (
      flock 9
      if [ ! -x "$ROOTFS_CACHE/bin/busybox" ]; then
        tmp=$(mktemp -d "$ROOTFS_CACHE.XXXXXX")
        sh "$SOURCE_DIR/tests/lib/make-rootfs.sh" "$tmp" >/dev/null
        chmod 755 "$tmp"
        rm -rf "$ROOTFS_CACHE"
        mv "$tmp" "$ROOTFS_CACHE"
      fi
    ) 9>"$ROOTFS_CACHE.lock"
  fi
}
ensure_rootfs

# ---- runtime wrapper ------------------------------------------------------
# rt ARGS...: the runtime with this test's --root, bounded in time.
rt() { timeout -k 5 "${RT_TIMEOUT:-60}" "$RUNTIME" --root "$ROOT" "$@"; }

# run_cmd CMD...: runs CMD with stdin from /dev/null (unless STDIN_FILE is
# set) and stdout/stderr to fresh files (never pipes: a container inheriting a
# pipe would keep a command substitution open). Sets RC, OUT, ERR (NULs
# dropped), OUT_FILE, ERR_FILE.
run_cmd() {
  _CMD_SEQ=$((_CMD_SEQ + 1))
  local o=$WORK/.out.$_CMD_SEQ e=$WORK/.err.$_CMD_SEQ
  RC=0
  "$@" <"${STDIN_FILE:-/dev/null}" >"$o" 2>"$e" || RC=$?
  OUT_FILE=$o ERR_FILE=$e
  OUT=$(tr -d '\0' <"$o")
  ERR=$(tr -d '\0' <"$e")
}

# ---- bundles --------------------------------------------------------------
base_config() {
  jq -n --arg rootfs "$1" --arg tag "$TEST_TAG" '{
    ociVersion: "1.0.2-dev",
    process: {
      terminal: false,
      user: {uid: 0, gid: 0},
      args: ["sh"],
      env: ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm", $tag],
      cwd: "/",
      capabilities: {
        bounding: ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"],
        effective: ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"],
        permitted: ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"]
      }
    },
    root: {path: $rootfs, readonly: false},
    hostname: "mxc-test",
    mounts: [
      {destination: "/proc", type: "proc", source: "proc"},
      {destination: "/dev", type: "tmpfs", source: "tmpfs",
       options: ["nosuid", "strictatime", "mode=755", "size=65536k"]},
      {destination: "/dev/pts", type: "devpts", source: "devpts",
       options: ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"]},
      {destination: "/dev/shm", type: "tmpfs", source: "shm",
       options: ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"]},
      {destination: "/dev/mqueue", type: "mqueue", source: "mqueue",
       options: ["nosuid", "noexec", "nodev"]},
      {destination: "/sys", type: "sysfs", source: "sysfs",
       options: ["nosuid", "noexec", "nodev", "ro"]}
    ],
    linux: {
      namespaces: [{type: "pid"}, {type: "ipc"}, {type: "uts"}, {type: "mount"}, {type: "network"}],
      maskedPaths: ["/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys",
        "/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats",
        "/proc/sched_debug", "/sys/firmware", "/proc/scsi"],
      readonlyPaths: ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"]
    }
  }'
}

# make_bundle DIR [JQ-FILTER [JQ-ARGS...]]: writes DIR/config.json from the
# base config with the filter applied. The rootfs is the shared $ROOTFS_CACHE
# (absolute root.path); tests must not change it: mount only onto directories
# it already has (/mnt /home /var /run /root /tmp), or use make_bundle_private.
# The filter sees $work, $tmp and $rootfs, plus any JQ-ARGS (e.g. --arg x y).
make_bundle() {
  local dir=$1 filter=${2:-.}
  shift 2 2>/dev/null || shift $#
  mkdir -p "$dir"
  _write_config "$dir" "$ROOTFS_CACHE" "$filter" "$@"
}

# make_bundle_private DIR [JQ-FILTER [JQ-ARGS...]]: like make_bundle, with a
# private copy of the rootfs at DIR/rootfs that the test may change.
make_bundle_private() {
  local dir=$1 filter=${2:-.}
  shift 2 2>/dev/null || shift $#
  mkdir -p "$dir"
  cp -a "$ROOTFS_CACHE" "$dir/rootfs"
  _write_config "$dir" "$dir/rootfs" "$filter" "$@"
}

_write_config() {
  local dir=$1 rootfs=$2 filter=$3
  shift 3
  base_config "$rootfs" |
    jq --arg work "$WORK" --arg tmp "$TEST_TMP" --arg rootfs "$rootfs" "$@" "$filter" >"$dir/config.json.tmp"
  mv "$dir/config.json.tmp" "$dir/config.json"
}

# A unique, valid container id for this test. Every id starts with ID_PREFIX,
# which is how leftover cgroups and processes are recognised.
ID_PREFIX="it$$-"
cid() { printf '%s%s' "$ID_PREFIX" "$1"; }

# ---- state helpers --------------------------------------------------------
# state_field ID FIELD: prints .FIELD of `state ID` (empty if state fails).
state_field() { rt state "$1" 2>/dev/null | jq -r ".$2 // empty" 2>/dev/null || true; }

# wait_status ID STATUS [SECONDS]: polls `state` until status matches.
wait_status() {
  local i n=$(( ${3:-10} * 10 ))
  for ((i = 0; i < n; i++)); do
    [ "$(state_field "$1" status)" = "$2" ] && return 0
    sleep 0.1
  done
  return 1
}

# wait_file PATH [SECONDS]
wait_file() {
  local i n=$(( ${2:-10} * 10 ))
  for ((i = 0; i < n; i++)); do
    [ -e "$1" ] && return 0
    sleep 0.1
  done
  return 1
}

# wait_gone PID [SECONDS]: waits for a process to disappear.
wait_gone() {
  local i n=$(( ${2:-10} * 10 ))
  for ((i = 0; i < n; i++)); do
    kill -0 "$1" 2>/dev/null || return 0
    sleep 0.1
  done
  return 1
}

track_pid() { [ -n "${1:-}" ] && [ "$1" != 0 ] && _PIDS+=("$1"); return 0; }

# Processes whose environment carries this test's tag (container processes).
tagged_pids() {
  grep -laF -- "$TEST_TAG" /proc/[0-9]*/environ 2>/dev/null | sed 's|^/proc/\([0-9]*\)/environ$|\1|' || true
}

# Container or runtime processes of this test: tagged ones; any process in a
# cgroup named after one of this test's ids; any process (other than this
# shell) whose cwd is under the test's temp dir. The last two catch a
# runtime's init that has not applied process.env yet (e.g. a `created` one).
# The comm field of /proc/PID/stat of busybox/runtimes has no spaces.
stray_pids() {
  {
    tagged_pids
    grep -lF -- "/$ID_PREFIX" /proc/[0-9]*/cgroup 2>/dev/null | sed 's|^/proc/\([0-9]*\)/cgroup$|\1|'
    # mxc-shim processes of this test's containers (they chdir to /).
    for f in /proc/[0-9]*/cmdline; do
      case "$({ tr '\0' ' ' <"$f"; } 2>/dev/null)" in "mxc-shim $TEST_TMP"*) f=${f#/proc/}; echo "${f%/cmdline}" ;; esac
    done
    find /proc/[0-9]*/cwd -maxdepth 0 -printf '%p %l\n' 2>/dev/null |
      awk -v t="$TEST_TMP" -v me="$$" -v sub_="${BASHPID:-}" '{
        split($1, p, "/"); pid = p[3]
        if (pid == me || pid == sub_) next
        l = substr($0, length($1) + 2)
        if (l == t || index(l, t "/") == 1) print pid
      }'
  } | sort -un | while read -r pid; do
    # Zombies are already dead; their parent (possibly the host's init) reaps them.
    [ "$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null)" = Z ] || [ ! -d "/proc/$pid" ] || echo "$pid"
  done
}

# cgroup dirs named after one of this test's container ids (deepest first).
leftover_cgroups() {
  find /sys/fs/cgroup -maxdepth 6 -type d -name "*$ID_PREFIX*" 2>/dev/null | awk '{ print length, $0 }' | sort -rn | cut -d' ' -f2-
}

# Mounts in this mount namespace whose path contains the test's temp dir.
leftover_mounts() { awk -v t="$TEST_TMP" 'index($5, t) || index($4, t) { print $5 }' /proc/self/mountinfo; }

register_netns() { _NETNS+=("$1"); }
# register_root DIR: another --root the test uses; cleanup force-deletes there too.
register_root() { _ROOTS+=("$1"); }

# ---- assertions -----------------------------------------------------------
assert_eq() { # EXPECTED ACTUAL MSG
  if [ "$1" == "$2" ]; then pass "$3"; else fail "$3: expected '$1', got '$2'"; fi
}
assert_ne() { # UNEXPECTED ACTUAL MSG
  if [ "$1" != "$2" ]; then pass "$3"; else fail "$3: got '$2'"; fi
}
assert_contains() { # HAYSTACK NEEDLE MSG
  if [[ "$1" == *"$2"* ]]; then pass "$3"; else fail "$3: '$2' not found in: $(printf '%q' "$1")"; fi
}
assert_not_contains() { # HAYSTACK NEEDLE MSG
  if [[ "$1" != *"$2"* ]]; then pass "$3"; else fail "$3: '$2' unexpectedly found in: $(printf '%q' "$1")"; fi
}
assert_match() { # HAYSTACK ERE MSG (case-insensitive)
  if printf '%s\n' "$1" | grep -qiE -- "$2"; then pass "$3"; else fail "$3: /$2/ does not match: $(printf '%q' "$1")"; fi
}
# assert_status EXPECTED MSG CMD...: runs CMD via run_cmd; EXPECTED is a
# number or "nonzero".
assert_status() {
  local want=$1 msg=$2
  shift 2
  run_cmd "$@"
  if [ "$want" = nonzero ]; then
    if [ "$RC" -ne 0 ]; then pass "$msg (exit $RC)"; return 0; fi
  elif [ "$RC" -eq "$want" ]; then
    pass "$msg"; return 0
  fi
  fail "$msg: expected exit $want, got $RC; stderr: $(printf '%q' "$ERR")"
  return 0
}

# Error lines of $ERR: non-empty lines that are not warning/info/debug log
# records (runc prints logrus "level=warning" lines before its error line).
error_lines() {
  printf '%s\n' "$ERR" | grep -v '^[[:space:]]*$' |
    grep -viE 'level=(warning|warn|info|debug)|"level":"(warning|warn|info|debug)"|^(WARN|INFO|DEBU)' || true
}

# assert_one_line_error MSG ERE: $ERR has exactly one error line, and it
# matches ERE (case-insensitive): it names what is wrong.
assert_one_line_error() {
  local lines n
  lines=$(error_lines)
  n=$(printf '%s' "$lines" | grep -c '' || true)
  if [ "$n" -ne 1 ]; then
    fail "$1: expected one error line, got $n: $(printf '%q' "$ERR")"
  elif ! printf '%s\n' "$lines" | grep -qiE -- "$2"; then
    fail "$1: error line does not match /$2/: $lines"
  else
    pass "$1: one-line error: ${lines:0:200}"
  fi
}

# assert_nothing_left MSG: no state dir under --root, no container process,
# no mount under the temp dir, no cgroup named after a container id.
assert_nothing_left() {
  local left
  left=$( (find "$ROOT" -mindepth 1 -maxdepth 1 -type d; stray_pids | sed 's/^/pid /'; leftover_mounts; leftover_cgroups) | tr '\n' ' ')
  if [ -z "$left" ]; then pass "$1: nothing left behind"; else fail "$1: left behind: $left"; fi
}

# reap_leftovers: kills this test's stray processes and removes its leftover
# cgroups, logging a FAIL line for each; returns 1 if there was any.
reap_leftovers() {
  local pid m cg i found=0
  for pid in "${_PIDS[@]}" $(stray_pids); do
    if kill -0 "$pid" 2>/dev/null && [ "$(awk '{print $3}' /proc/"$pid"/stat 2>/dev/null)" != Z ]; then
      log "FAIL - leftover process $pid: $(tr '\0' ' ' </proc/"$pid"/cmdline 2>/dev/null)"
      kill -KILL "$pid" 2>/dev/null
      found=1
    fi
  done
  [ "$found" = 1 ] && sleep 0.5
  for ((i = 0; i < 20; i++)); do [ -z "$(leftover_cgroups)" ] && break; sleep 0.1; done
  cg=$(leftover_cgroups)
  if [ -n "$cg" ]; then
    log "FAIL - leftover cgroups: $(echo "$cg" | tr '\n' ' ')"
    found=1
    for m in $cg; do rmdir "$m" 2>/dev/null; done
  fi
  [ "$found" = 0 ]
}

# ---- cleanup --------------------------------------------------------------
_cleanup() {
  local rc=$? ids id pid left=0 i
  set +eu
  trap - EXIT
  ids=$( (rt list -q 2>/dev/null; find "$ROOT" -mindepth 1 -maxdepth 1 -type d -printf '%f\n' 2>/dev/null) | sort -u)
  for id in $ids; do
    pid=$(state_field "$id" pid)
    track_pid "$pid"
    log "note - container $id was not deleted by the test; force-deleting"
    rt delete --force "$id" >/dev/null 2>&1
  done
  local r
  for r in "${_ROOTS[@]}"; do
    for id in $("$RUNTIME" --root "$r" list -q 2>/dev/null); do
      track_pid "$("$RUNTIME" --root "$r" state "$id" 2>/dev/null | jq -r '.pid // empty' 2>/dev/null)"
      log "note - container $id under $r was not deleted by the test; force-deleting"
      "$RUNTIME" --root "$r" delete --force "$id" >/dev/null 2>&1
    done
  done
  for pid in "${_PIDS[@]}"; do wait_gone "$pid" 5; done
  for ((i = 0; i < 50; i++)); do [ -z "$(stray_pids)" ] && break; sleep 0.1; done

  ids=$(rt list -q 2>/dev/null)
  if [ -n "$ids" ]; then log "FAIL - cleanup: containers still listed: $ids"; left=1; fi
  ids=$(find "$ROOT" -mindepth 1 -maxdepth 1 -type d -printf '%f ' 2>/dev/null)
  if [ -n "$ids" ]; then log "FAIL - cleanup: state dirs left under --root: $ids"; left=1; fi
  reap_leftovers || left=1
  for id in "${_NETNS[@]}"; do ip netns del "$id" 2>/dev/null; done
  local mnts
  mnts=$(leftover_mounts)
  if [ -n "$mnts" ]; then
    log "FAIL - cleanup: mounts left: $(echo "$mnts" | tr '\n' ' ')"
    left=1
    for m in $(echo "$mnts" | sort -r); do umount -l "$m" 2>/dev/null; done
  fi
  if [ "${KEEP_TMP:-0}" = 1 ]; then log "note - kept $TEST_TMP"; else rm -rf "$TEST_TMP"; fi

  if [ "$left" = 1 ]; then FAILS=$((FAILS + 1)); fi
  if [ "$FAILS" -gt 0 ]; then
    log "$TEST_NAME: FAILED ($FAILS of $CHECKS checks failed)"
    exit 1
  fi
  if [ "$SKIPPED" = 1 ]; then exit 77; fi
  if [ "$rc" -ne 0 ]; then
    log "$TEST_NAME: FAILED (aborted with exit $rc)"
    exit 1
  fi
  log "$TEST_NAME: PASSED ($CHECKS checks)"
  exit 0
}
trap _cleanup EXIT
trap 'exit 130' INT TERM
