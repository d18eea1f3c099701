// The agent policy's file and desktop areas on the process tier.
//
// Policy paths are host paths. allowRead/allowWrite paths become visible in the
// container at the same path (read-only / read-write), or where the bundle
// already shows them (inside the root filesystem, or under a config.json bind
// mount's source); denyRead paths are hidden (an empty mode-000 read-only tmpfs
// over a directory, /dev/null over a file). Deny beats read-only beats
// read-write for the same path, and the most specific path wins. With a
// non-empty allowRead or allowWrite, config.json bind mounts of host paths
// that no allow rule covers are hidden too ("nothing else of the host").
//
// Landlock backs the mounts: every filesystem right is handled, and rights are
// granted so that each path gets its rule's rights (read-only: read, execute,
// list). Landlock grants are inherited by everything beneath, so a directory
// holding a hidden path is split: its other entries get the directory's rights
// one by one and the directory itself only READ_DIR. Consequence: nothing can
// be created, removed or renamed directly in a split directory (EACCES), e.g.
// in "/" when a hidden path is inside the root filesystem or a hidden bind
// mount sits on a directory of it; its existing entries keep their rights, and
// a denied path that does not exist cannot be created. A read-only path inside
// a writable one needs no split: its mount is read-only, and the kernel forbids
// a Landlock-restricted task every mount change (remount, umount, bind), which
// also defeats bind and umount tricks. Landlock checks paths, not inodes: a
// hard link that already exists elsewhere in a visible tree is not covered
// (new links to a hidden file cannot be made).
//
// Desktop (whenever the policy is non-empty): config.json bind mounts that
// would bring a host X11, Wayland, D-Bus, PulseAudio or PipeWire socket in are
// refused, and abstract unix sockets outside the container's Landlock domain
// (e.g. @/tmp/.X11-unix/X0) cannot be connected to, even in the host's
// network namespace.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "mxc/spec/config.hpp"
#include "mxc/spec/result.hpp"
#include "mxc/sys/landlock.hpp"

namespace mxc::processcontainer {

struct FilesystemRules {
  std::vector<std::string> allow_read, allow_write, deny_read;  // absolute host paths
};

// The parts of the compiled policy (mxc_create_request.policy_json) this
// backend enforces.
struct BackendPolicy {
  bool present = false;  // a non-empty policy object: desktop isolation applies
  std::optional<FilesystemRules> filesystem;
  // network.default: "deny" needs a new network namespace (the runtime adds
  // one); the proxy of network.allowDomains is served by mxc-shim.
  std::optional<std::string> network_default;
};

// Refuses, naming the field and the backend, any area or field it does not enforce.
Result<BackendPolicy> parse_backend_policy(const std::string& policy_json);

// Desktop isolation: refuses a config.json mount that would bring a host
// display, bus or audio socket into the container, naming the mount's index.
Status check_desktop_mounts(const spec::Config& config);

// What Landlock enforces, in container paths (kept in the state directory so
// that `exec` applies the same rules).
struct LandlockPlan {
  uint64_t handled_fs = 0;
  uint64_t scoped = 0;
  std::vector<std::pair<std::string, uint64_t>> rules;  // canonical container path -> rights
};
std::string to_json(const LandlockPlan& plan);
Result<LandlockPlan> landlock_plan_from_json(const std::string& text);

// The plan of a policy without file rules (only the desktop scope), and a
// check that the kernel can enforce `policy` at all (before anything starts).
Result<LandlockPlan> base_landlock_plan(const BackendPolicy& policy);

// In the init, after config.json's mounts and before pivot_root: makes the
// allowed host paths visible, hides the denied ones, and fills plan.rules.
Status apply_filesystem_policy(int root_fd, const std::string& rootfs, const spec::Config& config,
                               const FilesystemRules& rules, LandlockPlan& plan);

// Builds the ruleset of `plan` in the current root (after pivot_root, or in a
// process that joined the container's mount namespace). Paths that are gone
// or have become symlinks get no rights.
Result<sys::LandlockRuleset> build_landlock_ruleset(const LandlockPlan& plan);

}  // namespace mxc::processcontainer
