// Messages between the runtime and the processes it forks while building a
// container, over a SOCK_SEQPACKET pair (one send is one message).
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "mxc/spec/result.hpp"
#include "mxc/sys/unique_fd.hpp"

namespace mxc::sys {

Result<std::pair<UniqueFd, UniqueFd>> make_sync_pair();
Status send_message(int fd, const std::string& msg);
// The next message; std::nullopt at end of stream (every peer closed).
Result<std::optional<std::string>> receive_message(int fd);

// Closes every fd of this process except 0, 1, 2 and `keep` (needed before a
// long-lived child exists: inherited copies would hold the parent's locks).
void close_fds_except(std::vector<int> keep);

}  // namespace mxc::sys
