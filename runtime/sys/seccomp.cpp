#include "mxc/sys/seccomp.hpp"

#include <linux/seccomp.h>
#include <seccomp.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string_view>
#include <type_traits>
#include <utility>

#include "mxc/sys/unique_fd.hpp"

namespace mxc::sys {

static_assert(std::is_same_v<scmp_filter_ctx, void*>, "SeccompFilter stores the context as void*");

void SeccompFilter::Release::operator()(void* ctx) const {
  seccomp_release(ctx);
}

namespace {

using namespace std::string_view_literals;

// ERRNO values above MAX_ERRNO are clamped by the kernel; TRACE passes 16 bits.
constexpr uint32_t kMaxErrno = 4095;
constexpr uint32_t kMaxTraceData = 0xffff;

std::string in_quotes(std::string_view s) {
  return "\"" + std::string(s) + "\"";
}

std::string libseccomp_version() {
  const scmp_version* v = seccomp_version();
  if (v == nullptr) return "libseccomp";
  return "libseccomp " + std::to_string(v->major) + "." + std::to_string(v->minor) + "." +
         std::to_string(v->micro);
}

// One action of a rule or the default; `field` names the action, `errno_field`
// the errnoRet that goes with it.
Result<uint32_t> parse_action(const std::string& name, std::optional<uint32_t> errno_ret,
                              const std::string& field, const std::string& errno_field) {
  auto with_data = [&](uint32_t max) -> Result<uint32_t> {
    const uint32_t value = errno_ret.value_or(EPERM);
    if (value > max) {
      return make_error(errno_field + ": " + std::to_string(value) + " is out of range (0-" +
                        std::to_string(max) + ")");
    }
    return value;
  };
  if (name == "SCMP_ACT_ERRNO") {
    auto v = with_data(kMaxErrno);
    if (!v) return v.error();
    return SCMP_ACT_ERRNO(*v);
  }
  if (name == "SCMP_ACT_TRACE") {
    auto v = with_data(kMaxTraceData);
    if (!v) return v.error();
    return SCMP_ACT_TRACE(*v);
  }
  static constexpr std::array<std::pair<std::string_view, uint32_t>, 7> kPlain{{
      // runc and crun: SCMP_ACT_KILL kills the thread, as the kernel's SECCOMP_RET_KILL.
      {"SCMP_ACT_KILL"sv, SCMP_ACT_KILL_THREAD},
      {"SCMP_ACT_KILL_THREAD"sv, SCMP_ACT_KILL_THREAD},
      {"SCMP_ACT_KILL_PROCESS"sv, SCMP_ACT_KILL_PROCESS},
      {"SCMP_ACT_TRAP"sv, SCMP_ACT_TRAP},
      {"SCMP_ACT_ALLOW"sv, SCMP_ACT_ALLOW},
      {"SCMP_ACT_LOG"sv, SCMP_ACT_LOG},
      {"SCMP_ACT_NOTIFY"sv, SCMP_ACT_NOTIFY},
  }};
  for (const auto& [n, action] : kPlain) {
    if (n != name) continue;
    // As crun: an errnoRet that would be ignored is a mistake in the config.
    if (errno_ret) {
      return make_error(errno_field + ": only valid with SCMP_ACT_ERRNO or SCMP_ACT_TRACE, not " +
                        name);
    }
    return action;
  }
  return make_error(field + ": unknown action " + in_quotes(name));
}

Result<scmp_compare> parse_operator(const std::string& op, const std::string& field) {
  static constexpr std::array<std::pair<std::string_view, scmp_compare>, 7> kOps{{
      {"SCMP_CMP_NE"sv, SCMP_CMP_NE},
      {"SCMP_CMP_LT"sv, SCMP_CMP_LT},
      {"SCMP_CMP_LE"sv, SCMP_CMP_LE},
      {"SCMP_CMP_EQ"sv, SCMP_CMP_EQ},
      {"SCMP_CMP_GE"sv, SCMP_CMP_GE},
      {"SCMP_CMP_GT"sv, SCMP_CMP_GT},
      {"SCMP_CMP_MASKED_EQ"sv, SCMP_CMP_MASKED_EQ},
  }};
  for (const auto& [n, cmp] : kOps) {
    if (n == op) return cmp;
  }
  return make_error(field + ": unknown operator " + in_quotes(op));
}

// The architectures this libseccomp was built with; the schema also allows
// newer ones (LOONGARCH64, M68K, SH, SHEB in libseccomp 2.5.4's case).
Result<uint32_t> parse_arch(const std::string& name, const std::string& field) {
  struct Arch {
    std::string_view name;
    uint32_t token;
  };
  static constexpr Arch kArchs[] = {
      {"SCMP_ARCH_X86"sv, SCMP_ARCH_X86},
      {"SCMP_ARCH_X86_64"sv, SCMP_ARCH_X86_64},
      {"SCMP_ARCH_X32"sv, SCMP_ARCH_X32},
      {"SCMP_ARCH_ARM"sv, SCMP_ARCH_ARM},
      {"SCMP_ARCH_AARCH64"sv, SCMP_ARCH_AARCH64},
      {"SCMP_ARCH_MIPS"sv, SCMP_ARCH_MIPS},
      {"SCMP_ARCH_MIPS64"sv, SCMP_ARCH_MIPS64},
      {"SCMP_ARCH_MIPS64N32"sv, SCMP_ARCH_MIPS64N32},
      {"SCMP_ARCH_MIPSEL"sv, SCMP_ARCH_MIPSEL},
      {"SCMP_ARCH_MIPSEL64"sv, SCMP_ARCH_MIPSEL64},
      {"SCMP_ARCH_MIPSEL64N32"sv, SCMP_ARCH_MIPSEL64N32},
      {"SCMP_ARCH_PPC"sv, SCMP_ARCH_PPC},
      {"SCMP_ARCH_PPC64"sv, SCMP_ARCH_PPC64},
      {"SCMP_ARCH_PPC64LE"sv, SCMP_ARCH_PPC64LE},
      {"SCMP_ARCH_S390"sv, SCMP_ARCH_S390},
      {"SCMP_ARCH_S390X"sv, SCMP_ARCH_S390X},
      {"SCMP_ARCH_PARISC"sv, SCMP_ARCH_PARISC},
      {"SCMP_ARCH_PARISC64"sv, SCMP_ARCH_PARISC64},
      {"SCMP_ARCH_RISCV64"sv, SCMP_ARCH_RISCV64},
#ifdef SCMP_ARCH_LOONGARCH64
      {"SCMP_ARCH_LOONGARCH64"sv, SCMP_ARCH_LOONGARCH64},
#endif
#ifdef SCMP_ARCH_M68K
      {"SCMP_ARCH_M68K"sv, SCMP_ARCH_M68K},
#endif
#ifdef SCMP_ARCH_SH
      {"SCMP_ARCH_SH"sv, SCMP_ARCH_SH},
#endif
#ifdef SCMP_ARCH_SHEB
      {"SCMP_ARCH_SHEB"sv, SCMP_ARCH_SHEB},
#endif
  };
  for (const auto& arch : kArchs) {
    if (arch.name == name) return arch.token;
  }
  const auto& known = spec::known_seccomp_archs();
  if (std::find(known.begin(), known.end(), name) != known.end()) {
    return make_error(field + ": " + name + " is not supported by " + libseccomp_version());
  }
  return make_error(field + ": unknown architecture " + in_quotes(name));
}

Result<unsigned int> parse_flag(const std::string& name, const std::string& field) {
  static constexpr std::array<std::pair<std::string_view, unsigned int>, 4> kFlags{{
      {"SECCOMP_FILTER_FLAG_TSYNC"sv, SECCOMP_FILTER_FLAG_TSYNC},
      {"SECCOMP_FILTER_FLAG_LOG"sv, SECCOMP_FILTER_FLAG_LOG},
      {"SECCOMP_FILTER_FLAG_SPEC_ALLOW"sv, SECCOMP_FILTER_FLAG_SPEC_ALLOW},
      {"SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"sv, SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV},
  }};
  for (const auto& [n, flag] : kFlags) {
    if (n == name) return flag;
  }
  return make_error(field + ": unknown flag " + in_quotes(name));
}

// The kernel checks the flags before reading the program, so a null program
// answers EFAULT for flags it accepts and EINVAL for those it does not. Any
// other answer (seccomp() filtered away, say) is left for the load to report.
bool kernel_accepts_flags(unsigned int flags) {
  const long rc = ::syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, nullptr);
  return !(rc < 0 && errno == EINVAL);
}

// The BPF that libseccomp generates, read back through a memfd
// (seccomp_export_bpf_mem only exists from libseccomp 2.6).
Result<std::vector<sock_filter>> export_program(scmp_filter_ctx ctx) {
  UniqueFd mem(::memfd_create("mxc-seccomp-bpf", MFD_CLOEXEC));
  if (!mem) return sys_error("linux.seccomp: memfd_create");
  if (const int rc = seccomp_export_bpf(ctx, mem.get()); rc < 0) {
    return sys_error("linux.seccomp: generating the BPF program", -rc);
  }
  const off_t size = ::lseek(mem.get(), 0, SEEK_END);
  if (size < 0 || ::lseek(mem.get(), 0, SEEK_SET) < 0) return sys_error("linux.seccomp: lseek");
  if (size == 0 || size % static_cast<off_t>(sizeof(sock_filter)) != 0) {
    return make_error("linux.seccomp: libseccomp produced a malformed BPF program (" +
                      std::to_string(size) + " bytes)");
  }
  std::vector<sock_filter> program(static_cast<size_t>(size) / sizeof(sock_filter));
  auto* out = reinterpret_cast<char*>(program.data());
  size_t done = 0;
  while (done < static_cast<size_t>(size)) {
    const ssize_t n = ::read(mem.get(), out + done, static_cast<size_t>(size) - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return sys_error("linux.seccomp: reading the BPF program", n < 0 ? errno : EIO);
    done += static_cast<size_t>(n);
  }
  if (program.size() > BPF_MAXINSNS) {
    return make_error("linux.seccomp: the filter compiles to " + std::to_string(program.size()) +
                      " BPF instructions, over the kernel's limit of " +
                      std::to_string(BPF_MAXINSNS));
  }
  return program;
}

// The conditions of one syscalls[] entry: a single AND-ed set, or one set per
// condition when an argument index repeats (libseccomp refuses two comparisons
// of one argument in a rule; runc ORs them the same way).
Result<std::vector<std::vector<scmp_arg_cmp>>> parse_conditions(const spec::SeccompSyscall& sc,
                                                                const std::string& field) {
  std::vector<scmp_arg_cmp> all;
  std::array<int, 6> per_index{};
  for (size_t j = 0; j < sc.args.size(); ++j) {
    const auto& arg = sc.args[j];
    const std::string arg_field = field + ".args[" + std::to_string(j) + "]";
    if (arg.index >= per_index.size()) {
      return make_error(arg_field + ".index: " + std::to_string(arg.index) +
                        " is out of range (a syscall has 6 arguments, 0-5)");
    }
    auto op = parse_operator(arg.op, arg_field + ".op");
    if (!op) return op.error();
    ++per_index[arg.index];
    // MASKED_EQ: value is the mask, valueTwo the expected result (0 when absent).
    all.push_back(scmp_arg_cmp{arg.index, *op, arg.value, arg.valueTwo.value_or(0)});
  }
  std::vector<std::vector<scmp_arg_cmp>> sets;
  if (std::any_of(per_index.begin(), per_index.end(), [](int n) { return n > 1; })) {
    for (const auto& cmp : all) sets.push_back({cmp});
  } else {
    sets.push_back(std::move(all));
  }
  return sets;
}

}  // namespace

Result<SeccompFilter> compile_seccomp(const spec::Seccomp& seccomp, const SeccompOptions& options) {
  const std::string base = "linux.seccomp";
  auto default_action = parse_action(seccomp.defaultAction, seccomp.defaultErrnoRet,
                                     base + ".defaultAction", base + ".defaultErrnoRet");
  if (!default_action) return default_action.error();
  // runc refuses it too: every syscall, the runtime's own up to execve
  // included, would wait on a listener nobody serves yet.
  if (*default_action == SCMP_ACT_NOTIFY) {
    return make_error(base + ".defaultAction: SCMP_ACT_NOTIFY cannot be the default action");
  }

  SeccompFilter filter;
  filter.ctx_.reset(seccomp_init(*default_action));
  if (!filter.ctx_) {
    return make_error(base + ".defaultAction: " + seccomp.defaultAction +
                      " is not supported by this kernel or " + libseccomp_version());
  }
  scmp_filter_ctx ctx = filter.ctx_.get();
  if (const int rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0); rc < 0) {
    return sys_error(base + ": disabling libseccomp's no_new_privs", -rc);
  }

  // Architectures before rules, so that every rule is generated for each.
  for (size_t i = 0; i < seccomp.architectures.size(); ++i) {
    const std::string field = base + ".architectures[" + std::to_string(i) + "]";
    auto arch = parse_arch(seccomp.architectures[i], field);
    if (!arch) return arch.error();
    const int rc = seccomp_arch_add(ctx, *arch);
    if (rc < 0 && rc != -EEXIST) return sys_error(field + ": " + seccomp.architectures[i], -rc);
  }

  unsigned int requested_flags = 0;
  for (size_t i = 0; i < seccomp.flags.size(); ++i) {
    const std::string field = base + ".flags[" + std::to_string(i) + "]";
    auto flag = parse_flag(seccomp.flags[i], field);
    if (!flag) return flag.error();
    // WAIT_KILLABLE_RECV is only accepted together with a listener.
    const unsigned int probe = *flag == SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV
                                   ? *flag | SECCOMP_FILTER_FLAG_NEW_LISTENER
                                   : *flag;
    if (!kernel_accepts_flags(probe)) {
      return make_error(field + ": " + seccomp.flags[i] + " is not supported by this kernel");
    }
    requested_flags |= *flag;
  }

  for (size_t i = 0; i < seccomp.syscalls.size(); ++i) {
    const auto& sc = seccomp.syscalls[i];
    const std::string field = base + ".syscalls[" + std::to_string(i) + "]";
    auto action = parse_action(sc.action, sc.errnoRet, field + ".action", field + ".errnoRet");
    if (!action) return action.error();
    auto conditions = parse_conditions(sc, field);
    if (!conditions) return conditions.error();
    if (*action == SCMP_ACT_NOTIFY) {
      if (!seccomp.listenerPath || seccomp.listenerPath->empty()) {
        return make_error(base + ".listenerPath: required when SCMP_ACT_NOTIFY is used (" + field +
                          ")");
      }
      filter.uses_notify_ = true;
    }
    for (size_t j = 0; j < sc.names.size(); ++j) {
      const std::string& name = sc.names[j];
      const std::string name_field = field + ".names[" + std::to_string(j) + "]";
      const int nr = seccomp_syscall_resolve_name(name.c_str());
      if (nr == __NR_SCMP_ERROR) {
        if (options.ignore_unknown_syscalls) continue;
        return make_error(name_field + ": unknown syscall " + in_quotes(name) + " (unknown to " +
                          libseccomp_version() + ")");
      }
      if (*action == SCMP_ACT_NOTIFY && name == "write") {
        // As runc: the runtime may still need write() before execve.
        return make_error(name_field + ": SCMP_ACT_NOTIFY cannot be used for \"write\"");
      }
      // libseccomp refuses rules that repeat the default action (they are no-ops).
      if (*action == *default_action) continue;
      for (const auto& set : *conditions) {
        const int rc =
            seccomp_rule_add_array(ctx, *action, nr, static_cast<unsigned int>(set.size()),
                                   set.empty() ? nullptr : set.data());
        if (rc < 0) {
          return sys_error(
              name_field + ": adding the " + sc.action + " rule for " + in_quotes(name), -rc);
        }
      }
    }
  }

  unsigned int flags = requested_flags & ~SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV;
  if (filter.uses_notify_) {
    flags |= SECCOMP_FILTER_FLAG_NEW_LISTENER;
    // Meaningless without a listener (the kernel refuses it), so dropped then.
    flags |= requested_flags & SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV;
    // With a listener the return value is the fd, so a thread that cannot be
    // synchronized must fail with ESRCH instead of returning its id.
    if (flags & SECCOMP_FILTER_FLAG_TSYNC) flags |= SECCOMP_FILTER_FLAG_TSYNC_ESRCH;
    if (!kernel_accepts_flags(flags)) {
      return make_error(base + ".flags: this kernel cannot combine them with SCMP_ACT_NOTIFY");
    }
  }
  filter.load_flags_ = flags;

  auto program = export_program(ctx);
  if (!program) return program.error();
  filter.program_ = std::move(*program);
  return filter;
}

Result<int> load_seccomp(const SeccompFilter& filter) {
  const auto& program = filter.program();
  if (program.empty()) return make_error("seccomp: no compiled filter to load");
  sock_fprog prog{};
  prog.len = static_cast<unsigned short>(program.size());
  prog.filter = const_cast<sock_filter*>(program.data());  // the kernel only reads it
  const long rc = ::syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, filter.load_flags(), &prog);
  if (rc < 0) {
    const int err = errno;
    if (err == EACCES) {
      return sys_error("seccomp: loading the filter (needs no_new_privs or CAP_SYS_ADMIN)", err);
    }
    return sys_error("seccomp: loading the filter", err);
  }
  if (filter.load_flags() & SECCOMP_FILTER_FLAG_NEW_LISTENER) return static_cast<int>(rc);
  if (rc > 0) {
    // TSYNC without a listener: rc is the thread that could not be synchronized.
    return make_error("seccomp: loading the filter: thread " + std::to_string(rc) +
                      " could not be synchronized (SECCOMP_FILTER_FLAG_TSYNC)");
  }
  return -1;
}

Status send_seccomp_notify_fd(const std::string& listener_path, int notify_fd,
                              const std::string& process_state_json) {
  const std::string what = "seccomp listener " + in_quotes(listener_path);
  if (notify_fd < 0) return make_error(what + ": no seccomp notify fd to send");
  if (process_state_json.empty()) return make_error(what + ": empty process state");
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (listener_path.empty() || listener_path.size() >= sizeof(addr.sun_path)) {
    return make_error(what + ": a unix socket path must be 1 to " +
                      std::to_string(sizeof(addr.sun_path) - 1) + " bytes");
  }
  std::memcpy(addr.sun_path, listener_path.data(), listener_path.size());

  UniqueFd sock(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!sock) return sys_error(what + ": socket");
  int rc;
  do {
    rc = ::connect(sock.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof(addr));
  } while (rc < 0 && errno == EINTR);
  if (rc < 0) return sys_error(what + ": connect");

  // The fd rides on the first message only, as the OCI spec requires; a short
  // write sends the rest of the state as plain data.
  size_t sent = 0;
  while (sent < process_state_json.size()) {
    iovec iov{const_cast<char*>(process_state_json.data() + sent),
              process_state_json.size() - sent};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
    if (sent == 0) {
      msg.msg_control = control;
      msg.msg_controllen = sizeof(control);
      cmsghdr* cmsg = CMSG_FIRSTHDR(&msg);
      cmsg->cmsg_level = SOL_SOCKET;
      cmsg->cmsg_type = SCM_RIGHTS;
      cmsg->cmsg_len = CMSG_LEN(sizeof(int));
      std::memcpy(CMSG_DATA(cmsg), &notify_fd, sizeof(int));
    }
    const ssize_t n = ::sendmsg(sock.get(), &msg, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return sys_error(what + ": sendmsg");
    sent += static_cast<size_t>(n);
  }
  return {};
}

std::string seccomp_process_state_json(const std::string& oci_version, pid_t pid,
                                       const std::string& metadata,
                                       const nlohmann::json& container_state) {
  nlohmann::json doc = {
      {"ociVersion", oci_version},
      {"fds", nlohmann::json::array({"seccompFd"})},
      {"pid", pid},
      {"state", container_state},
  };
  // Optional in the spec (runc: omitempty).
  if (!metadata.empty()) doc["metadata"] = metadata;
  return doc.dump();
}

}  // namespace mxc::sys
