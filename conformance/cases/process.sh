# shellcheck shell=bash
# config.md process: args, cwd, env, user, rlimits, noNewPrivileges,
# oomScoreAdj, capabilities, terminal/consoleSize.

st() { printf 'grep -E "^%s:" /proc/self/status | cut -f2-; ' "$@"; }

c_args() {
  mkbundle c '' '.process.args = ["sh", "-c", "printf \"[%s]\" \"$0\" \"$@\"", "zero", "a b", "", "c\"d"]'
  run_ctr c
  expect_eq "argv" '0 [zero][a b][][c"d]' "$RC $OUT"
}
defcase config.process.args "args are passed verbatim (spaces, empty, quotes)" c_args

c_args_path() {
  mkbundle c '' '.process.args = ["env"] | .process.env += ["FOO=via-path"]'
  run_ctr c
  expect_eq "args[0] resolved through the process PATH" "0 FOO=via-path" "$RC $(grep ^FOO= <<<"$OUT")"
}
defcase config.process.args.path "args[0] without a slash is looked up in the process env PATH" c_args_path

c_cwd() {
  mkbundle c 'pwd' '.process.cwd = "/etc/conformance"'
  run_ctr c
  expect_eq "cwd" "0 /etc/conformance" "$RC $OUT"
}
defcase config.process.cwd "cwd is the working directory" c_cwd

c_env() {
  mkbundle c 'env | sort | grep -v "^\(PWD\|SHLVL\|_\)="' '.process.env = [$path, "FOO=bar baz", "EMPTY=", "CONF_TAG=" + ($tag | ltrimstr("CONF_TAG="))]' --arg path "$PATH_ENV"
  run_ctr c
  # runc and crun add HOME (from /etc/passwd) when process.env has none: accepted.
  OUT=$(grep -vx 'HOME=/root' <<<"$OUT")
  expect_eq "environment (exactly process.env, HOME may be added)" "$(printf '%s\n' "CONF_TAG=$CONF_TAG" "EMPTY=" "FOO=bar baz" "$PATH_ENV")" "$OUT"
}
defcase config.process.env "env is exactly process.env (nothing inherited from the runtime)" c_env

c_user() {
  mkbundle c 'id -u; id -g; '"$(st Groups)"'touch /res/f; stat -c "%u:%g" /res/f' '.process.user = {uid: 1234, gid: 2345}'
  run_ctr c
  expect_eq "uid gid groups file-owner" "0 1234 2345  1234:2345" "$RC $(sed -n 1,2p <<<"$OUT" | tr '\n' ' ')$(sed -n 3p <<<"$OUT" | tr -d ' \t') $(sed -n 4p <<<"$OUT")"
}
defcase config.process.user.uid-gid "user uid/gid applied; no supplementary groups leaked" c_user

c_user_groups() {
  mkbundle c "$(st Groups)" '.process.user = {uid: 1000, gid: 1000, additionalGids: [20, 10, 4242]}'
  run_ctr c
  expect_eq "Groups" "0 10 20 4242" "$RC $(tr -s ' \t' '\n' <<<"$OUT" | grep . | sort -n | tr '\n' ' ' | sed 's/ $//')"
}
defcase config.process.user.additionalGids "additionalGids are the supplementary groups" c_user_groups

c_umask() {
  mkbundle c 'umask; touch /dev/shm/f; stat -c %a /dev/shm/f' '.process.user.umask = 23'
  run_ctr c
  expect_eq "umask and created file mode" "0 0027 640" "$RC $(echo $OUT)"
}
defcase config.process.user.umask "user.umask is the process umask" c_umask

c_rlimits() {
  mkbundle c 'grep -E "^Max (open files|core file size|processes) " /proc/self/limits' \
    '.process.rlimits = [{type: "RLIMIT_NOFILE", soft: 777, hard: 888}, {type: "RLIMIT_CORE", soft: 4096, hard: 8192}, {type: "RLIMIT_NPROC", soft: 555, hard: 666}]'
  run_ctr c
  expect_match "RLIMIT_NOFILE" '^Max open files +777 +888 ' "$OUT"
  expect_match "RLIMIT_CORE" '^Max core file size +4096 +8192 ' "$OUT"
  expect_match "RLIMIT_NPROC" '^Max processes +555 +666 ' "$OUT"
}
defcase config.process.rlimits "rlimits (NOFILE, CORE, NPROC) soft/hard applied" c_rlimits

c_nnp() { # true|false
  mkbundle c "$(st NoNewPrivs)" '.process.noNewPrivileges = ($v == "true")' --arg v "$1"
  run_ctr c
  expect_eq "NoNewPrivs" "0 $([ "$1" = true ] && echo 1 || echo 0)" "$RC $(echo $OUT)"
}
defcase config.process.noNewPrivileges.true "noNewPrivileges true => NoNewPrivs 1" c_nnp true
defcase config.process.noNewPrivileges.false "noNewPrivileges false => NoNewPrivs 0" c_nnp false

c_oom() {
  mkbundle c 'cat /proc/self/oom_score_adj' '.process.oomScoreAdj = 512'
  run_ctr c
  expect_eq "oom_score_adj" "0 512" "$RC $OUT"
}
defcase config.process.oomScoreAdj "oomScoreAdj is written to /proc/self/oom_score_adj" c_oom

c_caps_nonroot() {
  mkbundle c "$(st CapBnd CapInh CapPrm CapEff CapAmb)" '.process.user = {uid: 1000, gid: 1000}
    | .process.capabilities = {
        bounding: ["CAP_CHOWN", "CAP_KILL", "CAP_SETUID", "CAP_NET_RAW"],
        permitted: ["CAP_CHOWN", "CAP_KILL", "CAP_NET_RAW"],
        effective: ["CAP_CHOWN", "CAP_KILL"],
        inheritable: ["CAP_CHOWN", "CAP_KILL"],
        ambient: ["CAP_CHOWN"]}'
  run_ctr c
  # After execve by a non-root user of a file without capabilities:
  # bounding and inheritable are kept, permitted = effective = ambient.
  expect_eq "CapBnd CapInh CapPrm CapEff CapAmb" "0 00000000000020a1 0000000000000021 0000000000000001 0000000000000001 0000000000000001" "$RC $(echo $OUT)"
}
defcase config.process.capabilities.nonroot "all five capability sets for uid 1000 (ambient kept across setuid)" c_caps_nonroot

c_caps_root() {
  mkbundle c "$(st CapBnd CapInh CapPrm CapEff CapAmb)" '.process.capabilities = {
        bounding: ["CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_KILL"], permitted: ["CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_KILL"],
        effective: ["CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_KILL"], inheritable: ["CAP_KILL"]}'
  run_ctr c
  # uid 0: execve makes permitted = effective = bounding | inheritable.
  expect_eq "CapBnd CapInh CapPrm CapEff CapAmb" "0 0000000000000023 0000000000000020 0000000000000023 0000000000000023 0000000000000000" "$RC $(echo $OUT)"
}
defcase config.process.capabilities.root "capability sets for uid 0 (bounding limits a root process)" c_caps_root

c_caps_empty() {
  mkbundle c "$(st CapBnd CapEff)"'chown 1:1 /dev/shm 2>&1 | grep -c "Operation not permitted"' '.process.capabilities = {bounding: [], effective: [], permitted: []}'
  run_ctr c
  expect_eq "no capabilities; chown denied" "0 0000000000000000 0000000000000000 1" "$RC $(echo $OUT)"
}
defcase config.process.capabilities.none "empty capability sets: even root cannot chown" c_caps_empty

c_terminal() {
  mkbundle c 'tty; stty size; [ -t 0 ] && [ -t 1 ] && [ -t 2 ] && echo all-tty; sleep 0.2' \
    '.process.terminal = true | .process.consoleSize = {height: 33, width: 101}'
  start_receiver "$WORK/console.sock" "$WORK/console.out"
  create_ctr c --console-socket "$WORK/console.sock"; need_rc0 "create --console-socket"
  start_ctr c; need_rc0 start
  wait_file "$WORK/console.out.done" 10 || fail "console output did not end"
  local o; o=$(tr -d '\r' <"$WORK/console.out")
  expect_match "received fd is a pty master" '^/dev/(pts/)?ptmx$' "$(cat "$WORK/console.out.fdinfo" 2>/dev/null)"
  expect_match "tty" '^/dev/pts/[0-9]+$' "$o"
  expect_match "stty size (consoleSize)" '^33 101$' "$o"
  expect_match "stdin/stdout/stderr are the terminal" '^all-tty$' "$o"
}
defcase config.process.terminal "terminal with --console-socket: pty master via SCM_RIGHTS, consoleSize" c_terminal

c_no_terminal() {
  mkbundle c '[ -t 0 ] || [ -t 1 ] || echo no-tty'
  run_ctr c
  expect_eq "terminal false: stdio are not terminals" "0 no-tty" "$RC $OUT"
}
defcase config.process.terminal.false "terminal false: stdio are the runtime's stdio, no tty" c_no_terminal
