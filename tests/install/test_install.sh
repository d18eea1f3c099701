#!/usr/bin/env bash
# `cmake --install` lays out bin/mxc-runtime, lib/mxc-runtime/plugins and the
# SDK headers, and the installed binary finds its plugins with no flags.
set -euo pipefail
build=${BUILD_DIR:?}
prefix=$(mktemp -d /tmp/mxc-install.XXXXXX)
work=$(mktemp -d /tmp/mxc-install-run.XXXXXX)
trap 'rm -rf "$prefix" "$work"' EXIT
cmake --install "$build" --prefix "$prefix" >/dev/null
for f in bin/mxc-runtime lib/mxc-runtime/plugins/libprocesscontainer.so include/mxc/plugin.h include/mxc/plugin.hpp; do
  [ -e "$prefix/$f" ] || { echo "FAIL: $f not installed"; exit 1; }
  echo "ok: $f installed"
done
# A bundle whose rootfs is a fresh busybox tree; no --plugin-path, no MXC_PLUGIN_PATH.
"${SOURCE_DIR:?}/tests/lib/make-rootfs.sh" "$work/rootfs" >/dev/null
cat >"$work/config.json" <<'JSON'
{"ociVersion":"1.0.2-dev","root":{"path":"rootfs"},
 "process":{"args":["/bin/sh","-c","exit 3"],"cwd":"/","env":["PATH=/bin"]},
 "linux":{"namespaces":[{"type":"mount"},{"type":"pid"}]}}
JSON
set +e
env -u MXC_PLUGIN_PATH "$prefix/bin/mxc-runtime" --root "$work/state" run -b "$work" install-check
rc=$?
set -e
[ "$rc" -eq 3 ] || { echo "FAIL: installed mxc-runtime run exited $rc, want 3"; exit 1; }
echo "ok: the installed binary ran a container through its installed plugin (exit 3)"
# Moving the installation keeps it working: the plugin dir is found relative to the binary.
mv "$prefix" "$prefix.moved" && prefix=$prefix.moved
trap 'rm -rf "$prefix" "$work"' EXIT
set +e
env -u MXC_PLUGIN_PATH "$prefix/bin/mxc-runtime" --root "$work/state" run -b "$work" install-check2
rc=$?
set -e
[ "$rc" -eq 3 ] || { echo "FAIL: relocated install exited $rc, want 3"; exit 1; }
echo "ok: a relocated install still finds its plugins"
