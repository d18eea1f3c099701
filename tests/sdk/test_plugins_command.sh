#!/usr/bin/env bash
# `mxc-runtime plugins` over the broken fixture plugins of tests/unit: every
# file that does not load is listed on one line with its reason, the good
# plugin still loads, and `plugins inspect` names the backend in its errors.
set -euo pipefail
build=${BUILD_DIR:?}
rt=$build/bin/mxc-runtime
fixtures=$build/tests/unit/fixture-plugins
shadow=$build/tests/unit/fixture-plugins-shadow
installed=$build/lib/mxc-runtime/plugins
tmp=$(mktemp -d /tmp/mxc-plugins-cmd.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
ok() { echo "ok: $*"; }

# The real plugin directory before the rival one: the rival is shadowed.
export MXC_PLUGIN_PATH=$fixtures:$installed:$shadow
"$rt" plugins >"$tmp/out" 2>"$tmp/err" || fail "plugins exited $?: $(cat "$tmp/err")"
cat "$tmp/out"
[ ! -s "$tmp/err" ] || fail "plugins wrote to stderr: $(cat "$tmp/err")"
grep -Eq "^processcontainer +[0-9][^ ]* +[0-9]+\.[0-9]+ +process +filesystem\.allowRead,[^ ]+ +$installed/libprocesscontainer.so$" "$tmp/out" ||
  fail "processcontainer is not listed from $installed"
expect() {  # FILE REASON-SUBSTRING: exactly one line names FILE, with REASON
  local lines
  lines=$(grep -cF "  $1: " "$tmp/out" || true)
  [ "$lines" -eq 1 ] || fail "$1 is on $lines lines, want 1"
  grep -F "  $1: " "$tmp/out" | grep -qF "$2" || fail "$1: reason lacks \"$2\": $(grep -F "$1" "$tmp/out")"
}
expect "$fixtures/libnotelf.so" "not a shared library"
expect "$fixtures/libno_entry.so" "no entry point mxc_plugin_entry"
expect "$fixtures/libwrong_abi.so" "ABI 2.0 is incompatible with the runtime's ABI 1.2"
expect "$fixtures/libincomplete.so" "incomplete table (no create, wait)"
expect "$fixtures/libmisnamed.so" "calls itself \"someone-else\""
expect "$shadow/libprocesscontainer.so" "shadowed by $installed/libprocesscontainer.so"
[ "$(grep -c '^  /' "$tmp/out")" -eq 6 ] || fail "want 6 files not loaded"
ok "plugins: one line per file not loaded, with its reason; processcontainer still loads"

"$rt" plugins --format json >"$tmp/json"
python3 - "$tmp/json" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
names = [p["name"] for p in doc["plugins"]]
assert "processcontainer" in names, names
assert not set(names) & {"wrong_abi", "no_entry", "misnamed", "incomplete", "notelf"}, names
assert len(doc["notLoaded"]) == 6, doc["notLoaded"]
assert all(r["file"] and r["reason"] and "\n" not in r["reason"] for r in doc["notLoaded"])
assert doc["searchPath"][0].endswith("fixture-plugins"), doc["searchPath"]
PY
ok "plugins --format json"

# The rival first: it wins, and the real one is reported shadowed.
MXC_PLUGIN_PATH=$shadow "$rt" plugins >"$tmp/out2"
grep -Eq "^processcontainer +0\.0\.0-dup " "$tmp/out2" || fail "the first plugin claiming a name does not win"
grep -qF "  $installed/libprocesscontainer.so: shadowed by $shadow/libprocesscontainer.so" "$tmp/out2" ||
  fail "the installed plugin is not reported shadowed: $(cat "$tmp/out2")"
ok "first in search order wins"

check_error() {  # WANT-SUBSTRING ARGS...: fails with one line containing WANT
  local want=$1
  shift
  if "$rt" "$@" >"$tmp/o" 2>"$tmp/e"; then fail "$* succeeded"; fi
  [ "$(wc -l <"$tmp/e")" -eq 1 ] || fail "$*: not one line: $(cat "$tmp/e")"
  grep -qF -- "$want" "$tmp/e" || fail "$*: \"$want\" not in: $(cat "$tmp/e")"
}
check_error 'backend "wrong_abi": '"$fixtures/libwrong_abi.so: ABI 2.0" plugins inspect wrong_abi
check_error 'backend "nosuch": no plugin libnosuch.so' plugins inspect nosuch
check_error 'backend name "../x" is invalid' plugins inspect ../x
check_error 'unknown sub-command "frob"' plugins frob
check_error '--format must be table or json' plugins --format xml
"$rt" plugins inspect processcontainer >"$tmp/o"
grep -q "^file: *$installed/libprocesscontainer.so$" "$tmp/o" || fail "inspect: $(cat "$tmp/o")"
grep -q "^shadows: *$shadow/libprocesscontainer.so$" "$tmp/o" || fail "inspect: $(cat "$tmp/o")"
"$rt" plugins inspect processcontainer --format json | python3 -c 'import json,sys; d=json.load(sys.stdin); assert d["name"]=="processcontainer" and d["exec"] is True, d'
ok "plugins inspect, and its errors naming the backend"
