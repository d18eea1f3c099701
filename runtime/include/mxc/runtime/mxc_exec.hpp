// `mxc-runtime mxc-exec`: one MXC wire configuration (spec/mxc_wire.hpp) run
// the way MXC's own Linux runner runs it, on top of the ordinary lifecycle.
//
// The request becomes a temporary OCI bundle under <root>/@mxc-exec/<id>/
// ('@' is not allowed in container ids, so `list` never sees it): an empty
// read-only root filesystem holding the symlinks of the host's merged-/usr
// layout, the host's system directories (/bin /sbin /lib* /usr /etc, those
// that exist as directories) bind-mounted read-only, a private tmpfs /tmp,
// /proc, a minimal /dev, and the wire configuration's policy (wire_to_policy)
// as the config's `mxc` object: readwritePaths/readonlyPaths/deniedPaths,
// network, process.timeout (limits.timeoutMs, enforced by mxc-shim). The
// container id is `mxc-exec-<16 hex digits>`; the container and the bundle are
// removed on every path.
//
// Defaults chosen where the wire configuration is silent:
//   - cwd: the first readwritePaths entry that is a directory, else the first
//     such readonlyPaths entry, else "/" (MXC's documented precedence);
//   - env: PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin,
//     then process.env (the host environment is not inherited);
//   - no `network` section: egress denied (only loopback), as 0.8's default.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "mxc/runtime/container_ops.hpp"
#include "mxc/spec/mxc_wire.hpp"
#include "mxc/spec/result.hpp"

namespace mxc::runtime {

// Infrastructure error codes (the `code` of {"error":{"code","message"}}).
inline constexpr const char* kMxcExecBackendUnavailable = "backend_unavailable";
inline constexpr const char* kMxcExecBundleFailed = "bundle_failed";
inline constexpr const char* kMxcExecContainerFailed = "container_failed";
inline constexpr const char* kMxcExecWaitFailed = "wait_failed";
inline constexpr const char* kMxcExecCleanupFailed = "cleanup_failed";

// Exit codes besides the child's own status.
inline constexpr int kMxcExecRequestErrorExit = 1;
inline constexpr int kMxcExecTimeoutExit = 255;
inline constexpr int kMxcExecInfraErrorExit = 125;

struct MxcExecRequest {
  std::string text;   // the wire configuration (JSON)
  std::string label;  // for messages: the file, or "--config-base64"
  bool dry_run = false;
};

struct MxcExecOutcome {
  enum class Kind {
    kExited,        // exit_code: the child's status (128+N for a signal)
    kTimedOut,      // killed at process.timeout
    kRequestError,  // message: one line naming the field
    kInfraError,    // code, message
  };
  Kind kind = Kind::kExited;
  int exit_code = 0;
  std::string code;
  std::string message;
};

// The host directories shown read-only at the same path: each entry of
// `candidates` that is a directory becomes a bind mount, each symlink a
// symlink in the root filesystem.
struct HostSystemDirs {
  std::vector<std::string> dirs;                              // "/usr"
  std::vector<std::pair<std::string, std::string>> symlinks;  // {"/bin", "usr/bin"}
};
HostSystemDirs host_system_dirs();

// The bundle's config.json for `wire` (already parsed), with `backend` its
// backend. Request errors name the wire field.
Result<nlohmann::json> mxc_exec_bundle_config(const spec::WireConfig& wire,
                                              const std::string& backend,
                                              const HostSystemDirs& system,
                                              const std::string& label);

// Validates, and unless dry_run, runs the request in the foreground with this
// process's stdio.
MxcExecOutcome mxc_exec(const RuntimeContext& ctx, const MxcExecRequest& request);

}  // namespace mxc::runtime
