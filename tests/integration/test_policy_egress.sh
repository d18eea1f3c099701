#!/bin/bash
# network.egress (direct egress rules) enforced by the runtime's cgroup BPF
# programs: the container joins a client network namespace by path, wired by
# a veth pair to a server namespace whose servers listen on several IPv4 and
# IPv6 addresses. Refused traffic fails the syscall with EPERM.
# shellcheck disable=SC2016 # jq filters and in-container scripts are single-quoted on purpose
set -euo pipefail
. "$(dirname "$0")/lib.sh"
mxc_only || skip "network.egress is an mxc-runtime policy"
command -v python3 >/dev/null || skip "python3 is needed for the servers"
ip netns add "mxc-probe-$$" 2>/dev/null || skip "ip netns does not work here"
ip netns del "mxc-probe-$$"

cns="mxcc$$" sns="mxcs$$"
register_netns "$cns"
register_netns "$sns"
ip netns add "$cns"
ip netns add "$sns"
ip link add "ve$$c" netns "$cns" type veth peer name "ve$$s" netns "$sns"
ip -n "$cns" link set lo up
ip -n "$sns" link set lo up
ip -n "$cns" addr add 10.77.0.1/24 dev "ve$$c"
ip -n "$cns" -6 addr add fd77::1/64 dev "ve$$c" nodad
for a in 2 3 4; do
  ip -n "$sns" addr add "10.77.0.$a/24" dev "ve$$s"
  ip -n "$sns" -6 addr add "fd77::$a/64" dev "ve$$s" nodad
done
ip -n "$cns" link set "ve$$c" up
ip -n "$sns" link set "ve$$s" up

# Servers: HTTP on 8080 and 8081 (dual-stack, every address), UDP on 5353
# writing what it receives to a file and answering with a TFTP error (busybox
# tftp is the container's UDP client: an unconnected sendto).
servers=()
stop_servers() {
  local p
  for p in "${servers[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${servers[@]}"; do wait "$p" 2>/dev/null || true; done
  servers=()
}
mkdir -p "$WORK/www"
echo "hello-egress" >"$WORK/www/index.html"
for port in 8080 8081; do
  ip netns exec "$sns" python3 -m http.server --bind :: --directory "$WORK/www" "$port" \
    >/dev/null 2>&1 &
  servers+=($!)
done
ip netns exec "$sns" python3 -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("0.0.0.0", 5353))
while True:
    data, peer = s.recvfrom(200)
    with open(sys.argv[1], "ab") as f:
        f.write(data)
    s.sendto(b"\x00\x05\x00\x01nope\x00", peer)  # a TFTP error ends the client
' "$WORK/udp.log" >/dev/null 2>&1 &
servers+=($!)
host_get() { ip netns exec "$cns" python3 -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=1)' "$1" >/dev/null 2>&1; }
for _ in $(seq 100); do
  host_get http://10.77.0.2:8081/ && host_get http://10.77.0.2:8080/ && host_get "http://[fd77::2]:8080/" && break
  sleep 0.1
done
host_get "http://[fd77::2]:8080/" || { stop_servers; die "setup: the IPv6 server is not reachable without a policy"; }

n=0
# in_ctr EGRESS-JSON SCRIPT: runs SCRIPT in a container in the client netns
# with the policy network.egress EGRESS-JSON; sets RC, OUT, ERR.
in_ctr() {
  n=$((n + 1))
  make_bundle "$WORK/b$n" '.process.args = ["sh", "-c", $script]
    | .linux.namespaces |= map(if .type == "network" then .path = ("/var/run/netns/" + $ns) else . end)
    | .process.capabilities |= map_values(. + ["CAP_NET_RAW"])
    | .mxc = {network: {egress: ($egress | fromjson)}}' \
    --arg script "$2" --arg ns "$cns" --arg egress "$1"
  run_cmd rt run -b "$WORK/b$n" "$(cid e$n)"
}
# Each probe prints "NAME ok" or "NAME <last error line>".
probe='
get() { r=$(wget -q -O- "$2" 2>&1); [ "$r" = hello-egress ] && echo "$1 ok" || echo "$1 $(echo "$r" | tail -n1)"; }
udp() { r=$(tftp -g -r "$3" -l /tmp/t "$2" 5353 2>&1); case $r in *nope*) echo "$1 ok" ;; *) echo "$1 $(echo "$r" | tail -n1)" ;; esac; }
png() { r=$(ping -c 1 -W 2 "$2" 2>&1) && echo "$1 ok" || echo "$1 $(echo "$r" | tail -n1)"; }
'
eperm="Operation not permitted"
line() { printf '%s\n' "$OUT" | grep "^$1 " | head -n1 | cut -d' ' -f2-; }

# ---- default deny: allow rules, except, deny beats allow, protocols -------
policy='{
  "allow": [
    {"to": [{"cidr": "10.77.0.0/24", "except": ["10.77.0.3/32"]}], "ports": [{"protocol": "tcp", "port": 8080}]},
    {"to": [{"cidr": "fd77::2/128"}], "ports": [{"protocol": "tcp", "port": 8080}]},
    {"to": [{"cidr": "10.77.0.0/24"}], "ports": [{"protocol": "udp", "port": 5353}]},
    {"to": [{"cidr": "10.77.0.2/32"}], "ports": [{"protocol": "icmp"}]}
  ],
  "deny": [{"to": [{"cidr": "10.77.0.4/32"}]}]
}'
in_ctr "$policy" "$probe"'
get allowed http://10.77.0.2:8080/
get otherport http://10.77.0.2:8081/
get except http://10.77.0.3:8080/
get denied http://10.77.0.4:8080/
get v6allowed http://[fd77::2]:8080/
get v6other http://[fd77::3]:8080/
get v6port http://[fd77::2]:8081/
get tcp5353 http://10.77.0.2:5353/
udp udp 10.77.0.2 udp-through
udp udpdenied 10.77.0.4 udp-denied
png ping 10.77.0.2
png pingother 10.77.0.3
png ping6 fd77::2
get loopback http://127.0.0.1:1/
'
assert_eq 0 "$RC" "container with network.egress runs (stderr: $ERR)"
assert_eq "ok" "$(line allowed)" "allowed cidr+port (10.77.0.2:8080) is reachable"
assert_contains "$(line otherport)" "$eperm" "same cidr, other port: EPERM"
assert_contains "$(line except)" "$eperm" "except carve-out (10.77.0.3): EPERM"
assert_contains "$(line denied)" "$eperm" "deny rule beats the allow rule (10.77.0.4): EPERM"
assert_eq "ok" "$(line v6allowed)" "IPv6 allowed address+port is reachable"
assert_contains "$(line v6other)" "$eperm" "IPv6 address outside the rule: EPERM"
assert_contains "$(line v6port)" "$eperm" "IPv6 allowed address, other port: EPERM"
assert_contains "$(line tcp5353)" "$eperm" "tcp to a port allowed only for udp: EPERM"
assert_eq "ok" "$(line udp)" "udp to the allowed udp port is sent"
for _ in $(seq 20); do grep -q udp-through "$WORK/udp.log" 2>/dev/null && break; sleep 0.1; done
assert_contains "$(tr -d '\0' <"$WORK/udp.log" 2>/dev/null)" "udp-through" "the udp datagram reached the server"
assert_contains "$(line udpdenied)" "$eperm" "udp to a denied address: EPERM"
assert_not_contains "$(tr -d '\0' <"$WORK/udp.log" 2>/dev/null)" "udp-denied" "the denied datagram did not arrive"
assert_eq "ok" "$(line ping)" "icmp rule: ping 10.77.0.2 answers"
assert_contains "$(line pingother)" "$eperm" "icmp rule for another address: ping 10.77.0.3 EPERM"
assert_contains "$(line ping6)" "$eperm" "no icmp rule for IPv6: ping fd77::2 EPERM"
assert_contains "$(line loopback)" "Connection refused" "loopback always passes (refused by no listener, not EPERM)"

# ---- default allow with a deny rule -----------------------------------------
in_ctr '{"default": "allow", "deny": [{"ports": [{"protocol": "tcp", "port": 8081}]}]}' "$probe"'
get p8080 http://10.77.0.3:8080/
get p8081 http://10.77.0.3:8081/
get v6p8081 http://[fd77::4]:8081/
png ping6 fd77::3
'
assert_eq 0 "$RC" "default allow container runs (stderr: $ERR)"
assert_eq "ok" "$(line p8080)" "default allow: 8080 reachable"
assert_contains "$(line p8081)" "$eperm" "default allow, deny tcp 8081: EPERM"
assert_contains "$(line v6p8081)" "$eperm" "default allow, deny tcp 8081 over IPv6: EPERM"
assert_eq "ok" "$(line ping6)" "default allow: ping6 answers"

# ---- default deny with no rules: only loopback ------------------------------
in_ctr '{}' "$probe"'
get any http://10.77.0.2:8080/
'
assert_contains "$(line any)" "$eperm" "egress {} (default deny): EPERM"

# ---- the host's loopback: a container in the host's network namespace -------
# Its 127.0.0.1 is the host's: direct egress refuses it unless
# network.hostLoopback allows it; a container with its own namespace keeps its own.
lo_port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
python3 -c 'import http.server, sys
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200); self.end_headers(); self.wfile.write(b"hello-egress")
    def log_message(self, *a): pass
http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()' "$lo_port" &
servers+=($!)
for _ in $(seq 50); do
  python3 -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=1)' "http://127.0.0.1:$lo_port/" >/dev/null 2>&1 && break
  sleep 0.1
done
on_host() { # NETWORK-JSON SCRIPT: a container in the host's network namespace
  n=$((n + 1))
  make_bundle "$WORK/b$n" '.process.args = ["sh", "-c", $script]
    | .linux.namespaces |= map(select(.type != "network"))
    | .mxc = {network: ($net | fromjson)}' --arg script "$2" --arg net "$1"
  run_cmd rt run -b "$WORK/b$n" "$(cid e$n)"
}
on_host '{"egress": {"default": "allow"}}' "$probe"'
get lo http://127.0.0.1:'"$lo_port"'/
get any http://0.0.0.0:'"$lo_port"'/
'
assert_eq 0 "$RC" "host network with direct egress runs (stderr: $ERR)"
assert_contains "$(line lo)" "$eperm" "host network, egress allow-all: the host's 127.0.0.1 is refused (EPERM)"
assert_contains "$(line any)" "$eperm" "host network, egress allow-all: 0.0.0.0 (the host's loopback) is refused"
on_host '{"egress": {"default": "allow"}, "hostLoopback": "allow"}' "$probe"'
get lo http://127.0.0.1:'"$lo_port"'/
'
assert_eq "ok" "$(line lo)" "host network, hostLoopback allow: the host's loopback service answers"
in_ctr '{}' "$probe"'
get lo http://127.0.0.1:'"$lo_port"'/
'
assert_not_contains "$(line lo)" "$eperm" "own network namespace: its loopback is its own (not refused; nothing listens there)"

stop_servers

# ---- bad input --------------------------------------------------------------
make_bundle "$WORK/bad1" '.mxc = {network: {default: "deny", egress: {}}}'
run_cmd rt run -b "$WORK/bad1" "$(cid bad1)"
assert_ne 0 "$RC" "egress with network.default deny is refused"
assert_one_line_error "egress + default deny" "mxc\.network\.egress: cannot be combined with network\.default: deny"
make_bundle "$WORK/bad2" '.mxc = {network: {egress: {allow: [{to: [{cidr: "10.77.0.1/24"}]}]}}}'
run_cmd rt run -b "$WORK/bad2" "$(cid bad2)"
assert_ne 0 "$RC" "a CIDR with host bits set is refused"
assert_one_line_error "host bits set" 'mxc\.network\.egress\.allow\[0\]\.to\[0\]\.cidr: "10\.77\.0\.1/24" has host bits set'
make_bundle "$WORK/bad3" '.mxc = {network: {egress: {default: "allow"}}}'
run_cmd timeout -k 5 60 "$RUNTIME" --root "$ROOT" --cgroup-manager disabled run -b "$WORK/bad3" "$(cid bad3)"
assert_ne 0 "$RC" "egress with --cgroup-manager disabled is refused"
assert_one_line_error "--cgroup-manager disabled" "network\.egress: needs the container's cgroup"

assert_nothing_left "egress tests"
