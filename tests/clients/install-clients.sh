#!/usr/bin/env bash
# Installs the container clients that tests/clients/*.sh drive (podman, containerd/ctr,
# docker) from Debian's archive. Idempotent: packages already installed are left alone,
# and the script does nothing (not even apt-get update) when all of them are present.
#
# Usage: tests/clients/install-clients.sh [podman|containerd|docker ...]   (default: all)
# Must run as root. Never starts a daemon: the tests start their own, in temp dirs.
set -euo pipefail

want=("$@")
[ ${#want[@]} -eq 0 ] && want=(podman containerd docker)

pkgs=()
for w in "${want[@]}"; do
  case "$w" in
    # netavark+aardvark-dns: podman's network backend for the default bridge;
    # catatonit: podman --init; uidmap: newuidmap (harmless as root, podman warns without);
    # iptables: netavark's firewall driver; util-linux gives `script` for `exec -it`.
    podman) pkgs+=(podman conmon golang-github-containers-common crun runc netavark
                   aardvark-dns slirp4netns catatonit uidmap iptables util-linux) ;;
    containerd) pkgs+=(containerd runc util-linux) ;;
    # jq: test_docker.sh's fixture edits config.json; util-linux: `script` for -it
    docker) pkgs+=(docker.io containerd runc tini iptables jq util-linux) ;;
    *) echo "install-clients.sh: unknown client '$w' (podman|containerd|docker)" >&2; exit 2 ;;
  esac
done

mapfile -t pkgs < <(printf '%s\n' "${pkgs[@]}" | sort -u)
missing=()
for p in "${pkgs[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-clients.sh: all present (${want[*]})"
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "install-clients.sh: need root to install: ${missing[*]}" >&2
  exit 1
fi

export DEBIAN_FRONTEND=noninteractive
# Don't let the packages' maintainer scripts start daemons (docker.io/containerd would
# otherwise try to start via invoke-rc.d); the tests start their own in temp dirs.
policy=/usr/sbin/policy-rc.d
made_policy=0
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' > "$policy"; chmod 755 "$policy"; made_policy=1
fi
trap '[ $made_policy -eq 1 ] && rm -f "$policy"' EXIT

apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
echo "install-clients.sh: installed ${missing[*]}"
