#!/bin/bash
# process.* and per-container settings are applied to the container process.
# shellcheck disable=SC2016 # jq filters and in-container scripts are single-quoted on purpose
set -euo pipefail
. "$(dirname "$0")/lib.sh"

n=0
# in_ctr FILTER CMD: runs CMD (a sh -c script) in a fresh container built
# with FILTER; sets RC, OUT, ERR.
in_ctr() {
  n=$((n + 1))
  local b=$WORK/b$n
  make_bundle "$b" "$1 | .process.args = [\"sh\", \"-c\", \$cmd]" --arg cmd "$2"
  run_cmd rt run -b "$b" "$(cid p$n)"
  [ "$RC" -eq 0 ] || log "     (run exited $RC: $ERR)"
}

in_ctr '.process.env += ["FOO=bar", "SPACED=a b  c"]' 'echo "$FOO"; echo "$SPACED"'
assert_eq $'bar\na b  c' "$OUT" "process.env is applied"
MXC_CALLER_ONLY=leak in_ctr '.' 'env'
assert_not_contains "$OUT" "MXC_CALLER_ONLY" "the caller's environment does not leak into the container"
assert_contains "$OUT" "PATH=/usr/local/sbin:" "PATH from process.env is set"

n=$((n + 1)); b=$WORK/b$n
make_bundle "$b" '.process.args = ["sh", "-c", "printf \"%s|\" \"$@\"", "argv0", "a b", "", "c\"d"]'
run_cmd rt run -b "$b" "$(cid p$n)"
assert_eq 'a b||c"d|' "$OUT" "process.args are passed unchanged (spaces, empty, quotes)"

in_ctr '.process.cwd = "/tmp"' 'pwd'
assert_eq "/tmp" "$OUT" "process.cwd is applied"

in_ctr '.process.user = {uid: 1000, gid: 1000, additionalGids: [44]}' 'id -u; id -g; grep ^Groups: /proc/self/status'
assert_eq $'1000\n1000\nGroups:\t44' "$(printf '%s\n' "$OUT" | sed 's/[[:space:]]*$//')" \
  "process.user uid=1000 gid=1000 additionalGids=[44] (and no other groups)"
in_ctr '.process.user = {uid: 1000, gid: 1000, additionalGids: [44]}' 'id'
assert_match "$OUT" '^uid=1000 gid=1000 groups=(.*[^0-9])?44([^0-9]|$)' "id output shows uid, gid and group 44"

in_ctr '.process.user.umask = 23' 'umask'   # 0027
assert_eq "0027" "$OUT" "process.user.umask 0027 is applied"
in_ctr '.process.user.umask = 63' 'umask; touch /tmp/x.$$; stat -c %a /tmp/x.$$; rm /tmp/x.$$' # 0077
assert_eq $'0077\n600' "$OUT" "process.user.umask 0077 is applied to new files"

in_ctr '.hostname = "myhost"' 'hostname'
assert_eq "myhost" "$OUT" "hostname is applied"
assert_ne "myhost" "$(hostname)" "host hostname is unchanged"

if runtime_is_runc_before 1.2; then
  log "skip - domainname: runc < 1.2 ignores it (known gap of the reference runtime)"
else
  in_ctr '.domainname = "example.org"' 'cat /proc/sys/kernel/domainname'
  assert_eq "example.org" "$OUT" "domainname is applied"
fi

in_ctr '.process.rlimits = [{type: "RLIMIT_NOFILE", hard: 2048, soft: 1234}]' 'ulimit -n; ulimit -H -n'
assert_eq $'1234\n2048' "$OUT" "RLIMIT_NOFILE soft/hard are applied"
in_ctr '.process.rlimits = [{type: "RLIMIT_NPROC", hard: 777, soft: 555}]' 'grep "Max processes" /proc/self/limits'
assert_match "$OUT" 'Max processes +555 +777 ' "RLIMIT_NPROC soft/hard are applied"

in_ctr '.process.noNewPrivileges = true' 'grep NoNewPrivs /proc/self/status'
assert_match "$OUT" '^NoNewPrivs:[[:space:]]+1$' "noNewPrivileges true sets NoNewPrivs 1"
in_ctr '.process.noNewPrivileges = false' 'grep NoNewPrivs /proc/self/status'
assert_match "$OUT" '^NoNewPrivs:[[:space:]]+0$' "noNewPrivileges false leaves NoNewPrivs 0"

in_ctr '.process.oomScoreAdj = 500' 'cat /proc/self/oom_score_adj'
assert_eq "500" "$OUT" "oomScoreAdj 500 is applied"
in_ctr '.process.oomScoreAdj = 1000' 'cat /proc/self/oom_score_adj'
assert_eq "1000" "$OUT" "oomScoreAdj 1000 is applied"
in_ctr 'del(.process.oomScoreAdj)' 'cat /proc/self/oom_score_adj'
assert_eq "$(cat /proc/self/oom_score_adj)" "$OUT" "without oomScoreAdj the caller's value is kept"

host_fwd=$(cat /proc/sys/net/ipv4/ip_forward)
in_ctr '.linux.sysctl = {"net.ipv4.ip_forward": "1"}' 'cat /proc/sys/net/ipv4/ip_forward'
assert_eq "1" "$OUT" "sysctl net.ipv4.ip_forward=1 in the container's netns"
assert_eq "$host_fwd" "$(cat /proc/sys/net/ipv4/ip_forward)" "host net.ipv4.ip_forward is unchanged"
host_shm=$(cat /proc/sys/kernel/shmmax)
in_ctr '.linux.sysctl = {"kernel.shmmax": "12345678"}' 'cat /proc/sys/kernel/shmmax'
assert_eq "12345678" "$OUT" "sysctl kernel.shmmax in the container's ipc ns"
assert_eq "$host_shm" "$(cat /proc/sys/kernel/shmmax)" "host kernel.shmmax is unchanged"

in_ctr '.' 'echo $$'
assert_eq "1" "$OUT" "the container process is pid 1"

# CAP_AUDIT_WRITE(29) CAP_KILL(5) CAP_NET_BIND_SERVICE(10) = 0x20000420
in_ctr '.' 'grep -E "^Cap(Eff|Bnd):" /proc/self/status'
assert_eq $'CapEff:\t0000000020000420\nCapBnd:\t0000000020000420' "$OUT" "capabilities are exactly the configured set"
