// Small Linux helpers for the bubblewrap backend: owned fds, /proc queries and
// the backend's files in the container's state directory.
#pragma once

#include <sys/types.h>
#include <unistd.h>

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace mxc::bwrap {

// The backend's errors: one line, naming what is wrong. The plugin table turns
// them into the runtime's error buffer (mxc::sdk::guard).
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

[[noreturn]] void fail(const std::string& msg);
// `what: strerror(errno)`.
[[noreturn]] void fail_errno(const std::string& what);

class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  UniqueFd(UniqueFd&& o) noexcept : fd_(o.release()) {}
  UniqueFd& operator=(UniqueFd&& o) noexcept {
    reset(o.release());
    return *this;
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  ~UniqueFd() { reset(); }

  int get() const { return fd_; }
  explicit operator bool() const { return fd_ >= 0; }
  int release() {
    int fd = fd_;
    fd_ = -1;
    return fd;
  }
  void reset(int fd = -1) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
  }

 private:
  int fd_ = -1;
};

// Field 22 of /proc/PID/stat (clock ticks since boot), 0 when there is no such process.
uint64_t start_time(pid_t pid);
// True when PID exists, is not a zombie and (if `start` is non-zero) is the same process.
bool alive(pid_t pid, uint64_t start);
// The inode of /proc/PID/ns/NAME, 0 when unreadable.
uint64_t namespace_inode(pid_t pid, const char* name);
// Every process whose pid namespace is `ns`.
std::vector<pid_t> pids_in_pid_namespace(uint64_t ns);
// PID and its descendants (by parent pid).
std::vector<pid_t> process_tree(pid_t pid);
// Whether PID is blocked in read(2) on its file descriptor `fd`.
enum class Blocked {
  kYes,
  kNo,
  kDenied,      // no ptrace access right now
  kUnknowable,  // this kernel has no /proc/PID/syscall
};
Blocked blocked_reading(pid_t pid, int fd);

// What create() leaves in the state directory for the later commands.
struct Record {
  pid_t bwrap_pid = 0;
  uint64_t bwrap_start = 0;
  pid_t child_pid = 0;  // the sandboxed init, as the host sees it
  uint64_t child_start = 0;
  uint64_t block_ino = 0;  // the start pipe, the child's kBlockFd until start
  bool started = false;
};

// The record is an extended attribute of the state directory: creating a
// file costs a new inode, which on some filesystems (ext4 here) takes most of
// a millisecond, several times what the whole attribute write does. Where
// the filesystem has no user xattrs, a file in the directory instead.
std::string record_path(const std::string& state_dir);
void write_record(const std::string& state_dir, const Record& r);
// False when there is none (a create that failed before writing it).
bool read_record(const std::string& state_dir, Record* r);

}  // namespace mxc::bwrap
