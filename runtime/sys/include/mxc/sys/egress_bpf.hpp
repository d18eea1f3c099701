// Direct-egress rules (the policy's network.egress, MXC 0.8 `egress`)
// enforced by cgroup BPF programs, hand-assembled (no libbpf) as the device
// program is:
//   - a BPF_PROG_TYPE_CGROUP_SKB program on BPF_CGROUP_INET_EGRESS sees every
//     IPv4/IPv6 packet a socket of the cgroup sends (TCP, UDP, ICMP, raw);
//     a refused packet fails the sending syscall with EPERM;
//   - BPF_PROG_TYPE_CGROUP_SOCK_ADDR programs on BPF_CGROUP_INET4_CONNECT and
//     INET6_CONNECT apply the same rules to connect(), so that a refused TCP
//     connect fails at once with EPERM (a dropped SYN alone would only be
//     retransmitted until the connect times out).
// Rules: loopback destinations (127.0.0.0/8, ::1) pass when the loopback is
// the container's own, and are refused when it is the host's (a container in
// the host's network namespace whose policy does not allow
// network.hostLoopback: then 0.0.0.0/8 and ::, which connect(2) sends to
// loopback, are refused too); then deny rules (a match refuses), then allow
// rules (a match passes), else egress.default.
// A rule matches when a `to` peer contains the destination and none of its
// `except` does (no `to`: every destination), and a `ports` entry matches the
// protocol (tcp 6, udp 17, icmp 1 / 58; `any`) and the destination port (no
// `ports`: everything). IPv6 packets are read without extension headers: the
// next header at byte 6, the transport header at byte 40.
#pragma once

#include <linux/bpf.h>

#include <vector>

#include <nlohmann/json.hpp>

#include "mxc/spec/policy.hpp"
#include "mxc/spec/result.hpp"
#include "mxc/sys/cgroups.hpp"
#include "mxc/sys/unique_fd.hpp"

namespace mxc::sys {

enum class EgressHook {
  kSkb,       // BPF_PROG_TYPE_CGROUP_SKB, BPF_CGROUP_INET_EGRESS
  kConnect4,  // BPF_PROG_TYPE_CGROUP_SOCK_ADDR, BPF_CGROUP_INET4_CONNECT
  kConnect6,  // BPF_PROG_TYPE_CGROUP_SOCK_ADDR, BPF_CGROUP_INET6_CONNECT
};

// Whose loopback the container's 127.0.0.1 and ::1 reach.
enum class LoopbackKind {
  kOwn,   // its own network namespace's: loopback destinations pass
  kHost,  // the host's (a shared network namespace), not allowed: refused
};

// The program for one hook. Errors name the rule that does not fit (a jump
// beyond the 16-bit offset of BPF).
Result<std::vector<bpf_insn>> build_egress_program(const spec::PolicyEgress& egress,
                                                   EgressHook hook,
                                                   LoopbackKind loopback = LoopbackKind::kOwn);
// build_egress_program + BPF_PROG_LOAD (the verifier's last line on refusal).
Result<UniqueFd> load_egress_program(const spec::PolicyEgress& egress, EgressHook hook,
                                     LoopbackKind loopback = LoopbackKind::kOwn);

// Loads the three programs for `egress` (the JSON of spec::egress_to_json, as
// compiled into the plugin policy's network.egress) and attaches them with
// BPF_F_ALLOW_MULTI to the cgroup's v2 directory (the unified mount of a hybrid
// host). No v2 hierarchy: an error naming network.egress. The programs stay
// attached until the cgroup is removed.
Status attach_egress_filter(const Cgroup& cgroup, const nlohmann::json& egress,
                            LoopbackKind loopback);

}  // namespace mxc::sys
