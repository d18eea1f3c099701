// The lifecycle operations behind each command: create, start, state, kill,
// delete, list and run. Each takes the container's lock for its duration.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "mxc/runtime/logger.hpp"
#include "mxc/runtime/plugin_manager.hpp"
#include "mxc/runtime/shim_launch.hpp"
#include "mxc/runtime/state_store.hpp"
#include "mxc/spec/config.hpp"
#include "mxc/spec/result.hpp"

namespace mxc::runtime {

enum class CgroupManager { kCgroupfs, kSystemd, kDisabled };

struct RuntimeContext {
  StateStore store;
  PluginManager plugins;
  const Logger& log;
  CgroupManager cgroup_manager = CgroupManager::kCgroupfs;
  ShimMode shim_mode = ShimMode::kAuto;
};

struct CreateOptions {
  std::string id;
  std::string bundle = ".";
  std::string pid_file;
  std::string console_socket;
  int console_fd = -1;        // a connected socket for the pty master (foreground run)
  unsigned preserve_fds = 0;  // fds 3 .. 3+N-1 pass to the container process
  bool foreground = false;    // `run` without --detach: this process will wait for it
  bool no_pivot = false;
  std::string policy_file;  // --policy FILE (JSON or YAML)
  std::string workspace;    // --workspace DIR: ${WORKSPACE} in the policy
};

// The annotation that selects a backend when config.json has no mxc section.
inline constexpr const char* kBackendAnnotation = "mxc.isolation.backend";
inline constexpr const char* kDefaultBackend = "processcontainer";

// `start_follows`: given by a caller that starts the container right after
// (`run`); set to whether the backend was told so (MXC_CREATE_START_FOLLOWS),
// in which case it may have started the process already.
Result<pid_t> create_container(const RuntimeContext& ctx, const CreateOptions& opts,
                               bool* start_follows = nullptr);
// `after_create`: the start that create_container promised (the container
// may already be running, or done).
Status start_container(const RuntimeContext& ctx, const std::string& id, bool after_create = false);
// The OCI state of a container, plus runc's extra fields (rootfs, created, owner).
Result<nlohmann::json> container_state(const RuntimeContext& ctx, const std::string& id);
Status kill_container(const RuntimeContext& ctx, const std::string& id, int signal, bool all);
Status delete_container(const RuntimeContext& ctx, const std::string& id, bool force);
std::vector<nlohmann::json> list_containers(const RuntimeContext& ctx);
// Waits for the container to exit (through its shim) and returns how it ended.
Result<nlohmann::json> wait_container(const RuntimeContext& ctx, const std::string& id);
// The audit lines under --root (they outlive `delete`), of one container or all.
Result<std::vector<std::string>> audit_lines(const RuntimeContext& ctx, const std::string& id);
// The path of the container's output log (kept by its shim).
Result<std::string> container_log_path(const RuntimeContext& ctx, const std::string& id);
// create + start; in the foreground waits, forwarding signals, deletes the
// container and returns its exit code. Detached: returns 0 once it runs.
Result<int> run_container(const RuntimeContext& ctx, const CreateOptions& opts, bool detach);

struct ExecOptions {
  std::string id;
  std::string process_file;  // --process: a JSON process object ("-" for stdin)
  std::vector<std::string> args;
  bool tty = false;
  bool detach = false;
  std::string pid_file;
  std::string console_socket;
  std::string cwd;
  std::vector<std::string> env;   // KEY=VALUE, added to (or replacing in) the container's
  std::string user;               // uid[:gid]
  std::vector<std::string> caps;  // added to the bounding, effective and permitted sets
  bool no_new_privs = false;
  unsigned preserve_fds = 0;
};

// Runs another process in the container. Foreground: its exit code; detached: 0.
Result<int> exec_container(const RuntimeContext& ctx, const ExecOptions& opts);

Status pause_container(const RuntimeContext& ctx, const std::string& id);
Status resume_container(const RuntimeContext& ctx, const std::string& id);
// Every process of the container (its cgroup; without one, the init's tree).
Result<std::vector<pid_t>> container_pids(const RuntimeContext& ctx, const std::string& id);
// Changes the container's cgroup limits.
Status update_container(const RuntimeContext& ctx, const std::string& id, const spec::Resources& r);
// runc's `events --stats` object: {"type":"stats","id":...,"data":{...}}.
Result<nlohmann::json> container_stats(const RuntimeContext& ctx, const std::string& id);
// OOM kills so far in the container's cgroup.
Result<uint64_t> container_oom_kills(const RuntimeContext& ctx, const std::string& id);

// "KILL", "SIGKILL", "9" -> 9.
Result<int> parse_signal(const std::string& text);

}  // namespace mxc::runtime
