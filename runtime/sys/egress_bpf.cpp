// Direct-egress rules as cgroup BPF programs (egress_bpf.hpp).
//
// Every program has a hook-specific prologue that leaves the same state, and
// then shares the rule code:
//   stack fp-64..fp-25  the IP header (IPv4: 20 bytes, IPv6: 40 bytes);
//   fp-48               IPv4 destination, host byte order;
//   fp-40..fp-28        IPv6 destination, four words in host byte order;
//   r6 the transport protocol, r7 the destination port (0 when none),
//   r8 scratch, r9 the context.
#include "mxc/sys/egress_bpf.hpp"

#include "mxc/sys/bpf_program.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/if_ether.h>
#include <netinet/in.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <string>

namespace mxc::sys {

namespace {

constexpr int16_t kHdr = -64;  // IP header buffer
constexpr int16_t kL4 = -16;   // first 4 bytes of the transport header
constexpr int16_t kDst4 = kHdr + 16;
constexpr int16_t kDst6 = kHdr + 24;

using bpf::insn;
using bpf::ptr;

bpf_insn ldx(uint8_t size, uint8_t dst, uint8_t src, int16_t off) {
  return insn(BPF_LDX | BPF_MEM | size, dst, src, off, 0);
}
bpf_insn stx_w(uint8_t dst, int16_t off, uint8_t src) {
  return insn(BPF_STX | BPF_MEM | BPF_W, dst, src, off, 0);
}
bpf_insn mov64_imm(uint8_t dst, int32_t imm) {
  return insn(BPF_ALU64 | BPF_MOV | BPF_K, dst, 0, 0, imm);
}
bpf_insn mov64_reg(uint8_t dst, uint8_t src) {
  return insn(BPF_ALU64 | BPF_MOV | BPF_X, dst, src, 0, 0);
}
bpf_insn alu64_imm(uint8_t op, uint8_t dst, int32_t imm) {
  return insn(BPF_ALU64 | op | BPF_K, dst, 0, 0, imm);
}
bpf_insn alu32_imm(uint8_t op, uint8_t dst, uint32_t imm) {
  return insn(BPF_ALU | op | BPF_K, dst, 0, 0, static_cast<int32_t>(imm));
}
// Network to host order (a no-op on big-endian hosts), zero-extended.
bpf_insn to_host(uint8_t reg, int bits) {
  return insn(BPF_ALU | BPF_END | BPF_TO_BE, reg, 0, 0, bits);
}
bpf_insn call(int32_t helper) {
  return insn(BPF_JMP | BPF_CALL, 0, 0, 0, helper);
}
bpf_insn exit_insn() {
  return insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
}

// Instructions with forward or backward jumps to labels, resolved at the end.
class Asm {
 public:
  int label() {
    labels_.push_back(-1);
    return static_cast<int>(labels_.size() - 1);
  }
  void bind(int l) { labels_[static_cast<size_t>(l)] = static_cast<long>(code_.size()); }
  void emit(bpf_insn i) { code_.push_back(i); }
  // 32-bit compare of a register with an immediate, jumping to `l` when `op` holds.
  void jmp32(uint8_t op, uint8_t reg, uint32_t imm, int l) {
    fixups_.emplace_back(code_.size(), l);
    emit(insn(BPF_JMP32 | op | BPF_K, reg, 0, 0, static_cast<int32_t>(imm)));
  }
  void jmp64(uint8_t op, uint8_t reg, int32_t imm, int l) {
    fixups_.emplace_back(code_.size(), l);
    emit(insn(BPF_JMP | op | BPF_K, reg, 0, 0, imm));
  }
  void ja(int l) {
    fixups_.emplace_back(code_.size(), l);
    emit(insn(BPF_JMP | BPF_JA, 0, 0, 0, 0));
  }
  void ret(int32_t verdict) {
    emit(mov64_imm(0, verdict));
    emit(exit_insn());
  }

  // Resolves the jumps and drops unreachable instructions (a rule that
  // matches everything makes the rest dead), which the verifier refuses.
  Result<std::vector<bpf_insn>> finish() {
    std::vector<long> target(code_.size(), -1);
    for (auto [at, l] : fixups_) {
      target[at] = labels_[static_cast<size_t>(l)];
      if (target[at] < 0) return make_error("network.egress: internal error: unbound label");
    }
    std::vector<bool> live(code_.size() + 1, false);
    std::vector<size_t> todo{0};
    while (!todo.empty()) {
      const size_t i = todo.back();
      todo.pop_back();
      if (i >= code_.size() || live[i]) continue;
      live[i] = true;
      const uint8_t cls = BPF_CLASS(code_[i].code), op = BPF_OP(code_[i].code);
      const bool jump = cls == BPF_JMP || cls == BPF_JMP32;
      if (jump && op == BPF_EXIT) continue;
      if (target[i] >= 0) todo.push_back(static_cast<size_t>(target[i]));
      if (!(jump && op == BPF_JA)) todo.push_back(i + 1);
    }
    std::vector<long> index(code_.size() + 1, 0);
    long n = 0;
    for (size_t i = 0; i <= code_.size(); ++i) {
      index[i] = n;
      if (i < code_.size() && live[i]) ++n;
    }
    std::vector<bpf_insn> out;
    out.reserve(static_cast<size_t>(n));
    for (size_t i = 0; i < code_.size(); ++i) {
      if (!live[i]) continue;
      bpf_insn in = code_[i];
      if (target[i] >= 0) {
        const long off = index[static_cast<size_t>(target[i])] - index[i] - 1;
        if (off < std::numeric_limits<int16_t>::min() ||
            off > std::numeric_limits<int16_t>::max()) {
          return make_error("network.egress: too many rules for one BPF program (a jump of " +
                            std::to_string(off) + " instructions)");
        }
        in.off = static_cast<int16_t>(off);
      }
      out.push_back(in);
    }
    if (out.size() > 1000000) {
      return make_error("network.egress: too many rules (" + std::to_string(out.size()) +
                        " BPF instructions)");
    }
    return out;
  }

 private:
  std::vector<bpf_insn> code_;
  std::vector<long> labels_;
  std::vector<std::pair<size_t, int>> fixups_;
};

struct Cidr {
  bool v6 = false;
  uint32_t words[4] = {};  // host order
  unsigned prefix = 0;
};

Result<Cidr> parse_cidr(const std::string& s) {
  const size_t slash = s.find('/');
  Cidr c;
  unsigned char bytes[16] = {};
  const std::string addr = s.substr(0, slash);
  if (::inet_pton(AF_INET, addr.c_str(), bytes) == 1) {
    c.v6 = false;
  } else if (::inet_pton(AF_INET6, addr.c_str(), bytes) == 1) {
    c.v6 = true;
  } else {
    return make_error("network.egress: " + s + " is not a CIDR");
  }
  const unsigned bits = c.v6 ? 128 : 32;
  if (slash == std::string::npos) {
    c.prefix = bits;
  } else {
    const std::string p = s.substr(slash + 1);
    char* end = nullptr;
    const unsigned long v = std::strtoul(p.c_str(), &end, 10);
    if (p.empty() || *end != '\0' || v > bits)
      return make_error("network.egress: " + s + " is not a CIDR");
    c.prefix = static_cast<unsigned>(v);
  }
  for (int w = 0; w < (c.v6 ? 4 : 1); ++w) {
    c.words[w] = (uint32_t{bytes[4 * w]} << 24) | (uint32_t{bytes[4 * w + 1]} << 16) |
                 (uint32_t{bytes[4 * w + 2]} << 8) | uint32_t{bytes[4 * w + 3]};
  }
  return c;
}

// Falls through when the destination is inside `c`, jumps to `miss` otherwise.
void emit_cidr(Asm& a, const Cidr& c, int miss) {
  for (unsigned w = 0; w < (c.v6 ? 4u : 1u); ++w) {
    const unsigned bits = c.prefix > 32 * w ? std::min(32u, c.prefix - 32 * w) : 0;
    if (bits == 0) break;
    const uint32_t mask = bits == 32 ? 0xffffffffu : ~(0xffffffffu >> bits);
    const int16_t off = c.v6 ? static_cast<int16_t>(kDst6 + 4 * w) : kDst4;
    a.emit(ldx(BPF_W, 8, 10, off));
    if (mask != 0xffffffffu) a.emit(alu32_imm(BPF_AND, 8, mask));
    a.jmp32(BPF_JNE, 8, c.words[w] & mask, miss);
  }
}

// Falls through when `p` matches r6/r7, jumps to `miss` otherwise.
void emit_port(Asm& a, const spec::EgressPort& p, bool v6, int miss) {
  if (p.protocol == "tcp") {
    a.jmp32(BPF_JNE, 6, IPPROTO_TCP, miss);
  } else if (p.protocol == "udp") {
    a.jmp32(BPF_JNE, 6, IPPROTO_UDP, miss);
  } else if (p.protocol == "icmp") {
    a.jmp32(BPF_JNE, 6, v6 ? uint32_t{IPPROTO_ICMPV6} : uint32_t{IPPROTO_ICMP}, miss);
  } else if (p.port) {  // any protocol with a port: those that have ports
    const int has_ports = a.label();
    a.jmp32(BPF_JEQ, 6, IPPROTO_TCP, has_ports);
    a.jmp32(BPF_JNE, 6, IPPROTO_UDP, miss);
    a.bind(has_ports);
  }
  if (p.port) {
    a.jmp32(BPF_JLT, 7, *p.port, miss);
    a.jmp32(BPF_JGT, 7, p.endPort.value_or(*p.port), miss);
  }
}

// The rules of one list for one address family: a match returns `verdict`.
Status emit_rules(Asm& a, const std::vector<spec::EgressRule>& rules, bool v6, int32_t verdict) {
  for (const auto& rule : rules) {
    std::vector<const spec::EgressPeer*> peers;
    for (const auto& p : rule.to) {
      if ((p.cidr.find(':') != std::string::npos) == v6) peers.push_back(&p);
    }
    // Peers only of the other family: the rule cannot match this family.
    if (!rule.to.empty() && peers.empty()) continue;
    const int next_rule = a.label();
    if (!peers.empty()) {
      const int peer_ok = a.label();
      for (const auto* p : peers) {
        const int next_peer = a.label();
        auto c = parse_cidr(p->cidr);
        if (!c) return c.error();
        emit_cidr(a, *c, next_peer);
        for (const auto& e : p->except) {
          auto x = parse_cidr(e);
          if (!x) return x.error();
          const int outside = a.label();
          emit_cidr(a, *x, outside);
          a.ja(next_peer);
          a.bind(outside);
        }
        a.ja(peer_ok);
        a.bind(next_peer);
      }
      a.ja(next_rule);
      a.bind(peer_ok);
    }
    if (!rule.ports.empty()) {
      const int port_ok = a.label();
      for (const auto& p : rule.ports) {
        const int next_port = a.label();
        emit_port(a, p, v6, next_port);
        a.ja(port_ok);
        a.bind(next_port);
      }
      a.ja(next_rule);
      a.bind(port_ok);
    }
    a.ret(verdict);
    a.bind(next_rule);
  }
  return {};
}

// Deny rules, allow rules, default: for one family.
Status emit_family(Asm& a, const spec::PolicyEgress& egress, bool v6) {
  MXC_TRY(emit_rules(a, egress.deny, v6, 0));
  MXC_TRY(emit_rules(a, egress.allow, v6, 1));
  a.ret(egress.default_ == "allow" ? 1 : 0);
  return {};
}

// r1 = ctx (r9), r2 = offset (already set), r3 = fp + buf, r4 = len; r0 = result.
void emit_load_bytes(Asm& a, int16_t buf, int32_t len) {
  a.emit(mov64_reg(1, 9));
  a.emit(mov64_reg(3, 10));
  a.emit(alu64_imm(BPF_ADD, 3, buf));
  a.emit(mov64_imm(4, len));
  a.emit(call(BPF_FUNC_skb_load_bytes));
}

// Converts the stored destination words to host order, in place.
void emit_dst_to_host(Asm& a, int16_t off, int words) {
  for (int w = 0; w < words; ++w) {
    const auto o = static_cast<int16_t>(off + 4 * w);
    a.emit(ldx(BPF_W, 8, 10, o));
    a.emit(to_host(8, 32));
    a.emit(stx_w(10, o, 8));
  }
}

// Loopback destinations go to `to`: pass (the container's own loopback), or
// refuse (the host's, when the container shares its network namespace; then
// 0.0.0.0/8 and :: too, which connect(2) turns into loopback). Falls through
// otherwise.
struct Loopback {
  int to;
  bool host;  // the host's loopback: refused, and the unspecified addresses with it
};
void emit_loopback4(Asm& a, Loopback lo) {
  a.emit(ldx(BPF_W, 8, 10, kDst4));
  a.emit(alu32_imm(BPF_AND, 8, 0xff000000u));
  a.jmp32(BPF_JEQ, 8, 0x7f000000u, lo.to);
  if (lo.host) a.jmp32(BPF_JEQ, 8, 0, lo.to);
}
void emit_loopback6(Asm& a, Loopback lo) {
  const int not_lo = a.label();
  // ::1, and with `host` :: as well: the first three words zero, the last 1 (or 0).
  for (int w = 0; w < 3; ++w) {
    a.emit(ldx(BPF_W, 8, 10, static_cast<int16_t>(kDst6 + 4 * w)));
    a.jmp32(BPF_JNE, 8, 0, not_lo);
  }
  a.emit(ldx(BPF_W, 8, 10, static_cast<int16_t>(kDst6 + 12)));
  a.jmp32(BPF_JEQ, 8, 1, lo.to);
  if (lo.host) a.jmp32(BPF_JEQ, 8, 0, lo.to);
  a.bind(not_lo);
}

// cgroup_skb egress: the packet starts at the IP header.
void emit_skb_prologue(Asm& a, int rules4, int rules6, int pass, Loopback lo) {
  const int v4 = a.label(), v6 = a.label(), v4_port = a.label(), v6_port = a.label();
  a.emit(mov64_reg(9, 1));
  a.emit(ldx(BPF_W, 2, 1, offsetof(__sk_buff, protocol)));
  a.jmp32(BPF_JEQ, 2, htons(ETH_P_IP), v4);
  a.jmp32(BPF_JEQ, 2, htons(ETH_P_IPV6), v6);
  a.ja(pass);  // not IP: not ours to judge

  // A packet too short to hold the header has no destination to judge: refused.
  a.bind(v4);
  a.emit(mov64_imm(2, 0));
  emit_load_bytes(a, kHdr, 20);
  const int drop = a.label();
  a.jmp64(BPF_JNE, 0, 0, drop);
  emit_dst_to_host(a, kDst4, 1);
  emit_loopback4(a, lo);
  a.emit(ldx(BPF_B, 6, 10, kHdr + 9));
  a.emit(mov64_imm(7, 0));
  a.jmp32(BPF_JEQ, 6, IPPROTO_TCP, v4_port);
  a.jmp32(BPF_JNE, 6, IPPROTO_UDP, rules4);
  a.bind(v4_port);
  a.emit(ldx(BPF_B, 2, 10, kHdr));
  a.emit(alu64_imm(BPF_AND, 2, 0xf));
  a.emit(alu64_imm(BPF_LSH, 2, 2));  // ihl * 4
  emit_load_bytes(a, kL4, 4);
  a.jmp64(BPF_JNE, 0, 0, rules4);
  a.emit(ldx(BPF_H, 7, 10, kL4 + 2));
  a.emit(to_host(7, 16));
  a.ja(rules4);

  a.bind(v6);
  a.emit(mov64_imm(2, 0));
  emit_load_bytes(a, kHdr, 40);
  a.jmp64(BPF_JNE, 0, 0, drop);
  emit_dst_to_host(a, kDst6, 4);
  emit_loopback6(a, lo);
  a.emit(ldx(BPF_B, 6, 10, kHdr + 6));
  a.emit(mov64_imm(7, 0));
  a.jmp32(BPF_JEQ, 6, IPPROTO_TCP, v6_port);
  a.jmp32(BPF_JNE, 6, IPPROTO_UDP, rules6);
  a.bind(v6_port);
  a.emit(mov64_imm(2, 40));
  emit_load_bytes(a, kL4, 4);
  a.jmp64(BPF_JNE, 0, 0, rules6);
  a.emit(ldx(BPF_H, 7, 10, kL4 + 2));
  a.emit(to_host(7, 16));
  a.ja(rules6);

  a.bind(drop);
  a.ret(0);
}

// cgroup/connect4 and connect6: the address and port the socket connects to.
void emit_connect_prologue(Asm& a, bool v6, int rules4, int rules6, Loopback lo) {
  a.emit(mov64_reg(9, 1));
  a.emit(ldx(BPF_W, 6, 1, offsetof(bpf_sock_addr, protocol)));
  a.emit(ldx(BPF_W, 7, 1, offsetof(bpf_sock_addr, user_port)));
  a.emit(to_host(7, 16));
  const int as_v4 = a.label();
  if (v6) {
    for (int w = 0; w < 4; ++w) {
      a.emit(ldx(BPF_W, 8, 1, static_cast<int16_t>(offsetof(bpf_sock_addr, user_ip6) + 4 * w)));
      a.emit(stx_w(10, static_cast<int16_t>(kDst6 + 4 * w), 8));
    }
    emit_dst_to_host(a, kDst6, 4);
    emit_loopback6(a, lo);
    // An IPv4-mapped address (::ffff:a.b.c.d) sends IPv4: judged by the IPv4 rules.
    const int native = a.label();
    for (int w = 0; w < 3; ++w) {
      a.emit(ldx(BPF_W, 8, 10, static_cast<int16_t>(kDst6 + 4 * w)));
      a.jmp32(BPF_JNE, 8, w == 2 ? 0xffffu : 0u, native);
    }
    a.emit(ldx(BPF_W, 8, 10, static_cast<int16_t>(kDst6 + 12)));
    a.emit(stx_w(10, kDst4, 8));
    a.ja(as_v4);
    a.bind(native);
    a.ja(rules6);
  } else {
    a.emit(ldx(BPF_W, 8, 1, offsetof(bpf_sock_addr, user_ip4)));
    a.emit(stx_w(10, kDst4, 8));
    emit_dst_to_host(a, kDst4, 1);
  }
  a.bind(as_v4);
  emit_loopback4(a, lo);
  a.ja(rules4);
}

const char* hook_name(EgressHook hook) {
  switch (hook) {
    case EgressHook::kSkb:
      return "cgroup_skb/egress";
    case EgressHook::kConnect4:
      return "cgroup/connect4";
    case EgressHook::kConnect6:
      return "cgroup/connect6";
  }
  return "?";
}

bpf_attach_type attach_type(EgressHook hook) {
  switch (hook) {
    case EgressHook::kSkb:
      return BPF_CGROUP_INET_EGRESS;
    case EgressHook::kConnect4:
      return BPF_CGROUP_INET4_CONNECT;
    case EgressHook::kConnect6:
      return BPF_CGROUP_INET6_CONNECT;
  }
  return BPF_CGROUP_INET_EGRESS;
}

}  // namespace

Result<std::vector<bpf_insn>> build_egress_program(const spec::PolicyEgress& egress,
                                                   EgressHook hook, LoopbackKind loopback) {
  Asm a;
  const int rules4 = a.label(), rules6 = a.label(), pass = a.label(), refuse = a.label();
  const bool host = loopback == LoopbackKind::kHost;
  const Loopback lo{host ? refuse : pass, host};
  if (hook == EgressHook::kSkb)
    emit_skb_prologue(a, rules4, rules6, pass, lo);
  else
    emit_connect_prologue(a, hook == EgressHook::kConnect6, rules4, rules6, lo);
  a.bind(rules4);
  MXC_TRY(emit_family(a, egress, false));
  a.bind(rules6);
  MXC_TRY(emit_family(a, egress, true));
  a.bind(pass);
  a.ret(1);
  a.bind(refuse);
  a.ret(0);
  return a.finish();
}

Result<UniqueFd> load_egress_program(const spec::PolicyEgress& egress, EgressHook hook,
                                     LoopbackKind loopback) {
  auto prog = build_egress_program(egress, hook, loopback);
  if (!prog) return prog.error();
  static const char kLicense[] = "Apache-2.0";  // no GPL-only helper is used
  bpf_attr attr{};
  attr.prog_type =
      hook == EgressHook::kSkb ? BPF_PROG_TYPE_CGROUP_SKB : BPF_PROG_TYPE_CGROUP_SOCK_ADDR;
  attr.expected_attach_type = attach_type(hook);
  attr.insns = ptr(prog->data());
  attr.insn_cnt = static_cast<uint32_t>(prog->size());
  attr.license = ptr(kLicense);
  auto fd = bpf::load_program(attr, std::string("the ") + hook_name(hook) + " program");
  if (!fd) return fd.error().context("network.egress");
  return fd;
}

Status attach_egress_filter(const Cgroup& cgroup, const nlohmann::json& egress,
                            LoopbackKind loopback) {
  auto rules = spec::parse_egress(egress, "policy", "network.egress");
  if (!rules) return rules.error();
  const auto dir = cgroup.unified_dir();
  if (!dir) {
    return make_error(
        "network.egress: needs a cgroup v2 hierarchy (its rules are cgroup BPF programs), and "
        "this host mounts none");
  }
  UniqueFd cg(::open(dir->c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!cg) return sys_error("network.egress: open " + *dir);
  for (EgressHook hook : {EgressHook::kSkb, EgressHook::kConnect4, EgressHook::kConnect6}) {
    auto prog = load_egress_program(*rules, hook, loopback);
    if (!prog) return prog.error();
    bpf_attr attr{};
    attr.target_fd = static_cast<uint32_t>(cg.get());
    attr.attach_bpf_fd = static_cast<uint32_t>(prog->get());
    attr.attach_type = attach_type(hook);
    attr.attach_flags = BPF_F_ALLOW_MULTI;
    if (bpf::call(BPF_PROG_ATTACH, attr) != 0) {
      return sys_error(std::string("network.egress: bpf(BPF_PROG_ATTACH, ") + hook_name(hook) +
                       ") on " + *dir);
    }
  }
  return {};
}

}  // namespace mxc::sys
