// What the container's init applies to itself before exec: identity, limits,
// kernel parameters, and finding the program.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "mxc/spec/config.hpp"
#include "mxc/spec/result.hpp"

namespace mxc::sys {

Status set_host_and_domain_name(const std::string& hostname, const std::string& domainname);

// Writes each key under /proc/sys ("net.ipv4.ip_forward" -> net/ipv4/ip_forward).
Status apply_sysctls(const std::map<std::string, std::string>& sysctl);

// RLIMIT_* number for an OCI rlimit type name.
Result<int> rlimit_resource(const std::string& type);
Status apply_rlimits(const std::vector<spec::Rlimit>& rlimits);

Status set_oom_score_adj(int value);

// setgroups, setresgid, setresuid. Afterwards the process has the config's ids.
Status switch_user(const spec::User& user);

// Resolves args[0] like execvp, with the PATH of the container's env.
Result<std::string> find_executable(const std::string& arg0, const std::vector<std::string>& env);

// execve; returns only on failure.
Error exec_process(const std::string& path, const std::vector<std::string>& args,
                   const std::vector<std::string>& env);

}  // namespace mxc::sys
