// The last steps of a container process before execve, shared by the init
// and by `exec`: Landlock, capabilities, user, seccomp, no_new_privs, personality.
#pragma once

#include <optional>
#include <string>

#include "mxc/spec/config.hpp"
#include "mxc/sys/capabilities.hpp"
#include "mxc/sys/landlock.hpp"
#include "mxc/sys/seccomp.hpp"

namespace mxc::processcontainer {

struct ProcessPlan {
  const spec::Process* process = nullptr;
  const std::optional<sys::CapabilitySets>* capabilities = nullptr;
  const std::optional<sys::SeccompFilter>* seccomp = nullptr;  // a NOTIFY one is already loaded
  const std::optional<spec::Personality>* personality = nullptr;
  unsigned preserve_fds = 0;                       // fds 3.. that must survive execve
  const sys::LandlockRuleset* landlock = nullptr;  // the agent policy, when there is one
  int parent_pidfd = -1;  // with die_with_parent: the supervisor, re-checked after the user switch
};

// Never returns: on failure prints one line on stderr and exits 127.
[[noreturn]] void finish_and_exec(const ProcessPlan& plan, const std::string& exe);

// PER_* for linux.personality.domain.
Result<unsigned long> personality_domain(const std::string& domain);

}  // namespace mxc::processcontainer
