#include "mxc/sys/sync_channel.hpp"

#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <climits>
#include <vector>

namespace mxc::sys {

Result<std::pair<UniqueFd, UniqueFd>> make_sync_pair() {
  int fds[2];
  if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds) != 0)
    return sys_error("socketpair");
  return std::make_pair(UniqueFd(fds[0]), UniqueFd(fds[1]));
}

Status send_message(int fd, const std::string& msg) {
  ssize_t n;
  do {
    n = ::send(fd, msg.data(), msg.size(), MSG_NOSIGNAL);
  } while (n < 0 && errno == EINTR);
  if (n < 0) return sys_error("sync send");
  return {};
}

Result<std::optional<std::string>> receive_message(int fd) {
  std::string buf(65536, '\0');
  ssize_t n;
  do {
    n = ::recv(fd, buf.data(), buf.size(), 0);
  } while (n < 0 && errno == EINTR);
  if (n < 0) return sys_error("sync receive");
  if (n == 0) return std::optional<std::string>{};
  buf.resize(static_cast<size_t>(n));
  return std::optional<std::string>{std::move(buf)};
}

void close_fds_except(std::vector<int> keep) {
  std::vector<int>& k = keep;
  k.push_back(0);
  k.push_back(1);
  k.push_back(2);
  std::sort(k.begin(), k.end());
  unsigned int from = 0;
  for (int fd : k) {
    if (fd < 0) continue;
    if (static_cast<unsigned>(fd) > from) ::syscall(SYS_close_range, from, fd - 1, 0);
    from = static_cast<unsigned>(fd) + 1;
  }
  ::syscall(SYS_close_range, from, UINT_MAX, 0);
}

}  // namespace mxc::sys
