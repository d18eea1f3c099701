// A foreground `run` or `exec`: forward the caller's signals to the container
// process and, when it has a terminal, relay the caller's terminal to the pty.
#pragma once

#include <sys/types.h>

#include "mxc/spec/result.hpp"

namespace mxc::runtime {

// Returns once `pid` (a child of this process) has exited, without reaping it.
// With `pty_master` >= 0: the caller's stdin goes to the pty (the caller's
// terminal in raw mode meanwhile), its output to stdout, and window size
// changes follow SIGWINCH.
Status wait_forwarding(pid_t pid, int pty_master);

}  // namespace mxc::runtime
