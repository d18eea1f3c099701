// Mounts inside a container's root: option parsing, resolving targets without
// following symlinks out of the root, and every mount type the OCI config names.
#pragma once

#include <string>
#include <vector>

#include "mxc/spec/config.hpp"
#include "mxc/spec/result.hpp"
#include "mxc/sys/unique_fd.hpp"

namespace mxc::sys {

struct MountOptions {
  unsigned long flags = 0;                 // MS_* to set
  unsigned long clear = 0;                 // MS_* the options turn off ("rw", "suid", ...)
  std::vector<unsigned long> propagation;  // MS_SHARED, MS_PRIVATE, ... (with MS_REC)
  unsigned long long attr_set = 0;         // MOUNT_ATTR_* for recursive options (rro, ...)
  unsigned long long attr_clr = 0;
  std::string data;  // filesystem-specific options ("size=64m,mode=755")
  [[nodiscard]] bool bind() const;
};

Result<MountOptions> parse_mount_options(const std::vector<std::string>& options);

// Opens `path` (absolute, interpreted inside the root) as an O_PATH fd.
// Symlinks are resolved inside the root (openat2 RESOLVE_IN_ROOT), so nothing
// outside it can be reached. With `create`, missing directories are made, and
// the last component is made as an empty file when `as_file`.
Result<UniqueFd> open_in_root(int root_fd, const std::string& path, bool create, bool as_file);

// "/proc/self/fd/N": how a mount(2) call names an fd-resolved target.
std::string fd_path(int fd);

struct MountContext {
  int root_fd = -1;                // the container's rootfs (before pivot_root)
  bool in_user_namespace = false;  // mknod and some fs types are refused there
  bool new_cgroup_namespace = false;
};

// Performs one entry of config.json `mounts`. Errors name the destination.
Status mount_entry(const MountContext& ctx, const spec::Mount& m);

// Mounts tmpfs or /dev/null over each path (they must not be readable).
Status mask_paths(const std::vector<std::string>& paths);
// Bind-mounts each path over itself read-only.
Status make_paths_readonly(const std::vector<std::string>& paths);

// Remounts the bind mount at `fd` with `flags`, keeping the flags that a user
// namespace locks (nosuid, nodev, noexec, ...).
Status remount_bind(int fd, unsigned long flags);

}  // namespace mxc::sys
