#include "mxc/runtime/shim_launch.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include <climits>
#include <cstring>
#include <optional>
#include <vector>

#include "mxc/sys/console.hpp"
#include "mxc/sys/proc_info.hpp"
#include "mxc/sys/sync_channel.hpp"
#include "mxc/sys/unique_fd.hpp"

namespace mxc::runtime {

namespace {

[[noreturn]] void child_fail(int fd, const std::string& msg) {
  (void)sys::send_message(fd, "E" + msg);
  ::_exit(1);
}

// Points 0, 1, 2 at /dev/null (or at the given fds).
bool redirect_stdio(int in = -1, int out = -1, int err = -1) {
  int null = ::open("/dev/null", O_RDWR | O_CLOEXEC);
  if (null < 0) return false;
  bool ok = ::dup2(in >= 0 ? in : null, 0) >= 0 && ::dup2(out >= 0 ? out : null, 1) >= 0 &&
            ::dup2(err >= 0 ? err : null, 2) >= 0;
  if (null > 2) ::close(null);
  return ok;
}

[[noreturn]] void exec_shim(int ready_fd, const std::string& state_dir, pid_t init,
                            std::vector<std::pair<const char*, int>> fds) {
  std::string exe = shim_executable();
  std::vector<std::string> args{"mxc-shim",           state_dir,    "--pid",
                                std::to_string(init), "--ready-fd", std::to_string(ready_fd)};
  std::vector<int> keep{ready_fd};
  for (auto [flag, fd] : fds) {
    if (fd < 0) continue;
    args.emplace_back(flag);
    args.push_back(std::to_string(fd));
    keep.push_back(fd);
    ::fcntl(fd, F_SETFD, 0);
  }
  ::fcntl(ready_fd, F_SETFD, 0);
  // The shim must hold nothing of ours: not the state lock, not the log.
  sys::close_fds_except(keep);
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  ::execv(exe.c_str(), argv.data());
  child_fail(ready_fd, "exec " + exe + ": " + std::strerror(errno) +
                           " (mxc-shim is installed beside mxc-runtime)");
}

// A copy of the caller's fd for the shim to pass output on to; none for a
// closed fd or /dev/null.
sys::UniqueFd forward_target(int fd) {
  struct stat sb {};
  if (::fstat(fd, &sb) != 0) return {};
  if (S_ISCHR(sb.st_mode) && sb.st_rdev == makedev(1, 3)) return {};
  return sys::UniqueFd(::fcntl(fd, F_DUPFD_CLOEXEC, 3));
}

// Copies what `from` (a pipe whose writers are gone or idle) holds now to
// `to` (if open), without waiting for more.
void pass_on_pending(int from, int to) {
  if (::fcntl(from, F_SETFL, O_NONBLOCK) != 0) return;
  char buf[4096];
  ssize_t n;
  while ((n = ::read(from, buf, sizeof buf)) > 0) {
    if (to >= 0) (void)!::write(to, buf, static_cast<size_t>(n));
  }
}

// Reads the shim's two reports: "P<pid>" (the init, or the shim's own pid in
// monitor mode), then "R" once it serves.
Result<pid_t> read_reports(int fd, const char* who, bool* ready) {
  auto msg = sys::receive_message(fd);
  if (!msg) return msg.error().context(who);
  if (!*msg) return make_error(std::string(who) + ": exited without a report");
  if ((*msg)->rfind("E", 0) == 0) return make_error((*msg)->substr(1));
  if ((*msg)->rfind("P", 0) != 0) return make_error(std::string(who) + ": bad report");
  pid_t pid = static_cast<pid_t>(std::atol((*msg)->c_str() + 1));
  auto r = sys::receive_message(fd);
  if (!r) return r.error().context(who);
  if (!*r) return make_error(std::string(who) + ": mxc-shim exited before it was ready");
  if ((*r)->rfind("E", 0) == 0) {
    *ready = false;
    return make_error((*r)->substr(1)).context("mxc-shim");
  }
  *ready = **r == "R";
  return pid;
}

}  // namespace

Result<ShimMode> parse_shim_mode(const std::string& text) {
  if (text == "auto") return ShimMode::kAuto;
  if (text == "parent") return ShimMode::kParent;
  if (text == "monitor") return ShimMode::kMonitor;
  return make_error("--shim: unknown mode \"" + text + "\" (auto, parent or monitor)");
}

bool caller_is_subreaper() {
  pid_t caller = ::getppid();
  if (caller == 1) return false;  // pid 1 adopts everything but supervises nothing
  int report[2], go[2];
  if (::pipe2(report, O_CLOEXEC) != 0) return false;
  if (::pipe2(go, O_CLOEXEC) != 0) {
    ::close(report[0]);
    ::close(report[1]);
    return false;
  }
  pid_t middle = ::fork();
  if (middle == 0) {
    // Hold nothing of the caller's (its pipes, a console socket) while the
    // probe waits to be adopted by it.
    sys::close_fds_except({report[1], go[0]});
    redirect_stdio();
    if (::fork() == 0) {
      char c;
      (void)!::read(go[0], &c, 1);  // until the middle process is gone
      pid_t adopter = ::getppid();
      (void)!::write(report[1], &adopter, sizeof adopter);
      ::_exit(0);
    }
    ::_exit(0);
  }
  ::close(report[1]);
  ::close(go[0]);
  pid_t adopter = 0;
  if (middle > 0) {
    ::waitpid(middle, nullptr, 0);  // the probe is re-parented by now
    (void)!::write(go[1], "g", 1);
    if (::read(report[0], &adopter, sizeof adopter) != sizeof adopter) adopter = 0;
  }
  ::close(go[1]);
  ::close(report[0]);
  return adopter == caller;
}

std::string shim_executable() {
  char buf[PATH_MAX];
  ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n <= 0) return "mxc-shim";
  std::string self(buf, static_cast<size_t>(n));
  return self.substr(0, self.rfind('/') + 1) + "mxc-shim";
}

Result<ShimProcess> launch_parent_shim(const std::string& state_dir, bool hold_console,
                                       const CreateInShim& create) {
  auto pair = sys::make_sync_pair();
  if (!pair) return pair.error();
  int out[2], err[2];
  if (::pipe2(out, O_CLOEXEC) != 0) return sys_error("pipe");
  sys::UniqueFd out_r(out[0]), out_w(out[1]);
  if (::pipe2(err, O_CLOEXEC) != 0) return sys_error("pipe");
  sys::UniqueFd err_r(err[0]), err_w(err[1]);
  pid_t runtime = ::getpid();
  pid_t child = ::fork();
  if (child < 0) return sys_error("fork (mxc-shim)");
  if (child == 0) {
    int report = pair->second.get();
    // Until the shim is ready, a killed mxc-runtime takes the create with it
    // (and the init with us: the backend ties it to its parent).
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != runtime) ::_exit(1);
    ::setsid();
    if (::prctl(PR_SET_CHILD_SUBREAPER, 1) != 0)
      child_fail(report, "PR_SET_CHILD_SUBREAPER failed");
    pair->first.reset();
    // The caller's stdout and stderr: the shim passes the output on there, as
    // runc's pass-through would (unless they are /dev/null).
    sys::UniqueFd fwd_out = forward_target(1), fwd_err = forward_target(2);
    // The container inherits these: its output goes through the shim's log.
    // Its stdin stays the caller's.
    if (::dup2(out_w.get(), 1) < 0 || ::dup2(err_w.get(), 2) < 0)
      child_fail(report, "redirecting stdio");
    out_w.reset();
    err_w.reset();
    sys::UniqueFd console_ours, console_theirs;
    if (hold_console) {
      int sv[2];
      if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
        child_fail(report, "socketpair");
      console_ours.reset(sv[0]);
      console_theirs.reset(sv[1]);
    }
    auto pid = create(hold_console ? console_theirs.get() : -1);
    if (!pid) {
      // What the backend's helpers said on their way out (bwrap's reason) is
      // in the pipes no shim will read: pass it on before the error line.
      pass_on_pending(out_r.get(), fwd_out.get());
      pass_on_pending(err_r.get(), fwd_err.get());
      child_fail(report, pid.error().message);
    }
    console_theirs.reset();
    sys::UniqueFd master;
    if (hold_console) {
      pollfd p{console_ours.get(), POLLIN, 0};
      char peek;
      if (::poll(&p, 1, 0) > 0 &&
          ::recv(console_ours.get(), &peek, 1, MSG_PEEK | MSG_DONTWAIT) > 0) {
        auto fd = sys::receive_fd(console_ours.get());
        if (!fd) child_fail(report, fd.error().message);
        master = std::move(*fd);
      }
    }
    (void)sys::send_message(report, "P" + std::to_string(*pid));
    // The shim holds no write end of the container's pipes (EOF must mean
    // the container closed them).
    redirect_stdio();
    exec_shim(report, state_dir, *pid,
              {{"--stdout-fd", out_r.get()},
               {"--stderr-fd", err_r.get()},
               {"--console-fd", master.get()},
               {"--forward-stdout-fd", fwd_out.get()},
               {"--forward-stderr-fd", fwd_err.get()}});
  }
  pair->second.reset();
  out_w.reset();
  err_w.reset();
  out_r.reset();
  err_r.reset();
  bool ready = false;
  auto init = read_reports(pair->first.get(), "mxc-shim", &ready);
  ShimProcess sp;
  sp.shim_pid = child;
  if (auto st = sys::read_proc_stat(child)) sp.shim_start_time = st->start_time;
  if (!init || !ready) {
    // The create failed (the backend undid it) or the shim did: take the
    // child down; its init dies with it (parent-death signal).
    ::kill(child, SIGKILL);
    ::waitpid(child, nullptr, 0);
    return init ? make_error("mxc-shim did not start") : init.error();
  }
  sp.init_pid = *init;
  // Reaped now or never: it stays our child until we exit; the kernel
  // re-parents it to init (pid 1) when we do.
  return sp;
}

Result<ShimProcess> launch_monitor_shim(const std::string& state_dir, pid_t init_pid) {
  auto pair = sys::make_sync_pair();
  if (!pair) return pair.error();
  // posix_spawn (a vfork-style clone), not fork: this process maps the plugins
  // and their copies of libstdc++, and copying its page tables is the larger
  // part of a shim's start. The shim is our child until we exit; the kernel
  // then re-parents it (to the caller when it is a subreaper, else to init).
  constexpr int kReadyFd = 3;
  std::string exe = shim_executable();
  std::vector<std::string> args{"mxc-shim",   state_dir,
                                "--pid",      std::to_string(init_pid),
                                "--ready-fd", std::to_string(kReadyFd)};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawnattr_t attr;
  ::posix_spawn_file_actions_init(&fa);
  ::posix_spawnattr_init(&attr);
  ::posix_spawn_file_actions_adddup2(&fa, pair->second.get(), kReadyFd);
  for (int fd = 0; fd <= 2; ++fd) {
    ::posix_spawn_file_actions_addopen(&fa, fd, "/dev/null", O_RDWR, 0);
  }
  ::posix_spawn_file_actions_addclosefrom_np(&fa, kReadyFd + 1);
  sigset_t none, all;
  sigemptyset(&none);
  sigfillset(&all);
  ::posix_spawnattr_setsigmask(&attr, &none);
  ::posix_spawnattr_setsigdefault(&attr, &all);
  ::posix_spawnattr_setflags(&attr,
                             POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  pid_t shim = 0;
  int rc = ::posix_spawn(&shim, exe.c_str(), &fa, &attr, argv.data(), environ);
  ::posix_spawn_file_actions_destroy(&fa);
  ::posix_spawnattr_destroy(&attr);
  if (rc != 0) {
    errno = rc;
    return sys_error("spawn " + exe + " (mxc-shim is installed beside mxc-runtime)");
  }
  pair->second.reset();
  auto msg = sys::receive_message(pair->first.get());
  std::optional<Error> error;
  if (!msg) {
    error = msg.error().context("mxc-shim");
  } else if (!*msg) {
    error = make_error("mxc-shim exited before it was ready");
  } else if ((*msg)->rfind("E", 0) == 0) {
    error = make_error((*msg)->substr(1));
  }
  if (error) {
    ::kill(shim, SIGKILL);
    ::waitpid(shim, nullptr, 0);
    return *error;
  }
  ShimProcess sp;
  sp.shim_pid = shim;
  sp.init_pid = init_pid;
  if (auto st = sys::read_proc_stat(shim)) sp.shim_start_time = st->start_time;
  return sp;
}

}  // namespace mxc::runtime
