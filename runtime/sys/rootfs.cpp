#include "mxc/sys/rootfs.hpp"

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "mxc/sys/mounts.hpp"
#include "mxc/sys/unique_fd.hpp"

namespace mxc::sys {

Result<unsigned long> propagation_flag(const std::string& name) {
  if (name == "private") return MS_PRIVATE;
  if (name == "rprivate") return MS_PRIVATE | MS_REC;
  if (name == "shared") return MS_SHARED;
  if (name == "rshared") return MS_SHARED | MS_REC;
  if (name == "slave") return MS_SLAVE;
  if (name == "rslave") return MS_SLAVE | MS_REC;
  if (name == "unbindable") return MS_UNBINDABLE;
  if (name == "runbindable") return MS_UNBINDABLE | MS_REC;
  return make_error("linux.rootfsPropagation: unknown value \"" + name + "\"");
}

Status prepare_root_mount(const std::string& rootfs, unsigned long root_propagation) {
  if (::mount("", "/", "", root_propagation, nullptr) != 0) {
    return sys_error("make / " + std::string(root_propagation & MS_PRIVATE ? "private" : "slave"));
  }
  if (::mount(rootfs.c_str(), rootfs.c_str(), "", MS_BIND | MS_REC, nullptr) != 0) {
    return sys_error("bind root.path " + rootfs);
  }
  return {};
}

Status enter_root(const std::string& rootfs, bool no_pivot) {
  if (no_pivot) {
    if (::chdir(rootfs.c_str()) != 0) return sys_error("chdir " + rootfs);
    if (::mount(rootfs.c_str(), "/", "", MS_MOVE, nullptr) != 0) return sys_error("move root");
    if (::chroot(".") != 0) return sys_error("chroot");
    if (::chdir("/") != 0) return sys_error("chdir /");
    return {};
  }
  UniqueFd old_root(::open("/", O_DIRECTORY | O_RDONLY | O_CLOEXEC));
  UniqueFd new_root(::open(rootfs.c_str(), O_DIRECTORY | O_RDONLY | O_CLOEXEC));
  if (!old_root || !new_root) return sys_error("open root.path " + rootfs);
  if (::fchdir(new_root.get()) != 0) return sys_error("chdir " + rootfs);
  // pivot_root(".", ".") stacks the old root on top of the new one; detaching
  // it then leaves only the new root, with no directory needed for the old.
  if (::syscall(SYS_pivot_root, ".", ".") != 0) return sys_error("pivot_root " + rootfs);
  if (::fchdir(old_root.get()) != 0) return sys_error("chdir to old root");
  if (::mount("", ".", "", MS_SLAVE | MS_REC, nullptr) != 0)
    return sys_error("make old root slave");
  if (::umount2(".", MNT_DETACH) != 0) return sys_error("detach old root");
  if (::chdir("/") != 0) return sys_error("chdir /");
  return {};
}

Status finish_root(bool readonly, std::optional<unsigned long> propagation) {
  if (readonly) {
    UniqueFd root(::open("/", O_PATH | O_CLOEXEC));
    auto st = remount_bind(root.get(), MS_RDONLY);
    if (!st) return st.error().context("root.readonly");
  }
  if (propagation && ::mount("", "/", "", *propagation, nullptr) != 0) {
    return sys_error("linux.rootfsPropagation");
  }
  return {};
}

}  // namespace mxc::sys
