# shellcheck shell=bash
# Plugin-kit helpers, sourced by the driver and by every case file (on top of
# ../../lib/common.sh and ../../lib/helpers.sh, which the OCI suite owns).
# Environment from the driver: PK_BACKEND, PK_ENFORCES (claimed fields, one
# per line), MXC_PLUGIN_PATH (when --plugin-path was given).

# The agent-policy fields the kit knows how to verify. A field a backend
# claims in `enforces` that is not here is a FAIL ("cannot verify").
PK_CLAIM_FIELDS=(filesystem.allowRead filesystem.allowWrite filesystem.denyRead
  network.default network.allowDomains network.egress desktop.display)

pk_claimed() { grep -qxF -- "$1" <<<"${PK_ENFORCES:-}"; }

# pk_bundle NAME SCRIPT [JQ-FILTER [JQ-ARGS...]]: mkbundle on a private copy
# of the rootfs, kept if NAME has one already (some backends do no mounts: results are written to /res of
# the rootfs itself, read on the host with pk_res), selecting $PK_BACKEND.
# Every container process carries PK_CTR=<id> in its environment.
pk_bundle() {
  local name=$1 script=$2 filter=${3:-.}
  if [ $# -ge 3 ]; then shift 3; else shift $#; fi
  local priv=1 keep=.
  # A second pk_bundle of NAME keeps the private rootfs it already has.
  [ -d "$(bundle "$name")/rootfs" ] && priv=0 keep='.root.path = ($bundle + "/rootfs")'
  MKBUNDLE_PRIVATE=$priv mkbundle "$name" "$script" \
    "$keep | .mounts |= map(select(.destination != \"/res\")) | ($filter)
     | .mxc.isolation.backend = \$backend | .process.env += [\"PK_CTR=\" + \$id]" \
    --arg backend "$PK_BACKEND" "$@"
  # Backends without mounts (example) give no /dev: sh needs /dev/null for
  # background jobs.
  [ -e "$(bundle "$name")/rootfs/dev/null" ] || mknod -m 666 "$(bundle "$name")/rootfs/dev/null" c 1 3
}
pk_res() { printf '%s/rootfs/res' "$(bundle "${1:-c}")"; }

# pk_procs NAME [PID]: host pids of the processes of container NAME: those
# with PK_CTR=<id> in their environment and, given its init PID, those in
# the init's pid namespace (when it is not the host's).
pk_procs() {
  local p ns=""
  [ -n "${2:-}" ] && ns=$(readlink "/proc/$2/ns/pid" 2>/dev/null)
  [ "$ns" = "$(readlink /proc/self/ns/pid)" ] && ns=""
  for p in $( { grep -laF -- "PK_CTR=$(cid "$1")" /proc/[0-9]*/environ 2>/dev/null | cut -d/ -f3
               [ -n "$ns" ] && find /proc/[0-9]*/ns/pid -maxdepth 0 -lname "$ns" 2>/dev/null | cut -d/ -f3; } | sort -un); do
    [ "$(awk '{print $3}' "/proc/$p/stat" 2>/dev/null)" = Z ] || [ ! -d "/proc/$p" ] || echo "$p"
  done
}
pid_alive() { kill -0 "$1" 2>/dev/null && [ "$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" != Z ]; }
