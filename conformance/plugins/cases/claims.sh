# shellcheck shell=bash
# Claim checks: one case per agent-policy field the kit can verify. A case runs
# only when the backend lists the field in `enforces`; otherwise it is
# `SKIP claim <field> - not claimed by <backend>`. Each check runs a control
# container without the policy first (which must see the resource: otherwise
# the check proves nothing and FAILs as inconclusive), then the same bundle
# with the policy, which must not. The policy goes in config.json's `mxc`
# section: `mxc.filesystem.denyRead` etc.
. "$CONF_DIR/lib/kit.sh"

pk_claim() { # FIELD
  pk_claimed "$1" || skip "not claimed by $PK_BACKEND"
  "pk_check_${1//./_}"
}
for _f in "${PK_CLAIM_FIELDS[@]}"; do
  defcase "claim $_f" "a bundle with mxc.$_f is enforced" pk_claim "$_f"
done
unset _f

# pk_run_policy NAME SCRIPT FILTER [JQ-ARGS]: runs SCRIPT (create, start, wait
# until stopped, delete); OUT is its stdout+stderr. Aborts if it does not run.
pk_run_policy() {
  local n=$1 s=$2 f=$3; shift 3
  pk_bundle "$n" "echo pk-alive; { $s; } 2>&1" "$f" "$@"
  cs_run "$n"
  expect_match "$n: the container ran" '^pk-alive$' "$OUT"
}
pk_token() { cat /proc/sys/kernel/random/uuid; }
# Bind mounts of host dirs $WORK/<d> at /mnt/<d>.
PK_BINDS='.mounts += [$dirs | split(" ")[] | {destination: ("/mnt/" + .), type: "bind",
  source: ($work + "/" + .), options: ["rbind", "rw"]}]'

# filesystem.denyRead: a host dir bind-mounted in and named in denyRead (by
# its host path) cannot be read.
pk_check_filesystem_denyRead() {
  local t; t=$(pk_token)
  mkdir -p "$WORK/h"; echo "$t" >"$WORK/h/secret"
  pk_run_policy ctl 'cat /mnt/h/secret' "$PK_BINDS" --arg dirs h
  grep -qF "$t" <<<"$OUT" || abort "inconclusive: the control container cannot read the bind-mounted /mnt/h: $(q "$OUT")"
  pk_run_policy pol 'cat /mnt/h/secret' "$PK_BINDS | .mxc.filesystem.denyRead = [\$work + \"/h\"]" --arg dirs h
  grep -qF "$t" <<<"$OUT" && fail "denyRead [$WORK/h]: the container read /mnt/h/secret"
  return 0
}

# filesystem.allowRead: with allowRead [rootfs, A], A is readable and B (also
# bind-mounted) is not.
pk_check_filesystem_allowRead() {
  local ta tb; ta=$(pk_token) tb=$(pk_token)
  mkdir -p "$WORK/a" "$WORK/b"; echo "$ta" >"$WORK/a/f"; echo "$tb" >"$WORK/b/f"
  pk_run_policy ctl 'cat /mnt/a/f /mnt/b/f' "$PK_BINDS" --arg dirs "a b"
  grep -qF "$tb" <<<"$OUT" || abort "inconclusive: the control container cannot read the bind-mounted /mnt/b: $(q "$OUT")"
  pk_run_policy pol 'cat /mnt/a/f; cat /mnt/b/f' \
    "$PK_BINDS | .mxc.filesystem.allowRead = [.root.path, \$work + \"/a\"]" --arg dirs "a b"
  grep -qF "$ta" <<<"$OUT" || fail "allowRead [rootfs, $WORK/a]: /mnt/a/f not readable: $(q "$OUT")"
  grep -qF "$tb" <<<"$OUT" && fail "allowRead [rootfs, $WORK/a]: the container read /mnt/b/f, which is not allowed"
  return 0
}

# filesystem.allowWrite: with allowWrite [A], a write to A reaches the host and
# one to B (also bind-mounted read-write) does not.
pk_check_filesystem_allowWrite() {
  mkdir -p "$WORK/a" "$WORK/b"
  pk_run_policy ctl 'echo x >/mnt/b/ctl && echo wrote-b' "$PK_BINDS" --arg dirs "a b"
  [ -e "$WORK/b/ctl" ] || abort "inconclusive: the control container cannot write the bind-mounted /mnt/b: $(q "$OUT")"
  pk_run_policy pol 'echo x >/mnt/a/w; echo x >/mnt/b/w' \
    "$PK_BINDS | .mxc.filesystem.allowWrite = [\$work + \"/a\"]" --arg dirs "a b"
  [ -e "$WORK/a/w" ] || fail "allowWrite [$WORK/a]: a write to /mnt/a did not reach the host: $(q "$OUT")"
  [ -e "$WORK/b/w" ] && fail "allowWrite [$WORK/a]: the container wrote /mnt/b/w, which is not allowed"
  return 0
}

# ---- network: an HTTP server on the host's non-loopback address; containers
# share the host's network namespace (no "network" namespace in the config),
# so only the backend's enforcement stands between them and it.
pk_host_ip() {
  ip -4 route get 1.1.1.1 2>/dev/null | sed -n 's/.* src \([0-9.]*\).*/\1/p' | head -n1
}
pk_http_server() { # TOKEN -> sets PK_PORT
  local py=/usr/bin/python3; [ -x $py ] || py=$(command -v python3) || skip "python3 is needed for the network checks"
  "$py" - "$1" "$WORK/port" >"$WORK/http.log" 2>&1 <<'PY' &
import http.server, sys
tok, portfile = sys.argv[1].encode(), sys.argv[2]
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200); self.send_header("Content-Length", str(len(tok) + 1)); self.end_headers()
        self.wfile.write(tok + b"\n")
s = http.server.HTTPServer(("0.0.0.0", 0), H)
open(portfile + ".tmp", "w").write(str(s.server_address[1])); __import__("os").rename(portfile + ".tmp", portfile)
s.serve_forever()
PY
  bg_track $!
  wait_file "$WORK/port" 5 || abort "the host HTTP server did not start: $(cat "$WORK/http.log")"
  PK_PORT=$(cat "$WORK/port")
}
# pk_net_rootfs NAME...: private rootfs with the files static busybox's
# resolver reads (without them its wget crashes in some backends).
pk_net_rootfs() {
  local n
  for n in "$@"; do
    pk_bundle "$n" true
    printf 'hosts: files dns\n' >"$(bundle "$n")/rootfs/etc/nsswitch.conf"
    printf '127.0.0.1 localhost\n' >"$(bundle "$n")/rootfs/etc/hosts"
  done
}
PK_HOSTNET='.linux.namespaces |= map(select(.type != "network"))'

# network.default: "deny" leaves no way out to the host's address.
pk_check_network_default() {
  local t ip; t=$(pk_token) ip=$(pk_host_ip)
  [ -n "$ip" ] || skip "the host has no non-loopback IPv4 address"
  pk_http_server "$t"
  local get="printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 5 $ip $PK_PORT"
  pk_net_rootfs ctl pol
  pk_run_policy ctl "$get" "$PK_HOSTNET"
  grep -qF "$t" <<<"$OUT" || abort "inconclusive: the control container cannot reach $ip:$PK_PORT: $(q "$OUT")"
  pk_run_policy pol "$get" "$PK_HOSTNET | .mxc.network.default = \"deny\""
  grep -qF "$t" <<<"$OUT" && fail "network.default deny: the container fetched http://$ip:$PK_PORT/"
  return 0
}

# network.egress: direct egress by rule (MXC 0.8). With default deny and one
# allow rule for the host's address and the server's port, the server is
# reachable; with the rule naming another port (or the address excepted), it
# is not.
pk_check_network_egress() {
  local t ip; t=$(pk_token) ip=$(pk_host_ip)
  [ -n "$ip" ] || skip "the host has no non-loopback IPv4 address"
  pk_http_server "$t"
  local get="printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 5 $ip $PK_PORT"
  local other=$((PK_PORT == 65535 ? PK_PORT - 1 : PK_PORT + 1))
  pk_net_rootfs ctl pol
  pk_run_policy ctl "$get" "$PK_HOSTNET"
  grep -qF "$t" <<<"$OUT" || abort "inconclusive: the control container cannot reach $ip:$PK_PORT: $(q "$OUT")"
  pk_run_policy pol "$get" "$PK_HOSTNET | .mxc.network.egress = {default: \"deny\", allow: [{to: [{cidr: \"$ip/32\"}], ports: [{port: $PK_PORT, protocol: \"tcp\"}]}]}"
  grep -qF "$t" <<<"$OUT" || fail "network.egress allow $ip/32 tcp/$PK_PORT: the server was not reachable: $(q "$OUT")"
  pk_run_policy pol "$get" "$PK_HOSTNET | .mxc.network.egress = {default: \"deny\", allow: [{to: [{cidr: \"$ip/32\"}], ports: [{port: $other}]}]}"
  grep -qF "$t" <<<"$OUT" && fail "network.egress allowing only port $other: the container fetched http://$ip:$PK_PORT/"
  pk_run_policy pol "$get" "$PK_HOSTNET | .mxc.network.egress = {default: \"allow\", deny: [{to: [{cidr: \"$ip/32\"}]}]}"
  grep -qF "$t" <<<"$OUT" && fail "network.egress deny $ip/32: the container fetched http://$ip:$PK_PORT/"
  return 0
}

# network.allowDomains: with default deny and allowDomains [allowed.pk.test],
# that name is reachable through the policy's proxy (HTTP_PROXY in the
# container's environment) and denied.pk.test is refused. Both names map to
# the host's address: in the control's /etc/hosts, and in the policy's
# network.hosts (the proxy resolves names outside the container).
pk_check_network_allowDomains() {
  local t ip n; t=$(pk_token) ip=$(pk_host_ip)
  [ -n "$ip" ] || skip "the host has no non-loopback IPv4 address"
  pk_http_server "$t"
  local get="for h in allowed denied; do echo \$h: \$(wget -q -O - http://\$h.pk.test:$PK_PORT/ 2>&1 | tail -n1); done"
  pk_net_rootfs ctl pol
  printf '%s allowed.pk.test denied.pk.test\n' "$ip" >>"$(bundle ctl)/rootfs/etc/hosts"
  pk_run_policy ctl "$get" "$PK_HOSTNET"
  grep -qF "denied: $t" <<<"$OUT" || abort "inconclusive: the control container cannot reach denied.pk.test:$PK_PORT: $(q "$OUT")"
  pk_run_policy pol "$get" "$PK_HOSTNET | .mxc.network = {default: \"deny\", allowDomains: [\"allowed.pk.test\"], hosts: {\"allowed.pk.test\": [\"$ip\"], \"denied.pk.test\": [\"$ip\"]}}"
  grep -qF "allowed: $t" <<<"$OUT" || fail "allowDomains [allowed.pk.test]: allowed.pk.test not reachable: $(q "$OUT")"
  grep -qF "denied: $t" <<<"$OUT" && fail "allowDomains [allowed.pk.test]: the container fetched http://denied.pk.test:$PK_PORT/"
  grep -qF "403" <<<"$OUT" || fail "allowDomains [allowed.pk.test]: denied.pk.test was not refused with 403: $(q "$OUT")"
  return 0
}

# desktop.display: with a desktop policy (mxc.desktop: shareClipboard and
# shareInput false), the host's X11 socket dir bind-mounted at /tmp/.X11-unix
# (DISPLAY=:0) is not reachable: the bundle is refused naming that mount, or the
# socket is not visible in the container. (busybox has no unix-socket client,
# so the kit checks visibility, not a connection.)
pk_check_desktop_display() {
  local py=/usr/bin/python3; [ -x $py ] || py=$(command -v python3) || skip "python3 is needed for the desktop check"
  mkdir -p "$WORK/x11"
  "$py" -c 'import socket,sys,time; s=socket.socket(socket.AF_UNIX); s.bind(sys.argv[1]); s.listen(1); time.sleep(600)' "$WORK/x11/X0" &
  bg_track $!
  wait_file "$WORK/x11/X0" 5 || abort "cannot make the host X11 socket"
  local f='.mounts += [{destination: "/tmp/.X11-unix", type: "bind", source: ($work + "/x11"), options: ["rbind", "rw"]}] | .process.env += ["DISPLAY=:0"]'
  pk_run_policy ctl 'test -S /tmp/.X11-unix/X0 && echo x11-visible' "$f"
  grep -q '^x11-visible$' <<<"$OUT" || abort "inconclusive: the control container does not see the bind-mounted X11 socket: $(q "$OUT")"
  # The policy's desktop area as DESIGN.md has it (no "display" field): any
  # desktop policy means no host display. A backend may refuse the bundle
  # instead, with an error naming the X11 mount; otherwise the socket must not
  # be visible.
  local pol="$f | .mxc.desktop = {shareClipboard: false, shareInput: false}"
  pk_bundle pol "echo pk-alive; { test -S /tmp/.X11-unix/X0 && echo x11-visible; } 2>&1" "$pol"
  create_ctr pol
  if [ "$RC" != 0 ]; then
    grep -qF "/tmp/.X11-unix" <<<"$ERR" || fail "desktop: create failed without naming the X11 mount: $(q "$ERR")"
    return 0
  fi
  start_ctr pol; need_rc0 "start"
  wait_stopped pol 10 || fail "container pol did not stop"
  rt delete "$(cid pol)" >/dev/null 2>&1
  OUT=$(ctr_out pol)
  expect_match "pol: the container ran" '^pk-alive$' "$OUT"
  grep -q '^x11-visible$' <<<"$OUT" && fail "desktop policy: the host X11 socket is visible at /tmp/.X11-unix/X0"
  return 0
}
