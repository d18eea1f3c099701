// The create/start split: the container's init blocks opening a FIFO in the
// state dir for writing; `start` opens it for reading, which releases it.
#pragma once

#include <sys/types.h>

#include <string>

#include "mxc/spec/result.hpp"
#include "mxc/sys/unique_fd.hpp"

namespace mxc::processcontainer {

// Makes the fifo and returns an O_PATH fd of it for the init. Mode 0622 so that
// an init whose root is mapped to another host uid can reopen it; the 0700
// state dir keeps everyone else from reaching it by path.
Result<sys::UniqueFd> create_exec_fifo(const std::string& state_dir);
bool exec_fifo_exists(const std::string& state_dir);
void remove_exec_fifo(const std::string& state_dir);

// In the init, after pivot_root: reopens `fifo_fd` for writing through the
// host's /proc (`host_proc_fd`), which blocks until `start`. The init then
// reports with report_start: `start` succeeds only on its word.
Result<sys::UniqueFd> wait_for_start(int host_proc_fd, int fifo_fd);
void report_start(int fd, const Status& outcome);

// In `start`: unblocks the init `pid`; fails if it dies first.
Status release_init(const std::string& state_dir, pid_t pid);

}  // namespace mxc::processcontainer
