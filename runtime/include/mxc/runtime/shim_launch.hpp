// Starting a container's mxc-shim, in one of two modes (see shim/README.md):
//
// parent:  standalone use (create/start, run --detach from a shell). A forked
//          child becomes session leader and child subreaper, lets the backend
//          create the container (so the init is its child), then execs
//          mxc-shim, which reaps the init, records its exit and logs its output.
// monitor: an external supervisor (conmon, containerd's shim) is the init's
//          parent. A shim runs only when the container has per-container
//          services (timeout, audit, egress proxy), watching through a pidfd.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <string>

#include "mxc/spec/result.hpp"

namespace mxc::runtime {

enum class ShimMode { kAuto, kParent, kMonitor };

// "auto", "parent", "monitor" (the --shim global flag).
Result<ShimMode> parse_shim_mode(const std::string& text);

// True when our caller is a child subreaper that will adopt the container's
// init once we exit (conmon and containerd's shims are). Found out by forking
// a probe whose parent exits: the kernel re-parents it to the nearest
// subreaper, and the probe reports who that is.
bool caller_is_subreaper();

// mxc-shim beside this executable.
std::string shim_executable();

struct ShimProcess {
  pid_t shim_pid = 0;
  uint64_t shim_start_time = 0;
  pid_t init_pid = 0;
};

// Runs in the future shim: creates the container (the backend's init becomes
// our child) and returns its pid. `console_fd` is a socket on which the
// backend sends the pty master when the shim holds the console, else -1.
using CreateInShim = std::function<Result<pid_t>(int console_fd)>;

// Parent mode. Returns once the shim serves; on error nothing of the shim is
// left (a container the backend made is the caller's to destroy).
Result<ShimProcess> launch_parent_shim(const std::string& state_dir, bool hold_console,
                                       const CreateInShim& create);
// Monitor mode, for an init that already exists.
Result<ShimProcess> launch_monitor_shim(const std::string& state_dir, pid_t init_pid);

}  // namespace mxc::runtime
