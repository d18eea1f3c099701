#include "bwrap_proc.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/xattr.h>

#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <map>
#include <string_view>

namespace mxc::bwrap {

void fail(const std::string& msg) {
  throw Error(msg);
}

void fail_errno(const std::string& what) {
  throw Error(what + ": " + std::strerror(errno));
}

namespace {

std::string read_small(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return {};
  std::string out;
  char buf[4096];
  ssize_t n;
  while ((n = ::read(fd.get(), buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
  return out;
}

// Whitespace-separated words. No iostreams in this plugin: the first stream
// would initialise its own copy of libstdc++'s locales on every call.
std::vector<std::string> words(std::string_view text) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i]))) ++i;
    size_t start = i;
    while (i < text.size() && !std::isspace(static_cast<unsigned char>(text[i]))) ++i;
    if (i > start) out.emplace_back(text.substr(start, i - start));
  }
  return out;
}

// The fields of /proc/PID/stat after the command name (which may hold spaces
// and parentheses): fields[0] is the state (field 3).
std::vector<std::string> stat_fields(pid_t pid) {
  std::string s = read_small("/proc/" + std::to_string(pid) + "/stat");
  auto close = s.rfind(')');
  if (close == std::string::npos) return {};
  return words(std::string_view(s).substr(close + 1));
}

std::vector<pid_t> all_pids() {
  std::vector<pid_t> out;
  DIR* d = ::opendir("/proc");
  if (d == nullptr) return out;
  while (dirent* e = ::readdir(d)) {
    char* end = nullptr;
    long v = std::strtol(e->d_name, &end, 10);
    if (end != e->d_name && *end == '\0' && v > 0) out.push_back(static_cast<pid_t>(v));
  }
  ::closedir(d);
  return out;
}

}  // namespace

uint64_t start_time(pid_t pid) {
  auto f = stat_fields(pid);
  return f.size() > 19 ? std::strtoull(f[19].c_str(), nullptr, 10) : 0;
}

bool alive(pid_t pid, uint64_t start) {
  if (pid <= 0) return false;
  auto f = stat_fields(pid);
  if (f.size() <= 19 || f[0] == "Z" || f[0] == "X") return false;
  return start == 0 || std::strtoull(f[19].c_str(), nullptr, 10) == start;
}

uint64_t namespace_inode(pid_t pid, const char* name) {
  struct stat sb {};
  std::string path = "/proc/" + std::to_string(pid) + "/ns/" + name;
  return ::stat(path.c_str(), &sb) == 0 ? sb.st_ino : 0;
}

std::vector<pid_t> pids_in_pid_namespace(uint64_t ns) {
  std::vector<pid_t> out;
  for (pid_t p : all_pids()) {
    if (namespace_inode(p, "pid") == ns) out.push_back(p);
  }
  return out;
}

std::vector<pid_t> process_tree(pid_t pid) {
  std::multimap<pid_t, pid_t> children;
  for (pid_t p : all_pids()) {
    auto f = stat_fields(p);
    if (f.size() > 1) children.emplace(static_cast<pid_t>(std::atoi(f[1].c_str())), p);
  }
  std::vector<pid_t> out{pid};
  for (size_t i = 0; i < out.size(); ++i) {
    auto [lo, hi] = children.equal_range(out[i]);
    for (auto it = lo; it != hi; ++it) out.push_back(it->second);
  }
  return out;
}

Blocked blocked_reading(pid_t pid, int fd) {
  // "NR ARG0 ..." while blocked in a syscall; needs ptrace access, which the
  // creator of the sandbox has (root, or the owner of its user namespace)
  // except for moments of its setup (credential changes make it undumpable).
  std::string path = "/proc/" + std::to_string(pid) + "/syscall";
  UniqueFd f(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  char buf[256];
  ssize_t n = f ? ::read(f.get(), buf, sizeof buf - 1) : -1;
  if (n < 0) {
    if (errno == EACCES || errno == EPERM) return Blocked::kDenied;
    // No such file for a live process: a kernel without it.
    return errno == ENOENT && alive(pid, 0) ? Blocked::kUnknowable : Blocked::kNo;
  }
  buf[n] = '\0';
  auto w = words(std::string_view(buf, static_cast<size_t>(n)));
  return w.size() >= 2 && w[0] == std::to_string(SYS_read) &&
                 std::strtol(w[1].c_str(), nullptr, 16) == fd
             ? Blocked::kYes
             : Blocked::kNo;
}

std::string record_path(const std::string& state_dir) {
  return state_dir + "/bwrap.state";
}

namespace {

constexpr const char* kRecordXattr = "user.mxc.bwrap";

std::string format_record(const Record& r) {
  return std::to_string(r.bwrap_pid) + ' ' + std::to_string(r.bwrap_start) + ' ' +
         std::to_string(r.child_pid) + ' ' + std::to_string(r.child_start) + ' ' +
         std::to_string(r.block_ino) + ' ' + (r.started ? '1' : '0') + '\n';
}

bool parse_record(const std::string& text, Record* r) {
  auto w = words(text);
  if (w.size() < 6) return false;
  uint64_t v[6];
  for (size_t i = 0; i < 6; ++i) {
    char* end = nullptr;
    errno = 0;
    v[i] = std::strtoull(w[i].c_str(), &end, 10);
    if (errno != 0 || end == w[i].c_str() || *end != '\0') return false;
  }
  r->bwrap_pid = static_cast<pid_t>(v[0]);
  r->bwrap_start = v[1];
  r->child_pid = static_cast<pid_t>(v[2]);
  r->child_start = v[3];
  r->block_ino = v[4];
  r->started = v[5] != 0;
  return r->bwrap_pid > 0 && r->child_pid > 0;
}

}  // namespace

void write_record(const std::string& state_dir, const Record& r) {
  std::string text = format_record(r);
  if (::setxattr(state_dir.c_str(), kRecordXattr, text.data(), text.size(), 0) == 0) return;
  // No user xattrs here, or no room left in the attribute block: the file.
  if (errno != ENOTSUP && errno != EPERM && errno != ENOSPC && errno != E2BIG)
    fail_errno("setxattr " + state_dir);
  std::string path = record_path(state_dir);
  std::string tmp = path + ".tmp";
  {
    UniqueFd out(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600));
    if (!out || ::write(out.get(), text.data(), text.size()) != static_cast<ssize_t>(text.size()))
      fail_errno("write " + tmp);
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) fail_errno("rename " + tmp);
  // read_record looks at the attribute first: an older one must not win.
  if (::removexattr(state_dir.c_str(), kRecordXattr) != 0 && errno != ENODATA && errno != ENOTSUP)
    fail_errno("removexattr " + state_dir);
}

bool read_record(const std::string& state_dir, Record* r) {
  char buf[256];
  ssize_t n = ::getxattr(state_dir.c_str(), kRecordXattr, buf, sizeof buf - 1);
  if (n > 0) return parse_record(std::string(buf, static_cast<size_t>(n)), r);
  return parse_record(read_small(record_path(state_dir)), r);
}

}  // namespace mxc::bwrap
