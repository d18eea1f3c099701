#include "container_init.hpp"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <optional>

#include "exec_fifo.hpp"
#include "mxc/spec/state.hpp"
#include "mxc/sys/console.hpp"
#include "mxc/sys/devices.hpp"
#include "mxc/sys/file_util.hpp"
#include "mxc/sys/hooks.hpp"
#include "mxc/sys/mounts.hpp"
#include "mxc/sys/namespaces.hpp"
#include "mxc/sys/network.hpp"
#include "mxc/sys/proc_info.hpp"
#include "mxc/sys/process_setup.hpp"
#include "mxc/sys/rootfs.hpp"
#include "mxc/sys/sync_channel.hpp"
#include "process_exec.hpp"

namespace mxc::processcontainer {

namespace {

constexpr const char* kMsgMap = "map";
constexpr const char* kMsgMapped = "mapped";
constexpr const char* kMsgReady = "ready";
constexpr const char* kMsgHooks = "hooks";           // run prestart + createRuntime now
constexpr const char* kHooksOkPrefix = "hooks-ok ";  // + the init's pid in the runtime's namespace
constexpr const char* kPidPrefix = "pid ";
constexpr const char* kErrorPrefix = "error ";
constexpr const char* kLandlockPrefix = "landlock ";  // + the plan, for `exec`

bool has_ns(const spec::Config& c, const char* type) {
  if (!c.linux_) return false;
  for (const auto& ns : c.linux_->namespaces) {
    if (ns.type == type) return true;
  }
  return false;
}

bool mounts_host_dev(const spec::Config& c) {
  for (const auto& m : c.mounts) {
    if (m.destination != "/dev") continue;
    for (const auto& o : m.options) {
      if (o == "bind" || o == "rbind") return true;
    }
    if (m.type.value_or("") == "bind") return true;
  }
  return false;
}

// Everything the init does before it reports ready.
// Asks the runtime to run the hooks that belong to its namespace; returns the
// init's pid as the runtime sees it.
Result<pid_t> request_runtime_hooks(int sync_fd) {
  MXC_TRY(sys::send_message(sync_fd, kMsgHooks));
  auto reply = sys::receive_message(sync_fd);
  if (!reply) return reply.error();
  if (!*reply || (*reply)->rfind(kHooksOkPrefix, 0) != 0)
    return make_error("hooks: the runtime gave up");
  return static_cast<pid_t>(std::stol((*reply)->substr(std::string_view(kHooksOkPrefix).size())));
}

bool has_runtime_hooks(const spec::Config& c) {
  return c.hooks && (!c.hooks->prestart.empty() || !c.hooks->createRuntime.empty());
}

Status setup_container(const InitRequest& req, bool new_userns, int sync_fd, pid_t* host_pid,
                       sys::UniqueFd* listener, std::optional<sys::LandlockRuleset>* landlock) {
  const spec::Config& c = *req.config;
  const spec::Process& proc = *c.process;
  if (::setsid() < 0) return sys_error("setsid");
  // Our pid as the runtime sees it: /proc is still the host's here.
  char self[32] = {0};
  if (::readlink("/proc/self", self, sizeof self - 1) > 0)
    *host_pid = static_cast<pid_t>(std::atoi(self));
  if ((!c.hostname.empty() || !c.domainname.empty()) && !has_ns(c, "uts")) {
    return make_error(std::string(c.hostname.empty() ? "domainname" : "hostname") +
                      ": setting it requires a uts namespace");
  }
  MXC_TRY(sys::set_host_and_domain_name(c.hostname, c.domainname));

  const std::string& rootfs = c.root->path;
  std::optional<unsigned long> propagation;
  if (c.linux_ && c.linux_->rootfsPropagation) {
    auto p = sys::propagation_flag(*c.linux_->rootfsPropagation);
    if (!p) return p.error();
    propagation = *p;
  }
  unsigned long initial =
      (propagation && (*propagation & MS_PRIVATE)) ? MS_PRIVATE | MS_REC : MS_SLAVE | MS_REC;
  MXC_TRY(sys::prepare_root_mount(rootfs, initial));
  sys::UniqueFd root_fd(::open(rootfs.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!root_fd) return sys_error("root.path: open " + rootfs);

  sys::MountContext ctx{root_fd.get(), new_userns, has_ns(c, "cgroup")};
  for (const auto& m : c.mounts) MXC_TRY(sys::mount_entry(ctx, m));

  std::vector<spec::Device> devices;
  if (!mounts_host_dev(c)) devices = sys::default_devices();
  if (c.linux_) devices.insert(devices.end(), c.linux_->devices.begin(), c.linux_->devices.end());
  MXC_TRY(sys::create_devices(root_fd.get(), devices, new_userns));
  MXC_TRY(sys::create_dev_symlinks(root_fd.get()));
  {
    auto cwd = sys::open_in_root(root_fd.get(), proc.cwd, true, false);
    if (!cwd) return cwd.error().context("process.cwd");
  }
  // The agent policy: its mounts while host paths are still reachable, its
  // Landlock plan to the runtime (for `exec`); enforced right before exec.
  std::optional<LandlockPlan> plan;
  if (req.policy && req.policy->present) {
    plan = req.landlock;
    if (req.policy->filesystem) {
      MXC_TRY(apply_filesystem_policy(root_fd.get(), rootfs, c, *req.policy->filesystem, *plan));
    }
    MXC_TRY(sys::send_message(sync_fd, kLandlockPrefix + to_json(*plan)));
    // "Only loopback" must mean a usable one: 127.0.0.1 and ::1 work inside.
    if (req.policy->network_default == "deny") {
      if (auto st = sys::bring_up_loopback(); !st) return st.error().context("policy: network");
    }
  }
  if (proc.oomScoreAdj) MXC_TRY(sys::set_oom_score_adj(*proc.oomScoreAdj));
  root_fd.reset();

  // Hooks before pivot_root: the runtime's (its namespace), then ours, whose
  // paths still resolve in the runtime's filesystem.
  if (c.hooks && (has_runtime_hooks(c) || !c.hooks->createContainer.empty())) {
    auto pid = request_runtime_hooks(sync_fd);
    if (!pid) return pid.error();
    *host_pid = *pid;
    MXC_TRY(sys::run_hooks(c.hooks->createContainer, hook_state_json(req, "creating", *host_pid),
                           "createContainer"));
  }

  // The seccomp listener is a host path: connect while it is still reachable.
  if (req.seccomp && req.seccomp->uses_notify()) {
    const std::string& path = *c.linux_->seccomp->listenerPath;
    auto sock = sys::connect_console_socket(path);
    if (!sock) return sock.error().context("linux.seccomp.listenerPath");
    *listener = std::move(*sock);
  }
  MXC_TRY(sys::enter_root(rootfs, req.no_pivot));
  if (c.linux_) {
    MXC_TRY(sys::apply_sysctls(c.linux_->sysctl));
    MXC_TRY(sys::mask_paths(c.linux_->maskedPaths));
    MXC_TRY(sys::make_paths_readonly(c.linux_->readonlyPaths));
  }
  MXC_TRY(sys::finish_root(c.root->readonly, propagation));
  if (plan) {
    auto rs = build_landlock_ruleset(*plan);
    if (!rs) return rs.error().context("policy");
    landlock->emplace(std::move(*rs));
  }
  if (proc.terminal) {
    auto pty = sys::open_pty(proc.consoleSize, proc.user.uid, proc.user.gid);
    if (!pty) return pty.error();
    MXC_TRY(sys::send_fd(req.console_fd, pty->master.get(), "/dev/ptmx"));
    ::close(req.console_fd);
    MXC_TRY(sys::attach_terminal(pty->slave.get()));
  }
  MXC_TRY(sys::apply_rlimits(proc.rlimits));
  return {};
}

// After `start`: become the configured user and exec. Failures go to stderr.

// Fds the init needs from outside the container until `start`.
struct InitFds {
  int sync = -1;
  int fifo = -1;       // O_PATH fd of the exec fifo
  int host_proc = -1;  // the host's /proc, to reopen the fifo after pivot_root
  int parent = -1;     // pidfd of create()'s caller, with die_with_parent
};

[[noreturn]] void run_init(const InitRequest& req, const InitFds& fds, bool new_userns) {
  int sync_fd = fds.sync;
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  auto report = [&](const Error& e) {
    (void)sys::send_message(sync_fd, kErrorPrefix + e.message);
    ::_exit(1);
  };
  pid_t host_pid = 0;
  sys::UniqueFd listener;
  std::optional<sys::LandlockRuleset> landlock;
  if (auto st = setup_container(req, new_userns, sync_fd, &host_pid, &listener, &landlock); !st)
    report(st.error());
  if (listener) {
    // NOTIFY rules: the filter is loaded now and its fd handed to the listener
    // with the process state, as the spec describes.
    auto fd = sys::load_seccomp(*req.seccomp);
    if (!fd) report(fd.error().context("linux.seccomp"));
    const auto& sc = *req.config->linux_->seccomp;
    nlohmann::json state = nlohmann::json::parse(hook_state_json(req, "creating", host_pid));
    auto msg = sys::seccomp_process_state_json(req.config->ociVersion, host_pid,
                                               sc.listenerMetadata.value_or(""), state);
    if (auto st = sys::send_fd(listener.get(), *fd, msg); !st)
      report(st.error().context("linux.seccomp.listenerPath"));
    ::close(*fd);
    listener.reset();
  }
  const spec::Process& proc = *req.config->process;
  auto exe = sys::find_executable(proc.args.front(), proc.env);
  if (!exe) report(exe.error());
  // The runtime may exit once we are ready; the container must outlive it,
  // unless its caller is the supervisor it must not outlive (mxc-shim).
  if (!req.die_with_parent) ::prctl(PR_SET_PDEATHSIG, 0);
  if (auto st = sys::send_message(sync_fd, kMsgReady); !st) ::_exit(1);
  ::close(sync_fd);
  auto started = wait_for_start(fds.host_proc, fds.fifo);
  if (!started) {
    std::fprintf(stderr, "mxc-runtime: container init: %s\n", started.error().message.c_str());
    ::_exit(1);
  }
  ::close(fds.fifo);
  ::close(fds.host_proc);
  Status hooks;
  if (req.config->hooks && !req.config->hooks->startContainer.empty()) {
    hooks = sys::run_hooks(req.config->hooks->startContainer,
                           hook_state_json(req, "created", host_pid), "startContainer");
  }
  report_start(started->get(), hooks);
  if (!hooks) ::_exit(127);
  started->reset();
  finish_and_exec(
      ProcessPlan{req.config->process ? &*req.config->process : nullptr, &req.capabilities,
                  &req.seccomp, req.config->linux_ ? &req.config->linux_->personality : nullptr,
                  req.preserve_fds, landlock ? &*landlock : nullptr, fds.parent},
      *exe);
}

// The helper: namespaces in, then fork the init with the runtime as its parent.
[[noreturn]] void run_helper(const InitRequest& req, const sys::NamespacePlan& plan,
                             const InitFds& fds) {
  int sync_fd = fds.sync;
  auto report = [&](const Error& e) {
    (void)sys::send_message(sync_fd, kErrorPrefix + e.message);
    ::_exit(1);
  };
  // Into the cgroup first: before a joined mount namespace changes what
  // /sys/fs/cgroup is, and before a new cgroup namespace is rooted here.
  for (const auto& procs : req.cgroup_procs) {
    if (auto st = sys::write_file(procs, "0"); !st) report(st.error().context("cgroup"));
  }
  if (auto st = sys::join_namespaces(plan); !st) report(st.error());
  if (plan.create_flags != 0 && ::unshare(plan.create_flags) != 0) {
    report(sys_error("unshare namespaces"));
  }
  bool new_userns = (plan.create_flags & CLONE_NEWUSER) != 0;
  if (new_userns) {
    if (!sys::send_message(sync_fd, kMsgMap)) ::_exit(1);
    auto reply = sys::receive_message(sync_fd);
    if (!reply || !*reply || **reply != kMsgMapped) ::_exit(1);
    // Become root of the new namespace when the mappings include it.
    ::setresgid(0, 0, 0);
    ::setresuid(0, 0, 0);
  }
  const auto& lx = *req.config->linux_;
  if ((plan.create_flags & CLONE_NEWTIME) && !lx.timeOffsets.empty()) {
    std::string offsets;
    for (const auto& [clock, off] : lx.timeOffsets) {
      offsets += clock + " " + std::to_string(off.secs) + " " + std::to_string(off.nanosecs) + "\n";
    }
    if (auto st = sys::write_file("/proc/self/timens_offsets", offsets); !st) {
      report(st.error().context("linux.timeOffsets"));
    }
  }
  long pid = ::syscall(SYS_clone, CLONE_PARENT | SIGCHLD, nullptr, nullptr, nullptr, nullptr);
  if (pid < 0) report(sys_error("clone container init"));
  if (pid == 0) run_init(req, fds, new_userns);
  (void)sys::send_message(sync_fd, kPidPrefix + std::to_string(pid));
  ::_exit(0);
}

}  // namespace

std::string hook_state_json(const InitRequest& req, const char* status, pid_t pid) {
  spec::State st;
  st.ociVersion = req.config->ociVersion;
  st.id = req.id;
  st.status = status;
  st.pid = pid;
  st.bundle = req.bundle;
  st.annotations = req.config->annotations;
  return spec::to_json(st).dump();
}

std::string landlock_plan_file(const std::string& state_dir) {
  return state_dir + "/landlock.json";
}

Result<pid_t> spawn_container(const InitRequest& req) {
  const spec::Config& c = *req.config;
  static const std::vector<spec::Namespace> kNone;
  auto plan = sys::plan_namespaces(c.linux_ ? c.linux_->namespaces : kNone);
  if (!plan) return plan.error();
  if (!has_ns(c, "mount")) return make_error("linux.namespaces: a mount namespace is required");
  bool new_userns = (plan->create_flags & CLONE_NEWUSER) != 0;
  if (new_userns && (c.linux_->uidMappings.empty() || c.linux_->gidMappings.empty())) {
    return make_error("linux.uidMappings: a new user namespace needs uidMappings and gidMappings");
  }

  auto fifo = create_exec_fifo(req.state_dir);
  if (!fifo) return fifo.error();
  sys::UniqueFd host_proc(::open("/proc", O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!host_proc) {
    remove_exec_fifo(req.state_dir);
    return sys_error("open /proc");
  }
  auto pair = sys::make_sync_pair();
  if (!pair) return pair.error();
  auto& [parent_end, child_end] = *pair;
  sys::UniqueFd parent_pidfd;
  if (req.die_with_parent) {
    parent_pidfd.reset(static_cast<int>(::syscall(SYS_pidfd_open, ::getpid(), 0)));
    if (!parent_pidfd) return sys_error("pidfd_open (die with the supervisor)");
  }

  pid_t helper = ::fork();
  if (helper < 0) return sys_error("fork");
  if (helper == 0) {
    parent_end.reset();
    std::vector<int> keep{child_end.get(), fifo->get(), host_proc.get(), req.console_fd,
                          parent_pidfd.get()};
    for (const auto& j : plan->join) keep.push_back(j.fd.get());
    for (unsigned i = 0; i < req.preserve_fds; ++i) keep.push_back(3 + static_cast<int>(i));
    // Drop inherited fds (the runtime's lock among them) before anything lives on.
    sys::close_fds_except(std::move(keep));
    run_helper(req, *plan,
               InitFds{child_end.get(), fifo->get(), host_proc.get(), parent_pidfd.get()});
  }
  child_end.reset();
  pid_t init = -1;
  bool ready = false;
  bool hooks_pending = false;
  std::optional<Error> error;
  // The helper's "pid" and the init's "ready" may arrive in either order.
  while (!(ready && init > 0)) {
    auto msg = sys::receive_message(parent_end.get());
    if (!msg) {
      error = msg.error();
      break;
    }
    if (!*msg) {
      if (!error) error = make_error("container init exited during setup");
      break;
    }
    const std::string& m = **msg;
    if (m == kMsgMap) {
      auto st = sys::write_id_mappings(helper, c.linux_->uidMappings, c.linux_->gidMappings);
      if (!st) {
        error = st.error().context("linux.uidMappings");
        break;
      }
      if (auto s2 = sys::send_message(parent_end.get(), kMsgMapped); !s2) {
        error = s2.error();
        break;
      }
    } else if (m.rfind(kPidPrefix, 0) == 0) {
      init = static_cast<pid_t>(std::stol(m.substr(4)));
      while (::waitpid(helper, nullptr, 0) < 0 && errno == EINTR) {
      }
      helper = -1;
    } else if (m.rfind(kLandlockPrefix, 0) == 0) {
      auto st = sys::write_file_atomic(landlock_plan_file(req.state_dir),
                                       m.substr(std::string_view(kLandlockPrefix).size()));
      if (!st) {
        error = st.error();
        break;
      }
    } else if (m == kMsgHooks) {
      hooks_pending = true;
    } else if (m == kMsgReady) {
      ready = true;
    } else if (m.rfind(kErrorPrefix, 0) == 0) {
      // Keep reading: the helper's "pid" may still come, and the init must be reaped.
      if (!error) error = make_error(m.substr(6));
    } else {
      error = make_error("unexpected message from container init: " + m);
      break;
    }
    if (hooks_pending && init > 0) {
      hooks_pending = false;
      std::string state = hook_state_json(req, "creating", init);
      Status st;
      if (c.hooks) {
        st = sys::run_hooks(c.hooks->prestart, state, "prestart");
        if (st) st = sys::run_hooks(c.hooks->createRuntime, state, "createRuntime");
      }
      if (!st) {
        error = st.error();
        break;
      }
      if (auto s2 = sys::send_message(parent_end.get(), kHooksOkPrefix + std::to_string(init));
          !s2) {
        error = s2.error();
        break;
      }
    }
  }
  if (!error) return init;
  sys::kill_and_reap(init);
  sys::kill_and_reap(helper);
  remove_exec_fifo(req.state_dir);
  return *error;
}

}  // namespace mxc::processcontainer
