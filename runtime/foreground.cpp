#include "mxc/runtime/foreground.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <optional>

#include "mxc/sys/unique_fd.hpp"

namespace mxc::runtime {

namespace {

// Puts the caller's terminal in raw mode for as long as it lives.
class RawTerminal {
 public:
  explicit RawTerminal(int fd) : fd_(fd) {
    if (::isatty(fd) && ::tcgetattr(fd, &saved_) == 0) {
      termios raw = saved_;
      ::cfmakeraw(&raw);
      active_ = ::tcsetattr(fd, TCSANOW, &raw) == 0;
    }
  }
  RawTerminal(const RawTerminal&) = delete;
  RawTerminal& operator=(const RawTerminal&) = delete;
  ~RawTerminal() {
    if (active_) ::tcsetattr(fd_, TCSANOW, &saved_);
  }

 private:
  int fd_;
  termios saved_{};
  bool active_ = false;
};

void copy_window_size(int from, int to) {
  winsize ws{};
  // A caller without a real size (0x0) keeps process.consoleSize.
  if (::ioctl(from, TIOCGWINSZ, &ws) == 0 && ws.ws_row > 0 && ws.ws_col > 0)
    ::ioctl(to, TIOCSWINSZ, &ws);
}

// Copies what is readable from `from` to `to`; false at end of input.
bool relay(int from, int to) {
  char buf[8192];
  ssize_t n = ::read(from, buf, sizeof buf);
  if (n <= 0) return n < 0 && (errno == EAGAIN || errno == EINTR);
  for (ssize_t off = 0; off < n;) {
    ssize_t w = ::write(to, buf + off, static_cast<size_t>(n - off));
    if (w < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    off += w;
  }
  return true;
}

bool exited(pid_t pid) {
  siginfo_t info{};
  return ::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOHANG | WNOWAIT) == 0 &&
         info.si_pid == pid;
}

}  // namespace

Status wait_forwarding(pid_t pid, int pty_master) {
  sigset_t set;
  sigemptyset(&set);
  for (int s : {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH, SIGCHLD})
    sigaddset(&set, s);
  sigset_t old;
  ::sigprocmask(SIG_BLOCK, &set, &old);
  sys::UniqueFd sfd(::signalfd(-1, &set, SFD_CLOEXEC));
  if (!sfd) {
    ::sigprocmask(SIG_SETMASK, &old, nullptr);
    return sys_error("signalfd");
  }
  std::optional<RawTerminal> raw;
  bool stdin_open = pty_master >= 0;
  if (pty_master >= 0) {
    raw.emplace(0);
    copy_window_size(0, pty_master);
  }
  while (!exited(pid)) {
    pollfd p[3] = {
        {sfd.get(), POLLIN, 0}, {pty_master, POLLIN, 0}, {stdin_open ? 0 : -1, POLLIN, 0}};
    if (::poll(p, pty_master >= 0 ? 3 : 1, -1) < 0 && errno != EINTR) break;
    if (p[0].revents & POLLIN) {
      signalfd_siginfo si{};
      if (::read(sfd.get(), &si, sizeof si) == sizeof si && si.ssi_signo != SIGCHLD) {
        if (si.ssi_signo == SIGWINCH && pty_master >= 0) {
          copy_window_size(0, pty_master);
        } else {
          ::kill(pid, static_cast<int>(si.ssi_signo));
        }
      }
    }
    if (pty_master >= 0 && (p[1].revents & (POLLIN | POLLHUP))) relay(pty_master, 1);
    if (stdin_open && (p[2].revents & (POLLIN | POLLHUP)) && !relay(0, pty_master)) {
      // End of the caller's input: an EOF character, as a terminal would send.
      stdin_open = false;
      const char eot = 4;
      (void)!::write(pty_master, &eot, 1);
    }
  }
  if (pty_master >= 0) {
    // What the process wrote last is still in the pty.
    ::fcntl(pty_master, F_SETFL, ::fcntl(pty_master, F_GETFL) | O_NONBLOCK);
    while (relay(pty_master, 1)) {
      pollfd p{pty_master, POLLIN, 0};
      if (::poll(&p, 1, 0) <= 0) break;
    }
  }
  raw.reset();
  ::sigprocmask(SIG_SETMASK, &old, nullptr);
  return {};
}

}  // namespace mxc::runtime
