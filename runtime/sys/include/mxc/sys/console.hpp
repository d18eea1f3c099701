// process.terminal: the pty made inside the container, whose master goes to
// the caller over a unix socket (SCM_RIGHTS), as runc's --console-socket does.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>

#include "mxc/spec/config.hpp"
#include "mxc/spec/result.hpp"
#include "mxc/sys/unique_fd.hpp"

namespace mxc::sys {

// Connects to the caller's console socket; the error names the flag and path.
Result<UniqueFd> connect_console_socket(const std::string& path);

Status send_fd(int sock, int fd, const std::string& payload);
Result<UniqueFd> receive_fd(int sock);

struct Pty {
  UniqueFd master;
  UniqueFd slave;
};

// Opens a new pty from /dev/ptmx (the container's, after pivot_root), sized
// `size`, its slave owned by uid:gid.
Result<Pty> open_pty(const std::optional<spec::Box>& size, uid_t uid, gid_t gid);

// Makes `slave` the process's stdio and controlling terminal (after setsid).
Status attach_terminal(int slave);

}  // namespace mxc::sys
