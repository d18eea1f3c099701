// The v2 device controller: cgroup v2 has no devices.allow, the kernel asks a
// BPF_PROG_TYPE_CGROUP_DEVICE program instead. The program is written here by
// hand (no libbpf) from linux.resources.devices.
//
// Semantics, as v1's devices.allow/deny lists: start with nothing allowed, and
// for each rule matching the device, in order, an allow adds its access bits
// and a deny removes them; the access is granted when every requested bit is
// left. So later rules override earlier ones, also for partial access.
#include <linux/bpf.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <fcntl.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "cgroup_internal.hpp"
#include "mxc/sys/bpf_program.hpp"
#include "mxc/sys/cgroups.hpp"
#include "mxc/sys/unique_fd.hpp"

namespace mxc::sys {

namespace {

// Registers: r1 context, r2 device type, r3 requested access, r4 major,
// r5 minor, r6 the access bits allowed so far, r7 scratch, r0 the verdict.
using bpf::insn;
using bpf::ptr;

bpf_insn load_ctx_u32(uint8_t dst, int16_t off) {
  return insn(BPF_LDX | BPF_MEM | BPF_W, dst, 1, off, 0);
}
bpf_insn alu32_imm(uint8_t op, uint8_t dst, int32_t imm) {
  return insn(BPF_ALU | op | BPF_K, dst, 0, 0, imm);
}
bpf_insn alu32_reg(uint8_t op, uint8_t dst, uint8_t src) {
  return insn(BPF_ALU | op | BPF_X, dst, src, 0, 0);
}
// 32-bit compare: majors and minors are u32, a 64-bit compare would
// sign-extend the immediate.
bpf_insn jne32_imm(uint8_t dst, int32_t imm, int16_t off) {
  return insn(BPF_JMP32 | BPF_JNE | BPF_K, dst, 0, off, imm);
}

std::vector<bpf_insn> build_program(const std::vector<cgroup_internal::DeviceRule>& rules) {
  std::vector<bpf_insn> p = {
      load_ctx_u32(2, offsetof(bpf_cgroup_dev_ctx, access_type)),
      alu32_reg(BPF_MOV, 3, 2),
      alu32_imm(BPF_RSH, 3, 16),      // access: BPF_DEVCG_ACC_* bits
      alu32_imm(BPF_AND, 2, 0xffff),  // type: BPF_DEVCG_DEV_BLOCK or _CHAR
      load_ctx_u32(4, offsetof(bpf_cgroup_dev_ctx, major)),
      load_ctx_u32(5, offsetof(bpf_cgroup_dev_ctx, minor)),
      alu32_imm(BPF_MOV, 6, 0),
  };
  for (const auto& r : rules) {
    if (r.access == 0) continue;
    std::vector<bpf_insn> conds;
    // Type 'a' covers every device, whatever major/minor say (as v1 does).
    if (r.type != 'a') {
      conds.push_back(jne32_imm(2, r.type == 'b' ? BPF_DEVCG_DEV_BLOCK : BPF_DEVCG_DEV_CHAR, 0));
      if (r.major >= 0) conds.push_back(jne32_imm(4, static_cast<int32_t>(r.major), 0));
      if (r.minor >= 0) conds.push_back(jne32_imm(5, static_cast<int32_t>(r.minor), 0));
    }
    // A failed condition skips the rest of the block: the later conditions
    // and the one action instruction.
    for (size_t k = 0; k < conds.size(); ++k) conds[k].off = static_cast<int16_t>(conds.size() - k);
    p.insert(p.end(), conds.begin(), conds.end());
    p.push_back(r.allow ? alu32_imm(BPF_OR, 6, static_cast<int32_t>(r.access))
                        : alu32_imm(BPF_AND, 6, static_cast<int32_t>(~r.access & 7u)));
  }
  const std::vector<bpf_insn> verdict = {
      alu32_reg(BPF_MOV, 7, 6),
      alu32_imm(BPF_XOR, 7, -1),
      alu32_reg(BPF_AND, 3, 7),  // requested bits that are not allowed
      insn(BPF_ALU64 | BPF_MOV | BPF_K, 0, 0, 0, 0),
      jne32_imm(3, 0, 1),
      insn(BPF_ALU64 | BPF_MOV | BPF_K, 0, 0, 0, 1),
      insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0),
  };
  p.insert(p.end(), verdict.begin(), verdict.end());
  return p;
}

Result<UniqueFd> load_program(const std::vector<bpf_insn>& prog) {
  static const char kLicense[] = "Apache-2.0";  // no GPL-only helper is used
  bpf_attr attr{};
  attr.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
  attr.insns = ptr(prog.data());
  attr.insn_cnt = static_cast<uint32_t>(prog.size());
  attr.license = ptr(kLicense);
  return bpf::load_program(attr, "the device program");
}

Result<std::vector<uint32_t>> attached_programs(int cgroup_fd, const std::string& dir) {
  std::vector<uint32_t> ids(64);
  bpf_attr attr{};
  attr.query.target_fd = static_cast<uint32_t>(cgroup_fd);
  attr.query.attach_type = BPF_CGROUP_DEVICE;
  attr.query.prog_ids = ptr(ids.data());
  attr.query.prog_cnt = static_cast<uint32_t>(ids.size());
  if (bpf::call(BPF_PROG_QUERY, attr) != 0) return sys_error("bpf(BPF_PROG_QUERY) on " + dir);
  ids.resize(std::min<size_t>(attr.query.prog_cnt, ids.size()));
  return ids;
}

}  // namespace

Status attach_device_filter(const std::string& dir, const std::vector<spec::DeviceCgroup>& rules) {
  auto parsed = cgroup_internal::parse_device_rules(rules);
  if (!parsed) return parsed.error();
  UniqueFd cg(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!cg) return sys_error("open " + dir);
  auto old = attached_programs(cg.get(), dir);
  if (!old) return old.error();
  auto prog = load_program(build_program(*parsed));
  if (!prog) return prog.error();

  bpf_attr attr{};
  attr.target_fd = static_cast<uint32_t>(cg.get());
  attr.attach_bpf_fd = static_cast<uint32_t>(prog->get());
  attr.attach_type = BPF_CGROUP_DEVICE;
  attr.attach_flags = BPF_F_ALLOW_MULTI;
  if (bpf::call(BPF_PROG_ATTACH, attr) != 0)
    return sys_error("bpf(BPF_PROG_ATTACH, BPF_CGROUP_DEVICE) on " + dir);

  // The new program is in force (all attached programs must allow); now the
  // previous ones can go without a moment of no filter at all.
  for (uint32_t id : *old) {
    bpf_attr get{};
    get.prog_id = id;
    UniqueFd old_fd(static_cast<int>(bpf::call(BPF_PROG_GET_FD_BY_ID, get)));
    if (!old_fd) {
      if (errno == ENOENT) continue;  // detached meanwhile
      return sys_error("bpf(BPF_PROG_GET_FD_BY_ID, " + std::to_string(id) + ")");
    }
    bpf_attr detach{};
    detach.target_fd = static_cast<uint32_t>(cg.get());
    detach.attach_bpf_fd = static_cast<uint32_t>(old_fd.get());
    detach.attach_type = BPF_CGROUP_DEVICE;
    if (bpf::call(BPF_PROG_DETACH, detach) != 0 && errno != ENOENT)
      return sys_error("bpf(BPF_PROG_DETACH) of program " + std::to_string(id) + " from " + dir);
  }
  return {};
}

}  // namespace mxc::sys
