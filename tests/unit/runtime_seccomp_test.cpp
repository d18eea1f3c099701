// linux.seccomp: every compiled filter is loaded in a forked child and its
// effect observed there (errno values, SIGSYS, notify responses). A child only
// makes raw syscalls and reports through its exit status.
#include <fcntl.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <seccomp.h>
#include <signal.h>
#include <sys/personality.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <boost/test/unit_test.hpp>
#include <nlohmann/json.hpp>

#include "mxc/sys/seccomp.hpp"
#include "mxc/sys/unique_fd.hpp"

namespace fs = std::filesystem;
using mxc::spec::Seccomp;
using mxc::spec::SeccompArg;
using mxc::spec::SeccompSyscall;
using mxc::sys::SeccompFilter;
using mxc::sys::UniqueFd;

namespace {

template <class R>
std::string why(const R& r) {
  return r.ok() ? std::string() : r.error().message;
}

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

SeccompSyscall rule(std::vector<std::string> names, std::string action,
                    std::optional<uint32_t> errno_ret = std::nullopt,
                    std::vector<SeccompArg> args = {}) {
  SeccompSyscall r;
  r.names = std::move(names);
  r.action = std::move(action);
  r.errnoRet = errno_ret;
  r.args = std::move(args);
  return r;
}

SeccompArg arg(uint32_t index, std::string op, uint64_t value,
               std::optional<uint64_t> value_two = std::nullopt) {
  return SeccompArg{index, value, value_two, std::move(op)};
}

Seccomp profile(std::string default_action, std::vector<SeccompSyscall> syscalls = {}) {
  Seccomp s;
  s.defaultAction = std::move(default_action);
  s.syscalls = std::move(syscalls);
  return s;
}

SeccompFilter compile_ok(const Seccomp& s) {
  auto r = mxc::sys::compile_seccomp(s);
  BOOST_TEST_REQUIRE(r.ok(), why(r));
  return std::move(r).value();
}

std::string compile_error(const Seccomp& s) {
  auto r = mxc::sys::compile_seccomp(s);
  BOOST_TEST_REQUIRE(!r.ok());
  return r.error().message;
}

// errno of a raw syscall result, 0 for success.
int errno_of(long rc) {
  return rc < 0 ? errno : 0;
}

constexpr int kLoadFailed = 200;
// si_code of a seccomp SIGSYS (asm-generic SYS_SECCOMP; glibc does not export it).
constexpr int kSysSeccomp = 1;

// Forks a child that loads `filter` and exits with body()'s value; returns
// the wait status. No core dumps: SIGSYS deaths are expected.
template <class Body>
int run_filtered(const SeccompFilter& filter, Body body) {
  const pid_t pid = ::fork();
  BOOST_TEST_REQUIRE(pid >= 0);
  if (pid == 0) {
    rlimit no_core{0, 0};
    ::setrlimit(RLIMIT_CORE, &no_core);
    auto fd = mxc::sys::load_seccomp(filter);
    if (!fd.ok()) ::_exit(kLoadFailed);
    ::_exit(body());
  }
  int status = 0;
  BOOST_TEST_REQUIRE(::waitpid(pid, &status, 0) == pid);
  return status;
}

int exit_code(int status) {
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}
int term_signal(int status) {
  return WIFSIGNALED(status) ? WTERMSIG(status) : 0;
}

struct TempDir {
  fs::path path;
  TempDir() {
    char tmpl[] = "/tmp/mxc-seccomp-test-XXXXXX";
    BOOST_TEST_REQUIRE(::mkdtemp(tmpl) != nullptr);
    path = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
};

UniqueFd listen_unix(const fs::path& path) {
  UniqueFd sock(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  BOOST_TEST_REQUIRE(sock.valid());
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path.c_str(), sizeof(addr.sun_path) - 1);
  BOOST_TEST_REQUIRE(::bind(sock.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0);
  BOOST_TEST_REQUIRE(::listen(sock.get(), 4) == 0);
  return sock;
}

bool wait_readable(int fd, int timeout_ms) {
  pollfd p{fd, POLLIN, 0};
  return ::poll(&p, 1, timeout_ms) == 1;
}

// Accepts one connection and reads it to the end: the data and the fd that
// came with it (SCM_RIGHTS), -1 when none.
std::pair<std::string, UniqueFd> receive_state(int listener) {
  BOOST_TEST_REQUIRE(wait_readable(listener, 10000));
  UniqueFd conn(::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC));
  BOOST_TEST_REQUIRE(conn.valid());
  std::string data;
  UniqueFd received;
  for (;;) {
    BOOST_TEST_REQUIRE(wait_readable(conn.get(), 10000));
    char buf[4096];
    iovec iov{buf, sizeof(buf)};
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * 4)];
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof(control);
    const ssize_t n = ::recvmsg(conn.get(), &msg, MSG_CMSG_CLOEXEC);
    BOOST_TEST_REQUIRE(n >= 0);
    if (n == 0) break;
    for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
      if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
        int fd = -1;
        std::memcpy(&fd, CMSG_DATA(c), sizeof(int));
        BOOST_TEST(!received.valid());  // one fd, on the first message
        received.reset(fd);
      }
    }
    data.append(buf, static_cast<size_t>(n));
  }
  return {data, std::move(received)};
}

// Kills and reaps a child when a check fails before the test waits for it.
struct ChildGuard {
  pid_t pid = -1;
  ~ChildGuard() {
    if (pid > 0) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, nullptr, 0);
    }
  }
  int wait() {
    int status = 0;
    BOOST_TEST_REQUIRE(::waitpid(pid, &status, 0) == pid);
    pid = -1;
    return status;
  }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(seccomp_actions)

BOOST_AUTO_TEST_CASE(errno_defaults_to_eperm) {
  auto filter = compile_ok(profile("SCMP_ACT_ALLOW", {rule({"getcwd"}, "SCMP_ACT_ERRNO")}));
  BOOST_TEST(!filter.uses_notify());
  const int status = run_filtered(filter, [] {
    char buf[512];
    return errno_of(::syscall(SYS_getcwd, buf, sizeof(buf)));
  });
  BOOST_TEST(exit_code(status) == EPERM);
}

BOOST_AUTO_TEST_CASE(errno_ret_is_honoured) {
  auto filter =
      compile_ok(profile("SCMP_ACT_ALLOW", {rule({"mkdir", "mkdirat"}, "SCMP_ACT_ERRNO", ENOSYS)}));
  TempDir dir;
  const std::string target = (dir.path / "d").string();
  const int status = run_filtered(
      filter, [&] { return errno_of(::syscall(SYS_mkdirat, AT_FDCWD, target.c_str(), 0700)); });
  BOOST_TEST(exit_code(status) == ENOSYS);  // 38
  BOOST_TEST(!fs::exists(target));
}

BOOST_AUTO_TEST_CASE(default_errno_ret) {
  // Everything but exiting fails with the default errno.
  for (const std::optional<uint32_t> default_errno :
       {std::optional<uint32_t>(EACCES), std::optional<uint32_t>()}) {
    auto s = profile("SCMP_ACT_ERRNO", {rule({"exit_group", "exit"}, "SCMP_ACT_ALLOW")});
    s.defaultErrnoRet = default_errno;
    auto filter = compile_ok(s);
    const int status = run_filtered(filter, [] { return errno_of(::syscall(SYS_getppid)); });
    BOOST_TEST(exit_code(status) == static_cast<int>(default_errno.value_or(EPERM)));
  }
}

BOOST_AUTO_TEST_CASE(kill_process_and_kill_thread_raise_sigsys) {
  for (const char* action : {"SCMP_ACT_KILL_PROCESS", "SCMP_ACT_KILL", "SCMP_ACT_KILL_THREAD"}) {
    BOOST_TEST_CONTEXT(action) {
      auto filter = compile_ok(profile("SCMP_ACT_ALLOW", {rule({"getppid"}, action)}));
      const int status = run_filtered(filter, [] {
        ::syscall(SYS_getppid);
        return 0;
      });
      BOOST_TEST(term_signal(status) == SIGSYS);
    }
  }
}

BOOST_AUTO_TEST_CASE(default_kill_process) {
  auto filter = compile_ok(profile("SCMP_ACT_KILL_PROCESS",
                                   {rule({"exit_group", "exit", "getppid"}, "SCMP_ACT_ALLOW")}));
  BOOST_TEST(exit_code(run_filtered(filter, [] { return errno_of(::syscall(SYS_getppid)); })) == 0);
  BOOST_TEST(term_signal(run_filtered(filter, [] {
               ::syscall(SYS_getpid);
               return 0;
             })) == SIGSYS);
}

BOOST_AUTO_TEST_CASE(trap_delivers_sigsys) {
  auto filter = compile_ok(profile("SCMP_ACT_ALLOW", {rule({"getppid"}, "SCMP_ACT_TRAP")}));
  const int status = run_filtered(filter, [] {
    struct sigaction sa {};
    sa.sa_flags = SA_SIGINFO;
    // The handler's exit code says whether seccomp sent the signal, for getppid.
    sa.sa_sigaction = [](int, siginfo_t* info, void*) {
      const bool ours = info->si_code == kSysSeccomp && info->si_syscall == SYS_getppid;
      ::_exit(ours ? 42 : 43);
    };
    if (::sigaction(SIGSYS, &sa, nullptr) != 0) return 1;
    ::syscall(SYS_getppid);
    return 2;  // not trapped
  });
  BOOST_TEST(exit_code(status) == 42);
}

BOOST_AUTO_TEST_CASE(trace_without_tracer_fails_with_enosys) {
  // The kernel answers ENOSYS when no ptrace tracer takes the event.
  auto filter = compile_ok(profile("SCMP_ACT_ALLOW", {rule({"getppid"}, "SCMP_ACT_TRACE", 7)}));
  const int status = run_filtered(filter, [] { return errno_of(::syscall(SYS_getppid)); });
  BOOST_TEST(exit_code(status) == ENOSYS);
}

BOOST_AUTO_TEST_CASE(log_allows) {
  auto filter = compile_ok(profile("SCMP_ACT_ALLOW", {rule({"getppid"}, "SCMP_ACT_LOG")}));
  const pid_t self = ::getpid();
  const int status =
      run_filtered(filter, [self] { return ::syscall(SYS_getppid) == self ? 0 : 1; });
  BOOST_TEST(exit_code(status) == 0);
}

BOOST_AUTO_TEST_CASE(proc_status_shows_filter_mode) {
  auto filter = compile_ok(profile("SCMP_ACT_ALLOW", {rule({"getcwd"}, "SCMP_ACT_ERRNO")}));
  const int status = run_filtered(filter, [] {
    const int fd = ::open("/proc/self/status", O_RDONLY | O_CLOEXEC);
    if (fd < 0) return 1;
    char buf[8192] = {};
    const ssize_t n = ::read(fd, buf, sizeof(buf) - 1);
    ::close(fd);
    if (n <= 0) return 2;
    if (std::strstr(buf, "\nSeccomp:\t2\n") == nullptr) return 3;
    if (std::strstr(buf, "\nSeccomp_filters:\t1\n") == nullptr) return 4;
    return 0;
  });
  BOOST_TEST(exit_code(status) == 0);
}

BOOST_AUTO_TEST_CASE(rule_with_the_default_action_is_skipped) {
  auto filter = compile_ok(profile(
      "SCMP_ACT_ERRNO", {rule({"getcwd"}, "SCMP_ACT_ERRNO"), rule({"exit_group"}, "SCMP_ACT_ALLOW"),
                         rule({"getppid"}, "SCMP_ACT_ERRNO", 38)}));
  const int status = run_filtered(filter, [] { return errno_of(::syscall(SYS_getppid)); });
  BOOST_TEST(exit_code(status) == ENOSYS);
}

BOOST_AUTO_TEST_CASE(architectures) {
  auto s = profile("SCMP_ACT_ALLOW", {rule({"getcwd"}, "SCMP_ACT_ERRNO")});
  s.architectures = {"SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32", "SCMP_ARCH_AARCH64"};
  auto filter = compile_ok(s);
  const int status = run_filtered(filter, [] {
    char buf[512];
    return errno_of(::syscall(SYS_getcwd, buf, sizeof(buf)));
  });
  BOOST_TEST(exit_code(status) == EPERM);
}

BOOST_AUTO_TEST_CASE(pseudo_syscalls_of_other_architectures_are_accepted) {
  // socketcall does not exist on x86_64: libseccomp drops the rule there.
  auto filter =
      compile_ok(profile("SCMP_ACT_ALLOW", {rule({"socketcall", "getcwd"}, "SCMP_ACT_ERRNO")}));
  BOOST_TEST(!filter.program().empty());
}

BOOST_AUTO_TEST_CASE(filter_is_movable) {
  auto s = profile("SCMP_ACT_ALLOW", {rule({"getppid"}, "SCMP_ACT_NOTIFY")});
  s.listenerPath = "/run/listener.sock";
  auto a = compile_ok(s);
  BOOST_TEST(a.context() != nullptr);
  SeccompFilter b = std::move(a);
  BOOST_TEST(b.uses_notify());
  BOOST_TEST(!b.program().empty());
  BOOST_TEST(b.context() != nullptr);
  BOOST_TEST(a.context() == nullptr);  // NOLINT(bugprone-use-after-move)
  BOOST_TEST(!mxc::sys::load_seccomp(a).ok());
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(seccomp_arguments)

BOOST_AUTO_TEST_CASE(eq_on_personality) {
  auto filter =
      compile_ok(profile("SCMP_ACT_ALLOW", {rule({"personality"}, "SCMP_ACT_ERRNO", std::nullopt,
                                                 {arg(0, "SCMP_CMP_EQ", 0xffffffff)})}));
  const int status = run_filtered(filter, [] {
    int failures = 0;
    if (errno_of(::syscall(SYS_personality, 0xffffffffUL)) != EPERM) failures |= 1;
    if (errno_of(::syscall(SYS_personality, static_cast<unsigned long>(PER_LINUX))) != 0) {
      failures |= 2;
    }
    return failures;
  });
  BOOST_TEST(exit_code(status) == 0);
}

BOOST_AUTO_TEST_CASE(eq_on_socket_family) {
  auto filter = compile_ok(profile("SCMP_ACT_ALLOW", {rule({"socket"}, "SCMP_ACT_ERRNO", EPERM,
                                                           {arg(0, "SCMP_CMP_EQ", AF_INET6)})}));
  const int status = run_filtered(filter, [] {
    int failures = 0;
    if (errno_of(::syscall(SYS_socket, AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0)) != EPERM) {
      failures |= 1;
    }
    if (errno_of(::syscall(SYS_socket, AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) == EPERM) {
      failures |= 2;
    }
    return failures;
  });
  BOOST_TEST(exit_code(status) == 0);
}

BOOST_AUTO_TEST_CASE(every_operator) {
  // Denied calls fail with EOPNOTSUPP; getpgid(pid) otherwise succeeds or says ESRCH.
  struct Case {
    const char* op;
    uint64_t value;
    std::optional<uint64_t> value_two;
    long denied;
    long allowed;
  };
  const Case cases[] = {
      {"SCMP_CMP_NE", 5, std::nullopt, 0, 5},
      {"SCMP_CMP_LT", 5, std::nullopt, 4, 5},
      {"SCMP_CMP_LE", 5, std::nullopt, 5, 6},
      {"SCMP_CMP_EQ", 5, std::nullopt, 5, 0},
      {"SCMP_CMP_GE", 5, std::nullopt, 5, 4},
      {"SCMP_CMP_GT", 5, std::nullopt, 6, 5},
      {"SCMP_CMP_MASKED_EQ", 0xf0, 0x10, 0x15, 0x25},
      {"SCMP_CMP_MASKED_EQ", 0xf0, std::nullopt, 0x05, 0x15},  // valueTwo defaults to 0
  };
  for (const auto& c : cases) {
    BOOST_TEST_CONTEXT(c.op << " " << c.value) {
      auto filter = compile_ok(profile(
          "SCMP_ACT_ALLOW",
          {rule({"getpgid"}, "SCMP_ACT_ERRNO", EOPNOTSUPP, {arg(0, c.op, c.value, c.value_two)})}));
      const int status = run_filtered(filter, [&c] {
        int failures = 0;
        if (errno_of(::syscall(SYS_getpgid, c.denied)) != EOPNOTSUPP) failures |= 1;
        if (errno_of(::syscall(SYS_getpgid, c.allowed)) == EOPNOTSUPP) failures |= 2;
        return failures;
      });
      BOOST_TEST(exit_code(status) == 0);
    }
  }
}

BOOST_AUTO_TEST_CASE(args_on_distinct_indexes_are_anded) {
  auto filter = compile_ok(profile(
      "SCMP_ACT_ALLOW",
      {rule({"socket"}, "SCMP_ACT_ERRNO", EPERM,
            {arg(0, "SCMP_CMP_EQ", AF_INET), arg(1, "SCMP_CMP_MASKED_EQ", 0xf, SOCK_DGRAM)})}));
  const int status = run_filtered(filter, [] {
    int failures = 0;
    if (errno_of(::syscall(SYS_socket, AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)) != EPERM) {
      failures |= 1;
    }
    if (errno_of(::syscall(SYS_socket, AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) == EPERM) {
      failures |= 2;
    }
    if (errno_of(::syscall(SYS_socket, AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == EPERM) {
      failures |= 4;
    }
    return failures;
  });
  BOOST_TEST(exit_code(status) == 0);
}

BOOST_AUTO_TEST_CASE(args_repeating_an_index_are_ored) {
  auto filter = compile_ok(profile(
      "SCMP_ACT_ALLOW", {rule({"socket"}, "SCMP_ACT_ERRNO", EPERM,
                              {arg(0, "SCMP_CMP_EQ", AF_INET6), arg(0, "SCMP_CMP_EQ", AF_UNIX)})}));
  const int status = run_filtered(filter, [] {
    int failures = 0;
    if (errno_of(::syscall(SYS_socket, AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0)) != EPERM) {
      failures |= 1;
    }
    if (errno_of(::syscall(SYS_socket, AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) != EPERM) {
      failures |= 2;
    }
    if (errno_of(::syscall(SYS_socket, AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) == EPERM) {
      failures |= 4;
    }
    return failures;
  });
  BOOST_TEST(exit_code(status) == 0);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(seccomp_flags)

BOOST_AUTO_TEST_CASE(tsync_log_spec_allow_are_accepted) {
  auto s = profile("SCMP_ACT_ALLOW", {rule({"getcwd"}, "SCMP_ACT_ERRNO")});
  s.flags = {"SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_LOG",
             "SECCOMP_FILTER_FLAG_SPEC_ALLOW"};
  auto filter = compile_ok(s);
  BOOST_TEST(filter.load_flags() == (SECCOMP_FILTER_FLAG_TSYNC | SECCOMP_FILTER_FLAG_LOG |
                                     SECCOMP_FILTER_FLAG_SPEC_ALLOW));
  const int status = run_filtered(filter, [] {
    char buf[512];
    return errno_of(::syscall(SYS_getcwd, buf, sizeof(buf)));
  });
  BOOST_TEST(exit_code(status) == EPERM);
}

BOOST_AUTO_TEST_CASE(wait_killable_recv_and_tsync_with_notify) {
  auto s = profile("SCMP_ACT_ALLOW", {rule({"getppid"}, "SCMP_ACT_NOTIFY")});
  s.listenerPath = "/run/listener.sock";
  s.flags = {"SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV", "SECCOMP_FILTER_FLAG_TSYNC"};
  auto filter = compile_ok(s);
  BOOST_TEST(filter.load_flags() ==
             (SECCOMP_FILTER_FLAG_NEW_LISTENER | SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV |
              SECCOMP_FILTER_FLAG_TSYNC | SECCOMP_FILTER_FLAG_TSYNC_ESRCH));
  const pid_t pid = ::fork();
  BOOST_TEST_REQUIRE(pid >= 0);
  if (pid == 0) {
    auto fd = mxc::sys::load_seccomp(filter);
    ::_exit(fd.ok() && *fd >= 0 ? 0 : 1);
  }
  int status = 0;
  BOOST_TEST_REQUIRE(::waitpid(pid, &status, 0) == pid);
  BOOST_TEST(exit_code(status) == 0);
}

BOOST_AUTO_TEST_CASE(wait_killable_recv_without_notify_is_dropped) {
  auto s = profile("SCMP_ACT_ALLOW", {rule({"getcwd"}, "SCMP_ACT_ERRNO")});
  s.flags = {"SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"};
  BOOST_TEST(compile_ok(s).load_flags() == 0u);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(seccomp_errors)

BOOST_AUTO_TEST_CASE(errors_name_the_field) {
  struct Case {
    Seccomp seccomp;
    std::string expected;
  };
  std::vector<Case> cases;
  {
    auto s = profile("SCMP_ACT_ALLOW",
                     {rule({"getcwd"}, "SCMP_ACT_ERRNO"), rule({"mkdir"}, "SCMP_ACT_ERRNO"),
                      rule({"foo", "getppid"}, "SCMP_ACT_ERRNO")});
    cases.push_back({s, "linux.seccomp.syscalls[2].names[0]: unknown syscall \"foo\""});
  }
  cases.push_back({profile("X"), "linux.seccomp.defaultAction: unknown action \"X\""});
  cases.push_back({profile("SCMP_ACT_ALLOW", {rule({"getcwd"}, "SCMP_ACT_NOPE")}),
                   "linux.seccomp.syscalls[0].action: unknown action \"SCMP_ACT_NOPE\""});
  cases.push_back({profile("SCMP_ACT_ALLOW", {rule({"getcwd"}, "SCMP_ACT_ERRNO"),
                                              rule({"personality"}, "SCMP_ACT_ERRNO", std::nullopt,
                                                   {arg(0, "SCMP_CMP_FOO", 1)})}),
                   "linux.seccomp.syscalls[1].args[0].op: unknown operator \"SCMP_CMP_FOO\""});
  cases.push_back(
      {profile("SCMP_ACT_ALLOW", {rule({"personality"}, "SCMP_ACT_ERRNO", std::nullopt,
                                       {arg(0, "SCMP_CMP_EQ", 1), arg(6, "SCMP_CMP_EQ", 1)})}),
       "linux.seccomp.syscalls[0].args[1].index: 6 is out of range"});
  {
    auto s = profile("SCMP_ACT_ALLOW");
    s.architectures = {"SCMP_ARCH_PDP11"};
    cases.push_back(
        {s, "linux.seccomp.architectures[0]: unknown architecture \"SCMP_ARCH_PDP11\""});
  }
#ifndef SCMP_ARCH_LOONGARCH64
  {
    auto s = profile("SCMP_ACT_ALLOW");
    s.architectures = {"SCMP_ARCH_X86_64", "SCMP_ARCH_LOONGARCH64"};
    cases.push_back({s,
                     "linux.seccomp.architectures[1]: SCMP_ARCH_LOONGARCH64 is not supported by "
                     "libseccomp"});
  }
#endif
  {
    auto s = profile("SCMP_ACT_ALLOW");
    s.flags = {"SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_NOPE"};
    cases.push_back({s, "linux.seccomp.flags[1]: unknown flag \"SECCOMP_FILTER_FLAG_NOPE\""});
  }
  cases.push_back({profile("SCMP_ACT_ALLOW", {rule({"getcwd"}, "SCMP_ACT_KILL", EPERM)}),
                   "linux.seccomp.syscalls[0].errnoRet: only valid with SCMP_ACT_ERRNO"});
  cases.push_back({profile("SCMP_ACT_ALLOW", {rule({"getcwd"}, "SCMP_ACT_ERRNO", 5000)}),
                   "linux.seccomp.syscalls[0].errnoRet: 5000 is out of range (0-4095)"});
  {
    auto s = profile("SCMP_ACT_ALLOW");
    s.defaultErrnoRet = EPERM;
    cases.push_back({s, "linux.seccomp.defaultErrnoRet: only valid with SCMP_ACT_ERRNO"});
  }
  {
    auto s = profile("SCMP_ACT_NOTIFY");
    s.listenerPath = "/run/l.sock";
    cases.push_back({s, "linux.seccomp.defaultAction: SCMP_ACT_NOTIFY cannot be the default"});
  }
  cases.push_back({profile("SCMP_ACT_ALLOW", {rule({"getppid"}, "SCMP_ACT_NOTIFY")}),
                   "linux.seccomp.listenerPath: required when SCMP_ACT_NOTIFY is used"});
  {
    auto s = profile("SCMP_ACT_ALLOW", {rule({"getppid", "write"}, "SCMP_ACT_NOTIFY")});
    s.listenerPath = "/run/l.sock";
    cases.push_back(
        {s, "linux.seccomp.syscalls[0].names[1]: SCMP_ACT_NOTIFY cannot be used for \"write\""});
  }
  for (const auto& c : cases) {
    const std::string message = compile_error(c.seccomp);
    BOOST_TEST(contains(message, c.expected), message << " does not contain " << c.expected);
  }
}

BOOST_AUTO_TEST_CASE(unknown_syscalls_can_be_ignored) {
  auto s = profile("SCMP_ACT_ALLOW", {rule({"no_such_syscall", "getcwd"}, "SCMP_ACT_ERRNO")});
  mxc::sys::SeccompOptions options;
  options.ignore_unknown_syscalls = true;
  auto r = mxc::sys::compile_seccomp(s, options);
  BOOST_TEST_REQUIRE(r.ok(), why(r));
  const int status = run_filtered(*r, [] {
    char buf[512];
    return errno_of(::syscall(SYS_getcwd, buf, sizeof(buf)));
  });
  BOOST_TEST(exit_code(status) == EPERM);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(seccomp_notify)

BOOST_AUTO_TEST_CASE(process_state_json) {
  const nlohmann::json state = {
      {"ociVersion", "1.2.0"}, {"id", "c1"}, {"status", "creating"}, {"pid", 42}, {"bundle", "/b"}};
  auto doc = nlohmann::json::parse(mxc::sys::seccomp_process_state_json("1.2.0", 42, "m=1", state));
  BOOST_TEST(doc["ociVersion"] == "1.2.0");
  BOOST_TEST(doc["fds"] == nlohmann::json::array({"seccompFd"}));
  BOOST_TEST(doc["pid"] == 42);
  BOOST_TEST(doc["metadata"] == "m=1");
  BOOST_TEST(doc["state"] == state);
  auto bare = nlohmann::json::parse(mxc::sys::seccomp_process_state_json("1.2.0", 42, "", state));
  BOOST_TEST(!bare.contains("metadata"));
}

BOOST_AUTO_TEST_CASE(send_delivers_fd_and_state) {
  TempDir dir;
  const fs::path path = dir.path / "listener.sock";
  UniqueFd listener = listen_unix(path);
  int pipe_fds[2];
  BOOST_TEST_REQUIRE(::pipe2(pipe_fds, O_CLOEXEC) == 0);
  UniqueFd read_end(pipe_fds[0]);
  UniqueFd write_end(pipe_fds[1]);

  const std::string json =
      mxc::sys::seccomp_process_state_json("1.2.0", 1234, "meta", {{"id", "c1"}});
  auto sent = mxc::sys::send_seccomp_notify_fd(path.string(), write_end.get(), json);
  BOOST_TEST_REQUIRE(sent.ok(), why(sent));

  auto [data, fd] = receive_state(listener.get());
  BOOST_TEST(data == json);
  auto doc = nlohmann::json::parse(data);
  BOOST_TEST(doc["pid"] == 1234);
  BOOST_TEST(doc["metadata"] == "meta");
  BOOST_TEST_REQUIRE(fd.valid());
  // The received fd is the same pipe.
  BOOST_TEST_REQUIRE(::write(fd.get(), "x", 1) == 1);
  char c = 0;
  BOOST_TEST(::read(read_end.get(), &c, 1) == 1);
  BOOST_TEST(c == 'x');
}

BOOST_AUTO_TEST_CASE(send_errors_name_the_listener) {
  TempDir dir;
  const std::string path = (dir.path / "absent.sock").string();
  auto r = mxc::sys::send_seccomp_notify_fd(path, 0, "{}");
  BOOST_TEST_REQUIRE(!r.ok());
  BOOST_TEST(contains(r.error().message, path));
  BOOST_TEST(contains(r.error().message, "connect"));
  auto too_long = mxc::sys::send_seccomp_notify_fd(std::string(200, 'a'), 0, "{}");
  BOOST_TEST(!too_long.ok());
  auto no_fd = mxc::sys::send_seccomp_notify_fd(path, -1, "{}");
  BOOST_TEST(!no_fd.ok());
}

BOOST_AUTO_TEST_CASE(supervisor_answers_the_notified_syscall) {
  TempDir dir;
  const fs::path path = dir.path / "listener.sock";
  UniqueFd listener = listen_unix(path);
  auto s = profile("SCMP_ACT_ALLOW", {rule({"getppid"}, "SCMP_ACT_NOTIFY")});
  s.listenerPath = path.string();
  s.listenerMetadata = "MKNOD=/dev/null";
  auto filter = compile_ok(s);
  BOOST_TEST_REQUIRE(filter.uses_notify());

  // The child plays the container: load, hand the fd over, then make the
  // notified syscall, whose result must be what the supervisor says.
  constexpr long kAnswer = 4242;
  ChildGuard child;
  child.pid = ::fork();
  BOOST_TEST_REQUIRE(child.pid >= 0);
  if (child.pid == 0) {
    auto fd = mxc::sys::load_seccomp(filter);
    if (!fd.ok() || *fd < 0) ::_exit(kLoadFailed);
    const std::string state = mxc::sys::seccomp_process_state_json(
        "1.2.0", ::getpid(), *s.listenerMetadata, {{"id", "c1"}, {"status", "creating"}});
    if (!mxc::sys::send_seccomp_notify_fd(*s.listenerPath, *fd, state).ok()) ::_exit(201);
    ::close(*fd);
    ::_exit(::syscall(SYS_getppid) == kAnswer ? 0 : 1);
  }

  auto [data, notify_fd] = receive_state(listener.get());
  auto doc = nlohmann::json::parse(data);
  BOOST_TEST(doc["pid"] == child.pid);
  BOOST_TEST(doc["metadata"] == "MKNOD=/dev/null");
  BOOST_TEST(doc["fds"] == nlohmann::json::array({"seccompFd"}));
  BOOST_TEST(doc["state"]["id"] == "c1");
  BOOST_TEST_REQUIRE(notify_fd.valid());

  seccomp_notif* req = nullptr;
  seccomp_notif_resp* resp = nullptr;
  BOOST_TEST_REQUIRE(seccomp_notify_alloc(&req, &resp) == 0);
  struct Free {
    seccomp_notif* req;
    seccomp_notif_resp* resp;
    ~Free() { seccomp_notify_free(req, resp); }
  } free_later{req, resp};
  BOOST_TEST_REQUIRE(wait_readable(notify_fd.get(), 10000));
  BOOST_TEST_REQUIRE(seccomp_notify_receive(notify_fd.get(), req) == 0);
  BOOST_TEST(req->pid == static_cast<uint32_t>(child.pid));
  BOOST_TEST(req->data.nr == SYS_getppid);
  resp->id = req->id;
  resp->val = kAnswer;
  resp->error = 0;
  resp->flags = 0;
  BOOST_TEST_REQUIRE(seccomp_notify_respond(notify_fd.get(), resp) == 0);
  BOOST_TEST(exit_code(child.wait()) == 0);
}

BOOST_AUTO_TEST_SUITE_END()
