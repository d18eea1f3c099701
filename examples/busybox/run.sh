#!/usr/bin/env bash
# Runs the example bundle in this directory:
#   examples/busybox/run.sh            # with build/bin/mxc-runtime
#   RUNTIME=runc examples/busybox/run.sh
# Builds examples/busybox/rootfs from the host's busybox-static on first use
# (it is not committed), runs the container with a throw-away --root state
# directory, and exits with the container's exit status.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
runtime=${RUNTIME:-$repo/build/bin/mxc-runtime}

if ! command -v -- "$runtime" >/dev/null 2>&1; then
  echo "run.sh: runtime '$runtime' not found; build it (cmake --build build) or set RUNTIME=runc" >&2
  exit 127
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "run.sh: this example runs a rootful container; run it as root" >&2
  exit 1
fi
if [ ! -x "$here/rootfs/bin/busybox" ]; then
  "$repo/tests/lib/make-rootfs.sh" "$here/rootfs" >/dev/null
fi

state=$(mktemp -d /tmp/mxc-example.XXXXXX)
id=mxc-example-$$
# shellcheck disable=SC2317  # invoked via trap
cleanup() {
  "$runtime" --root "$state" delete -f "$id" >/dev/null 2>&1 || true
  rm -rf "$state"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

rc=0
"$runtime" --root "$state" run -b "$here" "$id" || rc=$?
exit "$rc"
