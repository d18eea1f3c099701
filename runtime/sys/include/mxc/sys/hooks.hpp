// OCI hooks: a program run with the container state on its stdin.
#pragma once

#include <string>
#include <vector>

#include "mxc/spec/config.hpp"
#include "mxc/spec/result.hpp"

namespace mxc::sys {

// Runs `hook` with `state_json` on stdin, honouring its timeout (seconds).
// Errors name the hook ("hooks.createRuntime[1]") and say how it failed, with
// the last line of what it wrote to stderr.
Status run_hook(const spec::Hook& hook, const std::string& state_json, const std::string& name);

// Runs each hook of one kind in order; stops at the first failure.
Status run_hooks(const std::vector<spec::Hook>& hooks, const std::string& state_json,
                 const char* kind);

}  // namespace mxc::sys
