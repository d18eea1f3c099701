// Building a container: the runtime forks a helper that joins and creates the
// namespaces, and the helper forks the container's init (CLONE_PARENT, so the
// runtime is its parent) which sets up the root and waits for `start`.
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

struct InitRequest {
  const spec::Config* config = nullptr;
  std::string state_dir;
  bool no_pivot = false;
  std::optional<sys::CapabilitySets> capabilities;  // validated before fork
  std::string id;                                   // for the hooks' state JSON
  std::string bundle;
  int console_fd = -1;                        // connected console socket when process.terminal
  std::vector<std::string> cgroup_procs;      // cgroup.procs files to join before anything else
  std::optional<sys::SeccompFilter> seccomp;  // compiled before fork, loaded by the init
  unsigned preserve_fds = 0;                  // the caller's fds 3.. kept for the process
  bool die_with_parent = false;  // SIGKILL when the caller (mxc-shim) exits, even after exec
  const BackendPolicy* policy = nullptr;  // parsed agent policy (files, desktop)
  LandlockPlan landlock;                  // its base plan (handled rights, scopes)
};

// The state JSON a hook gets on stdin.
std::string hook_state_json(const InitRequest& req, const char* status, pid_t pid);

// The file in the state directory holding the Landlock plan for `exec`.
std::string landlock_plan_file(const std::string& state_dir);

// Returns the init's pid once it is set up and blocked on the exec fifo. On
// failure the init and helper are killed and reaped.
Result<pid_t> spawn_container(const InitRequest& req);

}  // namespace mxc::processcontainer
