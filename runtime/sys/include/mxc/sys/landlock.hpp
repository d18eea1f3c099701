// Landlock (unprivileged access control by path) through its raw syscalls:
// glibc 2.36 has no wrappers and Debian 12's <linux/landlock.h> stops at
// ABI 2, so the rights and scopes up to ABI 7 are defined here.
#pragma once

#include <cstdint>
#include <string>

#include "mxc/spec/result.hpp"
#include "mxc/sys/unique_fd.hpp"

namespace mxc::sys {

namespace landlock {

// Filesystem rights (LANDLOCK_ACCESS_FS_*), with the ABI that added them.
inline constexpr uint64_t kExecute = 1ULL << 0;  // ABI 1 ...
inline constexpr uint64_t kWriteFile = 1ULL << 1;
inline constexpr uint64_t kReadFile = 1ULL << 2;
inline constexpr uint64_t kReadDir = 1ULL << 3;
inline constexpr uint64_t kRemoveDir = 1ULL << 4;
inline constexpr uint64_t kRemoveFile = 1ULL << 5;
inline constexpr uint64_t kMakeChar = 1ULL << 6;
inline constexpr uint64_t kMakeDir = 1ULL << 7;
inline constexpr uint64_t kMakeReg = 1ULL << 8;
inline constexpr uint64_t kMakeSock = 1ULL << 9;
inline constexpr uint64_t kMakeFifo = 1ULL << 10;
inline constexpr uint64_t kMakeBlock = 1ULL << 11;
inline constexpr uint64_t kMakeSym = 1ULL << 12;   // ... ABI 1
inline constexpr uint64_t kRefer = 1ULL << 13;     // ABI 2
inline constexpr uint64_t kTruncate = 1ULL << 14;  // ABI 3
inline constexpr uint64_t kIoctlDev = 1ULL << 15;  // ABI 5

// Network rights (ABI 4), LANDLOCK_ACCESS_NET_*.
inline constexpr uint64_t kNetBindTcp = 1ULL << 0;
inline constexpr uint64_t kNetConnectTcp = 1ULL << 1;

// Scopes (ABI 6), LANDLOCK_SCOPE_*: IPC with processes outside the domain.
inline constexpr uint64_t kScopeAbstractUnixSocket = 1ULL << 0;
inline constexpr uint64_t kScopeSignal = 1ULL << 1;

// The rights that make sense on a non-directory.
inline constexpr uint64_t kFileAccess = kExecute | kWriteFile | kReadFile | kTruncate | kIoctlDev;
// Read-only: read and execute files, list directories.
inline constexpr uint64_t kReadAccess = kExecute | kReadFile | kReadDir;

}  // namespace landlock

// The kernel's Landlock ABI version; 0 when Landlock is not built in or is
// disabled at boot (lsm=).
int landlock_abi();

// Every filesystem right, and every scope, that `abi` knows.
uint64_t landlock_fs_access_for_abi(int abi);
uint64_t landlock_scopes_for_abi(int abi);

// A ruleset under construction (RAII over its fd). Rights given to a path
// apply to it and everything beneath it; what is handled and not granted is
// denied once the ruleset is enforced.
class LandlockRuleset {
 public:
  // Refuses (naming what is missing) when the kernel's ABI lacks Landlock, a
  // handled right or a scope.
  static Result<LandlockRuleset> create(uint64_t handled_fs, uint64_t scoped);

  // Grants `access` (reduced to the handled rights, and to the file rights
  // for a non-directory) beneath the file `fd` refers to (an O_PATH fd is fine).
  Status allow(int fd, uint64_t access);
  // Same, by path (opened O_PATH, following symlinks); errors name the path.
  Status allow(const std::string& path, uint64_t access);

  // Enforces the ruleset on the calling thread (and what it later execs).
  // Needs no_new_privs or CAP_SYS_ADMIN in the caller's user namespace.
  [[nodiscard]] Status restrict_self() const;

  [[nodiscard]] int fd() const { return fd_.get(); }
  [[nodiscard]] uint64_t handled_fs() const { return handled_fs_; }
  [[nodiscard]] uint64_t scoped() const { return scoped_; }

 private:
  LandlockRuleset(UniqueFd fd, uint64_t handled_fs, uint64_t scoped)
      : fd_(std::move(fd)), handled_fs_(handled_fs), scoped_(scoped) {}
  UniqueFd fd_;
  uint64_t handled_fs_ = 0;
  uint64_t scoped_ = 0;
};

}  // namespace mxc::sys
