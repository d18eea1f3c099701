// The agent policy as users write it (DESIGN.md "The policy"), parsed and
// validated. Pure data: no system calls; resolving patterns against the host
// is runtime/policy_compile's job.
//
// Sources (all compile to one Policy; giving more than one is an error naming
// both, see runtime/policy_compile.hpp):
//   - the top-level `mxc` object of config.json;
//   - the annotation `mxc.policy` (the policy inline, JSON or YAML);
//   - the annotation `mxc.policy.file` (absolute path of a JSON or YAML file);
//   - `--policy FILE` on the command line.
// `${WORKSPACE}` is `--workspace DIR`, else the annotation `mxc.workspace`,
// else unset (then using it is an error). `${HOME}` is the invoking user's home.
//
// Path patterns (filesystem.allowRead/allowWrite/denyRead), after expansion:
//   - absolute, no NUL, no `.` or `..` component; repeated `/` are collapsed;
//   - `DIR/**` (a trailing `/**`): DIR and everything below it;
//   - otherwise `*` (any characters within one component, leading dots
//     included), `?` (one character) and `**` as a whole component (zero or
//     more components) are globs, expanded against the host when the policy is
//     compiled; `**` inside a component (`a**b`) is an error;
//   - any other path is exact: that path (a directory includes what is below it).
// Domains (network.allowDomains): exact names (`api.github.com`) or `*.x.y`
// wildcards, which match every name below x.y but not x.y itself. IP literals
// are not domains; network.allowCidrs lets the proxy reach IP literals instead.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "mxc/spec/result.hpp"

namespace mxc::spec {

// Values substituted into path patterns.
struct PolicyContext {
  std::optional<std::string> workspace;  // ${WORKSPACE}: absolute host directory, or unset
  std::string home;                      // ${HOME}: empty means unknown (using it is an error)
};

struct PathPattern {
  enum class Kind {
    exact,  // the path itself
    tree,   // `DIR/**`: `path` is DIR
    glob,   // wildcards: `path` is the whole pattern, expanded on the host
  };
  Kind kind = Kind::exact;
  std::string path;     // expanded, absolute, normalised ("/a/b", "/a/*.c", "/a/**/b")
  std::string written;  // as written in the policy, for messages
};

struct PolicyAgent {
  std::string name;
  nlohmann::json identity;  // object; `provider` is a string
};

struct PolicyIsolation {
  std::string tier = "process";  // process | session | micro-vm
  std::optional<std::string> backend;
};

struct PolicyFilesystem {
  std::vector<PathPattern> allowRead;
  std::vector<PathPattern> allowWrite;
  std::vector<PathPattern> denyRead;
};

// Direct egress rules (the MXC 0.8 `egress` shape), enforced in the kernel for
// a container that keeps its own network (no proxy). Normalised when parsed:
// CIDRs as inet_ntop writes them, endPort set whenever port is.
struct EgressPeer {
  std::string cidr;                 // "10.0.0.0/8", "fd00::/64": host bits clear
  std::vector<std::string> except;  // CIDRs of the same family inside `cidr`
};

struct EgressPort {
  std::string protocol = "any";     // tcp | udp | icmp | any
  std::optional<uint16_t> port;     // absent: every port (icmp: always absent)
  std::optional<uint16_t> endPort;  // inclusive; set (to port) whenever port is
};

struct EgressRule {
  std::vector<EgressPeer> to;     // empty: every destination of both families
  std::vector<EgressPort> ports;  // empty: every protocol and port
};

struct PolicyEgress {
  std::string default_ = "deny";  // JSON "default": allow | deny, when no rule matches
  std::vector<EgressRule> allow;
  std::vector<EgressRule> deny;  // deny beats allow
};

struct PolicyNetwork {
  // JSON "default": allow | deny. With `egress` it may be omitted and must not
  // be deny: direct egress and the proxy-only network exclude each other.
  std::string default_;
  std::vector<std::string> allowDomains;                  // lower-cased names or `*.` wildcards
  std::map<std::string, std::vector<std::string>> hosts;  // name -> IPv4/IPv6 literals
  std::vector<std::string> allowCidrs;                    // "10.0.0.0/8", "::1/128"
  std::optional<PolicyEgress> egress;
  // JSON "hostLoopback": allow | deny (MXC 0.8's ingress.hostLoopback): may
  // the container reach the host's loopback services, and they it? Only a
  // container in the host's network namespace has the host's loopback; with
  // direct egress there it is refused unless this says allow.
  std::optional<std::string> hostLoopback;
};

struct PolicyDesktop {
  bool shareClipboard = false;
  bool shareInput = false;
  // "deny": no host display, D-Bus or audio socket (what the process tier
  // always does once a policy is present; the field lets a policy say so).
  // "allow" needs the session tier.
  std::string display = "deny";
};

struct PolicyLimits {
  std::optional<uint64_t> timeoutMs;  // > 0
};

struct Policy {
  std::optional<std::string> schemaVersion;  // "1" or "1.x"
  std::optional<PolicyAgent> agent;
  std::optional<PolicyIsolation> isolation;
  std::optional<PolicyFilesystem> filesystem;
  std::optional<PolicyNetwork> network;
  std::optional<PolicyDesktop> desktop;
  std::optional<PolicyLimits> limits;

  // True when the policy restricts or configures anything beyond choosing a
  // backend (a bare `isolation` section only selects the backend).
  [[nodiscard]] bool restricts() const {
    return agent || filesystem || network || desktop || limits;
  }
};

// Parses and validates a policy object. Errors are one line:
// "<label>: <root>.<json.path>: <reason>", e.g. with label "/b/config.json" and
// root "mxc": "/b/config.json: mxc.filesystem.allowRead[2]: must be an absolute
// path after expansion: \"foo\"". Unknown fields are errors.
Result<Policy> parse_policy(const nlohmann::json& j, const PolicyContext& context,
                            std::string_view label, std::string_view root = "");

// Limits on policy documents (JSON or YAML), checked before and while parsing.
inline constexpr size_t kPolicyMaxBytes = 1 << 20;
inline constexpr size_t kPolicyMaxDepth = 64;
inline constexpr size_t kPolicyMaxNodes = 100000;  // after YAML alias expansion

// A policy document as JSON or YAML (JSON when it starts with `{`) converted to
// JSON, with the limits above. Errors name `label`.
Result<nlohmann::json> policy_document_to_json(std::string_view text, std::string_view label);

// policy_document_to_json + parse_policy.
Result<Policy> parse_policy_text(std::string_view text, const PolicyContext& context,
                                 std::string_view label, std::string_view root = "");

// ---- helpers shared with the runtime (proxy, compiler) ----

// `*.x.y` or an exact name; error text says what is wrong ("" when valid).
std::string check_domain_pattern(std::string_view pattern);
// Whether `host` (case-insensitive) is allowed by one of `patterns`
// (lower-cased, as in PolicyNetwork::allowDomains). `*.x.y` does not match x.y.
bool domain_allowed(const std::vector<std::string>& patterns, std::string_view host);
// IPv4 or IPv6 literal (no brackets, no zone).
bool is_ip_literal(std::string_view s);
// "addr/prefix" with prefix within the family's bits.
bool is_cidr(std::string_view s);

// Decodes and validates an `egress` object (shape above) found at `path`
// ("network.egress", "mxc.network.egress"): CIDRs with no host bits set,
// `except` of the CIDR's family and inside it, endPort needs port and is >= it,
// icmp takes no port. Errors: "<label>: <path>.<field>: <reason>".
Result<PolicyEgress> parse_egress(const nlohmann::json& j, std::string_view label,
                                  std::string_view path);
// The normalised rules as JSON: {"default", "allow": [rule], "deny": [rule]},
// rule = {"to": [{"cidr", "except": [...]}], "ports": [{"protocol", "port",
// "endPort"}]} (to, ports, port and endPort only when set). What the runtime's BPF compiler reads.
nlohmann::json egress_to_json(const PolicyEgress& egress);

}  // namespace mxc::spec
