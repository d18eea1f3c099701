// Network interfaces of the calling thread's network namespace.
#pragma once

#include "mxc/spec/result.hpp"

namespace mxc::sys {

// Sets IFF_UP on `lo` (a new network namespace starts with it down, so even
// 127.0.0.1 is unreachable). Needs CAP_NET_ADMIN over the namespace.
Status bring_up_loopback();

}  // namespace mxc::sys
