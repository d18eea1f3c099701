// `exec`: another process in a running container, in all its namespaces, its
// cgroup, and under its security settings.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include "filesystem_policy.hpp"
#include "mxc/spec/config.hpp"
#include "mxc/spec/result.hpp"
#include "mxc/sys/capabilities.hpp"
#include "mxc/sys/seccomp.hpp"

namespace mxc::processcontainer {

struct ExecRequest {
  pid_t init_pid = 0;
  const spec::Config* config = nullptr;    // the container's (namespaces, personality)
  const spec::Process* process = nullptr;  // what to run
  std::optional<sys::CapabilitySets> capabilities;
  std::optional<sys::SeccompFilter> seccomp;
  int console_fd = -1;
  std::vector<std::string> cgroup_procs;
  unsigned preserve_fds = 0;
  std::optional<LandlockPlan> landlock;  // the container's, applied to this process too
};

// Returns the new process's pid once it is about to exec (a child of the caller).
Result<pid_t> exec_in_container(const ExecRequest& req);

}  // namespace mxc::processcontainer
