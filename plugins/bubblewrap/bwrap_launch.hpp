// Starting bwrap for create(): a child of the caller, blocked before exec.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "bwrap_args.hpp"

namespace mxc::bwrap {

// The bwrap binary, or a one-line error naming the package.
std::string find_bwrap();
// True when this bwrap parses --size/--perms for --tmpfs (0.5.0 and later).
bool bwrap_has_tmpfs_options(const std::string& bwrap);

struct LaunchRequest {
  std::string bwrap;
  const Plan* plan = nullptr;
  std::vector<std::string> cgroup_procs;  // joined before exec, so bwrap and the sandbox are in
  int block_fd = -1;                      // becomes kBlockFd (none: the command runs at once)
  int seccomp_fd = -1;                    // becomes kSeccompFd, if any
  int landlock_fd = -1;                   // a ruleset to restrict bwrap (and so the sandbox) with
  // false: return once bwrap reported its child (start follows at once, and
  // a setup failure shows as bwrap's exit status with its message on stderr).
  bool wait_for_setup = true;
};

struct Launched {
  pid_t bwrap_pid = 0;  // our child; exits with the sandboxed process's status
  pid_t child_pid = 0;  // the sandboxed process (pid 1 in its pid namespace), host view
};

// Runs bwrap and returns once the sandbox is set up and its process waits on
// the block fd (or, without wait_for_setup, once bwrap reported the child's
// pid); on failure nothing it started is left (killed and reaped).
Launched launch_bwrap(const LaunchRequest& req);

}  // namespace mxc::bwrap
