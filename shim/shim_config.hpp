// What one mxc-shim is told to do: its command line (the fds it inherits)
// and shim.json in the container's state directory (everything else).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "mxc/spec/result.hpp"

namespace mxc::shim {

enum class Mode {
  kParent,   // the container's parent and reaper (standalone use)
  kMonitor,  // another supervisor is the parent; we watch through a pidfd
};

struct ShimConfig {
  // From the command line.
  std::string state_dir;
  pid_t pid = 0;
  int ready_fd = -1;  // gets "R" once serving, or "E<message>"
  int stdout_fd = -1;
  int stderr_fd = -1;
  int console_fd = -1;  // a pty master the shim holds and logs
  // The caller's stdout and stderr at create: the output is passed on there too.
  int forward_stdout_fd = -1;
  int forward_stderr_fd = -1;
  // From shim.json.
  std::string id;
  Mode mode = Mode::kParent;
  std::string cgroup;  // killed as a whole at the timeout
  uint64_t log_max_bytes = 1 << 20;
  std::optional<uint64_t> timeout_ms;
  nlohmann::json agent;                  // for audit lines; null without a policy
  std::vector<std::string> audit_files;  // empty: no audit
  bool audit_exit = true;  // false: the runtime audits the exit itself (foreground run)
  nlohmann::json proxy;    // null, or the egress proxy's rules
};

// Parses `mxc-shim STATE_DIR --pid N [--ready-fd N] [--stdout-fd N]
// [--stderr-fd N] [--console-fd N]` and reads STATE_DIR/shim.json.
Result<ShimConfig> load_shim_config(int argc, char** argv);

}  // namespace mxc::shim
