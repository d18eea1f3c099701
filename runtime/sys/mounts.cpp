#include "mxc/sys/mounts.hpp"

#include "mxc/sys/cgroups.hpp"
#include "mxc/sys/file_util.hpp"

#include <fcntl.h>
#include <linux/magic.h>
#include <linux/openat2.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <filesystem>
#include <map>
#include <set>
#include <string_view>

namespace mxc::sys {

namespace {

// From <linux/mount.h>, which clashes with <sys/mount.h>.
constexpr unsigned long long kAttrRdonly = 0x00000001;
constexpr unsigned long long kAttrNosuid = 0x00000002;
constexpr unsigned long long kAttrNodev = 0x00000004;
constexpr unsigned long long kAttrNoexec = 0x00000008;
constexpr unsigned long long kAttrNoatime = 0x00000010;
constexpr unsigned long long kAttrStrictatime = 0x00000020;
constexpr unsigned long long kAttrNodiratime = 0x00000080;
constexpr unsigned long long kAttrNosymfollow = 0x00200000;
constexpr unsigned int kAtRecursive = 0x8000;

struct MountAttr {
  unsigned long long attr_set, attr_clr, propagation, userns_fd;
};

struct FlagOption {
  std::string_view name;
  unsigned long flag;
  bool clear;
};

constexpr std::array kFlagOptions{
    FlagOption{"defaults", 0, false},
    FlagOption{"ro", MS_RDONLY, false},
    FlagOption{"rw", MS_RDONLY, true},
    FlagOption{"suid", MS_NOSUID, true},
    FlagOption{"nosuid", MS_NOSUID, false},
    FlagOption{"dev", MS_NODEV, true},
    FlagOption{"nodev", MS_NODEV, false},
    FlagOption{"exec", MS_NOEXEC, true},
    FlagOption{"noexec", MS_NOEXEC, false},
    FlagOption{"sync", MS_SYNCHRONOUS, false},
    FlagOption{"async", MS_SYNCHRONOUS, true},
    FlagOption{"dirsync", MS_DIRSYNC, false},
    FlagOption{"remount", MS_REMOUNT, false},
    FlagOption{"mand", MS_MANDLOCK, false},
    FlagOption{"nomand", MS_MANDLOCK, true},
    FlagOption{"atime", MS_NOATIME, true},
    FlagOption{"noatime", MS_NOATIME, false},
    FlagOption{"diratime", MS_NODIRATIME, true},
    FlagOption{"nodiratime", MS_NODIRATIME, false},
    FlagOption{"bind", MS_BIND, false},
    FlagOption{"rbind", MS_BIND | MS_REC, false},
    FlagOption{"relatime", MS_RELATIME, false},
    FlagOption{"norelatime", MS_RELATIME, true},
    FlagOption{"strictatime", MS_STRICTATIME, false},
    FlagOption{"nostrictatime", MS_STRICTATIME, true},
    FlagOption{"nosymfollow", MS_NOSYMFOLLOW, false},
    FlagOption{"symfollow", MS_NOSYMFOLLOW, true},
    FlagOption{"lazytime", MS_LAZYTIME, false},
    FlagOption{"nolazytime", MS_LAZYTIME, true},
    FlagOption{"iversion", MS_I_VERSION, false},
    FlagOption{"noiversion", MS_I_VERSION, true},
    FlagOption{"silent", MS_SILENT, false},
    FlagOption{"loud", MS_SILENT, true},
};

struct PropagationOption {
  std::string_view name;
  unsigned long flag;
};

constexpr std::array kPropagationOptions{
    PropagationOption{"private", MS_PRIVATE},
    PropagationOption{"rprivate", MS_PRIVATE | MS_REC},
    PropagationOption{"shared", MS_SHARED},
    PropagationOption{"rshared", MS_SHARED | MS_REC},
    PropagationOption{"slave", MS_SLAVE},
    PropagationOption{"rslave", MS_SLAVE | MS_REC},
    PropagationOption{"unbindable", MS_UNBINDABLE},
    PropagationOption{"runbindable", MS_UNBINDABLE | MS_REC},
};

struct AttrOption {
  std::string_view name;
  unsigned long long attr;
  bool clear;
};

// Recursive variants (mount_setattr with AT_RECURSIVE), as runc and crun accept.
constexpr std::array kAttrOptions{
    AttrOption{"rro", kAttrRdonly, false},
    AttrOption{"rrw", kAttrRdonly, true},
    AttrOption{"rnosuid", kAttrNosuid, false},
    AttrOption{"rsuid", kAttrNosuid, true},
    AttrOption{"rnodev", kAttrNodev, false},
    AttrOption{"rdev", kAttrNodev, true},
    AttrOption{"rnoexec", kAttrNoexec, false},
    AttrOption{"rexec", kAttrNoexec, true},
    AttrOption{"rnoatime", kAttrNoatime, false},
    AttrOption{"rstrictatime", kAttrStrictatime, false},
    AttrOption{"rnodiratime", kAttrNodiratime, false},
    AttrOption{"rnosymfollow", kAttrNosymfollow, false},
    AttrOption{"rsymfollow", kAttrNosymfollow, true},
};

Status mount_at(const char* source, int fd, const char* type, unsigned long flags, const char* data,
                const std::string& what) {
  std::string target = fd_path(fd);
  if (::mount(source, target.c_str(), type, flags, data) != 0) return sys_error(what);
  return {};
}

bool is_dir_path(const std::string& path) {
  struct stat sb {};
  return ::stat(path.c_str(), &sb) == 0 && S_ISDIR(sb.st_mode);
}

// The v1 hierarchies mounted on the host, e.g. {"cpu,cpuacct", "memory", ...},
// read from /proc/self/mountinfo; "name=systemd" style named ones included.
// Sorted, comma-joined controller names: the key that matches a mountinfo
// hierarchy to its line in /proc/self/cgroup.
std::string controller_key(std::vector<std::string> controllers) {
  std::sort(controllers.begin(), controllers.end());
  std::string key;
  for (const auto& c : controllers) key += (key.empty() ? "" : ",") + c;
  return key;
}

// This process's cgroup path per v1 hierarchy, from /proc/self/cgroup.
std::map<std::string, std::string> own_v1_cgroups() {
  std::map<std::string, std::string> out;
  auto text = read_file("/proc/self/cgroup");
  if (!text) return out;
  std::string_view all(*text);
  while (!all.empty()) {
    auto eol = all.find('\n');
    std::string_view line = all.substr(0, eol);
    all = eol == std::string_view::npos ? std::string_view{} : all.substr(eol + 1);
    auto c1 = line.find(':');
    auto c2 = c1 == std::string_view::npos ? c1 : line.find(':', c1 + 1);
    if (c2 == std::string_view::npos || c2 == c1 + 1) continue;  // v2 line "0::/"
    std::vector<std::string> controllers;
    std::string_view list = line.substr(c1 + 1, c2 - c1 - 1);
    while (!list.empty()) {
      auto comma = list.find(',');
      controllers.emplace_back(list.substr(0, comma));
      list = comma == std::string_view::npos ? std::string_view{} : list.substr(comma + 1);
    }
    out[controller_key(controllers)] = std::string(line.substr(c2 + 1));
  }
  return out;
}

Status mount_cgroup_v1(const MountContext& ctx, const spec::Mount& m, int target_fd,
                       const MountOptions& opts) {
  // A tmpfs holding one directory per host hierarchy, as runc lays it out.
  unsigned long base =
      (opts.flags & ~(MS_RDONLY | MS_BIND | MS_REC)) | MS_NOSUID | MS_NODEV | MS_NOEXEC;
  MXC_TRY(
      mount_at("tmpfs", target_fd, "tmpfs", base, "mode=755", "mount tmpfs on " + m.destination));
  // With its own cgroup namespace the container mounts each hierarchy (rooted
  // at its cgroup); without one it gets a bind of its own cgroup directory,
  // so it sees its limits and nothing of the host's tree.
  auto own = own_v1_cgroups();
  for (const auto& h : detect_cgroup_hierarchies()) {
    if (h.v2 || h.controllers.empty()) continue;
    std::string name = std::filesystem::path(h.mountpoint).filename().string();
    std::string dir = m.destination + "/" + name;
    auto sub = open_in_root(ctx.root_fd, dir, true, false);
    if (!sub) return sub.error();
    std::string controllers;
    for (const auto& c : h.controllers) controllers += (controllers.empty() ? "" : ",") + c;
    unsigned long flags = base | (opts.flags & MS_RDONLY);
    if (ctx.new_cgroup_namespace) {
      if (::mount("cgroup", fd_path(sub->get()).c_str(), "cgroup", flags, controllers.c_str()) !=
          0) {
        return sys_error("mount cgroup " + controllers + " on " + dir);
      }
      continue;
    }
    auto path = own.find(controller_key(h.controllers));
    std::string source = h.mountpoint + (path == own.end() ? "" : path->second);
    if (::mount(source.c_str(), fd_path(sub->get()).c_str(), "", MS_BIND | MS_REC, nullptr) != 0) {
      return sys_error("bind cgroup " + source + " on " + dir);
    }
    auto mounted = open_in_root(ctx.root_fd, dir, false, false);
    if (!mounted) return mounted.error();
    MXC_TRY(remount_bind(mounted->get(), flags & ~(MS_BIND | MS_REC)));
  }
  if (opts.flags & MS_RDONLY) {
    auto again = open_in_root(ctx.root_fd, m.destination, false, false);
    if (!again) return again.error();
    MXC_TRY(remount_bind(again->get(), base | MS_RDONLY));
  }
  return {};
}

bool host_is_cgroup2_only() {
  struct statfs sf {};
  return ::statfs("/sys/fs/cgroup", &sf) == 0 && sf.f_type == CGROUP2_SUPER_MAGIC;
}

}  // namespace

bool MountOptions::bind() const {
  return (flags & MS_BIND) != 0;
}

Result<MountOptions> parse_mount_options(const std::vector<std::string>& options) {
  MountOptions out;
  for (const auto& opt : options) {
    bool matched = false;
    for (const auto& f : kFlagOptions) {
      if (opt != f.name) continue;
      matched = true;
      if (f.clear) {
        out.flags &= ~f.flag;
        out.clear |= f.flag;
      } else {
        out.flags |= f.flag;
        out.clear &= ~f.flag;
      }
    }
    for (const auto& p : kPropagationOptions) {
      if (opt == p.name) {
        matched = true;
        out.propagation.push_back(p.flag);
      }
    }
    for (const auto& a : kAttrOptions) {
      if (opt != a.name) continue;
      matched = true;
      (a.clear ? out.attr_clr : out.attr_set) |= a.attr;
    }
    if (matched) continue;
    if (opt == "idmap" || opt == "ridmap" || opt == "tmpcopyup") {
      return make_error("option \"" + opt + "\" is not supported");
    }
    // Anything else is the filesystem's own option, passed as mount data.
    out.data += (out.data.empty() ? "" : ",") + opt;
  }
  return out;
}

std::string fd_path(int fd) {
  return "/proc/self/fd/" + std::to_string(fd);
}

Result<UniqueFd> open_in_root(int root_fd, const std::string& path, bool create, bool as_file) {
  std::string rel = path;
  for (int depth = 0; depth < 40; ++depth) {
    while (!rel.empty() && rel.front() == '/') rel.erase(0, 1);
    if (rel.empty()) rel = ".";
    open_how how{};
    how.flags = O_PATH | O_CLOEXEC;
    how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
    long fd = ::syscall(SYS_openat2, root_fd, rel.c_str(), &how, sizeof how);
    if (fd >= 0) return UniqueFd(static_cast<int>(fd));
    if (errno != ENOENT || !create) return sys_error("open " + path + " in the container root");

    // Make the last component, after its parent (resolved inside the root too).
    auto slash = rel.rfind('/');
    std::string parent = slash == std::string::npos ? "/" : rel.substr(0, slash);
    std::string base = slash == std::string::npos ? rel : rel.substr(slash + 1);
    if (base == "..") return make_error("open " + path + ": cannot create \"..\"");
    auto pfd = open_in_root(root_fd, parent, true, false);
    if (!pfd) return pfd.error();
    // An O_PATH fd can't be used with mkdirat, so reopen the parent as a directory.
    UniqueFd dir(::openat(pfd->get(), ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!dir) return sys_error("open " + parent + " in the container root");
    int rc = as_file ? ::openat(dir.get(), base.c_str(),
                                O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644)
                     : ::mkdirat(dir.get(), base.c_str(), 0755);
    if (rc >= 0 && as_file) ::close(rc);
    if (rc < 0 && errno != EEXIST) return sys_error("create " + path + " in the container root");
    if (rc < 0) {
      // EEXIST after ENOENT: `base` is a dangling symlink. Follow it inside the root.
      char target[4096];
      ssize_t n = ::readlinkat(dir.get(), base.c_str(), target, sizeof target - 1);
      if (n < 0) return sys_error("create " + path + " in the container root");
      target[n] = '\0';
      rel = target[0] == '/' ? std::string(target) : parent + "/" + target;
    }
  }
  return make_error("open " + path + ": too many levels of symbolic links");
}

Status remount_bind(int fd, unsigned long flags) {
  std::string target = fd_path(fd);
  unsigned long want = MS_BIND | MS_REMOUNT | flags;
  if (::mount("", target.c_str(), "", want, nullptr) == 0) return {};
  int err = errno;
  if (err != EPERM) return sys_error("remount", err);
  // In a user namespace the kernel refuses to drop locked flags: keep them.
  struct statvfs sv {};
  if (::statvfs(target.c_str(), &sv) != 0) return sys_error("remount", err);
  unsigned long locked = 0;
  if (sv.f_flag & ST_NOSUID) locked |= MS_NOSUID;
  if (sv.f_flag & ST_NODEV) locked |= MS_NODEV;
  if (sv.f_flag & ST_NOEXEC) locked |= MS_NOEXEC;
  if (sv.f_flag & ST_NOATIME) locked |= MS_NOATIME;
  if (sv.f_flag & ST_NODIRATIME) locked |= MS_NODIRATIME;
  if (sv.f_flag & ST_RELATIME) locked |= MS_RELATIME;
  if (::mount("", target.c_str(), "", want | locked, nullptr) != 0) return sys_error("remount");
  return {};
}

Status mount_entry(const MountContext& ctx, const spec::Mount& m) {
  const std::string what = "mounts: " + m.destination;
  if (m.destination.empty() || m.destination.front() != '/') {
    return make_error(what + ": destination must be an absolute path");
  }
  auto parsed = parse_mount_options(m.options);
  if (!parsed) return parsed.error().context(what);
  MountOptions opts = *parsed;
  std::string type = m.type.value_or("");
  std::string source = m.source.value_or("");
  bool bind = opts.bind() || type == "bind";
  if (type == "bind") {
    opts.flags |= MS_BIND;
  }

  if (bind) {
    if (source.empty()) return make_error(what + ": a bind mount needs a source");
    struct stat sb {};
    if (::stat(source.c_str(), &sb) != 0) return sys_error(what + ": source " + source);
    auto target = open_in_root(ctx.root_fd, m.destination, true, !S_ISDIR(sb.st_mode));
    if (!target) return target.error().context("mounts");
    MXC_TRY(mount_at(source.c_str(), target->get(), "", MS_BIND | (opts.flags & MS_REC), nullptr,
                     what + ": bind " + source));
    // The fd names the covered directory; reopen to reach the new mount.
    auto mounted = open_in_root(ctx.root_fd, m.destination, false, false);
    if (!mounted) return mounted.error().context("mounts");
    unsigned long extra = opts.flags & ~(MS_BIND | MS_REC | MS_REMOUNT);
    if (extra != 0) {
      auto st = remount_bind(mounted->get(), extra);
      if (!st) return st.error().context(what);
    }
    for (auto p : opts.propagation) {
      MXC_TRY(mount_at(nullptr, mounted->get(), nullptr, p, nullptr, what + ": propagation"));
    }
    if (opts.attr_set || opts.attr_clr) {
      MountAttr attr{opts.attr_set, opts.attr_clr, 0, 0};
      if (::syscall(SYS_mount_setattr, mounted->get(), "", AT_EMPTY_PATH | kAtRecursive, &attr,
                    sizeof attr) != 0) {
        return sys_error(what + ": mount_setattr");
      }
    }
    return {};
  }

  if (type.empty()) return make_error(what + ": type is required for a non-bind mount");
  auto target = open_in_root(ctx.root_fd, m.destination, true, false);
  if (!target) return target.error().context("mounts");

  if (type == "cgroup" && !host_is_cgroup2_only()) {
    return mount_cgroup_v1(ctx, m, target->get(), opts);
  }
  if (type == "cgroup") type = "cgroup2";

  unsigned long flags = opts.flags & ~MS_REMOUNT;
  const char* src = source.empty() ? type.c_str() : source.c_str();
  const char* data = opts.data.empty() ? nullptr : opts.data.c_str();
  std::string tpath = fd_path(target->get());
  if (::mount(src, tpath.c_str(), type.c_str(), flags, data) != 0) {
    int err = errno;
    // sysfs and mqueue need namespaces this container may share with the host:
    // fall back to the host's view, as runc does.
    if ((err == EPERM || err == EBUSY) && (type == "sysfs" || type == "mqueue")) {
      const char* host = type == "sysfs" ? "/sys" : "/dev/mqueue";
      if (is_dir_path(host) && ::mount(host, tpath.c_str(), "", MS_BIND | MS_REC, nullptr) == 0) {
        auto mounted = open_in_root(ctx.root_fd, m.destination, false, false);
        if (!mounted) return mounted.error().context("mounts");
        return remount_bind(mounted->get(), flags & ~MS_BIND);
      }
    }
    if (err == ENODEV) return make_error(what + ": unknown filesystem type \"" + type + "\"");
    return sys_error(what + ": mount " + type, err);
  }
  if (!opts.propagation.empty() || opts.attr_set || opts.attr_clr) {
    auto mounted = open_in_root(ctx.root_fd, m.destination, false, false);
    if (!mounted) return mounted.error().context("mounts");
    for (auto p : opts.propagation) {
      MXC_TRY(mount_at(nullptr, mounted->get(), nullptr, p, nullptr, what + ": propagation"));
    }
    if (opts.attr_set || opts.attr_clr) {
      MountAttr attr{opts.attr_set, opts.attr_clr, 0, 0};
      if (::syscall(SYS_mount_setattr, mounted->get(), "", AT_EMPTY_PATH | kAtRecursive, &attr,
                    sizeof attr) != 0) {
        return sys_error(what + ": mount_setattr");
      }
    }
  }
  return {};
}

Status mask_paths(const std::vector<std::string>& paths) {
  for (const auto& p : paths) {
    struct stat sb {};
    if (::lstat(p.c_str(), &sb) != 0) {
      if (errno == ENOENT) continue;
      return sys_error("linux.maskedPaths: " + p);
    }
    int rc = S_ISDIR(sb.st_mode)
                 ? ::mount("tmpfs", p.c_str(), "tmpfs", MS_RDONLY, "size=0k,mode=000")
                 : ::mount("/dev/null", p.c_str(), "", MS_BIND, nullptr);
    if (rc != 0) return sys_error("linux.maskedPaths: " + p);
  }
  return {};
}

Status make_paths_readonly(const std::vector<std::string>& paths) {
  for (const auto& p : paths) {
    if (::mount(p.c_str(), p.c_str(), "", MS_BIND | MS_REC, nullptr) != 0) {
      if (errno == ENOENT) continue;
      return sys_error("linux.readonlyPaths: " + p);
    }
    UniqueFd fd(::open(p.c_str(), O_PATH | O_CLOEXEC));
    if (!fd) return sys_error("linux.readonlyPaths: " + p);
    auto st = remount_bind(fd.get(), MS_RDONLY | MS_REC);
    if (!st) return st.error().context("linux.readonlyPaths: " + p);
  }
  return {};
}

}  // namespace mxc::sys
