#include "mxc/sys/proc_info.hpp"

#include <dirent.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <cstdlib>

#include "mxc/sys/file_util.hpp"

namespace mxc::sys {

std::optional<ProcStat> read_proc_stat(pid_t pid) {
  auto text = read_file("/proc/" + std::to_string(pid) + "/stat");
  if (!text) return std::nullopt;
  const std::string& line = *text;
  // comm may contain spaces and parentheses: fields resume after the last ')'.
  auto close = line.rfind(')');
  if (close == std::string::npos || close + 2 >= line.size()) return std::nullopt;
  ProcStat st;
  st.state = line[close + 2];
  st.ppid = static_cast<pid_t>(std::strtol(line.c_str() + close + 4, nullptr, 10));
  // Field 3 is the state; the start time is field 22.
  size_t pos = close + 2;
  for (int field = 3; field < 22; ++field) {
    pos = line.find(' ', pos);
    if (pos == std::string::npos) return std::nullopt;
    ++pos;
  }
  st.start_time = std::strtoull(line.c_str() + pos, nullptr, 10);
  return st;
}

bool process_alive(pid_t pid, uint64_t start_time) {
  if (pid <= 0) return false;
  auto st = read_proc_stat(pid);
  if (!st || st->state == 'Z' || st->state == 'X') return false;
  return start_time == 0 || st->start_time == start_time;
}

uint64_t namespace_inode(pid_t pid, const char* type) {
  struct stat sb {};
  std::string path = "/proc/" + std::to_string(pid) + "/ns/" + type;
  if (::stat(path.c_str(), &sb) != 0) return 0;
  return sb.st_ino;
}

namespace {
template <class Fn>
void for_each_pid(Fn&& fn) {
  DIR* dir = ::opendir("/proc");
  if (dir == nullptr) return;
  while (auto* ent = ::readdir(dir)) {
    char* end = nullptr;
    long pid = std::strtol(ent->d_name, &end, 10);
    if (end != ent->d_name && *end == '\0' && pid > 0) fn(static_cast<pid_t>(pid));
  }
  ::closedir(dir);
}
}  // namespace

void kill_and_reap(pid_t pid) {
  if (pid <= 0) return;
  ::kill(pid, SIGKILL);
  while (::waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
  }
}

std::vector<pid_t> process_tree(pid_t root) {
  std::vector<std::pair<pid_t, pid_t>> links;  // (pid, ppid)
  for_each_pid([&](pid_t pid) {
    if (auto st = read_proc_stat(pid)) links.emplace_back(pid, st->ppid);
  });
  std::vector<pid_t> tree{root};
  for (size_t i = 0; i < tree.size(); ++i) {
    for (const auto& [pid, ppid] : links) {
      if (ppid == tree[i]) tree.push_back(pid);
    }
  }
  return tree;
}

std::vector<pid_t> pids_in_pid_namespace(uint64_t pidns_inode) {
  std::vector<pid_t> out;
  for_each_pid([&](pid_t pid) {
    if (namespace_inode(pid, "pid") == pidns_inode) out.push_back(pid);
  });
  return out;
}

}  // namespace mxc::sys
