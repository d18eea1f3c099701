#include "mxc/sys/hooks.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>

#include "mxc/sys/unique_fd.hpp"

namespace mxc::sys {

namespace {

std::vector<char*> c_strings(const std::vector<std::string>& v) {
  std::vector<char*> out;
  out.reserve(v.size() + 1);
  for (const auto& s : v) out.push_back(const_cast<char*>(s.c_str()));
  out.push_back(nullptr);
  return out;
}

std::string last_line(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
  auto nl = s.rfind('\n');
  if (nl != std::string::npos) s = s.substr(nl + 1);
  if (s.size() > 200) s = s.substr(0, 200) + "...";
  return s;
}

}  // namespace

Status run_hook(const spec::Hook& hook, const std::string& state_json, const std::string& name) {
  int in[2];
  int err[2];
  // stdin is a socket so that a hook that exits without reading gives EPIPE
  // (MSG_NOSIGNAL), not a SIGPIPE we would have to ignore process-wide.
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, in) != 0)
    return sys_error(name + ": socketpair");
  UniqueFd in_r(in[0]);
  UniqueFd in_w(in[1]);
  if (::pipe2(err, O_CLOEXEC) != 0) return sys_error(name + ": pipe");
  UniqueFd err_r(err[0]);
  UniqueFd err_w(err[1]);

  // argv[0] defaults to the path, as the spec's examples assume.
  std::vector<std::string> args =
      hook.args.empty() ? std::vector<std::string>{hook.path} : hook.args;
  auto argv = c_strings(args);
  auto envp = c_strings(hook.env);
  pid_t pid = ::fork();
  if (pid < 0) return sys_error(name + ": fork");
  if (pid == 0) {
    ::dup2(in_r.get(), 0);
    ::dup2(err_w.get(), 2);
    ::execve(hook.path.c_str(), argv.data(), envp.data());
    ::dprintf(2, "exec %s: %s\n", hook.path.c_str(), std::strerror(errno));
    ::_exit(127);
  }
  in_r.reset();
  err_w.reset();
  // The hook may not read stdin at all: never block on it.
  (void)::send(in_w.get(), state_json.data(), state_json.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
  in_w.reset();

  using clock = std::chrono::steady_clock;
  auto deadline =
      hook.timeout ? clock::now() + std::chrono::seconds(*hook.timeout) : clock::time_point::max();
  std::string stderr_text;
  bool timed_out = false;
  bool exited = false;
  int status = 0;
  // Poll both the hook's exit and its stderr: a hook that leaves a daemon
  // holding stderr open must not hang us.
  UniqueFd pidfd(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));
  while (!exited) {
    auto now = clock::now();
    if (now >= deadline) {
      timed_out = true;
      ::kill(pid, SIGKILL);
      while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
      }
      break;
    }
    int wait_ms =
        deadline == clock::time_point::max()
            ? -1
            : static_cast<int>(
                  std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now).count() +
                  1);
    pollfd p[2] = {{err_r.get(), POLLIN, 0}, {pidfd.get(), POLLIN, 0}};
    if (::poll(p, pidfd ? 2 : 1, pidfd ? wait_ms : 20) > 0 && (p[0].revents & (POLLIN | POLLHUP))) {
      char buf[4096];
      ssize_t n = ::read(err_r.get(), buf, sizeof buf);
      if (n > 0 && stderr_text.size() < 65536) stderr_text.append(buf, static_cast<size_t>(n));
    }
    exited = ::waitpid(pid, &status, WNOHANG) == pid;
  }
  if (exited) {
    ::fcntl(err_r.get(), F_SETFL, O_NONBLOCK);
    char buf[4096];
    ssize_t n;
    while ((n = ::read(err_r.get(), buf, sizeof buf)) > 0 && stderr_text.size() < 65536) {
      stderr_text.append(buf, static_cast<size_t>(n));
    }
  }
  if (timed_out) {
    return make_error(name + ": " + hook.path + " timed out after " +
                      std::to_string(*hook.timeout) + "s");
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return {};
  std::string how = WIFEXITED(status) ? "exited with status " + std::to_string(WEXITSTATUS(status))
                                      : "was killed by signal " + std::to_string(WTERMSIG(status));
  std::string tail = last_line(stderr_text);
  return make_error(name + ": " + hook.path + " " + how + (tail.empty() ? "" : ": " + tail));
}

Status run_hooks(const std::vector<spec::Hook>& hooks, const std::string& state_json,
                 const char* kind) {
  for (size_t i = 0; i < hooks.size(); ++i) {
    MXC_TRY(run_hook(hooks[i], state_json,
                     std::string("hooks.") + kind + "[" + std::to_string(i) + "]"));
  }
  return {};
}

}  // namespace mxc::sys
