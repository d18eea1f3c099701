#!/usr/bin/env bash
# The README's second command: installs dependencies, builds, and runs every
# test (unit, schema, integration with real containers, format) with ctest.
set -euo pipefail
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
"$top/scripts/deps.sh"
# The real clients (podman, containerd, docker) the clients.* tests drive.
"$top/tests/clients/install-clients.sh"
"$top/scripts/build.sh"
cd "${BUILD_DIR:-$top/build}"
ctest --output-on-failure -j1 "$@"
