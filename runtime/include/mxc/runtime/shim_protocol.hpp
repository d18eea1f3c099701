// What mxc-runtime and mxc-shim share: the files in a container's state
// directory, the exit record, and the control socket's request/reply.
//
// Control socket (state dir/shim.sock, mode 0600): one JSON request line per
// connection, one JSON reply line. Requests: {"op":"status"}, {"op":"wait"}
// (replies when the container has exited), {"op":"started"} (start begins the
// process timeout).
#pragma once

#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "mxc/spec/result.hpp"

namespace mxc::runtime::shim {

inline constexpr const char* kConfigFile = "shim.json";
inline constexpr const char* kExitFile = "exit.json";
inline constexpr const char* kSocketFile = "shim.sock";
inline constexpr const char* kLogFile = "container.log";
inline constexpr const char* kAuditFile = "audit.log";
// Annotation bounding the container's output log (bytes; default 1 MiB).
inline constexpr const char* kLogMaxBytesAnnotation = "mxc.log.maxBytes";

// How the container's init ended, as the shim saw it.
struct ExitRecord {
  // Parent mode knows the status; a monitor (not the parent) only sees the exit.
  std::optional<int> exit_code;  // WEXITSTATUS, or 128+signal
  int signal = 0;                // the signal that killed it, 0 if it exited
  bool timed_out = false;        // killed by the shim at limits.timeoutMs
  std::string time;              // RFC 3339
};

nlohmann::json to_json(const ExitRecord& r);
Result<ExitRecord> parse_exit_record(const std::string& text);
// The exit record in `state_dir`, if the shim wrote one.
std::optional<ExitRecord> read_exit_record(const std::string& state_dir);

// Sends `request` to the shim of the container in `state_dir` and returns its
// reply. timeout_ms < 0 waits forever (the `wait` request).
Result<nlohmann::json> request(const std::string& state_dir, const nlohmann::json& request,
                               int timeout_ms);

// RFC 3339 with nanoseconds, UTC.
std::string now_rfc3339();

}  // namespace mxc::runtime::shim
