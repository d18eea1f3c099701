// Linux namespaces: OCI type names, which to create, which to join by path.
#pragma once

#include <sys/types.h>

#include <string_view>
#include <vector>

#include "mxc/spec/config.hpp"
#include "mxc/spec/result.hpp"
#include "mxc/sys/unique_fd.hpp"

namespace mxc::sys {

// CLONE_NEW* for an OCI namespace type ("pid", "network", ...).
Result<int> namespace_clone_flag(std::string_view type);

struct NamespaceJoin {
  int flag = 0;
  UniqueFd fd;
  std::string path;
};

struct NamespacePlan {
  int create_flags = 0;             // namespaces to unshare
  std::vector<NamespaceJoin> join;  // user namespace first, as setns requires
};

// Opens every namespace named by path now, before anything changes the caller's view.
Result<NamespacePlan> plan_namespaces(const std::vector<spec::Namespace>& namespaces);

// setns() into each joined namespace; the caller must be single-threaded.
Status join_namespaces(const NamespacePlan& plan);

// Writes /proc/<pid>/{uid_map,gid_map}.
Status write_id_mappings(pid_t pid, const std::vector<spec::IdMapping>& uids,
                         const std::vector<spec::IdMapping>& gids);

}  // namespace mxc::sys
