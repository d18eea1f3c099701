// config.json mapped to a bwrap command line.
#pragma once

#include <sys/resource.h>
#include <sys/types.h>

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "bwrap_policy.hpp"

namespace mxc::bwrap {

// Where the launcher puts the descriptors bwrap is told about.
inline constexpr int kBlockFd = 3;    // --block-fd: the start pipe
inline constexpr int kInfoFd = 4;     // --info-fd: bwrap reports the child's pid
inline constexpr int kSeccompFd = 5;  // --seccomp: the compiled filter

struct ArgsOptions {
  std::string bundle;  // relative mount sources are relative to it
  uid_t euid = 0;      // who runs bwrap: root or not decides the user namespace
  gid_t egid = 0;
  bool foreground = false;         // the caller waits: tie the sandbox to it
  bool autostart = false;          // no start pipe: the command runs at once
  bool tmpfs_options = false;      // bwrap understands --size and --perms
  bool seccomp = false;            // a filter waits at kSeccompFd
  const Policy* policy = nullptr;  // the agent policy, if any
  int landlock_abi = 0;            // of the running kernel (asked only with a policy)
};

// What bwrap cannot set but inherits from the process that execs it.
struct Inherited {
  std::vector<std::pair<int, rlimit>> rlimits;
  std::optional<int> oom_score_adj;
  std::optional<mode_t> umask;
  std::optional<int> io_priority;  // ioprio_set(2) value
};

struct Plan {
  std::vector<std::string> args;  // bwrap's options and the command, without argv[0]
  Inherited inherited;
  // The process exec'ing bwrap takes on a Landlock domain scoping abstract
  // unix sockets (see bwrap_policy.hpp, desktop).
  bool scope_abstract_unix = false;
  // The process exec'ing bwrap enters a new network namespace (with loopback
  // up) instead of bwrap's --unshare-net.
  bool new_netns = false;
};

// Validates what the bubblewrap backend can honour (anything it cannot is a
// one-line error naming the field) and builds the command line.
Plan plan_bwrap(const nlohmann::json& config, const ArgsOptions& opt);

// True when some tmpfs mount asks for a size or a mode.
bool wants_tmpfs_options(const nlohmann::json& config);

}  // namespace mxc::bwrap
