// /dev inside a container: the default nodes, linux.devices, and the symlinks.
#pragma once

#include <vector>

#include "mxc/spec/config.hpp"
#include "mxc/spec/result.hpp"

namespace mxc::sys {

// Creates each device under the root. In a user namespace, where mknod is
// refused, the host's node is bind-mounted instead (as runc does).
Status create_devices(int root_fd, const std::vector<spec::Device>& devices, bool bind_from_host);

// The devices every container gets: null zero full random urandom tty.
std::vector<spec::Device> default_devices();

// /dev/fd, /dev/stdin, /dev/stdout, /dev/stderr, /dev/core, and /dev/ptmx when /dev/pts exists.
Status create_dev_symlinks(int root_fd);

}  // namespace mxc::sys
