#include "mxc/sys/proc_info.hpp"

#include <dirent.h>
#include <sys/stat.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

namespace mxc::sys {

std::optional<ProcStat> read_proc_stat(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!in || !std::getline(in, line)) return std::nullopt;
  // comm may contain spaces and parentheses: fields resume after the last ')'.
  auto close = line.rfind(')');
  if (close == std::string::npos || close + 2 >= line.size()) return std::nullopt;
  std::istringstream rest(line.substr(close + 2));
  ProcStat st;
  rest >> st.state;
  std::string field;
  for (int i = 4; i <= 21 && rest >> field; ++i) {
  }
  rest >> st.start_time;
  if (!rest) return std::nullopt;
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

std::vector<pid_t> pids_in_pid_namespace(uint64_t pidns_inode) {
  std::vector<pid_t> out;
  DIR* dir = ::opendir("/proc");
  if (dir == nullptr) return out;
  while (auto* ent = ::readdir(dir)) {
    char* end = nullptr;
    long pid = std::strtol(ent->d_name, &end, 10);
    if (end == ent->d_name || *end != '\0' || pid <= 0) continue;
    if (namespace_inode(static_cast<pid_t>(pid), "pid") == pidns_inode) {
      out.push_back(static_cast<pid_t>(pid));
    }
  }
  ::closedir(dir);
  return out;
}

}  // namespace mxc::sys
