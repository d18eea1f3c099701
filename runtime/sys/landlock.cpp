#include "mxc/sys/landlock.hpp"

#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>

namespace mxc::sys {

namespace {

#ifndef SYS_landlock_create_ruleset
constexpr long SYS_landlock_create_ruleset = 444;
constexpr long SYS_landlock_add_rule = 445;
constexpr long SYS_landlock_restrict_self = 446;
#endif

constexpr uint32_t kCreateRulesetVersion = 1U << 0;
constexpr int kRulePathBeneath = 1;

// struct landlock_ruleset_attr as of ABI 6; older kernels accept it as long
// as the fields they do not know are zero.
struct RulesetAttr {
  uint64_t handled_access_fs;
  uint64_t handled_access_net;
  uint64_t scoped;
};

struct __attribute__((packed)) PathBeneathAttr {
  uint64_t allowed_access;
  int32_t parent_fd;
};

std::string hex(uint64_t v) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(v));
  return buf;
}

}  // namespace

int landlock_abi() {
  long abi = ::syscall(SYS_landlock_create_ruleset, nullptr, 0, kCreateRulesetVersion);
  return abi < 0 ? 0 : static_cast<int>(abi);
}

uint64_t landlock_fs_access_for_abi(int abi) {
  using namespace landlock;
  if (abi < 1) return 0;
  uint64_t all = (kMakeSym << 1) - 1;  // ABI 1: bits 0..12
  if (abi >= 2) all |= kRefer;
  if (abi >= 3) all |= kTruncate;
  if (abi >= 5) all |= kIoctlDev;
  return all;
}

uint64_t landlock_scopes_for_abi(int abi) {
  return abi >= 6 ? landlock::kScopeAbstractUnixSocket | landlock::kScopeSignal : 0;
}

Result<LandlockRuleset> LandlockRuleset::create(uint64_t handled_fs, uint64_t scoped) {
  int abi = landlock_abi();
  if (abi == 0) {
    return make_error(
        "landlock: the kernel does not provide Landlock (CONFIG_SECURITY_LANDLOCK, and "
        "\"landlock\" in the lsm= boot parameter), which this policy needs");
  }
  if (uint64_t missing = handled_fs & ~landlock_fs_access_for_abi(abi); missing != 0) {
    return make_error("landlock: the kernel's ABI " + std::to_string(abi) +
                      " lacks the filesystem rights " + hex(missing) + " this policy needs");
  }
  if (uint64_t missing = scoped & ~landlock_scopes_for_abi(abi); missing != 0) {
    return make_error("landlock: the kernel's ABI " + std::to_string(abi) + " lacks the scopes " +
                      hex(missing) + " this policy needs (ABI 6)");
  }
  RulesetAttr attr{handled_fs, 0, scoped};
  long fd = ::syscall(SYS_landlock_create_ruleset, &attr, sizeof attr, 0);
  if (fd < 0) return sys_error("landlock_create_ruleset");
  return LandlockRuleset(UniqueFd(static_cast<int>(fd)), handled_fs, scoped);
}

Status LandlockRuleset::allow(int fd, uint64_t access) {
  struct stat sb {};
  if (::fstat(fd, &sb) != 0) return sys_error("landlock: fstat");
  access &= handled_fs_;
  if (!S_ISDIR(sb.st_mode)) access &= landlock::kFileAccess;
  if (access == 0) return {};  // the kernel refuses an empty rule; nothing to grant
  PathBeneathAttr attr{access, fd};
  if (::syscall(SYS_landlock_add_rule, fd_.get(), kRulePathBeneath, &attr, 0) != 0)
    return sys_error("landlock_add_rule");
  return {};
}

Status LandlockRuleset::allow(const std::string& path, uint64_t access) {
  UniqueFd fd(::open(path.c_str(), O_PATH | O_CLOEXEC));
  if (!fd) return sys_error("landlock: open " + path);
  auto st = allow(fd.get(), access);
  if (!st) return st.error().context(path);
  return {};
}

Status LandlockRuleset::restrict_self() const {
  if (::syscall(SYS_landlock_restrict_self, fd_.get(), 0) != 0) {
    if (errno == EPERM) {
      return sys_error("landlock_restrict_self (needs no_new_privs or CAP_SYS_ADMIN)");
    }
    return sys_error("landlock_restrict_self");
  }
  return {};
}

}  // namespace mxc::sys
