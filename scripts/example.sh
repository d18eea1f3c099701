#!/usr/bin/env bash
# The README's first command: installs dependencies, builds, and runs the
# example bundle (examples/busybox) under the default backend, processcontainer.
set -euo pipefail
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
"$top/scripts/deps.sh"
"$top/scripts/build.sh"
RUNTIME="$top/build/bin/mxc-runtime" exec "$top/examples/busybox/run.sh"
