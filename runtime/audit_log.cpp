#include "mxc/runtime/audit_log.hpp"

#include <fcntl.h>
#include <unistd.h>

#include "mxc/runtime/shim_protocol.hpp"
#include "mxc/sys/unique_fd.hpp"

namespace mxc::runtime {

std::string audit_line(const AuditContext& ctx, std::string_view event,
                       const nlohmann::json& detail) {
  nlohmann::json j{{"time", shim::now_rfc3339()},
                   {"id", ctx.container_id},
                   {"agent", nullptr},
                   {"identity", nullptr},
                   {"event", event},
                   {"detail", detail.is_null() ? nlohmann::json::object() : detail}};
  if (ctx.agent.is_object()) {
    if (auto n = ctx.agent.find("name"); n != ctx.agent.end()) j["agent"] = *n;
    if (auto i = ctx.agent.find("identity"); i != ctx.agent.end()) j["identity"] = *i;
  }
  // Invalid UTF-8 from untrusted input (a host name) must not make dump() throw.
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

void audit(const AuditContext& ctx, std::string_view event, const nlohmann::json& detail) {
  if (!ctx.enabled()) return;
  std::string line = audit_line(ctx, event, detail) + "\n";
  for (const auto& path : ctx.files) {
    sys::UniqueFd fd(
        ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600));
    if (!fd) continue;
    // One write per line: O_APPEND makes it atomic against other writers.
    (void)!::write(fd.get(), line.data(), line.size());
  }
}

}  // namespace mxc::runtime
