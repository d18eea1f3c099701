# shellcheck shell=bash
# config-linux.md seccomp.

SC_ARCH='["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"]'
sc_filter() { # SYSCALLS-JSON: a default-allow profile with these rules
  printf '.linux.seccomp = {defaultAction: "SCMP_ACT_ALLOW", architectures: %s, syscalls: %s}' "$SC_ARCH" "$1"
}
need_x86_64() { [ "$(uname -m)" = x86_64 ] || skip "syscall names in these cases are for x86_64"; }

c_sc_mode() {
  mkbundle c 'grep -E "^Seccomp(_filters)?:" /proc/self/status | tr -d "\t"' "$(sc_filter '[{names: ["syslog"], action: "SCMP_ACT_ERRNO"}]')"
  run_ctr c
  expect_match "Seccomp mode" '^Seccomp:2$' "$OUT"
  expect_match "Seccomp_filters" '^Seccomp_filters:[1-9]' "$OUT"
}
defcase linux.seccomp.mode "a seccomp profile puts the process in filter mode (Seccomp: 2)" c_sc_mode

c_sc_none() {
  mkbundle c 'grep -E "^Seccomp:" /proc/self/status | tr -d "\t"'
  run_ctr c
  expect_eq "Seccomp mode without a profile" "0 Seccomp:0" "$RC $OUT"
}
defcase linux.seccomp.absent "no seccomp profile: Seccomp: 0" c_sc_none

c_sc_errno() {
  need_x86_64
  mkbundle c 'mkdir /dev/shm/d 2>&1; echo "rc=$?"; touch /dev/shm/f && echo touch-ok' "$(sc_filter '[{names: ["mkdir", "mkdirat"], action: "SCMP_ACT_ERRNO", errnoRet: 42}]')"
  run_ctr c
  expect_match "mkdir fails with errno 42 (ENOMSG)" 'No message of desired type' "$OUT"
  expect_match "mkdir status" '^rc=1$' "$OUT"
  expect_match "other syscalls allowed" '^touch-ok$' "$OUT"
}
defcase linux.seccomp.errno "SCMP_ACT_ERRNO with errnoRet: the syscall fails with that errno" c_sc_errno

c_sc_kill() {
  need_x86_64
  mkbundle c 'uname -m; echo "rc=$?"' "$(sc_filter '[{names: ["uname"], action: "SCMP_ACT_KILL"}]')"
  run_ctr c
  # busybox may run uname inside the shell (NOFORK applet): then the shell
  # itself dies of SIGSYS and the runtime exits 159.
  [[ "$OUT" == *rc=159* || "$RC" = 159 ]] || fail "uname killed by SIGSYS: expected rc=159 or exit 159, got exit $RC, $(q "$OUT")"
  expect_nomatch "uname output" '^x86_64$' "$OUT"
}
defcase linux.seccomp.kill "SCMP_ACT_KILL: the calling process is killed with SIGSYS" c_sc_kill

c_sc_args() {
  need_x86_64
  mkbundle c 'sleep 5 & p=$!; kill -USR1 $p 2>&1; echo "usr1=$?"; kill -TERM $p 2>&1; echo "term=$?"' \
    "$(sc_filter '[{names: ["kill"], action: "SCMP_ACT_ERRNO", errnoRet: 42, args: [{index: 1, value: 10, op: "SCMP_CMP_EQ"}]}]')"
  run_ctr c
  expect_match "kill(pid, SIGUSR1) denied by the argument rule" '^usr1=1$' "$OUT"
  expect_match "errno" 'No message of desired type' "$OUT"
  expect_match "kill(pid, SIGTERM) allowed" '^term=0$' "$OUT"
}
defcase linux.seccomp.args "argument rule (kill with arg1 == SIGUSR1) matches only that argument" c_sc_args

c_sc_late() {
  need_x86_64
  mkbundle c 'hostname; cat /res/../res/marker 2>/dev/null; mount -t tmpfs t /mnt 2>&1; echo "mount=$?"' \
    "$(sc_filter '[{names: ["mount", "umount2", "pivot_root", "chroot", "sethostname", "setdomainname", "mknod", "mknodat"], action: "SCMP_ACT_ERRNO", errnoRet: 42}]')
     | .hostname = \"sc-late\" | .process.capabilities |= with_entries(.value += [\"CAP_SYS_ADMIN\"])
     | .mounts += [{destination: \"/mnt\", type: \"tmpfs\", source: \"tmpfs\", options: [\"size=1m\"]}]
     | .linux.devices = [{path: \"/dev/cf-null\", type: \"c\", major: 1, minor: 3, fileMode: 438}]"
  run_ctr c
  [ "$RC" = 0 ] || [ -n "$OUT" ] || abort "container setup failed under a profile denying mount/pivot_root/sethostname (exit $RC): $(q "$(tail -c 300 <<<"$ERR")")"
  expect_match "hostname set by the runtime before the profile" '^sc-late$' "$OUT"
  expect_match "mount inside is denied by the profile" 'No message of desired type' "$OUT"
}
defcase linux.seccomp.late "seccomp is loaded after setup (profile denying mount/pivot_root/sethostname/mknod)" c_sc_late

c_sc_nonroot() {
  need_x86_64
  mkbundle c 'id -u; mkdir /dev/shm/d 2>&1' "$(sc_filter '[{names: ["mkdir", "mkdirat"], action: "SCMP_ACT_ERRNO", errnoRet: 42}]') | .process.user = {uid: 1000, gid: 1000} | .process.noNewPrivileges = false"
  run_ctr c
  expect_match "uid" '^1000$' "$OUT"
  expect_match "profile applied to a non-root process without noNewPrivileges" 'No message of desired type' "$OUT"
}
defcase linux.seccomp.nonroot "profile applied to a uid 1000 process with noNewPrivileges false" c_sc_nonroot

c_sc_default_errno() {
  need_x86_64
  mkbundle c '' '.process.args = ["/bin/echo", "allowed"] | .process.noNewPrivileges = true | .linux.seccomp = {defaultAction: "SCMP_ACT_ERRNO", defaultErrnoRet: 1, architectures: $a, syscalls: [{names: $n, action: "SCMP_ACT_ALLOW"}]}' \
    --argjson a "$SC_ARCH" --argjson n '["execve","brk","arch_prctl","set_tid_address","set_robust_list","rseq","prlimit64","mprotect","readlinkat","getrandom","write","exit_group","exit","futex","rt_sigaction","rt_sigprocmask","rt_sigreturn","getpid","getuid","geteuid","getgid","getegid","close","fstat","newfstatat","fcntl","read","mmap","munmap","uname","ioctl","capget","capset","prctl","setgroups","setresuid","setresgid","setuid","setgid","getppid","openat","dup2","dup3","getcwd","chdir","fchdir","nanosleep","clock_nanosleep","seccomp","gettid","tgkill","sched_yield","epoll_pwait","epoll_ctl","epoll_create1","waitid","wait4","statx","access","faccessat","faccessat2","setsid","sigaltstack","mlock","madvise","pread64","close_range","pidfd_open","pidfd_send_signal","kill","sched_getaffinity","clone","clone3","fsync","execveat","getdents64","pselect6","select","poll","ppoll","sendmsg","recvmsg","writev","lseek","fchown","fchmod","umask","setpgid","getpgid","getpgrp","sendto","recvfrom","socket","connect","keyctl","personality","fstatfs","statfs","lstat","stat","open","readlink","sysinfo","times","getrlimit","setrlimit","getsid","fchownat","mkdirat","unlinkat","symlinkat","linkat","renameat2","dup","pipe2","pipe","mount_setattr","time","gettimeofday","clock_gettime","sched_setaffinity","rt_sigsuspend","rt_sigtimedwait","restart_syscall","membarrier","sched_getparam","sched_getscheduler"]'
  run_ctr c
  expect_eq "allow-list profile (defaultAction ERRNO) still runs the process" "0 allowed" "$RC $OUT"
}
defcase linux.seccomp.allowlist "defaultAction ERRNO with an allow-list: the process runs" c_sc_default_errno
