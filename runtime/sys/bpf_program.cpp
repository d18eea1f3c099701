#include "mxc/sys/bpf_program.hpp"

#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace mxc::sys::bpf {

bpf_insn insn(uint8_t code, uint8_t dst, uint8_t src, int16_t off, int32_t imm) {
  bpf_insn i{};
  i.code = code;
  i.dst_reg = dst & 0xf;
  i.src_reg = src & 0xf;
  i.off = off;
  i.imm = imm;
  return i;
}

long call(int cmd, bpf_attr& attr) {
  return ::syscall(SYS_bpf, cmd, &attr, sizeof attr);
}

uint64_t ptr(const void* p) {
  return static_cast<uint64_t>(reinterpret_cast<uintptr_t>(p));
}

Result<UniqueFd> load_program(bpf_attr attr, const std::string& what) {
  int fd = static_cast<int>(call(BPF_PROG_LOAD, attr));
  if (fd >= 0) return UniqueFd(fd);
  const int err = errno;
  // Again with the verifier's log, whose last line says what it refused.
  std::string log(1 << 20, '\0');
  attr.log_buf = ptr(log.data());
  attr.log_size = static_cast<uint32_t>(log.size());
  attr.log_level = 1;
  fd = static_cast<int>(call(BPF_PROG_LOAD, attr));
  if (fd >= 0) return UniqueFd(fd);
  log.resize(std::strlen(log.c_str()));
  while (!log.empty() && log.back() == '\n') log.pop_back();
  const auto nl = log.rfind('\n');
  const std::string last = nl == std::string::npos ? log : log.substr(nl + 1);
  Error e = sys_error("bpf(BPF_PROG_LOAD) of " + what, err);
  if (!last.empty()) e.message += " (verifier: " + last + ")";
  return e;
}

}  // namespace mxc::sys::bpf
