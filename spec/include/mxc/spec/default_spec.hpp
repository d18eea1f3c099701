// The config.json that `mxc spec` writes: the same document as `runc spec`
// (runc 1.1) so that tools and tutorials written for runc work unchanged.
#pragma once

#include <cstdint>

#include <nlohmann/json.hpp>

namespace mxc::spec {

// `rootless` mirrors `runc spec --rootless`: a user namespace mapping
// container root to the caller's effective uid/gid, no network namespace, no
// device cgroup rules, /sys bind-mounted and no gid= on devpts.
nlohmann::json default_spec(bool rootless);

// As above with explicit host ids for the rootless mappings (testable without
// depending on who runs the tests).
nlohmann::json default_spec(bool rootless, uint32_t host_uid, uint32_t host_gid);

}  // namespace mxc::spec
