#!/bin/bash
# Agent policy, network, on the processcontainer backend, end to end with real
# busybox containers and upstream servers in a network namespace this test
# creates (reached from the host over a veth pair):
#   - network.default deny: only loopback; no TCP, DNS, raw socket, IPv6 or
#     unix socket of the host reachable (busybox's exact errors);
#   - network.allowDomains through the shim's egress proxy on 127.0.0.1:3128:
#     plain HTTP (wget), HTTP CONNECT and SOCKS5 (raw bytes through busybox nc),
#     `*.` wildcards, IP literals and allowCidrs, `hosts` instead of DNS;
#   - the audit log and state annotations; the policy given four ways; bad
#     input; a field the backend cannot enforce; kill -9 of the shim.
# shellcheck disable=SC2016 # jq filters and in-container scripts are single-quoted on purpose
set -euo pipefail
. "$(dirname "$0")/lib.sh"

mxc_only || skip "the mxc policy section is mxc-runtime's"
command -v python3 >/dev/null || skip "python3 is needed for the upstream servers"
command -v ip >/dev/null || skip "ip (iproute2) is needed for the server namespace"

# ---- upstream servers: netns $NS behind veth $VH (host side) ------------------
# Host side 198.18.0.1 / fd00:18::1, server side 198.18.0.2 / fd00:18::2
# (198.18.0.0/15 is the benchmarking range: nothing else on the host uses it).
NS=mxcnet$$
VH=mxcv$$
HOST4=198.18.0.1 HOST6=fd00:18::1 SRV4=198.18.0.2 SRV6=fd00:18::2 PORT=8080
ip netns add "$NS"
register_netns "$NS"
ip link add "$VH" type veth peer name eth0 netns "$NS"
ip addr add "$HOST4/30" dev "$VH"
ip addr add "$HOST6/64" dev "$VH" nodad
ip link set "$VH" up
ip -n "$NS" addr add "$SRV4/30" dev eth0
ip -n "$NS" addr add "$SRV6/64" dev eth0 nodad
ip -n "$NS" link set eth0 up
ip -n "$NS" link set lo up
mkdir -p "$WORK/www"
echo hello-from-upstream >"$WORK/www/hello.txt"
ip netns exec "$NS" python3 "$LIB_DIR/net_servers.py" http "$WORK/www" "$PORT" "$WORK/http.ready" >"$WORK/http.log" 2>&1 &
SERVERS=($!)
ip netns exec "$NS" python3 "$LIB_DIR/net_servers.py" dns "$SRV4" "$WORK/dns.ready" >"$WORK/dns.log" 2>&1 &
SERVERS+=($!)
wait_file "$WORK/http.ready" 10 || die "the upstream HTTP server did not start"
wait_file "$WORK/dns.ready" 10 || die "the upstream DNS server did not start"
# A unix socket of the host (path and abstract).
python3 -c 'import socket,sys,time
a=socket.socket(socket.AF_UNIX); a.bind(sys.argv[1]); a.listen(8)
b=socket.socket(socket.AF_UNIX); b.bind("\0"+sys.argv[2]); b.listen(8)
open(sys.argv[3],"w").close(); time.sleep(600)' "$WORK/host.sock" "mxc-net-$$" "$WORK/unix.ready" &
SERVERS+=($!)
wait_file "$WORK/unix.ready" 5 || die "the unix socket listener did not start"
# Ours, not the runtime's: stopped before lib.sh looks for leftovers.
_net_cleanup() {
  local rc=$? p
  set +e
  for p in $(ip netns pids "$NS" 2>/dev/null) "${SERVERS[@]}"; do kill "$p" 2>/dev/null; done
  for p in "${SERVERS[@]}"; do wait "$p" 2>/dev/null; done
  ip link del "$VH" 2>/dev/null
  return $rc
}
trap '_net_cleanup; _cleanup' EXIT
# The host reaches the servers directly (the proxy's upstream path).
[ "$(python3 -c 'import urllib.request,sys; print(urllib.request.urlopen(sys.argv[1], timeout=5).read().decode().strip())' "http://$SRV4:$PORT/hello.txt")" = hello-from-upstream ] ||
  die "the host cannot reach the upstream server"

command -v cc >/dev/null || skip "cc is needed to build the abstract-socket client"
cc -static -O2 -o "$WORK/aconnect" "$LIB_DIR/abstract_connect.c"

n=0
# net FILTER SCRIPT [JQ-ARGS...]: runs `sh -c SCRIPT` (stderr into stdout) in a
# fresh container; the bundle shares the host's network namespace (no
# "network" entry), so any isolation comes from the policy. \$srv4 \$srv6 \$port
# are jq variables.
HOSTNET='.linux.namespaces |= map(select(.type != "network")) | .mounts += [{destination: "/aconnect", type: "bind", source: ($work + "/aconnect"), options: ["bind", "ro"]}]'
net() {
  local filter=$1 script=$2
  shift 2
  n=$((n + 1))
  make_bundle "$WORK/b$n" ".process.args = [\"sh\", \"-c\", \$script] | $HOSTNET | $filter" \
    --arg script "{ $script; } 2>&1" --arg srv4 "$SRV4" --arg srv6 "$SRV6" --argjson port "$PORT" "$@"
  run_cmd rt run -b "$WORK/b$n" "$(cid n$n)"
}

UNREACH="Network is unreachable"
DENY='.mxc = {network: {default: "deny"}}'

# ---- default deny, nothing allowed ----------------------------------------------
PROBE="ls /sys/class/net | tr '\n' ' '; echo; sed -n '3,\$p' /proc/net/dev | cut -d: -f1 | tr -d ' '
nc $SRV4 $PORT </dev/null; nc $HOST4 1 </dev/null
nslookup a.example.test $SRV4
ping -c1 -W1 $SRV4 2>&1 | tail -n1
nc $SRV6 $PORT </dev/null; ping6 -c1 -W1 $HOST6 2>&1 | tail -n1
/aconnect mxc-net-$$; ls $WORK/host.sock
httpd -p 127.0.0.1:8000 -h /etc && wget -q -O- http://127.0.0.1:8000/group | head -n1"
CAPS_RAW='.process.capabilities |= with_entries(.value += ["CAP_NET_RAW"])'
net "$CAPS_RAW" "$PROBE"
ctl=$OUT
assert_contains "$ctl" "$VH" "control: without a policy the container sees the host's interfaces"
assert_contains "$ctl" "Address: $SRV4" "control: without a policy DNS to the host's server works"
assert_contains "$ctl" "round-trip min/avg/max" "control: without a policy ping (raw socket) works"
assert_contains "$ctl" "connected" "control: without a policy the host's abstract unix socket is reachable"
net "$CAPS_RAW | $DENY" "$PROBE"
assert_eq "lo 
lo
nc: can't connect to remote host ($SRV4): $UNREACH
nc: can't connect to remote host ($HOST4): $UNREACH
nslookup: can't connect to remote host ($SRV4): $UNREACH
ping: sendto: $UNREACH
nc: can't connect to remote host: $UNREACH
ping6: sendto: $UNREACH
connect: Connection refused
ls: $WORK/host.sock: No such file or directory
root:x:0:" "$OUT" \
  "default deny: only lo; TCP, DNS, raw ICMP, IPv6 to host addresses unreachable; host unix sockets out of reach; loopback works"
assert_nothing_left "default deny"

# ---- allowDomains: the egress proxy --------------------------------------------
# In-container helpers: `req` sends raw bytes to the proxy and prints the reply
# without CRs; `socks` sends a SOCKS5 greeting + CONNECT (address bytes $1)
# + an HTTP request at once, and prints the reply code byte and the body line.
oct() { local b; for b in "$@"; do printf '\\%03o' "$b"; done; }
sock_dom() { printf '\\003%s%s%s' "$(oct ${#1})" "$1" "$(oct $((PORT >> 8)) $((PORT & 255)))"; }
sock_ip4() { local IFS=.; set -- $1; printf '\\001%s%s' "$(oct "$@")" "$(oct $((PORT >> 8)) $((PORT & 255)))"; }
HELPERS='req() { printf "$1" | nc 127.0.0.1 3128 | tr -d "\r"; }
socks() { printf "\005\001\000\005\001\000$1GET /hello.txt HTTP/1.0\r\n\r\n" | nc 127.0.0.1 3128 >/tmp/s; echo "socks $(od -An -tx1 -j3 -N1 /tmp/s | tr -d " ") $(grep -a hello /tmp/s || echo no-data)"; }'
AGENT='{name: "net-agent", identity: {provider: "local", user: "tester"}}'
HOSTS='{"a.example.test": [$srv4], "b.a.example.test": [$srv4, $srv6], "example.test": [$srv4], "only.test": [$srv6], "other.test": [$srv4]}'
PROXY=".mxc = {agent: $AGENT, network: {default: \"deny\", allowDomains: [\"*.example.test\", \"only.test\", \"nohosts.test\"], hosts: $HOSTS}}"
GET='GET http://%s:'$PORT'/hello.txt HTTP/1.1\r\nHost: %s\r\n\r\n'
CONNECT='CONNECT %s:'$PORT' HTTP/1.1\r\nHost: %s:'$PORT'\r\n\r\nGET /hello.txt HTTP/1.0\r\n\r\n'
first_last='sed -n "1p;\$p"'

# `*.example.test` matches a.example.test and b.a.example.test, NOT the bare
# example.test (list it too to allow it; shim/proxy/README.md). A name in
# `hosts` only resolves; it allows nothing by itself (other.test).
net "$PROXY" "$HELPERS
env | grep -i proxy | sort | tr '\n' ' '; echo
wget -q -O- http://a.example.test:$PORT/hello.txt
wget -q -O- http://b.a.example.test:$PORT/hello.txt
wget -q -O- http://only.test:$PORT/hello.txt
wget -q -O- http://example.test:$PORT/hello.txt
req '${GET//%s/example.test}' | $first_last
req '${GET//%s/other.test}' | $first_last
req '${GET//%s/$SRV4}' | $first_last"
assert_eq "ALL_PROXY=socks5h://127.0.0.1:3128 HTTPS_PROXY=http://127.0.0.1:3128 HTTP_PROXY=http://127.0.0.1:3128 NO_PROXY=localhost,127.0.0.1,::1 all_proxy=socks5h://127.0.0.1:3128 http_proxy=http://127.0.0.1:3128 https_proxy=http://127.0.0.1:3128 no_proxy=localhost,127.0.0.1,::1 
hello-from-upstream
hello-from-upstream
hello-from-upstream
wget: server returned error: HTTP/1.1 403 Forbidden
HTTP/1.1 403 Forbidden
mxc-proxy: example.test is not in network.allowDomains
HTTP/1.1 403 Forbidden
mxc-proxy: other.test is not in network.allowDomains
HTTP/1.1 403 Forbidden
mxc-proxy: $SRV4 is an IP address not in network.allowCidrs" "$OUT" \
  "plain HTTP: proxy env set; *.example.test (one and two labels) and an exact name allowed; the bare example.test, a name only in hosts and an IP literal refused with 403"
ID_HTTP=$(cid n$n)

net "$PROXY" "$HELPERS
req '${CONNECT//%s/a.example.test}' | $first_last
req '${CONNECT//%s/example.test}' | $first_last
req '${CONNECT//%s/$SRV4}' | $first_last
req '${CONNECT//%s/[fd00:18::2]}' | $first_last
req '${CONNECT//%s/nohosts.test}' | sed -n 1p"
assert_eq "HTTP/1.1 200 Connection established
hello-from-upstream
HTTP/1.1 403 Forbidden
mxc-proxy: example.test is not in network.allowDomains
HTTP/1.1 403 Forbidden
mxc-proxy: $SRV4 is an IP address not in network.allowCidrs
HTTP/1.1 403 Forbidden
mxc-proxy: $SRV6 is an IP address not in network.allowCidrs
HTTP/1.1 502 Bad Gateway" "$OUT" \
  "CONNECT: allowed name tunnels data; bare wildcard domain and IPv4/IPv6 literals 403; allowed name missing from hosts and DNS: 502"

net "$PROXY" "$HELPERS
socks '$(sock_dom a.example.test)'
socks '$(sock_dom b.a.example.test)'
socks '$(sock_dom example.test)'
socks '$(sock_ip4 $SRV4)'
socks '$(sock_dom nohosts.test)'"
assert_eq "socks 00 hello-from-upstream
socks 00 hello-from-upstream
socks 02 no-data
socks 02 no-data
socks 04 no-data" "$OUT" "SOCKS5: allowed domain 0x00 with data through; bare domain and IP literal 0x02; unresolvable 0x04"

# allowCidrs lets IP literals through (and only those it covers).
net "$PROXY | .mxc.network.allowCidrs = [\$srv4 + \"/32\"]" "$HELPERS
req '${CONNECT//%s/$SRV4}' | $first_last
socks '$(sock_ip4 $SRV4)'
req '${GET//%s/$SRV4}' | tail -n1
req '${CONNECT//%s/$HOST4}' | $first_last"
assert_eq "HTTP/1.1 200 Connection established
hello-from-upstream
socks 00 hello-from-upstream
hello-from-upstream
HTTP/1.1 403 Forbidden
mxc-proxy: $HOST4 is an IP address not in network.allowCidrs" "$OUT" "allowCidrs: a covered IP literal passes (CONNECT, SOCKS, HTTP); another is refused"

# Direct connections still fail with a proxy: only loopback in the container.
net "$PROXY" "ls /sys/class/net | tr '\n' ' '; echo; nc $SRV4 $PORT </dev/null; nslookup a.example.test $SRV4"
assert_eq "lo 
nc: can't connect to remote host ($SRV4): $UNREACH
nslookup: can't connect to remote host ($SRV4): $UNREACH" "$OUT" "allowDomains: still only lo; direct TCP and DNS unreachable"
assert_nothing_left "proxied containers"

# ---- audit: create, start, proxy decisions, exit, kill, delete -------------------
b=$WORK/audit
make_bundle "$b" ".process.args = [\"sh\", \"-c\", \"wget -q -O- http://a.example.test:$PORT/hello.txt; wget -q -O- http://example.test:$PORT/hello.txt; exit 3\"] | $HOSTNET | $PROXY" \
  --arg srv4 "$SRV4" --arg srv6 "$SRV6"
id=$(cid audit)
assert_status 0 "audit: create with an agent" rt create -b "$b" "$id"
assert_eq '"net-agent" {"provider":"local","user":"tester"}' \
  "$(rt state "$id" | jq -c '.annotations["mxc.agent.name"], (.annotations["mxc.agent.identity"] | fromjson)' | tr '\n' ' ' | sed 's/ $//')" \
  "state annotations carry the agent name and identity"
rt start "$id"
run_cmd rt wait "$id"
assert_eq "3" "$OUT" "audit: the container ran to its end (exit 3)"
run_cmd rt audit "$id"
audit=$OUT
assert_eq "create start proxy proxy exit" "$(jq -r .event <<<"$audit" | sort -s -k1,1 | tr '\n' ' ' | sed 's/ $//' |
  sed 's/^create exit proxy proxy start$/create start proxy proxy exit/')" "audit: create, start, two proxy decisions, exit"
assert_eq "create start" "$(jq -r .event <<<"$audit" | head -n2 | tr '\n' ' ' | sed 's/ $//')" "audit: create then start first"
assert_eq "exit" "$(jq -r .event <<<"$audit" | tail -n1)" "audit: exit last"
assert_eq "5" "$(jq -c 'select(.agent == "net-agent" and .identity == {provider: "local", user: "tester"} and .id == "'"$id"'")' <<<"$audit" | grep -c '')" \
  "audit: every line names the container, the agent and its identity"
assert_eq "http a.example.test 8080 true up>0 down>0" \
  "$(jq -r 'select(.event == "proxy" and .detail.allowed) | .detail | "\(.protocol) \(.host) \(.port) \(.allowed) up>\(if .bytesUp > 0 then 0 else "NONE" end) down>\(if .bytesDown > 20 then 0 else "NONE" end)"' <<<"$audit")" \
  "audit: the allowed request with host, port and bytes both ways"
assert_eq "http example.test 8080 false 0 0 example.test is not in network.allowDomains" \
  "$(jq -r 'select(.event == "proxy" and (.detail.allowed | not)) | .detail | "\(.protocol) \(.host) \(.port) \(.allowed) \(.bytesUp) \(.bytesDown) \(.reason)"' <<<"$audit")" \
  "audit: the refused request with host, port, no bytes and the reason"
assert_eq "3 0 false" "$(jq -r 'select(.event == "exit") | .detail | "\(.exitCode) \(.signal) \(.timedOut)"' <<<"$audit")" "audit: exit with its status"
for field in time id agent identity event detail; do
  [ "$(jq -r "select(has(\"$field\") | not) | .event" <<<"$audit")" = "" ] || fail "audit: a line lacks $field"
done
assert_status 0 "audit: delete" rt delete "$id"
run_cmd rt audit "$id"
assert_eq "create start proxy proxy exit delete" "$(jq -r .event <<<"$OUT" | sort -s -k1,1 | tr '\n' ' ' | sed 's/ $//' |
  sed 's/^create delete exit proxy proxy start$/create start proxy proxy exit delete/')" "audit: after delete the --root log still has every line, delete included"
assert_eq "6" "$(grep -cF "\"id\":\"$id\"" "$ROOT/audit.log")" "audit: <root>/audit.log holds the six lines"
assert_eq "no" "$([ -e "$ROOT/$id" ] && echo yes || echo no)" "audit: the state dir is gone"

# kill: a line with the signal.
make_bundle "$b" ".process.args = [\"sleep\", \"100\"] | $HOSTNET | $PROXY" --arg srv4 "$SRV4" --arg srv6 "$SRV6"
id=$(cid audit2)
rt run -d -b "$b" "$id"
rt kill "$id" KILL
rt wait "$id" >/dev/null || true
rt delete "$id"
run_cmd rt audit "$id"
assert_eq "create start kill exit delete" "$(jq -r .event <<<"$OUT" | tr '\n' ' ' | sed 's/ $//')" "audit: create, start, kill, exit, delete"
assert_eq "9 9" "$(jq -r 'select(.event == "kill") | .detail.signal' <<<"$OUT") $(jq -r 'select(.event == "exit") | .detail.signal' <<<"$OUT")" "audit: kill and exit name SIGKILL"
run_cmd rt audit
assert_eq "$(grep -c '' "$ROOT/audit.log") 2" "$(grep -c '' <<<"$OUT") $(jq -r .id <<<"$OUT" | sort -u | grep -cE "^$(cid audit)2?\$")" "audit without an id: every container's lines"

# ---- the policy given four ways: the same result ---------------------------------
cat >"$WORK/pol.yaml" <<YAML
# the same policy as the mxc section below
network:
  default: deny
  allowDomains: ["*.example.test"]
  hosts:
    a.example.test: [$SRV4]
    example.test: [$SRV4]
YAML
POLJSON='{network: {default: "deny", allowDomains: ["*.example.test"], hosts: {"a.example.test": [$srv4], "example.test": [$srv4]}}}'
WAYS_SCRIPT="env | grep -c '^[A-Za-z_]*=.*127.0.0.1:3128'; ls /sys/class/net; wget -q -O- http://a.example.test:$PORT/hello.txt; wget -q -O- http://example.test:$PORT/hello.txt"
WAYS_WANT="6
lo
hello-from-upstream
wget: server returned error: HTTP/1.1 403 Forbidden"
net ".mxc = $POLJSON" "$WAYS_SCRIPT"
assert_eq "$WAYS_WANT" "$OUT" "four ways: the mxc section"
n=$((n + 1))
make_bundle "$WORK/b$n" ".process.args = [\"sh\", \"-c\", \$script] | $HOSTNET" --arg script "{ $WAYS_SCRIPT; } 2>&1"
run_cmd rt run --policy "$WORK/pol.yaml" -b "$WORK/b$n" "$(cid n$n)"
assert_eq "$WAYS_WANT" "$OUT" "four ways: --policy FILE.yaml"
net '.annotations["mxc.policy"] = $yaml' "$WAYS_SCRIPT" --rawfile yaml "$WORK/pol.yaml"
assert_eq "$WAYS_WANT" "$OUT" "four ways: the annotation mxc.policy (inline YAML)"
net ".annotations[\"mxc.policy\"] = ($POLJSON | tojson)" "$WAYS_SCRIPT"
assert_eq "$WAYS_WANT" "$OUT" "four ways: the annotation mxc.policy (inline JSON)"
net '.annotations["mxc.policy.file"] = $f' "$WAYS_SCRIPT" --arg f "$WORK/pol.yaml"
assert_eq "$WAYS_WANT" "$OUT" "four ways: the annotation mxc.policy.file"
# The control: without any, the same script reaches nothing through a proxy.
net '.' "$WAYS_SCRIPT"
assert_ne "$WAYS_WANT" "$OUT" "control: without a policy the script's output differs"

# Two sources: one line naming both.
n=$((n + 1))
make_bundle "$WORK/b$n" ".process.args = [\"true\"] | $HOSTNET | .mxc = $POLJSON" --arg srv4 "$SRV4"
run_cmd rt run --policy "$WORK/pol.yaml" -b "$WORK/b$n" "$(cid n$n)"
assert_one_line_error "mxc section and --policy" "^mxc-runtime: $WORK/b$n/config.json: the policy is given twice, by the mxc section of $WORK/b$n/config.json and by --policy $WORK/pol.yaml; give one\$"
net ".annotations[\"mxc.policy.file\"] = \$f | .annotations[\"mxc.policy\"] = \"network: {default: deny}\"" true --arg f "$WORK/pol.yaml"
assert_one_line_error "two annotations" "the policy is given twice, by the annotation mxc.policy and by the annotation mxc.policy.file \\($WORK/pol.yaml\\); give one"
assert_nothing_left "two policy sources"

# ---- bad input: one line naming the field; nothing started, nothing left ---------
bad() { # FILTER ERE [RUN-ARGS...]
  local filter=$1 ere=$2
  shift 2
  n=$((n + 1))
  make_bundle "$WORK/b$n" ".process.args = [\"true\"] | $HOSTNET | $filter" --arg srv4 "$SRV4"
  run_cmd rt run "$@" -b "$WORK/b$n" "$(cid n$n)"
  if [ "$RC" -eq 0 ]; then fail "bad input accepted: $filter"; else assert_one_line_error "bad input ${filter:0:70}" "$ere"; fi
}
CFG='config\.json: '
bad '.mxc.network = {default: "deny", allowDomains: "a.test"}' "${CFG}mxc\.network\.allowDomains: must be an array"
bad '.mxc.network = {default: 1}' "${CFG}mxc\.network\.default: must be a string, got number 1$"
bad '.mxc.network = {default: "block"}' "${CFG}mxc\.network\.default: "
bad '.mxc.network = {default: "deny", allowPorts: [80]}' "${CFG}mxc\.network\.allowPorts: unknown field$"
bad '.mxc.agent = {name: "x", identity: {provider: "local"}, role: "admin"}' "${CFG}mxc\.agent\.role: unknown field$"
bad '.mxc.network = {default: "deny", allowDomains: ["a*.b"]}' "${CFG}mxc\.network\.allowDomains\[0\]: \"a\*\.b\" has a '\*' that is not a leading \"\*\.\" wildcard$"
bad '.mxc.network = {default: "deny", allowDomains: ["a.test"], allowCidrs: ["10.0.0.0/33"]}' "${CFG}mxc\.network\.allowCidrs\[0\]: \"10\.0\.0\.0/33\" is not a CIDR"
bad '.mxc.network = {default: "deny", allowDomains: ["a.test"], hosts: {"a.test": ["nope"]}}' "${CFG}mxc\.network\.hosts\.a\.test\[0\]: \"nope\" is not an IPv4 or IPv6 address$"
bad '.mxc.network = {default: "allow", allowDomains: ["a.test"]}' "${CFG}mxc\.network\.allowDomains: needs network\.default: deny"
bad '.mxc.network = {default: "deny", hosts: {"a.test": [$srv4]}}' "${CFG}mxc\.network\.hosts: is used only by the proxy"
bad '.mxc.network = {default: "deny"} | .linux.namespaces += [{type: "network", path: "/proc/1/ns/net"}]' "${CFG}linux\.namespaces\[[0-9]\]: joins the network namespace \"/proc/1/ns/net\", but the policy's network\.default deny needs a new one$"
bad '.mxc.filesystem.allowRead = ["rel/x"]' "${CFG}mxc\.filesystem\.allowRead\[0\]: must be an absolute path after expansion: \"rel/x\"$"
bad '.mxc.filesystem.allowRead = [$work + "/nothing-here-*"]' "${CFG}mxc\.filesystem\.allowRead\[0\]: \".*/nothing-here-\*\" matches nothing$"
bad '.mxc.filesystem.denyRead = ["/tmp/a\u0000b"]' "${CFG}mxc\.filesystem\.denyRead\[0\]: contains a NUL byte$"
bad '.mxc.schemaVersion = "2.0"' "${CFG}mxc\.schemaVersion: unsupported version \"2\.0\"; expected 1\.x$"
# An unknown backend: the line names the backend and where it was looked for.
bad '.mxc = {isolation: {backend: "nosuch"}, network: {default: "deny"}}' "backend \"nosuch\": no plugin libnosuch\.so in "
bad '.annotations["mxc.policy.file"] = "rel.yaml"' "${CFG}annotations\[\"mxc\.policy\.file\"\]: must be an absolute path, got \"rel\.yaml\"$"
# Deep nesting (JSON inline) and a YAML alias bomb (file).
bad '.annotations["mxc.policy"] = ("{\"network\":{\"default\":\"deny\",\"allowDomains\":" + ("[" * 200) + ("]" * 200) + "}}")' \
  "${CFG}annotations\[\"mxc\.policy\"\]: nesting deeper than 64 levels$"
{
  echo 'a: &a ["x","x","x","x","x","x","x","x","x","x"]'
  for i in b c d e f g h i j; do
    prev=$(printf "\\$(printf '%03o' $(($(printf '%d' "'$i") - 1)))")
    printf '%s: &%s [%s]\n' "$i" "$i" "$(printf "*$prev,%.0s" 1 2 3 4 5 6 7 8 9 10 | sed 's/,$//')"
  done
} >"$WORK/bomb.yaml"
bad '.' "^mxc-runtime: $WORK/bomb\.yaml: YAML line [0-9]+ column [0-9]+: more than 100000 nodes after alias expansion" --policy "$WORK/bomb.yaml"
printf 'network:\n  default: deny\n  default: allow\n' >"$WORK/dup.yaml"
bad '.' "^mxc-runtime: $WORK/dup\.yaml: YAML line 3 column 3: duplicate key \"default\"$" --policy "$WORK/dup.yaml"
assert_nothing_left "bad input"

# ---- a field the backend cannot enforce --------------------------------------------
# bubblewrap enforces the file, network-default/allowDomains and desktop fields
# but not network.egress (a cgroup BPF program of processcontainer's runtime path).
"$RUNTIME" plugins inspect bubblewrap >/dev/null 2>&1 || die "the bubblewrap plugin is not installed"
bad '.mxc = {isolation: {backend: "bubblewrap"}, network: {egress: {default: "deny"}}}' \
  "^mxc-runtime: policy field network\.egress cannot be enforced by backend bubblewrap$"
bad '.annotations["mxc.isolation.backend"] = "bubblewrap" | .mxc = {network: {egress: {default: "allow"}}}' \
  "^mxc-runtime: policy field network\.egress cannot be enforced by backend bubblewrap$"
assert_nothing_left "unenforceable fields"

# ---- kill -9 of the shim of a running proxied container ---------------------------
b=$WORK/victim
make_bundle "$b" ".process.args = [\"sleep\", \"100\"] | $HOSTNET | $PROXY" --arg srv4 "$SRV4" --arg srv6 "$SRV6"
id=$(cid victim)
rt run -d -b "$b" "$id"
pid=$(state_field "$id" pid)
track_pid "$pid"
shim=$(rt state "$id" | jq -r '.shim.pid')
assert_eq "parent running" "$(rt state "$id" | jq -r '.shim.mode + " " + .shim.state')" "proxied container: its shim runs"
nsenter -t "$pid" -n sh -c 'cat /proc/net/tcp' | awk '$4 == "0A" {print $2}' | grep -qi ':0C38$' &&
  pass "the proxy listens on 127.0.0.1:3128 in the container's netns" || fail "no listener on 3128 in the container's netns"
kill -9 "$shim"
wait_gone "$pid" 5 && pass "kill -9 of the shim: the proxied container is stopped" || fail "the proxied container outlived its shim"
assert_eq "stopped died" "$(rt state "$id" | jq -r '.status + " " + .shim.state')" "state: stopped, shim died"
assert_status 0 "delete after the shim died" rt delete "$id"
assert_nothing_left "kill -9 of the shim"

# ---- a relative --root: the shim, which runs from /, still finds its state dir -------
mkdir -p "$WORK/rel"
make_bundle "$WORK/rel/b" ".process.args = [\"true\"] | $HOSTNET | $PROXY" --arg srv4 "$SRV4" --arg srv6 "$SRV6"
register_root "$WORK/rel/root"
run_cmd sh -c 'cd "$1" && exec timeout 60 "$2" --root root run -b b "$3"' sh "$WORK/rel" "$RUNTIME" "$(cid rel)"
assert_eq "0 " "$RC $ERR" "run with a policy and a relative --root"
assert_eq "create start exit delete" "$("$RUNTIME" --root "$WORK/rel/root" audit "$(cid rel)" | jq -r .event | tr '\n' ' ' | sed 's/ $//')" \
  "relative --root: the audit log is where --root says"
