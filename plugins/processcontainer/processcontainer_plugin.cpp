// The default backend: namespaces, pivot_root and the shared Linux mechanisms
// of runtime/sys, in the runtime's own process (no re-exec).
#include <signal.h>
#include <sys/wait.h>

#include <cstring>
#include <string>

#include "container_exec.hpp"
#include "container_init.hpp"
#include "exec_fifo.hpp"
#include "filesystem_policy.hpp"
#include "mxc/plugin.hpp"
#include "mxc/spec/config.hpp"
#include "mxc/spec/text.hpp"
#include "mxc/sys/console.hpp"
#include "mxc/sys/file_util.hpp"
#include "mxc/sys/proc_info.hpp"

namespace {

using mxc::sdk::guard;
using mxc::sdk::set_error;
namespace pc = mxc::processcontainer;

int fail(char* err, size_t len, const mxc::Error& e) {
  set_error(err, len, e.message);
  return -1;
}

// The cgroup.procs files of a newline-separated list.
std::vector<std::string> split_lines(const char* text) {
  std::vector<std::string> out;
  if (text == nullptr) return out;
  for (auto line : mxc::spec::split_nonempty(text, '\n')) out.emplace_back(line);
  return out;
}

// Where the pty master goes: the runtime's connected socket, else the
// --console-socket path (connected here, kept open by `holder`), else -1.
mxc::Result<int> console_for(bool terminal, int given_fd, const char* socket_path,
                             mxc::sys::UniqueFd& holder) {
  if (!terminal) return -1;
  if (given_fd >= 0) return given_fd;
  if (socket_path == nullptr) {
    return mxc::make_error(
        "process.terminal: a terminal needs --console-socket (or a foreground run); set "
        "process.terminal to false to use the caller's stdio");
  }
  auto sock = mxc::sys::connect_console_socket(socket_path);
  if (!sock) return sock.error();
  holder = std::move(*sock);
  return holder.get();
}

int pc_create(const mxc_create_request* req, mxc_create_result* out, char* err, size_t len) {
  return guard(err, len, [&] {
    auto config = mxc::spec::parse_config(req->config_json);
    if (!config) return fail(err, len, config.error());
    auto policy = pc::parse_backend_policy(req->policy_json ? req->policy_json : "{}");
    if (!policy) return fail(err, len, policy.error());
    auto landlock = pc::base_landlock_plan(*policy);
    if (!landlock) return fail(err, len, landlock.error());
    if (policy->present) {
      if (auto st = pc::check_desktop_mounts(*config); !st) return fail(err, len, st.error());
    }
    if (policy->network_default == "deny") {
      // No route out: the container's own network namespace, not one it joins.
      bool fresh = false;
      if (config->linux_) {
        for (const auto& ns : config->linux_->namespaces) {
          if (ns.type == "network" && (!ns.path || ns.path->empty())) fresh = true;
        }
      }
      if (!fresh) {
        return fail(err, len,
                    mxc::make_error("policy: network.default deny needs a new network namespace "
                                    "(linux.namespaces has none, or joins one by path)"));
      }
    }
    mxc::sys::UniqueFd console;
    auto console_fd = console_for(config->process && config->process->terminal, req->console_fd,
                                  req->console_socket, console);
    if (!console_fd) return fail(err, len, console_fd.error());
    pc::InitRequest init;
    init.config = &*config;
    init.state_dir = req->state_dir;
    init.no_pivot = (req->flags & MXC_CREATE_NO_PIVOT) != 0;
    init.id = req->id;
    init.bundle = req->bundle;
    init.console_fd = *console_fd;
    if (config->linux_ && config->linux_->seccomp) {
      auto filter = mxc::sys::compile_seccomp(*config->linux_->seccomp);
      if (!filter) return fail(err, len, filter.error());
      init.seccomp = std::move(*filter);
    }
    init.cgroup_procs = split_lines(req->cgroup_procs);
    init.preserve_fds = req->preserve_fds;
    init.die_with_parent = (req->flags & MXC_CREATE_DIE_WITH_PARENT) != 0;
    init.policy = &*policy;
    init.landlock = *landlock;
    if (config->process && config->process->capabilities) {
      auto caps = mxc::sys::parse_capabilities(*config->process->capabilities);
      if (!caps) return fail(err, len, caps.error());
      init.capabilities = *caps;
    }
    auto pid = pc::spawn_container(init);
    if (!pid) return fail(err, len, pid.error());
    out->pid = *pid;
    return 0;
  });
}

int pc_start(const mxc_container_ref* ref, char* err, size_t len) {
  return guard(err, len, [&] {
    auto st = pc::release_init(ref->state_dir, ref->pid);
    return st ? 0 : fail(err, len, st.error());
  });
}

int pc_kill(const mxc_container_ref* ref, int signal, int all, char* err, size_t len) {
  return guard(err, len, [&] {
    if (all) {
      // Everything in the container's own pid namespace; without one, the
      // init's process tree (a process that re-parented itself away escapes:
      // the cgroup is the complete answer).
      uint64_t ns = mxc::sys::namespace_inode(ref->pid, "pid");
      bool own_ns = ns != 0 && ns != mxc::sys::namespace_inode(::getpid(), "pid");
      auto pids = own_ns ? mxc::sys::pids_in_pid_namespace(ns) : mxc::sys::process_tree(ref->pid);
      for (pid_t p : pids) ::kill(p, signal);
      return 0;
    }
    if (::kill(ref->pid, signal) != 0)
      return fail(err, len, mxc::sys_error("kill " + std::to_string(ref->pid)));
    return 0;
  });
}

int pc_status(const mxc_container_ref* ref, char* status, size_t status_len, char* err,
              size_t len) {
  return guard(err, len, [&] {
    const char* s = !mxc::sys::process_alive(ref->pid, 0)  ? "stopped"
                    : pc::exec_fifo_exists(ref->state_dir) ? "created"
                                                           : "running";
    set_error(status, status_len, s);
    return 0;
  });
}

int pc_wait(const mxc_container_ref* ref, int* exit_code, char* err, size_t len) {
  return guard(err, len, [&] {
    int wstatus = 0;
    pid_t r;
    do {
      r = ::waitpid(ref->pid, &wstatus, 0);
    } while (r < 0 && errno == EINTR);
    if (r < 0) return fail(err, len, mxc::sys_error("waitpid " + std::to_string(ref->pid)));
    *exit_code = WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : 128 + WTERMSIG(wstatus);
    return 0;
  });
}

int pc_destroy(const mxc_container_ref* ref, char* err, size_t len) {
  return guard(err, len, [&] {
    // The mount namespace went with the processes; only the fifo is ours.
    pc::remove_exec_fifo(ref->state_dir);
    ::unlink(pc::landlock_plan_file(ref->state_dir).c_str());
    return 0;
  });
}

int pc_exec(const mxc_container_ref* ref, const mxc_exec_request* req, mxc_create_result* out,
            char* err, size_t len) {
  return guard(err, len, [&] {
    auto config = mxc::spec::parse_config(req->config_json);
    if (!config) return fail(err, len, config.error());
    // The process is checked with the same rules as config.json's.
    auto wrapped = nlohmann::json::parse(req->process_json, nullptr, false);
    if (wrapped.is_discarded())
      return fail(err, len, mxc::make_error("exec: process: invalid JSON"));
    nlohmann::json doc = config->raw;
    doc["process"] = wrapped;
    auto parsed = mxc::spec::parse_config(doc.dump(), "process");
    if (!parsed) return fail(err, len, parsed.error());
    pc::ExecRequest exec;
    exec.init_pid = ref->pid;
    exec.config = &*config;
    exec.process = &*parsed->process;
    if (parsed->process->capabilities) {
      auto caps = mxc::sys::parse_capabilities(*parsed->process->capabilities);
      if (!caps) return fail(err, len, caps.error());
      exec.capabilities = *caps;
    }
    if (config->linux_ && config->linux_->seccomp) {
      auto filter = mxc::sys::compile_seccomp(*config->linux_->seccomp);
      if (!filter) return fail(err, len, filter.error());
      exec.seccomp = std::move(*filter);
    }
    mxc::sys::UniqueFd console;
    auto console_fd =
        console_for(exec.process->terminal, req->console_fd, req->console_socket, console);
    if (!console_fd) return fail(err, len, console_fd.error());
    exec.console_fd = *console_fd;
    exec.cgroup_procs = split_lines(req->cgroup_procs);
    exec.preserve_fds = req->preserve_fds;
    // A container with an agent policy: its Landlock plan, made at create.
    std::string plan_file = pc::landlock_plan_file(ref->state_dir);
    if (::access(plan_file.c_str(), F_OK) == 0) {
      auto text = mxc::sys::read_file(plan_file);
      if (!text) return fail(err, len, text.error());
      auto plan = pc::landlock_plan_from_json(*text);
      if (!plan) return fail(err, len, plan.error().context(plan_file));
      exec.landlock = std::move(*plan);
    }
    auto pid = pc::exec_in_container(exec);
    if (!pid) return fail(err, len, pid.error());
    out->pid = *pid;
    return 0;
  });
}

constexpr mxc_plugin kPlugin{
    MXC_PLUGIN_ABI_MAJOR,
    MXC_PLUGIN_ABI_MINOR,
    "processcontainer",
    MXC_PLUGIN_VERSION,
    "process",
    R"(["filesystem.allowRead","filesystem.allowWrite","filesystem.denyRead","desktop.display","network.default","network.allowDomains","network.egress"])",
    pc_create,
    pc_start,
    pc_kill,
    pc_status,
    pc_wait,
    pc_destroy,
    pc_exec,
};

}  // namespace

extern "C" __attribute__((visibility("default"))) const mxc_plugin* mxc_plugin_entry(void) {
  return &kPlugin;
}
