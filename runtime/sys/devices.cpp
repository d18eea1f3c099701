#include "mxc/sys/devices.hpp"

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <string>

#include "mxc/sys/mounts.hpp"

namespace mxc::sys {

std::vector<spec::Device> default_devices() {
  auto dev = [](const char* path, int64_t major, int64_t minor) {
    spec::Device d;
    d.type = "c";
    d.path = path;
    d.major = major;
    d.minor = minor;
    d.fileMode = 0666;
    d.uid = 0;
    d.gid = 0;
    return d;
  };
  return {dev("/dev/null", 1, 3),   dev("/dev/zero", 1, 5),    dev("/dev/full", 1, 7),
          dev("/dev/random", 1, 8), dev("/dev/urandom", 1, 9), dev("/dev/tty", 5, 0)};
}

Status create_devices(int root_fd, const std::vector<spec::Device>& devices, bool bind_from_host) {
  for (size_t i = 0; i < devices.size(); ++i) {
    const auto& d = devices[i];
    const std::string what = "linux.devices[" + std::to_string(i) + "] " + d.path;
    mode_t kind = 0;
    if (d.type == "c" || d.type == "u") {
      kind = S_IFCHR;
    } else if (d.type == "b") {
      kind = S_IFBLK;
    } else if (d.type == "p") {
      kind = S_IFIFO;
    } else {
      return make_error(what + ": unknown device type \"" + d.type + "\"");
    }
    auto slash = d.path.rfind('/');
    if (d.path.empty() || d.path.front() != '/' || slash == std::string::npos) {
      return make_error(what + ": path must be absolute");
    }
    std::string parent = d.path.substr(0, slash);
    std::string base = d.path.substr(slash + 1);
    auto pfd = open_in_root(root_fd, parent.empty() ? "/" : parent, true, false);
    if (!pfd) return pfd.error().context(what);
    UniqueFd dir(::openat(pfd->get(), ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!dir) return sys_error(what);
    ::unlinkat(dir.get(), base.c_str(), 0);

    if (bind_from_host && kind != S_IFIFO) {
      UniqueFd f(::openat(dir.get(), base.c_str(),
                          O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0000));
      if (!f) return sys_error(what);
      f.reset();
      auto target = open_in_root(root_fd, d.path, false, false);
      if (!target) return target.error().context(what);
      if (::mount(d.path.c_str(), fd_path(target->get()).c_str(), "", MS_BIND, nullptr) != 0) {
        return sys_error(what + ": bind from host");
      }
      continue;
    }
    dev_t num = makedev(static_cast<unsigned>(d.major.value_or(0)),
                        static_cast<unsigned>(d.minor.value_or(0)));
    mode_t mode = kind | (d.fileMode.value_or(0666) & 07777);
    if (::mknodat(dir.get(), base.c_str(), mode, num) != 0) return sys_error(what + ": mknod");
    // mknod applies the umask; the config's mode is what the spec asks for.
    if (::fchmodat(dir.get(), base.c_str(), mode & 07777, 0) != 0)
      return sys_error(what + ": chmod");
    if (::fchownat(dir.get(), base.c_str(), d.uid.value_or(0), d.gid.value_or(0),
                   AT_SYMLINK_NOFOLLOW) != 0) {
      return sys_error(what + ": chown");
    }
  }
  return {};
}

Status create_dev_symlinks(int root_fd) {
  auto dev = open_in_root(root_fd, "/dev", true, false);
  if (!dev) return dev.error();
  UniqueFd dir(::openat(dev->get(), ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!dir) return sys_error("/dev");
  struct Link {
    const char* target;
    const char* name;
  };
  const Link links[] = {{"/proc/self/fd", "fd"},
                        {"/proc/self/fd/0", "stdin"},
                        {"/proc/self/fd/1", "stdout"},
                        {"/proc/self/fd/2", "stderr"},
                        {"/proc/kcore", "core"}};
  for (const auto& l : links) {
    if (::symlinkat(l.target, dir.get(), l.name) != 0 && errno != EEXIST) {
      return sys_error(std::string("/dev/") + l.name);
    }
  }
  struct stat sb {};
  if (::fstatat(dir.get(), "pts/ptmx", &sb, AT_SYMLINK_NOFOLLOW) == 0) {
    ::unlinkat(dir.get(), "ptmx", 0);
    if (::symlinkat("pts/ptmx", dir.get(), "ptmx") != 0) return sys_error("/dev/ptmx");
  }
  return {};
}

}  // namespace mxc::sys
