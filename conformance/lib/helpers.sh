# shellcheck shell=bash
# Case-side helpers (sourced by runcase.sh): verdicts, the runtime wrapper,
# bundle generation from a base config + jq filter, container helpers.

# ---- verdicts ------------------------------------------------------------
# fail MSG: records a failure; the case goes on (the first message is shown).
fail() { printf '%s\n' "$*" | tr '\n' ' ' >>"$CASE_TMP/verdict.fail"; echo >>"$CASE_TMP/verdict.fail"; echo "FAIL: $*"; return 0; }
# skip REASON: ends the case as skipped.
skip() { printf '%s\n' "$*" >"$CASE_TMP/verdict.skip"; echo "SKIP: $*"; exit 0; }
# abort MSG: records a failure and ends the case.
abort() { fail "$@"; exit 0; }
failed() { [ -s "$CASE_TMP/verdict.fail" ]; }
q() { printf '%q' "$1" | cut -c1-200; }
expect_eq() { # WHAT EXPECTED GOT
  [ "$2" == "$3" ] || fail "$1: expected $(q "$2"), got $(q "$3")"
}
expect_match() { # WHAT ERE GOT
  printf '%s\n' "$3" | grep -qE -- "$2" || fail "$1: expected /$2/, got $(q "$3")"
}
expect_nomatch() { # WHAT ERE GOT
  printf '%s\n' "$3" | grep -qE -- "$2" && fail "$1: expected no /$2/, got $(q "$3")"; return 0
}
expect_rc() { # WHAT EXPECTED(number|nonzero) [context]
  if [ "$2" = nonzero ]; then [ "$RC" != 0 ] || fail "$1: expected failure, got exit 0 ${3:-}"
  else [ "$RC" = "$2" ] || fail "$1: expected exit $2, got $RC; stderr: $(q "$(tail -c 300 <<<"$ERR")") ${3:-}"; fi
}
# need_rc0 WHAT: aborts the case if the last command failed.
need_rc0() { [ "$RC" = 0 ] || abort "$1 failed (exit $RC): $(q "$(tail -c 300 <<<"$ERR")") $(q "$(tail -c 200 <<<"$OUT")")"; }

# ---- runtime -------------------------------------------------------------
rt() { timeout -k 5 "${RT_TIMEOUT:-30}" "$RUNTIME" --root "$CASE_ROOT" "$@"; }
_SEQ=0
# run_cmd CMD...: stdin /dev/null (or $STDIN_FILE), stdout/stderr to files;
# sets RC OUT ERR.
run_cmd() {
  _SEQ=$((_SEQ + 1))
  local o=$WORK/.o$_SEQ e=$WORK/.e$_SEQ
  RC=0
  "$@" <"${STDIN_FILE:-/dev/null}" >"$o" 2>"$e" || RC=$?
  OUT=$(tr -d '\0' <"$o") ERR=$(tr -d '\0' <"$e")
  echo "+ $* -> $RC"; [ -n "$OUT" ] && echo "  out: ${OUT:0:2000}"; [ -n "$ERR" ] && echo "  err: ${ERR:0:2000}"
  return 0
}
cid() { printf '%s%s' "$ID_PREFIX" "${1:-c}"; }
bundle() { printf '%s/%s' "$WORK" "${1:-c}"; }
res() { printf '%s/%s.res' "$WORK" "${1:-c}"; }
cgpath() { printf '/%s' "$(cid "$1")"; }
host_cg() { printf '/sys/fs/cgroup/%s%s' "$1" "$(cgpath "$2")"; } # CTRL NAME
bg_track() { echo "$1" >>"$CASE_TMP/bgpids"; }

PATH_ENV="PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
base_config() { # ROOTFS ID RESDIR
  jq -n --arg rootfs "$1" --arg id "$2" --arg res "$3" --arg tag "CONF_TAG=$CONF_TAG" --arg path "$PATH_ENV" '{
    ociVersion: "1.0.2",
    process: {
      terminal: false,
      user: {uid: 0, gid: 0},
      args: ["sh", "-c", "true"],
      env: [$path, "TERM=xterm", $tag],
      cwd: "/",
      capabilities: {
        bounding: ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"],
        effective: ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"],
        permitted: ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"]
      },
      noNewPrivileges: false
    },
    root: {path: $rootfs, readonly: false},
    hostname: "conformance",
    mounts: [
      {destination: "/proc", type: "proc", source: "proc"},
      {destination: "/dev", type: "tmpfs", source: "tmpfs", options: ["nosuid", "strictatime", "mode=755", "size=65536k"]},
      {destination: "/dev/pts", type: "devpts", source: "devpts",
       options: ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"]},
      {destination: "/dev/shm", type: "tmpfs", source: "shm", options: ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"]},
      {destination: "/dev/mqueue", type: "mqueue", source: "mqueue", options: ["nosuid", "noexec", "nodev"]},
      {destination: "/sys", type: "sysfs", source: "sysfs", options: ["nosuid", "noexec", "nodev", "ro"]},
      {destination: "/res", type: "bind", source: $res, options: ["rbind", "rw"]}
    ],
    linux: {
      namespaces: [{type: "pid"}, {type: "ipc"}, {type: "uts"}, {type: "mount"}, {type: "network"}],
      cgroupsPath: ("/" + $id),
      maskedPaths: ["/proc/acpi", "/proc/kcore", "/proc/keys", "/proc/latency_stats", "/proc/timer_list",
        "/proc/sched_debug", "/sys/firmware", "/proc/scsi"],
      readonlyPaths: ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"]
    }
  }'
}

# mkbundle NAME SCRIPT [JQ-FILTER [JQ-ARGS...]]: writes $WORK/NAME/config.json:
# the base config running `sh -c SCRIPT`, then FILTER. The filter sees $id,
# $res (host result dir, mounted at /res), $work, $rootfs, $bundle, $tag.
# The rootfs is shared and must not be changed (use MKBUNDLE_PRIVATE=1 for a
# private copy at $WORK/NAME/rootfs).
mkbundle() {
  local name=$1 script=$2 filter=${3:-.} b rootfs
  if [ $# -ge 3 ]; then shift 3; else shift $#; fi
  b=$(bundle "$name"); mkdir -p "$b" "$(res "$name")"; chmod 777 "$(res "$name")"
  rootfs=$ROOTFS
  if [ "${MKBUNDLE_PRIVATE:-0}" = 1 ]; then cp -a "$ROOTFS" "$b/rootfs"; rootfs=$b/rootfs; fi
  base_config "$rootfs" "$(cid "$name")" "$(res "$name")" |
    jq --arg s "$script" '.process.args = ["sh", "-c", $s]' |
    jq --arg id "$(cid "$name")" --arg res "$(res "$name")" --arg work "$WORK" --arg rootfs "$rootfs" \
       --arg bundle "$b" --arg tag "CONF_TAG=$CONF_TAG" "$@" "$filter" >"$b/config.json.tmp" ||
    abort "bad jq filter for bundle $name: $filter"
  mv "$b/config.json.tmp" "$b/config.json"
}

# run_ctr NAME [RUN-ARGS...]: `run` in the foreground; sets RC OUT ERR.
run_ctr() { local n=$1; shift; run_cmd rt run "$@" -b "$(bundle "$n")" "$(cid "$n")"; }
# create_ctr NAME [CREATE-ARGS...]: the container's stdio go to NAME.out/.err.
create_ctr() {
  local n=$1; shift
  RC=0
  rt create "$@" -b "$(bundle "$n")" "$(cid "$n")" </dev/null >"$WORK/$n.out" 2>"$WORK/$n.err" || RC=$?
  ERR=$(cat "$WORK/$n.err") OUT=""
  echo "+ create $n -> $RC ${ERR:0:500}"
}
start_ctr() { run_cmd rt start "$(cid "$1")"; }
ctr_out() { tr -d '\0' <"$WORK/$1.out"; }
state_json() { rt state "$(cid "$1")" 2>/dev/null; }
state_field() { state_json "$1" | jq -r ".$2 // empty" 2>/dev/null; }
ctr_pid() { state_field "$1" pid; }
wait_status() { # NAME STATUS [SECONDS]
  local i n=$(( ${3:-10} * 10 ))
  for ((i = 0; i < n; i++)); do
    [ "$(state_field "$1" status)" = "$2" ] && return 0
    sleep 0.1
  done
  return 1
}
wait_file() { # PATH [SECONDS]
  local i n=$(( ${2:-10} * 10 ))
  for ((i = 0; i < n; i++)); do [ -e "$1" ] && return 0; sleep 0.1; done
  return 1
}
wait_gone() { # PID [SECONDS]
  local i n=$(( ${2:-10} * 10 ))
  for ((i = 0; i < n; i++)); do
    kill -0 "$1" 2>/dev/null || return 0
    [ "$(awk '{print $3}' /proc/"$1"/stat 2>/dev/null)" = Z ] && return 0
    sleep 0.1
  done
  return 1
}
# wait_exit NAME: waits until a started container is stopped.
wait_stopped() { wait_status "$1" stopped "${2:-10}"; }
delete_ctr() { run_cmd rt delete "$@"; }

# Runs a container with create+start, waits for it to stop, deletes it.
# Sets OUT to its stdout. Aborts on create/start failure.
cs_run() {
  local n=$1
  create_ctr "$n"; need_rc0 "create"
  start_ctr "$n"; need_rc0 "start"
  wait_stopped "$n" 10 || fail "container $n did not stop"
  rt delete "$(cid "$n")" >/dev/null 2>&1
  OUT=$(ctr_out "$n")
}

# ---- host facts ----------------------------------------------------------
features_json() {
  [ -e "$CASE_TMP/features.json" ] || rt features >"$CASE_TMP/features.json" 2>/dev/null || : >"$CASE_TMP/features.json"
  cat "$CASE_TMP/features.json"
}
# ns_advertised TYPE: false only when features lists namespaces without TYPE.
ns_advertised() {
  local f; f=$(features_json)
  jq -e '.linux.namespaces' >/dev/null 2>&1 <<<"$f" || return 0
  jq -e --arg t "$1" '.linux.namespaces | index($t)' >/dev/null 2>&1 <<<"$f"
}
host_ns() { readlink "/proc/$$/ns/$1"; }
py() { if [ -x /usr/bin/python3 ]; then /usr/bin/python3 "$@"; else python3 "$@"; fi; }

# start_receiver SOCKET OUTFILE: a console-socket receiver (lib/recvtty.py)
# in the background; it copies the received pty master to OUTFILE until EOF.
start_receiver() {
  local py=/usr/bin/python3; [ -x $py ] || py=$(command -v python3)
  "$py" "$CONF_LIB/recvtty.py" "$1" "$2" &
  RECV_PID=$!
  bg_track $RECV_PID
  wait_file "$1" 5 || abort "console receiver did not start"
}
