// network.egress as a cgroup_skb program: the generated program is loaded
// (so the kernel's verifier accepts it) and run with BPF_PROG_TEST_RUN on
// crafted IPv4/IPv6 packets; the verdict (1 pass, 0 refuse) is checked.
#define BOOST_TEST_MODULE mxc_runtime_egress_bpf_tests
#include <arpa/inet.h>
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <netinet/in.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include <boost/test/unit_test.hpp>
#include <nlohmann/json.hpp>

#include "mxc/spec/policy.hpp"
#include "mxc/sys/egress_bpf.hpp"

using mxc::sys::EgressHook;
using nlohmann::json;

namespace {

mxc::spec::PolicyEgress rules(const json& j) {
  auto e = mxc::spec::parse_egress(j, "test", "egress");
  BOOST_TEST_REQUIRE(static_cast<bool>(e), (e ? "" : e.error().message));
  return *e;
}

// Ethernet header + IP header (+ options) + the first 4 bytes of L4 (+ padding).
std::vector<uint8_t> packet(const std::string& dst, uint8_t proto, uint16_t dport,
                            unsigned ihl = 5) {
  std::vector<uint8_t> p(14, 0);
  unsigned char addr[16] = {};
  const bool v6 = dst.find(':') != std::string::npos;
  BOOST_TEST_REQUIRE(::inet_pton(v6 ? AF_INET6 : AF_INET, dst.c_str(), addr) == 1);
  const uint16_t eth = v6 ? ETH_P_IPV6 : ETH_P_IP;
  p[12] = static_cast<uint8_t>(eth >> 8);
  p[13] = static_cast<uint8_t>(eth & 0xff);
  size_t l4 = 0;
  if (v6) {
    std::vector<uint8_t> h(40, 0);
    h[0] = 0x60;
    h[4] = 0;
    h[5] = 8;  // payload length
    h[6] = proto;
    h[7] = 64;
    h[8] = 0xfd;  // source fd00::99
    h[23] = 0x99;
    std::copy(addr, addr + 16, h.begin() + 24);
    p.insert(p.end(), h.begin(), h.end());
    l4 = 14 + 40;
  } else {
    std::vector<uint8_t> h(ihl * 4, 0);
    h[0] = static_cast<uint8_t>(0x40 | ihl);
    h[3] = static_cast<uint8_t>(ihl * 4 + 8);  // total length
    h[8] = 64;
    h[9] = proto;
    h[12] = 10;  // source 10.99.0.1
    h[13] = 99;
    h[15] = 1;
    std::copy(addr, addr + 4, h.begin() + 16);
    p.insert(p.end(), h.begin(), h.end());
    l4 = 14 + ihl * 4;
  }
  p.resize(l4 + 8, 0);
  p[l4 + 0] = 0x9c;  // source port 40000
  p[l4 + 1] = 0x40;
  p[l4 + 2] = static_cast<uint8_t>(dport >> 8);
  p[l4 + 3] = static_cast<uint8_t>(dport & 0xff);
  // Room for the kernel's test skb (it wants at least an Ethernet frame's minimum).
  p.resize(std::max<size_t>(p.size(), 64), 0);
  return p;
}

// The program's return value for one packet.
uint32_t verdict(int prog, std::vector<uint8_t> pkt) {
  bpf_attr attr{};
  attr.test.prog_fd = static_cast<uint32_t>(prog);
  attr.test.data_in = reinterpret_cast<uintptr_t>(pkt.data());
  attr.test.data_size_in = static_cast<uint32_t>(pkt.size());
  attr.test.repeat = 1;
  const long rc = ::syscall(SYS_bpf, BPF_PROG_TEST_RUN, &attr, sizeof attr);
  BOOST_TEST_REQUIRE(rc == 0, "BPF_PROG_TEST_RUN: " << std::strerror(errno));
  return attr.test.retval;
}

mxc::sys::UniqueFd load(const json& j) {
  auto fd = mxc::sys::load_egress_program(rules(j), EgressHook::kSkb);
  BOOST_TEST_REQUIRE(static_cast<bool>(fd), (fd ? "" : fd.error().message));
  return std::move(*fd);
}

constexpr uint8_t kTcp = IPPROTO_TCP, kUdp = IPPROTO_UDP, kIcmp = IPPROTO_ICMP,
                  kIcmp6 = IPPROTO_ICMPV6;

}  // namespace

BOOST_AUTO_TEST_CASE(cidr_ports_except_deny_beats_allow) {
  auto prog = load(json::parse(R"({
    "allow": [
      {"to": [{"cidr": "10.0.0.0/24", "except": ["10.0.0.128/25"]}],
       "ports": [{"protocol": "tcp", "port": 80}]},
      {"to": [{"cidr": "fd00::/64"}], "ports": [{"protocol": "udp", "port": 53, "endPort": 60}]},
      {"to": [{"cidr": "192.0.2.0/24"}, {"cidr": "fd02::/16"}], "ports": [{"protocol": "icmp"}]},
      {"to": [{"cidr": "198.51.100.0/24"}], "ports": [{"port": 443}]}
    ],
    "deny": [{"to": [{"cidr": "10.0.0.7/32"}, {"cidr": "fd00::7/128"}]}]
  })"));
  const int fd = prog.get();
  BOOST_TEST(verdict(fd, packet("10.0.0.5", kTcp, 80)) == 1u);
  BOOST_TEST(verdict(fd, packet("10.0.0.5", kTcp, 80, 6)) == 1u);  // IPv4 options: ihl 6
  BOOST_TEST(verdict(fd, packet("10.0.0.5", kTcp, 81)) == 0u);
  BOOST_TEST(verdict(fd, packet("10.0.0.5", kUdp, 80)) == 0u);
  BOOST_TEST(verdict(fd, packet("10.0.0.200", kTcp, 80)) == 0u);  // except
  BOOST_TEST(verdict(fd, packet("10.0.0.127", kTcp, 80)) == 1u);
  BOOST_TEST(verdict(fd, packet("10.0.0.7", kTcp, 80)) == 0u);  // deny beats allow
  BOOST_TEST(verdict(fd, packet("10.0.1.5", kTcp, 80)) == 0u);
  BOOST_TEST(verdict(fd, packet("127.0.0.1", kTcp, 9)) == 1u);  // loopback
  BOOST_TEST(verdict(fd, packet("127.8.9.10", kUdp, 9)) == 1u);
  BOOST_TEST(verdict(fd, packet("fd00::1", kUdp, 53)) == 1u);
  BOOST_TEST(verdict(fd, packet("fd00::1", kUdp, 60)) == 1u);
  BOOST_TEST(verdict(fd, packet("fd00::1", kUdp, 61)) == 0u);
  BOOST_TEST(verdict(fd, packet("fd00::1", kUdp, 52)) == 0u);
  BOOST_TEST(verdict(fd, packet("fd00::1", kTcp, 53)) == 0u);
  BOOST_TEST(verdict(fd, packet("fd00::7", kUdp, 53)) == 0u);  // deny beats allow
  BOOST_TEST(verdict(fd, packet("fd00:0:0:1::1", kUdp, 53)) == 0u);
  BOOST_TEST(verdict(fd, packet("::1", kTcp, 1)) == 1u);  // loopback
  BOOST_TEST(verdict(fd, packet("192.0.2.9", kIcmp, 0)) == 1u);
  BOOST_TEST(verdict(fd, packet("192.0.2.9", kTcp, 80)) == 0u);
  BOOST_TEST(verdict(fd, packet("10.0.0.5", kIcmp, 0)) == 0u);
  BOOST_TEST(verdict(fd, packet("fd02:1::9", kIcmp6, 0)) == 1u);
  BOOST_TEST(verdict(fd, packet("fd02:1::9", kIcmp, 0)) == 0u);  // proto 1 is not ICMPv6
  // protocol any with a port: tcp and udp, not icmp.
  BOOST_TEST(verdict(fd, packet("198.51.100.1", kTcp, 443)) == 1u);
  BOOST_TEST(verdict(fd, packet("198.51.100.1", kUdp, 443)) == 1u);
  BOOST_TEST(verdict(fd, packet("198.51.100.1", kUdp, 444)) == 0u);
  BOOST_TEST(verdict(fd, packet("198.51.100.1", kIcmp, 0)) == 0u);
}

BOOST_AUTO_TEST_CASE(default_allow_with_deny_rules) {
  auto prog = load(json::parse(R"({"default": "allow",
    "deny": [{"ports": [{"protocol": "tcp", "port": 22}]},
             {"to": [{"cidr": "2001:db8::/32"}]}]})"));
  const int fd = prog.get();
  BOOST_TEST(verdict(fd, packet("10.0.0.5", kTcp, 22)) == 0u);
  BOOST_TEST(verdict(fd, packet("fd00::5", kTcp, 22)) == 0u);
  BOOST_TEST(verdict(fd, packet("10.0.0.5", kTcp, 23)) == 1u);
  BOOST_TEST(verdict(fd, packet("10.0.0.5", kUdp, 22)) == 1u);
  BOOST_TEST(verdict(fd, packet("2001:db8::1", kUdp, 1)) == 0u);
  BOOST_TEST(verdict(fd, packet("2001:db9::1", kUdp, 1)) == 1u);
  BOOST_TEST(verdict(fd, packet("127.0.0.1", kTcp, 22)) == 1u);  // loopback always passes
}

BOOST_AUTO_TEST_CASE(rules_that_match_everything) {
  // A rule with neither `to` nor `ports` leaves the rest unreachable: the
  // program must still load (the verifier refuses dead code).
  auto all = load(json::parse(R"({"allow": [{}, {"ports": [{"port": 1}]}]})"));
  BOOST_TEST(verdict(all.get(), packet("203.0.113.1", kUdp, 9)) == 1u);
  BOOST_TEST(verdict(all.get(), packet("2001:db8::1", kIcmp6, 0)) == 1u);
  auto zero =
      load(json::parse(R"({"default": "allow", "deny": [{"to": [{"cidr": "0.0.0.0/0"}]}]})"));
  BOOST_TEST(verdict(zero.get(), packet("203.0.113.1", kUdp, 9)) == 0u);
  BOOST_TEST(verdict(zero.get(), packet("2001:db8::1", kUdp, 9)) == 1u);  // v4 rule only
  auto none = load(json::parse(R"({})"));
  BOOST_TEST(verdict(none.get(), packet("203.0.113.1", kTcp, 80)) == 0u);
  BOOST_TEST(verdict(none.get(), packet("127.0.0.1", kTcp, 80)) == 1u);
}

BOOST_AUTO_TEST_CASE(the_hosts_loopback_is_refused_before_any_rule) {
  // A container in the host's network namespace: 127/8, 0/8, ::1 and :: are
  // the host's, refused even by an allow-everything filter.
  auto fd = mxc::sys::load_egress_program(rules(json::parse(R"({"default": "allow"})")),
                                          EgressHook::kSkb, mxc::sys::LoopbackKind::kHost);
  BOOST_TEST_REQUIRE(static_cast<bool>(fd), (fd ? "" : fd.error().message));
  BOOST_TEST(verdict(fd->get(), packet("127.0.0.1", kTcp, 5432)) == 0u);
  BOOST_TEST(verdict(fd->get(), packet("127.8.9.10", kUdp, 53)) == 0u);
  BOOST_TEST(verdict(fd->get(), packet("0.0.0.0", kTcp, 80)) == 0u);
  BOOST_TEST(verdict(fd->get(), packet("::1", kTcp, 5432)) == 0u);
  BOOST_TEST(verdict(fd->get(), packet("::", kTcp, 80)) == 0u);
  BOOST_TEST(verdict(fd->get(), packet("10.0.0.5", kTcp, 80)) == 1u);
  BOOST_TEST(verdict(fd->get(), packet("128.0.0.1", kTcp, 80)) == 1u);
  BOOST_TEST(verdict(fd->get(), packet("::2", kTcp, 80)) == 1u);
  // The container's own loopback (kOwn, the default) passes as before.
  auto own = mxc::sys::load_egress_program(rules(json::parse(R"({"default": "deny"})")),
                                           EgressHook::kSkb, mxc::sys::LoopbackKind::kOwn);
  BOOST_TEST_REQUIRE(static_cast<bool>(own), (own ? "" : own.error().message));
  BOOST_TEST(verdict(own->get(), packet("127.0.0.1", kTcp, 5432)) == 1u);
  BOOST_TEST(verdict(own->get(), packet("::1", kTcp, 5432)) == 1u);
  BOOST_TEST(verdict(own->get(), packet("0.0.0.0", kTcp, 80)) == 0u);  // not loopback: the rules
  for (EgressHook h : {EgressHook::kConnect4, EgressHook::kConnect6}) {
    auto c = mxc::sys::load_egress_program(rules(json::parse(R"({"default": "allow"})")), h,
                                           mxc::sys::LoopbackKind::kHost);
    BOOST_TEST(static_cast<bool>(c), (c ? "" : c.error().message));
  }
}

BOOST_AUTO_TEST_CASE(connect_programs_load) {
  // No test run for cgroup/connect programs; the verifier must accept them
  // (the integration test test_policy_egress.sh exercises them).
  const auto r = rules(json::parse(R"({"allow": [{"to": [{"cidr": "10.0.0.0/8"},
    {"cidr": "fd00::/8", "except": ["fd00::/16"]}], "ports": [{"protocol": "tcp", "port": 80}]}]})"));
  for (EgressHook h : {EgressHook::kConnect4, EgressHook::kConnect6}) {
    auto fd = mxc::sys::load_egress_program(r, h);
    BOOST_TEST(static_cast<bool>(fd), (fd ? "" : fd.error().message));
  }
}
