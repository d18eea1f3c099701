// The agent policy (mxc_create_request.policy_json) in bwrap terms, with the
// meaning processcontainer gives it.
//
// Files: policy paths are host paths. allowRead/allowWrite paths are shown at
// the same path (--ro-bind / --bind), or where the bundle already shows them
// (inside the root filesystem, or under a config.json bind mount's source);
// denyRead paths are hidden (an empty mode-000 tmpfs, later remounted
// read-only, over a directory; /dev/null over anything else). Deny beats
// read-only beats read-write for the same path, and the most specific path
// wins. With a non-empty allowRead or allowWrite, config.json bind mounts of
// host paths that no allow rule covers are hidden too. bwrap applies its
// options in order, so each policy mount goes right after the mount it lies
// in (the root or a config.json mount), parents before children, and the
// read-only remounts (not recursive: a writable mount inside stays writable)
// after everything else.
//
// Unlike processcontainer there is no Landlock file ruleset behind the
// mounts: what holds them is that the sandbox cannot undo them. Its
// capabilities are only config.json's (bwrap drops the rest) and, in a user
// namespace, mounts made by bwrap are locked for every namespace nested in
// it. A config that keeps CAP_SYS_ADMIN outside a user namespace is refused
// with a file policy. A denied path that does not exist is not covered (a
// mount point would have to be created on the host), so the sandbox may
// create it where its parent is writable. Paths are compared as written
// (canonical host paths, config.json destinations normalised): a destination
// that leads through a symlink inside the root filesystem is not resolved.
//
// Network: default deny needs a network namespace (the runtime adds one to
// config.json): --unshare-net, with only loopback. The proxy of allowDomains
// is served by mxc-shim in the namespace of the pid create() returns.
//
// Desktop (with any policy): config.json bind mounts bringing a host X11,
// Wayland, D-Bus, PulseAudio or PipeWire socket in are refused naming the
// mount; abstract unix sockets of the host (@/tmp/.X11-unix/X0) are out of
// reach through a Landlock scope (ABI 6) that the process exec'ing bwrap
// takes on, and that bwrap and the sandbox inherit; on an older kernel only
// a new network namespace (abstract sockets are per namespace) does it, and
// a policy without one is refused.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "bwrap_proc.hpp"

namespace mxc::bwrap {

struct FileRules {
  std::vector<std::string> allow_read, allow_write, deny_read;  // canonical host paths
};

struct Policy {
  bool present = false;  // a non-empty policy: desktop isolation applies
  std::optional<FileRules> filesystem;
  std::optional<std::string> network_default;  // "deny" or "allow"
  bool proxy = false;                          // network.proxy: served by mxc-shim
};

// Refuses, naming the field and the backend, what this backend does not enforce.
Policy parse_policy(const std::string& policy_json);

// A config.json mount, as the policy sees it.
struct MountInfo {
  std::string dest;    // normalised
  std::string source;  // a bind's source as given (relative ones made absolute)
  std::string real;    // realpath of a bind's source
  bool bind = false;
};

// Refuses a bind mount that would bring a host display, bus or audio socket
// in, naming the mount's index.
void check_desktop_mounts(const std::vector<MountInfo>& mounts);

struct PolicyMounts {
  // after[0] goes right after the root's bind, after[i + 1] right after
  // config.json's mounts[i]; last after everything else.
  std::vector<std::vector<std::string>> after;
  std::vector<std::string> last;
};
// `tmpfs_perms`: bwrap takes --perms and --size (0.5.0 and later).
PolicyMounts plan_policy_mounts(const FileRules& rules, const std::string& root,
                                const std::vector<MountInfo>& mounts, bool tmpfs_perms);

// The Landlock ABI of the running kernel, 0 without Landlock.
int landlock_abi();
// A ruleset that handles no file access and scopes abstract unix sockets:
// restricting a process with it keeps it from connecting to abstract
// sockets made outside its domain.
UniqueFd abstract_unix_scope_ruleset();

}  // namespace mxc::bwrap
