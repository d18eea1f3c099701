#!/usr/bin/env bash
# The plugin SDK as a third party uses it: install mxc-runtime into a prefix,
# build examples/third-party-plugin against that prefix only (with clang, out of
# tree), and run a busybox bundle through it: plugins, create/start/state/kill/
# delete, a foreground run passing the exit status through. Also the SDK's
# CMake version rules and its pkg-config file. Leaves nothing behind.
set -euo pipefail
build=${BUILD_DIR:?}
src=${SOURCE_DIR:?}
for tool in clang clang++ pkg-config; do
  command -v "$tool" >/dev/null || { echo "SKIP: $tool is not installed"; exit 77; }
done

tmp=$(mktemp -d /tmp/mxc-sdk-test.XXXXXX)
prefix=$tmp/prefix
exbuild=$tmp/example-build
bundle=$tmp/bundle
state=$tmp/state
id=sdk-example-$$
rt() { "$prefix/bin/mxc-runtime" --root "$state" "$@"; }
cleanup() {
  if [ -x "$prefix/bin/mxc-runtime" ]; then
    for c in "$id" "$id-run"; do rt delete -f "$c" >/dev/null 2>&1 || true; done
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; exit 1; }
ok() { echo "ok: $*"; }

# ---- install ----
cmake --install "$build" --prefix "$prefix" >/dev/null
for f in include/mxc/plugin.h include/mxc/plugin.hpp \
  share/cmake/mxc-plugin-sdk/mxc-plugin-sdkConfig.cmake \
  share/cmake/mxc-plugin-sdk/mxc-plugin-sdkConfigVersion.cmake \
  share/pkgconfig/mxc-plugin-sdk.pc; do
  [ -e "$prefix/$f" ] || fail "$f not installed"
done
ok "SDK headers, CMake package and pkg-config file installed"
abi_major=$(sed -n 's/^#define MXC_PLUGIN_ABI_MAJOR \([0-9]*\).*/\1/p' "$prefix/include/mxc/plugin.h")
abi_minor=$(sed -n 's/^#define MXC_PLUGIN_ABI_MINOR \([0-9]*\).*/\1/p' "$prefix/include/mxc/plugin.h")

# ---- pkg-config ----
export PKG_CONFIG_PATH=$prefix/share/pkgconfig
cflags=$(pkg-config --cflags mxc-plugin-sdk) || fail "pkg-config --cflags mxc-plugin-sdk"
[ "$(pkg-config --modversion mxc-plugin-sdk)" = "$abi_major.$abi_minor" ] ||
  fail "pkg-config version $(pkg-config --modversion mxc-plugin-sdk), want ABI $abi_major.$abi_minor"
plugindir=$(pkg-config --variable=plugindir mxc-plugin-sdk)
[ "$(realpath -m "$plugindir")" = "$prefix/lib/mxc-runtime/plugins" ] ||
  fail "plugindir is $plugindir, want $prefix/lib/mxc-runtime/plugins"
printf '#include <mxc/plugin.h>\nint main(void) { return MXC_PLUGIN_ABI_MAJOR == %s ? 0 : 1; }\n' \
  "$abi_major" >"$tmp/pc.c"
# shellcheck disable=SC2086  # cflags is a list of flags
clang $cflags -Wall -Werror -o "$tmp/pc" "$tmp/pc.c" && "$tmp/pc" ||
  fail "a C file does not build with \$(pkg-config --cflags mxc-plugin-sdk) = $cflags"
ok "pkg-config: cflags ($cflags), version $abi_major.$abi_minor, plugindir"
unset PKG_CONFIG_PATH

# ---- CMake package versions: SameMajorVersion on the ABI major ----
mkdir -p "$tmp/vcheck"
cat >"$tmp/vcheck/CMakeLists.txt" <<'CM'
cmake_minimum_required(VERSION 3.16)
project(vcheck NONE)
find_package(mxc-plugin-sdk ${WANT} CONFIG QUIET)
if(mxc-plugin-sdk_FOUND)
  message(STATUS "found=1 ")
else()
  message(STATUS "found=0 ")
endif()
if(mxc-plugin-sdk_FOUND AND NOT TARGET mxc::plugin-sdk)
  message(FATAL_ERROR "no mxc::plugin-sdk target")
endif()
if(mxc-plugin-sdk_FOUND AND NOT COMMAND mxc_add_backend_plugin)
  message(FATAL_ERROR "no mxc_add_backend_plugin()")
endif()
CM
vcheck() {
  rm -rf "$tmp/vcheck/b"
  cmake -S "$tmp/vcheck" -B "$tmp/vcheck/b" -DWANT="$1" -DCMAKE_PREFIX_PATH="$prefix" 2>&1 |
    sed -n 's/^-- found=\([^ ]*\) .*/\1/p'
}
[ "$(vcheck "$abi_major")" = 1 ] || fail "find_package(mxc-plugin-sdk $abi_major) not found"
[ "$(vcheck "$abi_major.$abi_minor")" = 1 ] || fail "find_package(mxc-plugin-sdk $abi_major.$abi_minor)"
[ "$(vcheck $((abi_major + 1)))" = 0 ] || fail "find_package(mxc-plugin-sdk $((abi_major + 1))) accepted"
[ "$(vcheck "$abi_major.$((abi_minor + 1))")" = 0 ] || fail "a newer minor was accepted"
ok "find_package(mxc-plugin-sdk): $abi_major and $abi_major.$abi_minor found, $((abi_major + 1)) refused"

# ---- the example, built out of tree with clang against the prefix only ----
CC=clang CXX=clang++ cmake -S "$src/examples/third-party-plugin" -B "$exbuild" \
  -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_CXX_FLAGS=-Werror -DCMAKE_EXPORT_COMPILE_COMMANDS=ON \
  >"$tmp/example-configure.log" 2>&1 || { cat "$tmp/example-configure.log"; fail "configure"; }
cmake --build "$exbuild" >"$tmp/example-build.log" 2>&1 || { cat "$tmp/example-build.log"; fail "build"; }
grep -q 'clang++' "$exbuild/compile_commands.json" || fail "the example was not built with clang++"
grep -q -- "-isystem $prefix/include\|-I$prefix/include" "$exbuild/compile_commands.json" ||
  fail "the example does not use the installed headers"
if grep -q "$src/plugins" "$exbuild/compile_commands.json"; then
  fail "the example reaches into the source tree"
fi
[ -f "$exbuild/libexample.so" ] || fail "no libexample.so"
# Only the entry point is exported (hidden visibility).
exported=$(nm -D --defined-only "$exbuild/libexample.so" | awk '{print $3}')
[ "$exported" = mxc_plugin_entry ] || fail "libexample.so exports more than mxc_plugin_entry: $exported"
ok "examples/third-party-plugin built with clang++ against $prefix, exporting only mxc_plugin_entry"
cmake --install "$exbuild" --prefix "$tmp/plugin-prefix" >/dev/null
[ -f "$tmp/plugin-prefix/lib/mxc-runtime/plugins/libexample.so" ] ||
  fail "mxc_add_backend_plugin did not install to lib/mxc-runtime/plugins"
ok "mxc_add_backend_plugin installs to <prefix>/lib/mxc-runtime/plugins"

export MXC_PLUGIN_PATH=$exbuild

# ---- plugins ----
listing=$(rt plugins)
echo "$listing"
echo "$listing" | grep -Eq "^example +0\.1\.0 +$abi_major\.$abi_minor +process +- +$exbuild/libexample.so$" ||
  fail "plugins does not list example 0.1.0"
echo "$listing" | grep -Eq "^processcontainer " || fail "plugins lost processcontainer"
if echo "$listing" | grep -q "Not loaded"; then fail "plugins reports files not loaded"; fi
inspect=$(rt plugins inspect example)
echo "$inspect" | grep -q "^version: *0.1.0$" || fail "plugins inspect example: $inspect"
echo "$inspect" | grep -q "^exec: *not supported$" || fail "plugins inspect example: $inspect"
rt plugins inspect example --format json | grep -q '"version": "0.1.0"' || fail "inspect --format json"
ok "plugins lists example 0.1.0 from $exbuild"

# ---- a bundle on the example backend ----
"$src/tests/lib/make-rootfs.sh" "$bundle/rootfs" >/dev/null
config() {
  cat >"$bundle/config.json" <<JSON
{"ociVersion":"1.0.2-dev","root":{"path":"rootfs"},
 "process":{"args":["/bin/sh","-c","$1"],"cwd":"/tmp","env":["PATH=/bin","GREETING=hi-from-env"]},
 "linux":{"namespaces":[{"type":"mount"},{"type":"pid"}]},
 "mxc":{"isolation":{"backend":"example"}}}
JSON
}
status() { rt state "$1" | sed -n 's/.*"status": "\([a-z]*\)".*/\1/p'; }

config 'echo inside pid=$$ cwd=$(pwd) env=$GREETING root=$(ls /bin/busybox); exec sleep 60'
rt create -b "$bundle" "$id" >"$tmp/out" 2>&1 || { cat "$tmp/out"; fail "create"; }
[ "$(status "$id")" = created ] || fail "after create: $(status "$id")"
rt state "$id" | grep -q '"backend": "example"' || fail "state does not name backend example"
[ ! -s "$tmp/out" ] || fail "the process ran before start: $(cat "$tmp/out")"
rt start "$id"
[ "$(status "$id")" = running ] || fail "after start: $(status "$id")"
for _ in $(seq 50); do grep -q inside "$tmp/out" && break; sleep 0.1; done
grep -q '^inside pid=1 cwd=/tmp env=hi-from-env root=/bin/busybox$' "$tmp/out" ||
  fail "output from inside: $(cat "$tmp/out")"
if rt start "$id" 2>/dev/null; then fail "a second start succeeded"; fi
rt kill "$id" KILL
for _ in $(seq 50); do [ "$(status "$id")" = stopped ] && break; sleep 0.1; done
[ "$(status "$id")" = stopped ] || fail "after kill: $(status "$id")"
rt delete "$id"
if rt state "$id" >/dev/null 2>&1; then fail "state after delete"; fi
ok "create/start/state/kill/delete on the example backend (inside: $(cat "$tmp/out"))"

config 'echo ran inside as $$; echo through-fd-3 >&3; exit 5'
set +e
out=$(rt run --preserve-fds 1 -b "$bundle" "$id-run" 2>&1 3>"$tmp/fd3")
rc=$?
set -e
[ "$rc" -eq 5 ] || fail "run exited $rc, want 5: $out"
[ "$out" = "ran inside as 1" ] || fail "run output: $out"
[ "$(cat "$tmp/fd3")" = through-fd-3 ] || fail "--preserve-fds 1: fd 3 did not reach the process"
ok "foreground run passes the exit status through (5) and --preserve-fds"

# ---- nothing left behind ----
# ---- the plugin conformance kit against the example backend ----
rc=0
kit=$("$src/conformance/plugins/run" --runtime "$prefix/bin/mxc-runtime" --backend example \
  --plugin-path "$exbuild" 2>&1) || rc=$?
[ "$rc" -eq 0 ] || fail "plugin conformance kit for example: $(echo "$kit" | grep -E '^FAIL|passed,')"
ok "plugin conformance kit for example: $(echo "$kit" | tail -1)"

[ -z "$(ls -A "$state")" ] || fail "state left: $(ls -A "$state")"
if grep -q "$tmp" /proc/self/mountinfo; then fail "mounts left under $tmp"; fi
leftover=$(find /sys/fs/cgroup -maxdepth 4 -name "$id*" 2>/dev/null || true)
[ -z "$leftover" ] || fail "cgroups left: $leftover"
ok "no container state, mount or cgroup left"
