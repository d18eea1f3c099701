// The known_*() lists of config.hpp.
#include "known_values.hpp"

#include "mxc/spec/config.hpp"

namespace mxc::spec {

namespace {

template <size_t N>
std::vector<std::string> to_strings(const std::array<std::string_view, N>& values) {
  return {values.begin(), values.end()};
}

}  // namespace

const std::vector<std::string>& known_namespace_types() {
  static const std::vector<std::string> kValues = to_strings(detail::kNamespaceTypes);
  return kValues;
}

const std::vector<std::string>& known_mount_options() {
  // What a Linux runtime understands (runc's list); filesystem data options
  // such as mode= or size= are passed to the kernel and are not listed.
  static const std::vector<std::string> kValues = {"defaults",
                                                   "ro",
                                                   "rw",
                                                   "suid",
                                                   "nosuid",
                                                   "dev",
                                                   "nodev",
                                                   "exec",
                                                   "noexec",
                                                   "sync",
                                                   "async",
                                                   "dirsync",
                                                   "remount",
                                                   "mand",
                                                   "nomand",
                                                   "atime",
                                                   "noatime",
                                                   "diratime",
                                                   "nodiratime",
                                                   "bind",
                                                   "rbind",
                                                   "unbindable",
                                                   "runbindable",
                                                   "private",
                                                   "rprivate",
                                                   "shared",
                                                   "rshared",
                                                   "slave",
                                                   "rslave",
                                                   "relatime",
                                                   "norelatime",
                                                   "strictatime",
                                                   "nostrictatime",
                                                   "nosymfollow",
                                                   "symfollow",
                                                   "lazytime",
                                                   "nolazytime",
                                                   "iversion",
                                                   "noiversion",
                                                   "silent",
                                                   "loud",
                                                   "acl",
                                                   "noacl",
                                                   "tmpcopyup",
                                                   "idmap",
                                                   "ridmap",
                                                   "rro",
                                                   "rrw",
                                                   "rsuid",
                                                   "rnosuid",
                                                   "rdev",
                                                   "rnodev",
                                                   "rexec",
                                                   "rnoexec",
                                                   "ratime",
                                                   "rnoatime",
                                                   "rdiratime",
                                                   "rnodiratime",
                                                   "rrelatime",
                                                   "rnorelatime",
                                                   "rstrictatime",
                                                   "rnostrictatime",
                                                   "rsymfollow",
                                                   "rnosymfollow"};
  return kValues;
}

const std::vector<std::string>& known_capabilities() {
  static const std::vector<std::string> kValues = {"CAP_CHOWN",
                                                   "CAP_DAC_OVERRIDE",
                                                   "CAP_DAC_READ_SEARCH",
                                                   "CAP_FOWNER",
                                                   "CAP_FSETID",
                                                   "CAP_KILL",
                                                   "CAP_SETGID",
                                                   "CAP_SETUID",
                                                   "CAP_SETPCAP",
                                                   "CAP_LINUX_IMMUTABLE",
                                                   "CAP_NET_BIND_SERVICE",
                                                   "CAP_NET_BROADCAST",
                                                   "CAP_NET_ADMIN",
                                                   "CAP_NET_RAW",
                                                   "CAP_IPC_LOCK",
                                                   "CAP_IPC_OWNER",
                                                   "CAP_SYS_MODULE",
                                                   "CAP_SYS_RAWIO",
                                                   "CAP_SYS_CHROOT",
                                                   "CAP_SYS_PTRACE",
                                                   "CAP_SYS_PACCT",
                                                   "CAP_SYS_ADMIN",
                                                   "CAP_SYS_BOOT",
                                                   "CAP_SYS_NICE",
                                                   "CAP_SYS_RESOURCE",
                                                   "CAP_SYS_TIME",
                                                   "CAP_SYS_TTY_CONFIG",
                                                   "CAP_MKNOD",
                                                   "CAP_LEASE",
                                                   "CAP_AUDIT_WRITE",
                                                   "CAP_AUDIT_CONTROL",
                                                   "CAP_SETFCAP",
                                                   "CAP_MAC_OVERRIDE",
                                                   "CAP_MAC_ADMIN",
                                                   "CAP_SYSLOG",
                                                   "CAP_WAKE_ALARM",
                                                   "CAP_BLOCK_SUSPEND",
                                                   "CAP_AUDIT_READ",
                                                   "CAP_PERFMON",
                                                   "CAP_BPF",
                                                   "CAP_CHECKPOINT_RESTORE"};
  return kValues;
}

const std::vector<std::string>& known_seccomp_actions() {
  static const std::vector<std::string> kValues = to_strings(detail::kSeccompActions);
  return kValues;
}

const std::vector<std::string>& known_seccomp_operators() {
  static const std::vector<std::string> kValues = to_strings(detail::kSeccompOperators);
  return kValues;
}

const std::vector<std::string>& known_seccomp_archs() {
  static const std::vector<std::string> kValues = to_strings(detail::kSeccompArchs);
  return kValues;
}

const std::vector<std::string>& known_seccomp_flags() {
  static const std::vector<std::string> kValues = to_strings(detail::kSeccompFlags);
  return kValues;
}

}  // namespace mxc::spec
