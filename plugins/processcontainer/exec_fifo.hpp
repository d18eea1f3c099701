// The create/start split: the container's init blocks opening a FIFO in the
// state dir for writing; `start` opens it for reading, which releases it.
#pragma once

#include <sys/types.h>

#include <string>

#include "mxc/spec/result.hpp"

namespace mxc::processcontainer {

Status create_exec_fifo(const std::string& state_dir);
bool exec_fifo_exists(const std::string& state_dir);
void remove_exec_fifo(const std::string& state_dir);

// In the init, through an O_PATH fd of the state dir (the path is gone after
// pivot_root): blocks until `start`.
Status wait_for_start(int state_dir_fd);

// In `start`: unblocks the init `pid`; fails if it dies first.
Status release_init(const std::string& state_dir, pid_t pid);

}  // namespace mxc::processcontainer
