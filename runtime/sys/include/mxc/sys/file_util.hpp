// Small file helpers whose errors name the path.
#pragma once

#include <string>

#include "mxc/spec/result.hpp"

namespace mxc::sys {

// Writes `content` with one write(2) (as /proc and /sys files require).
Status write_file(const std::string& path, const std::string& content);

Result<std::string> read_file(const std::string& path);

// Writes `content` to a temporary file beside `path` and renames it
// over `path`, so readers see the old or the new content, never a mix.
Status write_file_atomic(const std::string& path, const std::string& content, int mode = 0600);

// --pid-file: the pid, written atomically (mode 0644). Refuses a path that
// exists as anything but a regular file: the rename would replace it (a
// device such as /dev/null, a directory, a socket).
Status write_pid_file(const std::string& path, long pid);
// The same refusal, for checking before anything is started.
Status check_pid_file(const std::string& path);

}  // namespace mxc::sys
