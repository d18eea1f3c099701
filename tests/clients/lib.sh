# Shared helpers for tests/clients/test_*.sh. Sourced, not run.
# Each test sets $WORK (its temp dir) before calling these.

FAILED=0
PASSED=0

ok() { echo "ok - $*"; PASSED=$((PASSED + 1)); }
fail() { echo "FAIL - $*"; FAILED=$((FAILED + 1)); }
skip() { echo "SKIP: $*"; exit 77; }

# check NAME CMD...: ok when CMD exits 0, FAIL (with its output) otherwise.
check() {
  local name=$1; shift
  local out
  if out=$("$@" 2>&1); then ok "$name"; else fail "$name"; printf '%s\n' "$out" | sed 's/^/    /' | tail -20; fi
}

# expect_contains NAME NEEDLE HAYSTACK
expect_contains() {
  if printf '%s' "$3" | grep -qF -- "$2"; then ok "$1"
  else fail "$1 (wanted '$2')"; printf '%s\n' "$3" | sed 's/^/    got: /' | tail -20; fi
}

# expect_eq NAME WANT GOT
expect_eq() {
  if [ "$2" = "$3" ]; then ok "$1"; else fail "$1 (wanted '$2', got '$3')"; fi
}

# wait_for SECONDS CMD...: polls CMD every 0.2 s until it succeeds.
wait_for() {
  local deadline=$((SECONDS + $1)); shift
  until "$@" >/dev/null 2>&1; do
    [ $SECONDS -ge $deadline ] && return 1
    sleep 0.2
  done
}

# known_bug NAME DESCRIPTION CMD...: a check for a bug that was reported by
# these tests and fixed; kept under its name so the history reads, and as
# strict as any other check.
KNOWN=0
known_bug() {
  local name=$1 what=$2; shift 2
  local out
  if out=$("$@" 2>&1); then ok "$name"
  else fail "$name [regression: $what]"; printf '%s\n' "$out" | sed 's/^/    /' | tail -20; fi
}

finish() {
  [ "$KNOWN" -gt 0 ] && echo "# $KNOWN known bug(s) still open (xfail)"
  echo "$PASSED passed, $FAILED failed"
  [ "$FAILED" -eq 0 ]
}

require_runtime() {
  : "${SOURCE_DIR:=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
  [ -n "${RUNTIME:-}" ] || { echo "RUNTIME must name the mxc-runtime binary" >&2; exit 2; }
  RUNTIME=$(readlink -f "$RUNTIME")
  [ -x "$RUNTIME" ] || { echo "RUNTIME=$RUNTIME is not executable" >&2; exit 2; }
  [ "$(id -u)" -eq 0 ] || skip "the client tests run the daemons as root"
}

# make_image_tar DIR OUT [NAME]: a docker-archive (`docker save` format, which
# `docker load`, `ctr image import` and `podman load` all read) holding one layer:
# the busybox rootfs that tests/lib/make-rootfs.sh builds. No registry, no podman.
make_image_tar() {
  local dir=$1 out=$2 name=${3:-localhost/busybox:latest}
  local rootfs=$dir/rootfs img=$dir/image
  rm -rf "$rootfs" "$img"; mkdir -p "$img"
  "$SOURCE_DIR"/tests/lib/make-rootfs.sh "$rootfs" >/dev/null
  tar --numeric-owner --owner=0 --group=0 --mtime=@0 --sort=name -C "$rootfs" -cf "$img/layer.tar" .
  local layer_sha; layer_sha=$(sha256sum "$img/layer.tar" | cut -d' ' -f1)
  mkdir -p "$img/$layer_sha"; mv "$img/layer.tar" "$img/$layer_sha/layer.tar"
  local arch; arch=$(dpkg --print-architecture 2>/dev/null || echo amd64)
  printf '{"architecture":"%s","os":"linux","created":"1970-01-01T00:00:00Z","config":{"Env":["PATH=/usr/sbin:/usr/bin:/sbin:/bin"],"Cmd":["/bin/sh"],"WorkingDir":"/"},"rootfs":{"type":"layers","diff_ids":["sha256:%s"]},"history":[{"created":"1970-01-01T00:00:00Z","created_by":"tests/lib/make-rootfs.sh"}]}' \
    "$arch" "$layer_sha" > "$img/config.json"
  local cfg_sha; cfg_sha=$(sha256sum "$img/config.json" | cut -d' ' -f1)
  mv "$img/config.json" "$img/$cfg_sha.json"
  printf '[{"Config":"%s.json","RepoTags":["%s"],"Layers":["%s/layer.tar"]}]' \
    "$cfg_sha" "$name" "$layer_sha" > "$img/manifest.json"
  tar -C "$img" -cf "$out" manifest.json "$cfg_sha.json" "$layer_sha"
  rm -rf "$rootfs" "$img"
}

# Snapshot/restore of the host's iptables state, for clients (netavark, dockerd)
# that add chains. Only chains that did not exist before are removed.
iptables_snapshot() {
  IPT_BEFORE=""
  if command -v iptables-save >/dev/null 2>&1; then
    IPT_BEFORE=$(iptables-save 2>/dev/null | grep '^:' | cut -d' ' -f1 | sort -u || true)
  fi
}
iptables_restore_new_chains() {
  command -v iptables-save >/dev/null 2>&1 || return 0
  local table chain
  for table in filter nat mangle raw; do
    for chain in $(iptables -t "$table" -S 2>/dev/null | awk '$1=="-N"{print $2}'); do
      printf '%s\n' "$IPT_BEFORE" | grep -qx ":$chain" && continue
      # drop every rule that jumps to it, then the chain itself
      iptables -t "$table" -S 2>/dev/null | grep -E -- "-j $chain( |$)" | sed 's/^-A/-D/' |
        while read -r rule; do eval iptables -t "$table" $rule 2>/dev/null || true; done
      iptables -t "$table" -F "$chain" 2>/dev/null || true
    done
    for chain in $(iptables -t "$table" -S 2>/dev/null | awk '$1=="-N"{print $2}'); do
      printf '%s\n' "$IPT_BEFORE" | grep -qx ":$chain" && continue
      iptables -t "$table" -X "$chain" 2>/dev/null || true
    done
  done
}

# Unmounts everything at or below $1 (deepest first).
umount_under() {
  local p
  for p in $(awk -v d="$1" '$5 == d || index($5, d "/") == 1 {print $5}' /proc/self/mountinfo | sort -r); do
    umount -l "$p" 2>/dev/null || true
  done
}
