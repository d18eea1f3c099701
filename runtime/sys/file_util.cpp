#include "mxc/sys/file_util.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mxc/sys/unique_fd.hpp"

namespace mxc::sys {

Status write_file(const std::string& path, const std::string& content) {
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CLOEXEC | O_TRUNC));
  if (!fd) return sys_error("open " + path);
  ssize_t n = ::write(fd.get(), content.data(), content.size());
  if (n < 0) return sys_error("write " + path);
  if (static_cast<size_t>(n) != content.size())
    return make_error("write " + path + ": short write");
  return {};
}

Result<std::string> read_file(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return sys_error("open " + path);
  std::string out;
  char buf[8192];
  for (;;) {
    ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0) return sys_error("read " + path);
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

Status write_file_atomic(const std::string& path, const std::string& content, int mode) {
  // A name of our own, never followed through a planted symlink.
  std::string tmp = path + ".tmp." + std::to_string(::getpid());
  UniqueFd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode));
  if (!fd) return sys_error("write " + path);
  const char* p = content.data();
  size_t left = content.size();
  while (left > 0) {
    ssize_t n = ::write(fd.get(), p, left);
    if (n < 0) {
      int err = errno;
      ::unlink(tmp.c_str());
      return sys_error("write " + path, err);
    }
    p += n;
    left -= static_cast<size_t>(n);
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    return sys_error("write " + path, err);
  }
  return {};
}

Status check_pid_file(const std::string& path) {
  struct stat sb {};
  if (::lstat(path.c_str(), &sb) == 0 && !S_ISREG(sb.st_mode)) {
    return make_error("--pid-file: " + path + ": exists and is not a regular file");
  }
  return {};
}

Status write_pid_file(const std::string& path, long pid) {
  MXC_TRY(check_pid_file(path));
  if (auto st = write_file_atomic(path, std::to_string(pid), 0644); !st) {
    return st.error().context("--pid-file");
  }
  return {};
}

}  // namespace mxc::sys
