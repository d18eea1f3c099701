// process.capabilities: the five capability sets, applied across the switch to
// the container user.
#pragma once

#include <cstdint>

#include "mxc/spec/config.hpp"
#include "mxc/spec/result.hpp"

namespace mxc::sys {

struct CapabilitySets {
  uint64_t bounding = 0;
  uint64_t effective = 0;
  uint64_t permitted = 0;
  uint64_t inheritable = 0;
  uint64_t ambient = 0;
};

// Validates names (errors name the set, index and capability) and builds bit
// masks. Capabilities this kernel does not know are left out, as runc does.
Result<CapabilitySets> parse_capabilities(const spec::Capabilities& caps);

// Before switch_user: drop the bounding set and keep the permitted set across setuid.
Status prepare_capabilities(const CapabilitySets& sets);
// After switch_user: set effective, permitted, inheritable, then raise ambient.
Status apply_capabilities(const CapabilitySets& sets);

}  // namespace mxc::sys
