// MXC wire configurations (schema mxc-config.schema.0.8.0-alpha.json in
// shared/schemas/mxc/): parsing, validation, and conversion to a Policy.
// Pure data: no system calls.
//
// Validation follows the schema (additionalProperties false everywhere, every
// type and enum, `null` meaning absent) plus what the schema says in prose:
// `version` is accepted from 0.6 to 0.9 by major.minor (absent: current);
// legacy network fields (defaultPolicy, allowedHosts, blockedHosts,
// allowLocalNetwork, enforcementMode) and directional `egress`/`ingress` are
// not mixed in one request (`proxy` goes with either); a `proxy` object has
// exactly one variant; `endPort` needs `port` and is not below it; CIDRs are
// valid; `process.env` entries are KEY=VALUE; filesystem paths are absolute,
// without NUL, `.` or `..` components.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "mxc/spec/policy.hpp"
#include "mxc/spec/result.hpp"

namespace mxc::spec {

struct WireProcess {
  std::optional<std::string> commandLine;  // run through /bin/sh -c
  std::optional<std::string> cwd;
  std::vector<std::string> env;     // KEY=VALUE
  std::optional<uint32_t> timeout;  // milliseconds
};

struct WireFilesystem {
  std::vector<std::string> readwritePaths;  // normalised absolute paths
  std::vector<std::string> readonlyPaths;
  std::vector<std::string> deniedPaths;
};

struct WirePort {
  std::optional<uint16_t> port;     // absent: every port
  std::optional<uint16_t> endPort;  // inclusive; needs port
  std::string protocol = "any";     // tcp | udp | icmp | any
};

struct WirePeer {
  std::string cidr;
  std::vector<std::string> except;
};

struct WireRule {
  std::vector<WirePeer> to;     // empty: both IP families, everywhere
  std::vector<WirePort> ports;  // empty: everything
};

struct WireEgress {
  std::string default_ = "deny";  // allow | deny
  std::vector<WireRule> allow;
  std::vector<WireRule> deny;  // deny beats allow
};

struct WireIngress {
  std::optional<std::string> default_;      // allow | deny
  std::optional<std::string> hostLoopback;  // allow | deny
};

struct WireProxy {
  std::optional<bool> builtinTestServer;
  std::optional<uint16_t> localhost;
  std::optional<std::string> url;
};

struct WireNetwork {
  // legacy
  std::optional<bool> allowLocalNetwork;
  std::vector<std::string> allowedHosts;
  std::vector<std::string> blockedHosts;
  std::optional<std::string> defaultPolicy;    // allow | block
  std::optional<std::string> enforcementMode;  // capabilities | firewall | both
  // 0.8 directional
  std::optional<WireEgress> egress;
  std::optional<WireIngress> ingress;
  // either
  std::optional<WireProxy> proxy;
};

struct WireUi {
  std::optional<std::string> clipboard;  // none | read | write | all
  std::optional<bool> disable;
  std::optional<bool> injection;
};

struct WireConfig {
  std::optional<std::string> version;
  std::optional<std::string> containerId;
  std::optional<std::string>
      containment;  // process | processcontainer | lxc | seatbelt | bubblewrap
  WireProcess process;
  std::optional<WireFilesystem> filesystem;
  std::optional<WireNetwork> network;
  std::optional<std::string> networkProxy;  // runtimeConfig.networkProxy
  std::optional<WireUi> ui;
  std::optional<bool> destroyOnExit;   // lifecycle
  std::optional<bool> preservePolicy;  // lifecycle
  // Other platforms' sections (fallback, processContainer, seatbelt, lxc):
  // validated, kept as given.
  nlohmann::json platform = nlohmann::json::object();
};

// Errors: "<label>: <json.path>: <reason>". The text is at most 1 MiB of JSON.
Result<WireConfig> parse_mxc_wire(std::string_view text, std::string_view label);
Result<WireConfig> parse_mxc_wire_json(const nlohmann::json& j, std::string_view label);

// The backend for `containment`: process (or absent) -> processcontainer,
// bubblewrap, lxc; anything else is an error naming `containment`.
Result<std::string> wire_backend(const WireConfig& wire, std::string_view label);

// The policy a wire configuration means: readonlyPaths -> allowRead,
// readwritePaths -> allowWrite (read-write), deniedPaths -> denyRead;
// legacy defaultPolicy/allowedHosts -> network default/allowDomains (IP
// literals to allowCidrs); egress default with no rules -> network default;
// process.timeout -> limits.timeoutMs. What has no equivalent in a Policy
// (blockedHosts, egress rules, allowLocalNetwork, ingress allow, clipboard or
// input sharing) is an error naming the wire field, never dropped.
Result<Policy> wire_to_policy(const WireConfig& wire, std::string_view label);

// RFC 4648 base64 (for `--config-base64`); padding optional, whitespace refused.
Result<std::string> decode_base64(std::string_view text, std::string_view label);

}  // namespace mxc::spec
