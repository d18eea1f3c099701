// The agent audit log: one JSON line per event (time, container id, agent
// name, identity, event, detail), appended to the container's own log and to
// <root>/audit.log, which outlives `delete`. Written with O_APPEND and one
// write(2) per line, so concurrent writers (runtime, shim) never interleave;
// a failing write (full disk) is dropped rather than blocking the container.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace mxc::runtime {

struct AuditContext {
  std::string container_id;
  nlohmann::json agent;            // {"name": ..., "identity": {...}}; null without a policy
  std::vector<std::string> files;  // every log the lines go to
  [[nodiscard]] bool enabled() const { return !files.empty(); }
};

// The line, without the trailing newline.
std::string audit_line(const AuditContext& ctx, std::string_view event,
                       const nlohmann::json& detail);
void audit(const AuditContext& ctx, std::string_view event, const nlohmann::json& detail = {});

}  // namespace mxc::runtime
