// Switching the container's root: propagation, pivot_root (or MS_MOVE+chroot),
// read-only root.
#pragma once

#include <optional>
#include <string>

#include "mxc/spec/result.hpp"

namespace mxc::sys {

// MS_* flag for linux.rootfsPropagation ("shared", "rslave", ...).
Result<unsigned long> propagation_flag(const std::string& name);

// Makes "/" not propagate to the host and bind-mounts `rootfs` over itself so it
// is a mount point that pivot_root accepts.
Status prepare_root_mount(const std::string& rootfs, unsigned long root_propagation);

// Makes `rootfs` the process's root. pivot_root detaches the old root entirely;
// with `no_pivot` (for roots on ramfs, where pivot_root fails) MS_MOVE + chroot.
Status enter_root(const std::string& rootfs, bool no_pivot);

// After enter_root: "/" read-only, and the requested propagation.
Status finish_root(bool readonly, std::optional<unsigned long> propagation);

}  // namespace mxc::sys
