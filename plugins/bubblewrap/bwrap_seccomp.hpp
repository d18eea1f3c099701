// linux.seccomp compiled to classic BPF for bwrap's --seccomp.
#pragma once

#include <nlohmann/json.hpp>

#include "bwrap_proc.hpp"

namespace mxc::bwrap {

// The filter of `seccomp` (an OCI linux.seccomp object) as BPF in a memfd at
// offset 0, ready to hand to bwrap, which reads it to EOF.
UniqueFd compile_seccomp(const nlohmann::json& seccomp);

}  // namespace mxc::bwrap
