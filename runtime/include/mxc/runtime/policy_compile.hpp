// Compiling the agent policy of a bundle into what a backend must enforce.
//
// Sources, exactly one of which may carry a policy (two are an error naming both;
// `--policy` never silently replaces another source):
//   - the `mxc` object of config.json (label "<config>: mxc...");
//   - the annotation `mxc.policy`: the policy inline, JSON or YAML;
//   - the annotation `mxc.policy.file`: absolute path of a JSON or YAML file;
//   - PolicySources::policy_file (`--policy FILE`).
// The annotation `mxc.isolation.backend` only picks a backend; naming a
// different backend than the policy's isolation.backend is an error.
// ${WORKSPACE} is PolicySources::workspace (`--workspace DIR`), else the
// annotation `mxc.workspace`, else unset; it must be an existing directory.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "mxc/spec/config.hpp"
#include "mxc/spec/result.hpp"

namespace mxc::runtime {

inline constexpr const char* kPolicyAnnotation = "mxc.policy";
inline constexpr const char* kPolicyFileAnnotation = "mxc.policy.file";
inline constexpr const char* kWorkspaceAnnotation = "mxc.workspace";
inline constexpr uint16_t kProxyPort = 3128;  // inside the container, on loopback

struct PolicySources {
  std::string policy_file;  // --policy FILE, empty when not given
  std::string workspace;    // --workspace DIR, empty when not given
  std::string home;         // the invoking user's home (invoking_user_home())
};

struct CompiledPolicy {
  bool present = false;             // a policy that restricts anything (not only a backend choice)
  nlohmann::json plugin_json;       // the backend's policy_json; {} when absent
  std::vector<std::string> fields;  // claim names in use, e.g. "filesystem.denyRead"
  std::optional<std::string> backend;  // the policy's isolation.backend
  std::optional<uint64_t> timeout_ms;  // limits.timeoutMs
  nlohmann::json proxy;                // null, or {"port", "allowDomains", "hosts", "allowCidrs"}
  nlohmann::json agent;                // {"name", "identity"} or null
  nlohmann::json config_patch;         // {"addNamespaces": [...], "setEnv": ["K=V", ...]} or {}
  // Direct egress in the host's network namespace, network.hostLoopback not
  // allowed: the egress filter refuses loopback destinations too.
  bool host_loopback_refused = false;
};

// Whether the container will be in this process's network namespace: config
// lists no network namespace, or one whose path is ours.
bool shares_runtime_netns(const spec::Config& config);

// $HOME when set and absolute, else the passwd entry of the real uid; "" if neither.
std::string invoking_user_home();

// Picks the source, parses it, resolves its path patterns on this host
// (realpath; globs expanded; allowRead/allowWrite paths and every glob must
// match something; a denyRead path that does not exist is kept as written),
// and checks it against `config` (network namespace, tier, desktop).
// Errors are one line starting with `label` (the config.json path) or the
// policy file's path.
Result<CompiledPolicy> compile_policy(const spec::Config& config, const PolicySources& sources,
                                      const std::string& label);

// "policy field F cannot be enforced by backend B" for the first field of
// `policy.fields` that `plugin_enforces` does not list.
Status check_claims(const CompiledPolicy& policy, const std::string& backend,
                    const std::vector<std::string>& plugin_enforces);

// config.json with the policy's changes applied: the network namespace it
// needs, the proxy environment (replacing variables of the same name).
nlohmann::json apply_config_patch(nlohmann::json config_raw, const CompiledPolicy& policy);

}  // namespace mxc::runtime
