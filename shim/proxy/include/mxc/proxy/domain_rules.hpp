// Which destinations the egress proxy lets through: exact names, `*.` wildcards,
// a hosts map used instead of DNS, and CIDRs for IP literals.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "mxc/spec/result.hpp"

namespace mxc::proxy {

// The network policy as the proxy needs it. Names are stored normalized
// (lower case, no trailing dot). `hosts` only replaces DNS: a name in it must
// still be allowed by `allow_domains`.
struct Rules {
  std::vector<std::string> allow_domains;                 // "api.github.com", "*.npmjs.org"
  std::map<std::string, std::vector<std::string>> hosts;  // name -> IP literals
  std::vector<std::string> allow_cidrs;                   // "10.0.0.0/8", "::1/128", "1.2.3.4"
};

// {"allowDomains":[..],"hosts":{name:[addr..] or addr},"allowCidrs":[..]}; every
// key optional, unknown keys refused. Errors name the field, e.g.
// "network.allowDomains[2]: "a*.b" is not a name or a "*." wildcard".
Result<Rules> parse_rules(const nlohmann::json& j);

// An IP address in network byte order; IPv4-mapped IPv6 addresses are stored as IPv4.
struct IpAddress {
  bool v6 = false;
  std::array<uint8_t, 16> bytes{};  // first 4 used for IPv4
  [[nodiscard]] std::string to_string() const;
};
// Strict textual forms only (inet_pton): "1.2.3.4", "::1", "::ffff:1.2.3.4".
std::optional<IpAddress> parse_ip(std::string_view text);

struct Cidr {
  IpAddress network;
  unsigned prefix = 0;
  [[nodiscard]] bool contains(const IpAddress& a) const;
};
// "10.0.0.0/8", "::1/128"; a bare address is a host route. Host bits must be zero.
Result<Cidr> parse_cidr(std::string_view text);

// Lower case, trailing dot dropped, checked to be a DNS name (letters, digits,
// '-', '_', dots; labels 1..63, total <= 253) whose last label is not numeric,
// so that "127.1" or "0x7f000001" cannot reach the resolver as an address.
// Returns nullopt for anything else.
std::optional<std::string> normalize_name(std::string_view host);

// Does `name` (normalized) match `pattern` (normalized)? "*.example.com" matches
// any name with at least one more label ("a.example.com", "a.b.example.com"),
// never the bare "example.com"; anything else matches exactly.
bool domain_matches(std::string_view pattern, std::string_view name);

// The outcome for one destination host (as the client wrote it).
struct Verdict {
  enum class Kind { allowed, denied, malformed };
  Kind kind = Kind::denied;
  std::string host;                  // normalized name or canonical address text
  std::optional<IpAddress> address;  // set when the host is an IP literal
  std::string reason;                // the rule that allowed it, or why not
  [[nodiscard]] bool allowed() const { return kind == Kind::allowed; }
};

// Compiled Rules, checked once per connection.
class DomainRules {
 public:
  static Result<DomainRules> compile(const Rules& rules);
  // `host` may be a name, an IPv4 literal or an IPv6 literal (with or without brackets).
  [[nodiscard]] Verdict check(std::string_view host) const;
  // Addresses from the hosts map for a normalized name, or empty: resolve by DNS.
  [[nodiscard]] const std::vector<IpAddress>* hosts_entry(const std::string& name) const;

 private:
  std::vector<std::string> domains_;
  std::map<std::string, std::vector<IpAddress>> hosts_;
  std::vector<Cidr> cidrs_;
  std::vector<std::string> cidr_texts_;
};

}  // namespace mxc::proxy
