// linux.seccomp: compiled with libseccomp in the runtime process (so every
// mistake is reported at create, naming its field), loaded in the container
// process right before execve, and the SCMP_ACT_NOTIFY listener handed to
// linux.seccomp.listenerPath.
#pragma once

#include <linux/filter.h>
#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "mxc/spec/config.hpp"
#include "mxc/spec/result.hpp"

namespace mxc::sys {

struct SeccompOptions {
  // runc and crun skip syscall names libseccomp does not know (profiles list
  // syscalls newer than the library); by default they are an error instead.
  bool ignore_unknown_syscalls = false;
};

// Owns a compiled libseccomp filter (RAII over scmp_filter_ctx; movable) and
// the BPF program exported from it, so that loading needs no allocation.
class SeccompFilter {
 public:
  SeccompFilter(SeccompFilter&&) noexcept = default;
  SeccompFilter& operator=(SeccompFilter&&) noexcept = default;
  SeccompFilter(const SeccompFilter&) = delete;
  SeccompFilter& operator=(const SeccompFilter&) = delete;
  ~SeccompFilter() = default;

  // Some rule uses SCMP_ACT_NOTIFY: load_seccomp returns a listener fd.
  [[nodiscard]] bool uses_notify() const { return uses_notify_; }
  // The classic BPF program and the seccomp(2) SECCOMP_SET_MODE_FILTER flags.
  [[nodiscard]] const std::vector<sock_filter>& program() const { return program_; }
  [[nodiscard]] unsigned int load_flags() const { return load_flags_; }
  // The scmp_filter_ctx, for libseccomp calls such as seccomp_export_pfc.
  [[nodiscard]] void* context() const { return ctx_.get(); }

 private:
  struct Release {
    void operator()(void* ctx) const;
  };
  SeccompFilter() = default;
  friend Result<SeccompFilter> compile_seccomp(const spec::Seccomp&, const SeccompOptions&);

  std::unique_ptr<void, Release> ctx_;
  std::vector<sock_filter> program_;
  unsigned int load_flags_ = 0;
  bool uses_notify_ = false;
};

// Compiles linux.seccomp in the runtime process (before fork), so every error
// is reported at create and names the field, e.g.
// "linux.seccomp.syscalls[2].names[0]: unknown syscall \"foo\"".
// Covers defaultAction/defaultErrnoRet, architectures, flags (probed against
// the kernel), every action and operator. Args with distinct indexes AND in
// one rule; when an index repeats each arg becomes its own rule (OR), as runc
// does, since libseccomp refuses two comparisons of one argument. Rules whose
// action equals the default are skipped. SCMP_FLTATR_CTL_NNP is off: the
// caller decides about no_new_privs (loading needs it or CAP_SYS_ADMIN).
Result<SeccompFilter> compile_seccomp(const spec::Seccomp& seccomp,
                                      const SeccompOptions& options = {});

// Loads the filter into the calling process with seccomp(2); no allocation,
// so it is safe after fork. Call as late as possible, right before execve:
// every later syscall is filtered. Returns the notify fd (O_CLOEXEC; for
// SCMP_ACT_NOTIFY rules) or -1.
Result<int> load_seccomp(const SeccompFilter& filter);

// seccomp user notification: connects to listener_path (a unix stream
// socket) and sends process_state_json with the notify fd as SCM_RIGHTS in
// the first message, then closes the connection.
Status send_seccomp_notify_fd(const std::string& listener_path, int notify_fd,
                              const std::string& process_state_json);

// The OCI "container process state": ociVersion, fds ["seccompFd"], pid,
// metadata (listenerMetadata, left out when empty) and state.
std::string seccomp_process_state_json(const std::string& oci_version, pid_t pid,
                                       const std::string& metadata,
                                       const nlohmann::json& container_state);

}  // namespace mxc::sys
