#include "mxc/sys/console.hpp"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include <cstring>

namespace mxc::sys {

Result<UniqueFd> connect_console_socket(const std::string& path) {
  const std::string what = "--console-socket " + path;
  struct stat sb {};
  if (::stat(path.c_str(), &sb) != 0) return sys_error(what);
  if (!S_ISSOCK(sb.st_mode)) return make_error(what + ": not a unix socket");
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof addr.sun_path) return make_error(what + ": path too long");
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd) return sys_error(what + ": socket");
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0)
    return sys_error(what + ": connect");
  return fd;
}

Status send_fd(int sock, int fd, const std::string& payload) {
  std::string data = payload.empty() ? std::string("\0", 1) : payload;
  iovec iov{data.data(), data.size()};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  cmsghdr* c = CMSG_FIRSTHDR(&msg);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(sizeof(int));
  std::memcpy(CMSG_DATA(c), &fd, sizeof(int));
  ssize_t n;
  do {
    n = ::sendmsg(sock, &msg, MSG_NOSIGNAL);
  } while (n < 0 && errno == EINTR);
  if (n < 0) return sys_error("send the pty master");
  return {};
}

Result<UniqueFd> receive_fd(int sock) {
  char data[256];
  iovec iov{data, sizeof data};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  ssize_t n;
  do {
    n = ::recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
  } while (n < 0 && errno == EINTR);
  if (n < 0) return sys_error("receive the pty master");
  cmsghdr* c = CMSG_FIRSTHDR(&msg);
  if (n == 0 || c == nullptr || c->cmsg_type != SCM_RIGHTS)
    return make_error("receive the pty master: no descriptor");
  int fd;
  std::memcpy(&fd, CMSG_DATA(c), sizeof fd);
  return UniqueFd(fd);
}

Result<Pty> open_pty(const std::optional<spec::Box>& size, uid_t uid, gid_t gid) {
  Pty pty;
  pty.master.reset(::open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC));
  if (!pty.master) return sys_error("process.terminal: open /dev/ptmx (is /dev/pts mounted?)");
  if (::unlockpt(pty.master.get()) != 0) return sys_error("process.terminal: unlockpt");
  // TIOCGPTPEER opens the slave through the master: no path lookup to race.
  pty.slave.reset(::ioctl(pty.master.get(), TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC));
  if (!pty.slave) return sys_error("process.terminal: open the pty slave");
  if (::fchown(pty.slave.get(), uid, gid) != 0 && errno != EPERM && errno != EINVAL) {
    return sys_error("process.terminal: chown the pty slave");
  }
  if (size) {
    winsize ws{};
    ws.ws_row = static_cast<unsigned short>(size->height);
    ws.ws_col = static_cast<unsigned short>(size->width);
    if (::ioctl(pty.master.get(), TIOCSWINSZ, &ws) != 0) return sys_error("process.consoleSize");
  }
  return pty;
}

Status attach_terminal(int slave) {
  for (int fd = 0; fd < 3; ++fd) {
    if (::dup2(slave, fd) < 0) return sys_error("process.terminal: dup2");
  }
  if (::ioctl(0, TIOCSCTTY, 0) != 0) return sys_error("process.terminal: TIOCSCTTY");
  return {};
}

}  // namespace mxc::sys
