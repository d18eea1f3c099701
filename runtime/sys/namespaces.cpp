#include "mxc/sys/namespaces.hpp"

#include <fcntl.h>
#include <sched.h>

#include <algorithm>
#include <string>

#include "mxc/sys/file_util.hpp"

namespace mxc::sys {

Result<int> namespace_clone_flag(std::string_view type) {
  if (type == "pid") return CLONE_NEWPID;
  if (type == "network") return CLONE_NEWNET;
  if (type == "mount") return CLONE_NEWNS;
  if (type == "ipc") return CLONE_NEWIPC;
  if (type == "uts") return CLONE_NEWUTS;
  if (type == "user") return CLONE_NEWUSER;
  if (type == "cgroup") return CLONE_NEWCGROUP;
  if (type == "time") return CLONE_NEWTIME;
  return make_error("unknown namespace type \"" + std::string(type) + "\"");
}

Result<NamespacePlan> plan_namespaces(const std::vector<spec::Namespace>& namespaces) {
  NamespacePlan plan;
  for (size_t i = 0; i < namespaces.size(); ++i) {
    const auto& ns = namespaces[i];
    auto flag = namespace_clone_flag(ns.type);
    if (!flag) return flag.error().context("linux.namespaces[" + std::to_string(i) + "].type");
    if (!ns.path || ns.path->empty()) {
      plan.create_flags |= *flag;
      continue;
    }
    int fd = ::open(ns.path->c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      return sys_error("linux.namespaces[" + std::to_string(i) + "].path: open " + *ns.path);
    }
    plan.join.push_back(NamespaceJoin{*flag, UniqueFd(fd), *ns.path});
  }
  std::stable_partition(plan.join.begin(), plan.join.end(),
                        [](const NamespaceJoin& j) { return j.flag == CLONE_NEWUSER; });
  return plan;
}

Status join_namespaces(const NamespacePlan& plan) {
  for (const auto& j : plan.join) {
    if (::setns(j.fd.get(), j.flag) != 0) return sys_error("setns " + j.path);
  }
  return {};
}

namespace {
std::string format_mappings(const std::vector<spec::IdMapping>& maps) {
  std::string out;
  for (const auto& m : maps) {
    out += std::to_string(m.containerID) + " " + std::to_string(m.hostID) + " " +
           std::to_string(m.size) + "\n";
  }
  return out;
}
}  // namespace

Status write_id_mappings(pid_t pid, const std::vector<spec::IdMapping>& uids,
                         const std::vector<spec::IdMapping>& gids) {
  std::string base = "/proc/" + std::to_string(pid) + "/";
  if (!uids.empty()) {
    MXC_TRY(write_file(base + "uid_map", format_mappings(uids)));
  }
  if (!gids.empty()) MXC_TRY(write_file(base + "gid_map", format_mappings(gids)));
  return {};
}

}  // namespace mxc::sys
