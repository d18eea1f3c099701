# shellcheck shell=bash
# config.md hooks: when each runs, the state on its stdin, its namespace,
# failure semantics, timeout.

# The hook records its stdin state, mount namespace and order. Runs with the
# host's /bin/sh or (in the container) busybox sh; the result dir is the host
# path, or /res where that path does not exist (inside the container).
HOOK_SH='d=$1; [ -d "$d" ] || d=/res; cat > "$d/$2.json"; readlink /proc/self/ns/mnt > "$d/$2.mnt"; readlink /proc/self/ns/pid > "$d/$2.pidns"; echo "$2" >> "$d/order"; exit "${3:-0}"'
ALL_HOOKS="prestart createRuntime createContainer startContainer poststart poststop"

# hooks_filter [FAILING-HOOK]: a jq filter adding every hook.
hooks_filter() {
  local h f=""
  for h in $ALL_HOOKS; do
    f+=" | .hooks.$h = [{path: \"/bin/sh\", args: [\"sh\", \"-c\", \$hook, \"sh\", \$res, \"$h\", \"$([ "$h" = "${1:-}" ] && echo 1 || echo 0)\"], env: [\$tag, \"PATH=/usr/bin:/bin\"]}]"
  done
  printf '.%s' "$f"
}

# Full lifecycle with all hooks; sets CPID (container pid) and CMNT.
hook_lifecycle() {
  mkbundle c 'echo program >> /res/order; trap "exit 0" TERM; while :; do sleep 0.1; done' "$(hooks_filter)" --arg hook "$HOOK_SH"
  create_ctr c; need_rc0 create
  CPID=$(ctr_pid c); CMNT=$(readlink /proc/$CPID/ns/mnt); CPIDNS=$(readlink /proc/$CPID/ns/pid)
  AFTER_CREATE=$(tr '\n' ' ' <"$(res c)/order" 2>/dev/null)
  start_ctr c; need_rc0 start
  AFTER_START=$(tr '\n' ' ' <"$(res c)/order" 2>/dev/null)
  for _ in $(seq 50); do grep -q program "$(res c)/order" 2>/dev/null && break; sleep 0.05; done
  rt kill "$(cid c)" KILL >/dev/null 2>&1
  wait_stopped c 10 || fail "container did not stop"
  BEFORE_DELETE=$(tr '\n' ' ' <"$(res c)/order" 2>/dev/null)
  run_cmd rt delete "$(cid c)"; expect_rc delete 0
}

c_hook() { # HOOK STATUS WHEN NS
  local h=$1 status=$2 when=$3 ns=$4 r
  hook_lifecycle
  r=$(res c)
  [ -e "$r/$h.json" ] || abort "$h hook did not run (order: $(tr '\n' ' ' <"$r/order" 2>/dev/null))"
  case $when in
    create) [[ " $AFTER_CREATE" == *" $h "* ]] || fail "$h did not run during create"
            [[ " $AFTER_CREATE" == *" program "* ]] && fail "user program ran during create" ;;
    start) [[ " $AFTER_CREATE" == *" $h "* ]] && fail "$h ran during create, not start"
           [[ " $AFTER_START" == *" $h "* ]] || fail "$h had not run when start returned" ;;
    delete) [[ " $BEFORE_DELETE" == *" $h "* ]] && fail "$h ran before delete"; true ;;
  esac
  local s; s=$(cat "$r/$h.json")
  expect_eq "$h stdin: state.id" "$(cid c)" "$(jq -r .id <<<"$s" 2>/dev/null)"
  expect_eq "$h stdin: state.bundle" "$(bundle c)" "$(jq -r .bundle <<<"$s" 2>/dev/null)"
  expect_eq "$h stdin: state.status" "$status" "$(jq -r .status <<<"$s" 2>/dev/null)"
  [ "$h" = poststop ] || expect_eq "$h stdin: state.pid" "$CPID" "$(jq -r .pid <<<"$s" 2>/dev/null)"
  if [ "$ns" = runtime ]; then expect_eq "$h mount namespace (runtime's)" "$(host_ns mnt)" "$(cat "$r/$h.mnt")"
  else expect_eq "$h mount namespace (container's)" "$CMNT" "$(cat "$r/$h.mnt")"; fi
}
defcase config.hooks.prestart "prestart: at create, state creating, runtime namespace" c_hook prestart creating create runtime
defcase config.hooks.createRuntime "createRuntime: at create, state creating, runtime namespace" c_hook createRuntime creating create runtime
defcase config.hooks.createContainer "createContainer: at create, state creating, container mount namespace" c_hook createContainer creating create container
defcase config.hooks.startContainer "startContainer: at start before the program, state created, container namespace" c_hook startContainer created start container
defcase config.hooks.poststart "poststart: before start returns, state running, runtime namespace" c_hook poststart running start runtime
defcase config.hooks.poststop "poststop: at delete, state stopped, runtime namespace" c_hook poststop stopped delete runtime

c_hook_order() {
  hook_lifecycle
  local o; o=$(tr '\n' ' ' <"$(res c)/order")
  expect_eq "order of create hooks" "prestart createRuntime createContainer " "$AFTER_CREATE"
  o=${o/program /}
  expect_eq "order of all hooks" "prestart createRuntime createContainer startContainer poststart poststop " "$o"
  expect_match "startContainer before the program" 'startContainer .*program' "$(tr '\n' ' ' <"$(res c)/order")"
  expect_eq "startContainer pid namespace (container's)" "$CPIDNS" "$(cat "$(res c)/startContainer.pidns")"
}
defcase config.hooks.order "hooks run in lifecycle order; startContainer before the program" c_hook_order

c_hook_argsenv() {
  mkbundle c 'true' '.hooks.prestart = [{path: "/bin/sh", args: ["sh", "-c", "echo \"$0|$1|$FOO\" > \"$R/argsenv\"; env > \"$R/env\"", "arg0", "arg1"], env: ["FOO=bar", "R=" + $res, $tag]}]'
  create_ctr c; need_rc0 create
  expect_eq "hook args and env" "arg0|arg1|bar" "$(cat "$(res c)/argsenv" 2>/dev/null)"
  expect_nomatch "hook env is exactly hook.env (no runtime PATH)" '^PATH=/usr/local' "$(grep -v '^PWD=' "$(res c)/env" 2>/dev/null)"
}
defcase config.hooks.args-env "hook args (args[0] passed) and env" c_hook_argsenv

c_hook_fail() { # HOOK
  local h=$1
  mkbundle c 'echo program >> /res/order; trap "exit 0" TERM; while :; do sleep 0.1; done' "$(hooks_filter "$h")" --arg hook "$HOOK_SH"
  create_ctr c
  case $h in
    prestart|createRuntime|createContainer)
      expect_rc "create with a failing $h hook" nonzero
      sleep 0.3
      grep -q program "$(res c)/order" 2>/dev/null && fail "user program ran"
      run_cmd rt state "$(cid c)"
      [ "$RC" = 0 ] && expect_eq "container after failed create (destroyed or stopped)" stopped "$(jq -r .status <<<"$OUT")" ;;
    startContainer)
      need_rc0 create
      start_ctr c; expect_rc "start with a failing startContainer hook" nonzero
      sleep 0.3
      grep -q program "$(res c)/order" 2>/dev/null && fail "user program ran"
      local s; s=$(state_field c status)
      [ -z "$s" ] || expect_eq "status after failed startContainer" stopped "$s" ;;
    poststart)
      need_rc0 create
      start_ctr c; expect_rc "start with a failing poststart hook (warning only)" 0
      sleep 0.2
      grep -q program "$(res c)/order" 2>/dev/null || fail "user program did not run"
      expect_eq "status after failing poststart" running "$(state_field c status)" ;;
    poststop)
      need_rc0 create
      rt kill "$(cid c)" KILL >/dev/null 2>&1; wait_stopped c 10
      run_cmd rt delete "$(cid c)"; expect_rc "delete with a failing poststop hook (warning only)" 0
      run_cmd rt state "$(cid c)"; expect_rc "state after delete" nonzero
      [ -e "$(res c)/poststop.json" ] || fail "poststop hook did not run" ;;
  esac
}
for _h in $ALL_HOOKS; do
  case $_h in
    poststart|poststop) defcase "config.hooks.$_h.fail" "failing $_h hook: warning only, lifecycle continues" c_hook_fail "$_h" ;;
    *) defcase "config.hooks.$_h.fail" "failing $_h hook: operation fails, program never runs" c_hook_fail "$_h" ;;
  esac
done

c_hook_timeout() {
  mkbundle c 'echo ran > /res/ran' '.hooks.createRuntime = [{path: "/bin/sleep", args: ["sleep", "20"], timeout: 1, env: [$tag]}]'
  local t0=$SECONDS
  create_ctr c
  expect_rc "create with a hook exceeding its timeout" nonzero
  [ $((SECONDS - t0)) -lt 10 ] || fail "create took $((SECONDS - t0))s with a 1s hook timeout"
  [ -e "$(res c)/ran" ] && fail "user program ran"
  return 0
}
defcase config.hooks.timeout "hook timeout: a hook running past it fails create promptly" c_hook_timeout
