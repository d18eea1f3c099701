// What /proc tells about a process: liveness, start time (to detect pid reuse),
// namespace identity.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace mxc::sys {

struct ProcStat {
  char state = '?';  // R S D Z T X ...
  pid_t ppid = 0;
  uint64_t start_time = 0;  // clock ticks since boot (field 22)
};

std::optional<ProcStat> read_proc_stat(pid_t pid);

// True when `pid` exists, is not a zombie, and (when start_time != 0) started
// at `start_time`, so a recycled pid is not mistaken for the container.
bool process_alive(pid_t pid, uint64_t start_time);

// Inode of /proc/<pid>/ns/<type>, or 0.
uint64_t namespace_inode(pid_t pid, const char* type);

// `root` and every process descended from it (by parent links in /proc).
std::vector<pid_t> process_tree(pid_t root);

// SIGKILL and reap a child of this process (no-op for pid <= 0).
void kill_and_reap(pid_t pid);

// Every pid whose pid namespace is `pidns_inode`.
std::vector<pid_t> pids_in_pid_namespace(uint64_t pidns_inode);

}  // namespace mxc::sys
