#include "exec_fifo.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mxc/sys/proc_info.hpp"
#include "mxc/sys/unique_fd.hpp"

namespace mxc::processcontainer {

namespace {
constexpr const char* kFifo = "exec.fifo";
std::string fifo_path(const std::string& state_dir) {
  return state_dir + "/" + kFifo;
}
}  // namespace

Result<sys::UniqueFd> create_exec_fifo(const std::string& state_dir) {
  std::string path = fifo_path(state_dir);
  if (::mkfifo(path.c_str(), 0622) != 0) return sys_error("mkfifo " + path);
  sys::UniqueFd fd(::open(path.c_str(), O_PATH | O_CLOEXEC));
  if (!fd || ::chmod(path.c_str(), 0622) != 0) {
    auto e = sys_error("open " + path);
    ::unlink(path.c_str());
    return e;
  }
  return fd;
}

bool exec_fifo_exists(const std::string& state_dir) {
  struct stat sb {};
  return ::lstat(fifo_path(state_dir).c_str(), &sb) == 0;
}

void remove_exec_fifo(const std::string& state_dir) {
  ::unlink(fifo_path(state_dir).c_str());
}

Result<sys::UniqueFd> wait_for_start(int host_proc_fd, int fifo_fd) {
  std::string link = "self/fd/" + std::to_string(fifo_fd);
  sys::UniqueFd fd;
  do {
    fd.reset(::openat(host_proc_fd, link.c_str(), O_WRONLY | O_CLOEXEC));
  } while (!fd && errno == EINTR);
  if (!fd) return sys_error("open exec fifo");
  return fd;
}

void report_start(int fd, const Status& outcome) {
  // "0" is success; anything else is the error message for `start` to print.
  std::string msg = outcome ? "0" : "E" + outcome.error().message;
  (void)!::write(fd, msg.data(), msg.size());
}

Status release_init(const std::string& state_dir, pid_t pid) {
  std::string path = fifo_path(state_dir);
  // Non-blocking open never waits for a writer; the poll below does, while
  // watching that the init is still alive.
  sys::UniqueFd fd(::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC));
  if (!fd) {
    if (errno == ENOENT) return make_error("container was already started");
    return sys_error("open " + path);
  }
  for (;;) {
    pollfd p{fd.get(), POLLIN, 0};
    int rc = ::poll(&p, 1, 50);
    if (rc < 0 && errno != EINTR) return sys_error("poll " + path);
    if (rc > 0 && (p.revents & POLLIN)) {
      // The init's word: "0", or "E" and why it failed.
      std::string reply;
      char buf[1024];
      ssize_t n;
      while ((n = ::read(fd.get(), buf, sizeof buf)) > 0 || (n < 0 && errno == EINTR)) {
        if (n > 0) reply.append(buf, static_cast<size_t>(n));
        pollfd more{fd.get(), POLLIN, 0};
        if (::poll(&more, 1, 1000) <= 0) break;
      }
      ::unlink(path.c_str());
      if (reply.empty() || reply[0] != '0')
        return make_error(reply.empty() ? "container init gave no answer" : reply.substr(1));
      return {};
    }
    if (!sys::process_alive(pid, 0))
      return make_error("container init (pid " + std::to_string(pid) + ") exited before start");
  }
}

}  // namespace mxc::processcontainer
