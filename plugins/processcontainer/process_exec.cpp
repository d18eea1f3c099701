#include "process_exec.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>

#include "mxc/sys/process_setup.hpp"

namespace mxc::processcontainer {

Result<unsigned long> personality_domain(const std::string& domain) {
  if (domain == "LINUX") return static_cast<unsigned long>(PER_LINUX);
  if (domain == "LINUX32") return static_cast<unsigned long>(PER_LINUX32);
  return make_error("linux.personality.domain: unknown domain \"" + domain + "\"");
}

[[noreturn]] void finish_and_exec(const ProcessPlan& plan, const std::string& exe) {
  const spec::Process& proc = *plan.process;
  auto fail = [](const Error& e) {
    std::fprintf(stderr, "mxc-runtime: container process: %s\n", e.message.c_str());
    ::_exit(127);
  };
  // Landlock first, while CAP_SYS_ADMIN is held: it then holds with or
  // without no_new_privs, and for the seccomp and user steps too.
  if (plan.landlock) {
    if (auto st = plan.landlock->restrict_self(); !st) fail(st.error().context("policy"));
  }
  const auto& caps = *plan.capabilities;
  const auto& seccomp = *plan.seccomp;
  if (caps) {
    if (auto st = sys::prepare_capabilities(*caps); !st) fail(st.error());
  }
  // The filter goes in as late as the kernel allows: right before execve with
  // no_new_privs; without it, loading needs CAP_SYS_ADMIN, so before the user
  // switch (the profile must then allow setuid, capset and execve, as with runc).
  bool seccomp_pending = seccomp && !seccomp->uses_notify();
  auto load_filter = [&] {
    if (auto fd = sys::load_seccomp(*seccomp); !fd) fail(fd.error().context("linux.seccomp"));
    seccomp_pending = false;
  };
  if (seccomp_pending && !proc.noNewPrivileges) load_filter();
  if (auto st = sys::switch_user(proc.user); !st) fail(st.error());
  if (plan.parent_pidfd >= 0) {
    // A uid change clears the parent-death signal: set it again, then make
    // sure the supervisor did not die in between (its pidfd is readable then).
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    pollfd p{plan.parent_pidfd, POLLIN, 0};
    if (::poll(&p, 1, 0) != 0) ::_exit(137);
  }
  if (caps) {
    if (auto st = sys::apply_capabilities(*caps); !st) fail(st.error());
  }
  ::umask(proc.user.umask.value_or(022));
  if (::chdir(proc.cwd.c_str()) != 0) fail(sys_error("process.cwd: chdir " + proc.cwd));
  if (plan.personality && *plan.personality) {
    auto domain = personality_domain((*plan.personality)->domain);
    if (!domain) fail(domain.error());
    if (::personality(*domain) < 0) fail(sys_error("linux.personality"));
  }
  if (proc.noNewPrivileges && ::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
    fail(sys_error("process.noNewPrivileges"));
  }
  for (unsigned i = 0; i < plan.preserve_fds; ++i) {
    int fd = 3 + static_cast<int>(i);
    ::fcntl(fd, F_SETFD, ::fcntl(fd, F_GETFD) & ~FD_CLOEXEC);
  }
  if (seccomp_pending) load_filter();
  fail(sys::exec_process(exe, proc.args, proc.env));
  ::_exit(127);
}

}  // namespace mxc::processcontainer
