#!/usr/bin/env bash
# Installs what building and testing mxc-runtime needs on Debian 12 (as root).
# Skips apt entirely when everything is already there.
set -euo pipefail
packages=(
  build-essential cmake pkg-config g++ clang clang-format file
  nlohmann-json3-dev libboost1.81-dev libboost-test1.81-dev libyaml-cpp-dev libseccomp-dev
  busybox-static jq python3 python3-jsonschema iproute2 procps time util-linux
  runc crun bubblewrap passwd
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "deps.sh: missing packages: ${missing[*]}; run as root to install them" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
