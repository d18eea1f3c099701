# shellcheck shell=bash
# Driver-side helpers: case registry, suite setup, per-case isolation and the
# cleanup that force-deletes and verifies that nothing is left behind.
CONF_LIB=${CONF_LIB:-$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)}
CONF_DIR=${CONF_DIR:-$(cd "$CONF_LIB/.." && pwd)}
CASE_IDS=() CASE_DESCS=() CASE_FUNCS=() CASE_ARGS=() CASE_AREAS=()
CASE_TIMEOUT=${CASE_TIMEOUT:-90}

# defcase ID DESCRIPTION FUNCTION [ARGS...]: registers a case. The area is the
# cases/<area>.sh file that registers it.
defcase() {
  local id=$1 desc=$2 fn=$3
  shift 3
  CASE_IDS+=("$id") CASE_DESCS+=("$desc") CASE_FUNCS+=("$fn")
  CASE_AREAS+=("$(basename "${BASH_SOURCE[1]}" .sh)")
  local a="" x
  for x in "$@"; do a+=$(printf '%q ' "$x"); done
  CASE_ARGS+=("$a")
}

suite_setup() {
  SUITE_TMP=$(mktemp -d /tmp/conformance.XXXXXX) || return 1
  chmod 755 "$SUITE_TMP"
  SUITE_TAG=$(basename "$SUITE_TMP" | tr -dc 'A-Za-z0-9' | tail -c 6)
  ROOTFS=$SUITE_TMP/rootfs
  if ! sh "$CONF_DIR/../tests/lib/make-rootfs.sh" "$ROOTFS" >/dev/null; then
    echo "cannot build the busybox rootfs (apt-get install busybox-static)" >&2; return 1
  fi
  mkdir -p "$ROOTFS/res" "$ROOTFS/data" "$ROOTFS/etc/conformance"
  echo "conformance-rootfs" >"$ROOTFS/etc/conformance/marker"
  chmod -R go+rX "$ROOTFS"
  mkdir -p "$SUITE_TMP/bin"
  export SUITE_TMP SUITE_TAG ROOTFS RUNTIME CONF_DIR CONF_LIB
}

suite_teardown() {
  local rc=$?
  if [ "${KEEP:-0}" = 1 ]; then echo "# kept $SUITE_TMP" >&2
  elif [ -n "${SUITE_TMP:-}" ]; then
    # Never rm -rf through a mount a case left behind.
    if grep -qF "$SUITE_TMP" /proc/self/mountinfo; then
      echo "# mounts remain under $SUITE_TMP; not removing it" >&2
    else rm -rf "$SUITE_TMP"; fi
  fi
  return $rc
}

# ---- per-case leftovers ------------------------------------------------
# Processes of the case: carrying its tag in their environment (the runner,
# hooks, helpers and container processes all do), in a cgroup named after one
# of its ids, or with a cwd under its temp dir.
case_stray_pids() {
  {
    grep -laF -- "CONF_TAG=$CASE_TMP" /proc/[0-9]*/environ 2>/dev/null | cut -d/ -f3
    grep -lF -- "/$ID_PREFIX" /proc/[0-9]*/cgroup 2>/dev/null | cut -d/ -f3
    find /proc/[0-9]*/cwd -maxdepth 0 -printf '%p %l\n' 2>/dev/null |
      awk -v t="$CASE_TMP" '{ l = substr($0, length($1) + 2); if (l == t || index(l, t "/") == 1) { split($1, p, "/"); print p[3] } }'
  } | sort -un | while read -r pid; do
    [ "$pid" = $$ ] && continue
    [ "$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null)" = Z ] || [ ! -d "/proc/$pid" ] || echo "$pid"
  done
}
case_leftover_cgroups() {
  find /sys/fs/cgroup -maxdepth 5 -type d -name "${ID_PREFIX}*" 2>/dev/null | awk '{ print length, $0 }' | sort -rn | cut -d' ' -f2-
}
case_leftover_mounts() {
  awk -v t="$CASE_TMP" 'index($5, t) == 1 { print $5 }' /proc/self/mountinfo | sort -r
}

case_cleanup() {
  local ids id i left="" p cg m
  rt_() { timeout -k 5 30 "$RUNTIME" --root "$CASE_ROOT" "$@"; }
  ids=$( (rt_ list -q 2>/dev/null; find "$CASE_ROOT" -mindepth 1 -maxdepth 1 -type d -printf '%f\n' 2>/dev/null) | sort -u)
  for id in $ids; do rt_ delete --force "$id" >/dev/null 2>&1; done
  # Helpers the case started in the background (receivers, ns holders).
  for p in $(cat "$CASE_TMP/bgpids" 2>/dev/null); do kill -KILL "$p" 2>/dev/null; done
  for ((i = 0; i < 30; i++)); do [ -z "$(case_stray_pids)" ] && break; sleep 0.1; done
  p=$(case_stray_pids)
  if [ -n "$p" ]; then
    left+="processes: $(for x in $p; do printf '%s(%s) ' "$x" "$(tr '\0' ' ' </proc/$x/cmdline 2>/dev/null | cut -c1-40)"; done); "
    kill -KILL $p 2>/dev/null; sleep 0.3
  fi
  ids=$( (rt_ list -q 2>/dev/null; find "$CASE_ROOT" -mindepth 1 -maxdepth 1 -type d -printf '%f\n' 2>/dev/null) | sort -u | tr '\n' ' ')
  [ -n "${ids// /}" ] && left+="state after delete --force: $ids; "
  for ((i = 0; i < 20; i++)); do [ -z "$(case_leftover_cgroups)" ] && break; sleep 0.1; done
  cg=$(case_leftover_cgroups)
  if [ -n "$cg" ]; then
    left+="cgroups: $(echo "$cg" | tr '\n' ' '); "
    for m in $cg; do rmdir "$m" 2>/dev/null; done
  fi
  m=$(case_leftover_mounts)
  if [ -n "$m" ]; then
    left+="mounts: $(echo "$m" | tr '\n' ' '); "
    for x in $m; do umount -l "$x" 2>/dev/null; done
  fi
  LEFTOVERS=$left
}

# run_case INDEX: runs one case in its own bash (bounded in time), then
# cleans up and prints its result line. Sets CASE_VERDICT.
CASE_N=0
run_case() {
  local i=$1 id=${CASE_IDS[$1]} desc=${CASE_DESCS[$1]} v msg
  CASE_N=$((CASE_N + 1))
  CASE_TMP=$SUITE_TMP/c$CASE_N
  CASE_ROOT=$CASE_TMP/state/root
  ID_PREFIX="cf$SUITE_TAG-$CASE_N-"
  mkdir -p "$CASE_ROOT" "$CASE_TMP/work"
  chmod 755 "$CASE_TMP" "$CASE_TMP/work"
  CASE_ID=$id CASE_TMP=$CASE_TMP CASE_ROOT=$CASE_ROOT ID_PREFIX=$ID_PREFIX CONF_TAG=$CASE_TMP \
    timeout -k 5 "$CASE_TIMEOUT" bash "$CONF_LIB/runcase.sh" "${CASE_FUNCS[$i]}" "${CASE_ARGS[$i]}" \
    </dev/null >"$CASE_TMP/log" 2>&1
  local rc=$?
  case_cleanup
  if [ -s "$CASE_TMP/verdict.fail" ]; then
    v=FAIL
    msg="$desc: $(head -n1 "$CASE_TMP/verdict.fail")"
    n=$(wc -l <"$CASE_TMP/verdict.fail")
    [ "$n" -gt 1 ] && msg+=" (+$((n - 1)) more)"
  elif [ -s "$CASE_TMP/verdict.skip" ]; then
    v=SKIP msg=$(head -n1 "$CASE_TMP/verdict.skip")
  elif [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
    v=FAIL msg="$desc: case timed out after ${CASE_TIMEOUT}s"
  elif [ -e "$CASE_TMP/verdict.done" ]; then
    v=PASS msg=$desc
  else
    v=FAIL msg="$desc: case aborted (exit $rc): $(tail -n1 "$CASE_TMP/log")"
  fi
  if [ -n "$LEFTOVERS" ]; then
    [ "$v" = FAIL ] && msg+="; also " || msg="$desc: "
    v=FAIL msg+="left behind: ${LEFTOVERS%; }"
  fi
  printf '%s %s - %s\n' "$v" "$id" "$(printf '%s' "$msg" | tr '\n' ' ' | cut -c1-400)"
  [ -n "${CONF_TSV:-}" ] && printf '%s\t%s\t%s\t%s\n' "${CASE_AREAS[$i]}" "$id" "$v" "$msg" >>"$CONF_TSV"
  CASE_VERDICT=$v
  [ "${KEEP:-0}" = 1 ] || [ -n "$(case_leftover_mounts)" ] || rm -rf "$CASE_TMP"
}
