// What every hand-assembled BPF program of the runtime needs: the instruction
// encoder, the bpf(2) call, and loading with the verifier's verdict in the
// error (cgroup device filters, the egress filter).
#pragma once

#include <linux/bpf.h>

#include <cstdint>
#include <string>
#include <vector>

#include "mxc/spec/result.hpp"
#include "mxc/sys/unique_fd.hpp"

namespace mxc::sys::bpf {

bpf_insn insn(uint8_t code, uint8_t dst, uint8_t src, int16_t off, int32_t imm);
long call(int cmd, bpf_attr& attr);
uint64_t ptr(const void* p);

// BPF_PROG_LOAD of `attr` (program type, instructions, license filled in by
// the caller). Refused: the error is `what` with errno and, when the verifier
// said why, its last line.
Result<UniqueFd> load_program(bpf_attr attr, const std::string& what);

}  // namespace mxc::sys::bpf
