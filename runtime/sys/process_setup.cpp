#include "mxc/sys/process_setup.hpp"

#include <grp.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <string_view>

#include "mxc/sys/file_util.hpp"

namespace mxc::sys {

Status set_host_and_domain_name(const std::string& hostname, const std::string& domainname) {
  if (!hostname.empty() && ::sethostname(hostname.data(), hostname.size()) != 0) {
    return sys_error("hostname: sethostname \"" + hostname + "\"");
  }
  if (!domainname.empty() && ::setdomainname(domainname.data(), domainname.size()) != 0) {
    return sys_error("domainname: setdomainname \"" + domainname + "\"");
  }
  return {};
}

Status apply_sysctls(const std::map<std::string, std::string>& sysctl) {
  for (const auto& [key, value] : sysctl) {
    if (key.empty() || key.find("..") != std::string::npos || key.front() == '.' ||
        key.find('/') != std::string::npos) {
      return make_error("linux.sysctl: invalid key \"" + key + "\"");
    }
    std::string path = "/proc/sys/" + key;
    for (size_t i = 10; i < path.size(); ++i) {
      if (path[i] == '.') path[i] = '/';
    }
    auto st = write_file(path, value);
    if (!st) return st.error().context("linux.sysctl." + key);
  }
  return {};
}

Result<int> rlimit_resource(const std::string& type) {
  struct Entry {
    std::string_view name;
    int resource;
  };
  static constexpr std::array kLimits{
      Entry{"RLIMIT_AS", RLIMIT_AS},
      Entry{"RLIMIT_CORE", RLIMIT_CORE},
      Entry{"RLIMIT_CPU", RLIMIT_CPU},
      Entry{"RLIMIT_DATA", RLIMIT_DATA},
      Entry{"RLIMIT_FSIZE", RLIMIT_FSIZE},
      Entry{"RLIMIT_LOCKS", RLIMIT_LOCKS},
      Entry{"RLIMIT_MEMLOCK", RLIMIT_MEMLOCK},
      Entry{"RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE},
      Entry{"RLIMIT_NICE", RLIMIT_NICE},
      Entry{"RLIMIT_NOFILE", RLIMIT_NOFILE},
      Entry{"RLIMIT_NPROC", RLIMIT_NPROC},
      Entry{"RLIMIT_RSS", RLIMIT_RSS},
      Entry{"RLIMIT_RTPRIO", RLIMIT_RTPRIO},
      Entry{"RLIMIT_RTTIME", RLIMIT_RTTIME},
      Entry{"RLIMIT_SIGPENDING", RLIMIT_SIGPENDING},
      Entry{"RLIMIT_STACK", RLIMIT_STACK},
  };
  for (const auto& e : kLimits) {
    if (e.name == type) return e.resource;
  }
  return make_error("unknown rlimit \"" + type + "\"");
}

Status apply_rlimits(const std::vector<spec::Rlimit>& rlimits) {
  for (size_t i = 0; i < rlimits.size(); ++i) {
    const auto& r = rlimits[i];
    std::string what = "process.rlimits[" + std::to_string(i) + "]";
    auto res = rlimit_resource(r.type);
    if (!res) return res.error().context(what);
    if (r.soft > r.hard)
      return make_error(what + ": " + r.type + ": soft limit exceeds hard limit");
    rlimit lim{static_cast<rlim_t>(r.soft), static_cast<rlim_t>(r.hard)};
    if (::setrlimit(*res, &lim) != 0) {
      return sys_error(what + ": setrlimit " + r.type + " " + std::to_string(r.soft) + ":" +
                       std::to_string(r.hard));
    }
  }
  return {};
}

Status set_oom_score_adj(int value) {
  auto st = write_file("/proc/self/oom_score_adj", std::to_string(value));
  if (!st) return st.error().context("process.oomScoreAdj");
  return {};
}

Status switch_user(const spec::User& user) {
  std::vector<gid_t> groups(user.additionalGids.begin(), user.additionalGids.end());
  if (::setgroups(groups.size(), groups.data()) != 0) {
    // In a user namespace with setgroups denied, only an empty list is allowed.
    if (!(errno == EPERM && groups.empty()))
      return sys_error("process.user.additionalGids: setgroups");
  }
  if (::setresgid(user.gid, user.gid, user.gid) != 0) {
    return sys_error("process.user.gid: setresgid " + std::to_string(user.gid));
  }
  if (::setresuid(user.uid, user.uid, user.uid) != 0) {
    return sys_error("process.user.uid: setresuid " + std::to_string(user.uid));
  }
  return {};
}

namespace {
bool is_executable_file(const std::string& path) {
  struct stat sb {};
  return ::stat(path.c_str(), &sb) == 0 && S_ISREG(sb.st_mode) && (sb.st_mode & 0111) != 0;
}
}  // namespace

Result<std::string> find_executable(const std::string& arg0, const std::vector<std::string>& env) {
  if (arg0.find('/') != std::string::npos) {
    if (is_executable_file(arg0)) return arg0;
    // runc's wording: podman and docker map "no such file or directory" to exit 127.
    return make_error("process.args[0]: \"" + arg0 + "\": stat " + arg0 +
                      ": no such file or directory");
  }
  std::string path_var = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
  for (const auto& e : env) {
    if (e.rfind("PATH=", 0) == 0) path_var = e.substr(5);
  }
  size_t start = 0;
  while (start <= path_var.size()) {
    size_t end = path_var.find(':', start);
    if (end == std::string::npos) end = path_var.size();
    std::string dir = path_var.substr(start, end - start);
    if (dir.empty()) dir = ".";
    std::string candidate = dir + "/" + arg0;
    if (is_executable_file(candidate)) return candidate;
    start = end + 1;
  }
  return make_error("process.args[0]: \"" + arg0 + "\": executable file not found in $PATH");
}

Error exec_process(const std::string& path, const std::vector<std::string>& args,
                   const std::vector<std::string>& env) {
  std::vector<char*> argv;
  argv.reserve(args.size() + 1);
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  std::vector<char*> envp;
  envp.reserve(env.size() + 1);
  for (const auto& e : env) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);
  ::execve(path.c_str(), argv.data(), envp.data());
  return sys_error("exec " + path);
}

}  // namespace mxc::sys
