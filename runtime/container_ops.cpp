#include "mxc/runtime/container_ops.hpp"

#include "container_internal.hpp"

#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <charconv>
#include <chrono>
#include <cstring>
#include <ctime>
#include <optional>
#include <thread>

#include "mxc/runtime/audit_log.hpp"
#include "mxc/runtime/container_id.hpp"
#include "mxc/runtime/foreground.hpp"
#include "mxc/runtime/policy_compile.hpp"
#include "mxc/runtime/shim_launch.hpp"
#include "mxc/runtime/shim_protocol.hpp"
#include "mxc/spec/config.hpp"
#include "mxc/spec/state.hpp"
#include "mxc/spec/text.hpp"
#include "mxc/sys/cgroups.hpp"
#include "mxc/sys/console.hpp"
#include "mxc/sys/egress_bpf.hpp"
#include "mxc/sys/file_util.hpp"
#include "mxc/sys/hooks.hpp"
#include "mxc/sys/proc_info.hpp"

namespace mxc::runtime {

namespace detail {

std::string now_rfc3339() {
  return shim::now_rfc3339();
}

std::string owner_name(const std::string& uid_text) {
  char* end = nullptr;
  unsigned long uid = std::strtoul(uid_text.c_str(), &end, 10);
  if (end == uid_text.c_str()) return uid_text;
  if (passwd* pw = ::getpwuid(static_cast<uid_t>(uid))) return pw->pw_name;
  return uid_text;
}

mxc_container_ref make_ref(const ContainerRecord& r, const std::string& state_dir) {
  return mxc_container_ref{sizeof(mxc_container_ref), r.id.c_str(), state_dir.c_str(), r.pid};
}

AuditContext audit_context(const RuntimeContext& ctx, const ContainerRecord& r,
                           const std::string& dir) {
  AuditContext a;
  if (r.agent.empty()) return a;
  a.container_id = r.id;
  a.agent = nlohmann::json::parse(r.agent, nullptr, false);
  a.files = {dir + "/" + shim::kAuditFile, (ctx.store.root() / shim::kAuditFile).string()};
  return a;
}

bool shim_alive(const ContainerRecord& r) {
  return r.shim_pid > 0 && sys::process_alive(r.shim_pid, r.shim_start_time);
}

// " (its shim died)" when the shim is gone without recording an exit.
std::string shim_note(const ContainerRecord& r, const std::string& dir) {
  if (r.shim_pid <= 0 || shim_alive(r) || shim::read_exit_record(dir)) return "";
  return " (its shim, pid " + std::to_string(r.shim_pid) + ", died)";
}

Error plugin_error(const char* what, const std::string& backend, const char* err) {
  std::string msg = err[0] ? err : "failed";
  return make_error(std::string(what) + " (backend " + backend + "): " + msg);
}

// Which backend runs the bundle: the mxc section, else the annotation, else the default.
Result<std::string> select_backend(const spec::Config& config, const std::string& label) {
  if (config.mxc.is_object()) {
    auto iso = config.mxc.find("isolation");
    if (iso != config.mxc.end() && iso->is_object()) {
      auto b = iso->find("backend");
      if (b != iso->end()) {
        if (!b->is_string()) return make_error(label + ": mxc.isolation.backend: must be a string");
        auto name = b->get<std::string>();
        if (auto st = validate_backend_name(name); !st) {
          return st.error().context(label + ": mxc.isolation.backend");
        }
        return name;
      }
    }
  }
  auto a = config.annotations.find(kBackendAnnotation);
  if (a != config.annotations.end()) {
    if (auto st = validate_backend_name(a->second); !st) {
      return st.error().context(label + ": annotations." + kBackendAnnotation);
    }
    return a->second;
  }
  return std::string(kDefaultBackend);
}

Result<std::string> compute_status(const ContainerRecord& r, const Plugin* plugin,
                                   const std::string& dir) {
  if (r.creating) return std::string("creating");
  if (!sys::process_alive(r.pid, r.pid_start_time)) return std::string("stopped");
  if (!r.cgroup.empty()) {
    if (auto cg = sys::Cgroup::open(r.cgroup)) {
      if (auto frozen = cg->frozen(); frozen && *frozen) return std::string("paused");
    }
  }
  if (plugin == nullptr) return std::string("running");
  char status[32] = {0};
  char err[kErrLen] = {0};
  auto ref = make_ref(r, dir);
  if (plugin->table().status(&ref, status, sizeof status, err, sizeof err) != 0) {
    return plugin_error("state", r.backend, err);
  }
  return std::string(status);
}

Result<Opened> open_container(const RuntimeContext& ctx, const std::string& id, bool lock) {
  auto dir = ctx.store.open(id, lock);
  if (!dir) return dir.error();
  auto record = dir->read();
  ContainerRecord r;
  if (record) {
    r = *record;
  } else {
    // A create killed before its first write: nothing but the directory.
    r.id = id;
    r.creating = true;
  }
  std::unique_ptr<Plugin> plugin;
  if (!r.backend.empty()) {
    auto p = ctx.plugins.load(r.backend);
    if (!p) return p.error();
    plugin = std::move(*p);
  }
  auto status = compute_status(r, plugin.get(), dir->path().string());
  if (!status) return status.error();
  return Opened{std::move(*dir), r, std::move(plugin), *status};
}

bool wait_gone(pid_t pid, uint64_t start_time, std::chrono::milliseconds limit) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (sys::process_alive(pid, start_time)) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return true;
}

// Runs the poststart or poststop hooks of the container's stored config. Their
// failures are warnings: the spec says the lifecycle continues.
void run_late_hooks(const RuntimeContext& ctx, const Opened& c, const char* kind,
                    const char* status) {
  if (!c.record.late_hooks) return;  // none: spare reading and parsing config.json
  auto text = c.dir.read_config();
  if (!text) return;
  auto config = spec::parse_config(*text, (c.dir.path() / "config.json").string());
  if (!config || !config->hooks) return;
  const auto& hooks =
      std::string(kind) == "poststart" ? config->hooks->poststart : config->hooks->poststop;
  if (hooks.empty()) return;
  spec::State s;
  s.ociVersion = config->ociVersion;
  s.id = c.record.id;
  s.status = status;
  s.pid = c.record.pid;
  s.bundle = c.record.bundle;
  s.annotations = c.record.annotations;
  std::string state = spec::to_json(s).dump();
  for (size_t i = 0; i < hooks.size(); ++i) {
    auto st = sys::run_hook(hooks[i], state,
                            std::string("hooks.") + kind + "[" + std::to_string(i) + "]");
    if (!st) ctx.log.warn(st.error().message);
  }
}

// The shim exits by itself once the container has (after writing its exit
// record and audit line); one that does not, or a stuck one, is killed.
void stop_shim(const ContainerRecord& r) {
  if (r.shim_pid <= 0) return;
  if (wait_gone(r.shim_pid, r.shim_start_time, std::chrono::milliseconds(1000))) return;
  if (sys::process_alive(r.shim_pid, r.shim_start_time)) ::kill(r.shim_pid, SIGKILL);
  (void)wait_gone(r.shim_pid, r.shim_start_time, std::chrono::seconds(5));
}

// Kills what is left, lets the backend clean up, runs poststop hooks, removes the directory.
Status destroy(const RuntimeContext& ctx, Opened& c, bool kill_first) {
  std::string dir = c.dir.path().string();
  auto ref = make_ref(c.record, dir);
  char err[kErrLen] = {0};
  std::optional<sys::Cgroup> cgroup;
  if (!c.record.cgroup.empty()) {
    if (auto cg = sys::Cgroup::open(c.record.cgroup)) cgroup = std::move(*cg);
  }
  // A frozen process cannot die: thaw a paused container first.
  if (cgroup) (void)cgroup->thaw();
  if (kill_first && c.record.pid > 0 && sys::process_alive(c.record.pid, c.record.pid_start_time)) {
    if (cgroup) (void)cgroup->kill_all(SIGKILL);
    // A process that exited on its own meanwhile (or was just killed through
    // the cgroup) counts as killed.
    if (c.plugin && c.plugin->table().kill(&ref, SIGKILL, 1, err, sizeof err) != 0 &&
        sys::process_alive(c.record.pid, c.record.pid_start_time)) {
      return plugin_error("kill", c.record.backend, err);
    }
    if (!c.plugin) ::kill(c.record.pid, SIGKILL);
    if (!wait_gone(c.record.pid, c.record.pid_start_time, std::chrono::seconds(10))) {
      return make_error("container " + quote_untrusted(c.record.id) + ": pid " +
                        std::to_string(c.record.pid) + " did not exit after SIGKILL");
    }
  }
  stop_shim(c.record);
  if (c.plugin && c.plugin->table().destroy(&ref, err, sizeof err) != 0) {
    return plugin_error("delete", c.record.backend, err);
  }
  if (cgroup) {
    // Whatever escaped the init's death (a process outside its pid namespace) goes too.
    (void)cgroup->kill_all(SIGKILL);
    auto st = cgroup->destroy();
    if (!st) return st.error().context("delete: cgroup " + c.record.cgroup);
    // Parents under /mxc (ours: the default place and relative cgroupsPaths)
    // go with their last container.
    std::string parent = c.record.cgroup;
    while (parent.rfind("/mxc/", 0) == 0) {
      parent = parent.substr(0, parent.rfind('/'));
      if (auto cg = sys::Cgroup::open(parent)) cg->remove_if_empty();
    }
  }
  if (!c.record.creating) run_late_hooks(ctx, c, "poststop", "stopped");
  return c.dir.remove();
}

// Docker and containerd write 0 for "not set" (runc skips zeros); the kernel
// refuses most of them (cpu.shares 0, blkio weight 0), so 0 means unset here.
spec::Resources without_zero_values(spec::Resources r) {
  auto drop = [](auto& field) {
    if (field && *field == 0) field.reset();
  };
  if (r.memory) {
    drop(r.memory->limit);
    drop(r.memory->reservation);
    drop(r.memory->swap);
    drop(r.memory->kernel);
    drop(r.memory->kernelTCP);
  }
  if (r.cpu) {
    drop(r.cpu->shares);
    drop(r.cpu->quota);
    drop(r.cpu->period);
    drop(r.cpu->burst);
    drop(r.cpu->realtimeRuntime);
    drop(r.cpu->realtimePeriod);
    if (r.cpu->cpus && r.cpu->cpus->empty()) r.cpu->cpus.reset();
    if (r.cpu->mems && r.cpu->mems->empty()) r.cpu->mems.reset();
  }
  if (r.pids) drop(r.pids->limit);
  if (r.blockIO) {
    drop(r.blockIO->weight);
    drop(r.blockIO->leafWeight);
  }
  return r;
}

// A device allow list must still let the container use the devices we create
// for it (the defaults, ptys, linux.devices), as runc and crun add them.
spec::Resources with_default_device_rules(spec::Resources r,
                                          const std::vector<spec::Device>& devices) {
  if (r.devices.empty()) return r;
  auto allow = [&](const char* type, std::optional<int64_t> major, std::optional<int64_t> minor) {
    spec::DeviceCgroup d;
    d.allow = true;
    d.type = type;
    d.major = major;
    d.minor = minor;
    d.access = "rwm";
    r.devices.push_back(d);
  };
  for (auto [major, minor] :
       {std::pair{1, 3}, {1, 5}, {1, 7}, {1, 8}, {1, 9}, {5, 0}, {5, 1}, {5, 2}}) {
    allow("c", major, minor);
  }
  allow("c", 136, std::nullopt);  // /dev/pts/*
  for (const auto& d : devices) {
    if (d.type == "p") continue;
    allow(d.type == "b" ? "b" : "c", d.major, d.minor);
  }
  return r;
}

Status check_root_path(const std::string& root, const std::filesystem::path& bundle,
                       const std::string& label, std::string* absolute) {
  std::filesystem::path p(root);
  if (p.is_relative()) {
    auto joined = (bundle / p).lexically_normal();
    auto rel = joined.lexically_relative(bundle);
    if (rel.empty() || *rel.begin() == "..") {
      return make_error(label + ": root.path: \"" + root + "\" escapes the bundle directory");
    }
    p = joined;
  }
  struct stat sb {};
  if (::stat(p.c_str(), &sb) != 0) return sys_error(label + ": root.path: " + p.string());
  if (!S_ISDIR(sb.st_mode))
    return make_error(label + ": root.path: " + p.string() + " is not a directory");
  *absolute = p.string();
  return {};
}

}  // namespace detail

using namespace detail;  // this file owns these helpers

Result<int> parse_signal(const std::string& text) {
  if (text.empty()) return make_error("signal must not be empty");
  if (text.find_first_not_of("0123456789") == std::string::npos) {
    long n = text.size() > 3 ? 0 : std::stol(text);
    if (n < 1 || n > SIGRTMAX) return make_error("invalid signal \"" + text + "\"");
    return static_cast<int>(n);
  }
  std::string name = text;
  for (auto& ch : name) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  if (name.rfind("SIG", 0) == 0) name = name.substr(3);
  if (name == "IOT") return SIGABRT;
  if (name == "CLD") return SIGCHLD;
  if (name == "POLL") return SIGIO;
  for (int s = 1; s < NSIG; ++s) {
    const char* abbrev = ::sigabbrev_np(s);
    if (abbrev != nullptr && name == abbrev) return s;
  }
  // RTMIN, RTMIN+N, RTMAX, RTMAX-N with N a whole decimal number.
  if (name.rfind("RTMIN", 0) == 0 || name.rfind("RTMAX", 0) == 0) {
    bool min = name[3] == 'I';
    std::string_view rest = std::string_view(name).substr(5);
    int off = 0;
    if (!rest.empty()) {
      if (rest[0] != (min ? '+' : '-') || rest.size() < 2)
        return make_error("unknown signal " + quote_untrusted(text));
      auto [p, ec] = std::from_chars(rest.data() + 1, rest.data() + rest.size(), off);
      if (ec != std::errc() || p != rest.data() + rest.size()) {
        return make_error("unknown signal " + quote_untrusted(text));
      }
    }
    int s = min ? SIGRTMIN + off : SIGRTMAX - off;
    if (s >= SIGRTMIN && s <= SIGRTMAX) return s;
  }
  return make_error("unknown signal " + quote_untrusted(text));
}

Result<pid_t> create_container(const RuntimeContext& ctx, const CreateOptions& opts,
                               bool* start_follows) {
  const bool starts_next = start_follows != nullptr;
  if (starts_next) *start_follows = false;
  MXC_TRY(validate_container_id(opts.id));
  if (!opts.pid_file.empty()) MXC_TRY(sys::check_pid_file(opts.pid_file));
  std::error_code ec;
  auto bundle = std::filesystem::canonical(opts.bundle.empty() ? "." : opts.bundle, ec);
  if (ec) return make_error("bundle " + opts.bundle + ": " + ec.message());
  std::string label = (bundle / "config.json").string();
  auto config = spec::load_config(bundle / "config.json");
  if (!config) return config.error();
  MXC_TRY(spec::validate_for_create(*config, label));
  std::string rootfs;
  MXC_TRY(check_root_path(config->root->path, bundle, label, &rootfs));
  auto policy =
      compile_policy(*config, {opts.policy_file, opts.workspace, invoking_user_home()}, label);
  if (!policy) return policy.error();
  auto backend =
      policy->backend ? Result<std::string>(*policy->backend) : select_backend(*config, label);
  if (!backend) return backend.error();
  auto plugin = ctx.plugins.load(*backend);
  if (!plugin) return plugin.error();
  ctx.log.debug("create " + opts.id + ": backend " + *backend + " from " +
                (*plugin)->file().string());
  if (policy->present) {
    auto enforces = nlohmann::json::parse((*plugin)->table().enforces, nullptr, false);
    std::vector<std::string> claims;
    if (enforces.is_array()) {
      for (const auto& f : enforces)
        if (f.is_string()) claims.push_back(f.get<std::string>());
    }
    MXC_TRY(check_claims(*policy, *backend, claims));
  }

  if (ctx.cgroup_manager == CgroupManager::kDisabled && policy->plugin_json.contains("network") &&
      policy->plugin_json["network"].contains("egress"))
    return make_error(label +
                      ": network.egress: needs the container's cgroup (its rules are "
                      "cgroup BPF programs), but --cgroup-manager is disabled");
  auto dir = ctx.store.create(opts.id);
  if (!dir) return dir.error();
  // The cgroup, with its limits, exists before the process does; the backend joins it.
  std::optional<sys::Cgroup> cgroup;
  std::string cgroup_procs;
  if (ctx.cgroup_manager != CgroupManager::kDisabled) {
    auto path =
        sys::resolve_cgroups_path(config->linux_ ? config->linux_->cgroupsPath : std::nullopt,
                                  opts.id, ctx.cgroup_manager == CgroupManager::kSystemd);
    Result<sys::Cgroup> cg = path ? sys::Cgroup::create(*path) : Result<sys::Cgroup>(path.error());
    Status st = cg ? Status{} : Status(cg.error());
    if (cg && config->linux_ && config->linux_->resources) {
      st = cg->apply(with_default_device_rules(without_zero_values(*config->linux_->resources),
                                               config->linux_->devices));
    }
    if (st && policy->plugin_json.contains("network") &&
        policy->plugin_json["network"].contains("egress"))
      st = sys::attach_egress_filter(
          *cg, policy->plugin_json["network"]["egress"],
          policy->host_loopback_refused ? sys::LoopbackKind::kHost : sys::LoopbackKind::kOwn);
    if (!st) {
      if (cg) (void)cg->destroy();
      (void)dir->remove();
      return st.error().context(label);
    }
    cgroup = std::move(*cg);
    for (const auto& f : cgroup->procs_files()) cgroup_procs += f + "\n";
  }
  auto undo_cgroup = [&] {
    if (cgroup) (void)cgroup->destroy();
  };
  ContainerRecord record;
  record.id = opts.id;
  record.oci_version = config->ociVersion;
  record.bundle = bundle.string();
  record.rootfs = rootfs;
  record.backend = *backend;
  record.created = now_rfc3339();
  record.owner = std::to_string(::geteuid());
  record.annotations = config->annotations;
  record.late_hooks =
      config->hooks && (!config->hooks->poststart.empty() || !config->hooks->poststop.empty());
  // Who every action of the container is attributed to.
  if (policy->agent.is_object()) {
    if (auto n = policy->agent.find("name"); n != policy->agent.end() && n->is_string())
      record.annotations["mxc.agent.name"] = n->get<std::string>();
    if (auto i = policy->agent.find("identity"); i != policy->agent.end())
      record.annotations["mxc.agent.identity"] = i->dump();
  }
  if (cgroup) record.cgroup = cgroup->path();
  if (auto st = dir->write(record); !st) {
    undo_cgroup();
    (void)dir->remove();
    return st.error();
  }

  // The policy's changes: the network namespace it needs, the proxy's environment.
  nlohmann::json doc = apply_config_patch(config->raw, *policy);
  doc["root"]["path"] = rootfs;
  std::string config_json = doc.dump();
  // Kept for what later commands need from it (poststart/poststop hooks).
  if (auto st = dir->write_config(config_json); !st) {
    undo_cgroup();
    (void)dir->remove();
    return st.error();
  }
  std::string state_dir = dir->path().string();
  // With any policy, audit lines are written (attributed to its agent, if named).
  nlohmann::json agent;
  if (policy->present) {
    agent = policy->agent.is_object() ? policy->agent : nlohmann::json::object();
    record.agent = agent.dump();
  }

  // Who supervises the container: see shim_launch.hpp.
  ShimMode mode = ctx.shim_mode;
  if (opts.foreground) {
    mode = ShimMode::kMonitor;  // this process waits for it: it is the parent
  } else if (mode == ShimMode::kAuto) {
    mode = caller_is_subreaper() ? ShimMode::kMonitor : ShimMode::kParent;
  }
  // A foreground run audits the exit itself: an agent alone needs no shim there.
  bool need_shim = mode == ShimMode::kParent || policy->timeout_ms || !policy->proxy.is_null() ||
                   (agent.is_object() && !opts.foreground);
  if (need_shim) {
    nlohmann::json shim_config{{"id", opts.id},
                               {"mode", mode == ShimMode::kParent ? "parent" : "monitor"},
                               {"cgroup", record.cgroup},
                               {"agent", agent},
                               // In a foreground run this process reaps the
                               // init and audits its exit status itself.
                               {"auditExit", !opts.foreground}};
    if (policy->timeout_ms) shim_config["timeoutMs"] = *policy->timeout_ms;
    if (auto m = config->annotations.find(shim::kLogMaxBytesAnnotation);
        m != config->annotations.end()) {
      char* end = nullptr;
      unsigned long long v = std::strtoull(m->second.c_str(), &end, 10);
      if (m->second.empty() || *end != '\0' || v < 4096) {
        undo_cgroup();
        (void)dir->remove();
        return make_error(label + ": annotations." + shim::kLogMaxBytesAnnotation +
                          ": must be a number of bytes, at least 4096");
      }
      shim_config["logMaxBytes"] = v;
    }
    if (!record.agent.empty()) {
      shim_config["auditFiles"] = audit_context(ctx, record, state_dir).files;
    }
    if (!policy->proxy.is_null()) shim_config["proxy"] = policy->proxy;
    if (auto st = sys::write_file_atomic(state_dir + "/" + shim::kConfigFile, shim_config.dump());
        !st) {
      undo_cgroup();
      (void)dir->remove();
      return st.error();
    }
  }

  mxc_create_request req{};
  req.struct_size = sizeof req;
  req.id = opts.id.c_str();
  req.bundle = record.bundle.c_str();
  req.state_dir = state_dir.c_str();
  req.config_json = config_json.c_str();
  std::string policy_json = policy->present ? policy->plugin_json.dump() : "{}";
  req.policy_json = policy_json.c_str();
  req.console_socket = opts.console_socket.empty() ? nullptr : opts.console_socket.c_str();
  req.flags =
      (opts.no_pivot ? MXC_CREATE_NO_PIVOT : 0u) | (opts.foreground ? MXC_CREATE_FOREGROUND : 0u);
  // Nothing can look at a container that `run` starts at once, unless a hook
  // or a shim service (the proxy's listener, the timeout) comes in between:
  // the backend need not wait for its setup to finish before returning.
  bool early_hooks =
      config->hooks && (!config->hooks->prestart.empty() || !config->hooks->createRuntime.empty() ||
                        !config->hooks->createContainer.empty());
  if (starts_next && opts.foreground && !need_shim && !early_hooks) {
    req.flags |= MXC_CREATE_START_FOLLOWS;
    *start_follows = true;
  }
  req.console_fd = opts.console_fd;
  req.preserve_fds = opts.preserve_fds;
  req.cgroup_procs = cgroup ? cgroup_procs.c_str() : nullptr;
  char err[kErrLen] = {0};
  auto backend_create = [&]() -> Result<pid_t> {
    mxc_create_result out{sizeof(mxc_create_result), 0};
    if ((*plugin)->table().create(&req, &out, err, sizeof err) != 0) {
      return make_error(err[0] ? err : "create failed (backend " + *backend + ")");
    }
    return static_cast<pid_t>(out.pid);
  };
  Result<pid_t> pid = make_error("");
  if (mode == ShimMode::kParent) {
    // The shim holds the console when nobody else asked for it.
    bool hold_console = config->process && config->process->terminal &&
                        opts.console_socket.empty() && opts.console_fd < 0;
    // The init dies with the shim: a container never outlives its supervisor.
    req.flags |= MXC_CREATE_DIE_WITH_PARENT;
    auto sp = launch_parent_shim(state_dir, hold_console, [&](int console_fd) {
      if (console_fd >= 0) req.console_fd = console_fd;
      return backend_create();
    });
    if (sp) {
      pid = sp->init_pid;
      record.shim_pid = sp->shim_pid;
      record.shim_start_time = sp->shim_start_time;
      record.shim_mode = "parent";
    } else {
      pid = sp.error();
    }
  } else {
    pid = backend_create();
  }
  if (!pid) {
    undo_cgroup();
    (void)dir->remove();
    return pid.error();
  }
  record.pid = *pid;
  if (auto st = sys::read_proc_stat(*pid)) record.pid_start_time = st->start_time;
  Status st;
  if (mode == ShimMode::kMonitor && need_shim) {
    auto sp = launch_monitor_shim(state_dir, *pid);
    if (sp) {
      record.shim_pid = sp->shim_pid;
      record.shim_start_time = sp->shim_start_time;
      record.shim_mode = "monitor";
    } else {
      st = sp.error();
    }
  }
  record.shim_timeout = policy->timeout_ms.has_value();
  record.creating = false;
  if (st) st = dir->write(record);
  if (st && !opts.pid_file.empty()) {
    st = sys::write_pid_file(opts.pid_file, *pid);
  }
  if (!st) {
    Opened c{std::move(*dir), record, std::move(*plugin), "created"};
    (void)destroy(ctx, c, true);
    return st.error();
  }
  audit(audit_context(ctx, record, state_dir), "create",
        {{"bundle", record.bundle}, {"backend", record.backend}, {"pid", *pid}});
  return *pid;
}

namespace {

// start on a container opened (and locked) by the caller.
Status start_opened(const RuntimeContext& ctx, const Opened& c, bool after_create) {
  std::string dir = c.dir.path().string();
  if (c.status != "created" && !after_create) {
    return make_error("cannot start container " + quote_untrusted(c.record.id) + ": it is " +
                      c.status + ", not created" + shim_note(c.record, dir));
  }
  auto ref = make_ref(c.record, dir);
  char err[kErrLen] = {0};
  if (c.plugin->table().start(&ref, err, sizeof err) != 0)
    return plugin_error("start", c.record.backend, err);
  // The process timeout counts from here.
  if (c.record.shim_timeout) {
    if (auto r = shim::request(dir, {{"op", "started"}}, 2000); !r) ctx.log.warn(r.error().message);
  }
  audit(audit_context(ctx, c.record, dir), "start", {{"pid", c.record.pid}});
  run_late_hooks(ctx, c, "poststart", "running");
  return {};
}

}  // namespace

Status start_container(const RuntimeContext& ctx, const std::string& id, bool after_create) {
  auto c = open_container(ctx, id);
  if (!c) return c.error();
  return start_opened(ctx, *c, after_create);
}

Result<nlohmann::json> container_state(const RuntimeContext& ctx, const std::string& id) {
  auto c = open_container(ctx, id, false);
  if (!c) return c.error();
  const auto& r = c->record;
  spec::State s;
  s.ociVersion = r.oci_version.empty() ? "1.0.2" : r.oci_version;
  s.id = r.id;
  s.status = c->status;
  s.pid = c->status == "stopped" ? 0 : r.pid;
  s.bundle = r.bundle;
  s.annotations = r.annotations;
  auto j = spec::to_json(s);
  j["rootfs"] = r.rootfs;
  j["created"] = r.created;
  j["owner"] = owner_name(r.owner);
  j["backend"] = r.backend;
  // What the shim saw: how the init ended, and whether the shim itself died.
  if (r.shim_pid > 0) {
    std::string dir = c->dir.path().string();
    auto exit = shim::read_exit_record(dir);
    bool alive = shim_alive(r);
    // The shim writes the record right after the init exits: give it a moment.
    for (int i = 0; !exit && alive && c->status == "stopped" && i < 100; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
      exit = shim::read_exit_record(dir);
      alive = shim_alive(r);
    }
    // Beside the OCI fields (as runc adds rootfs, created, owner): annotations
    // stay exactly the bundle's.
    nlohmann::json shim{{"pid", r.shim_pid},
                        {"mode", r.shim_mode},
                        {"state", alive  ? "running"
                                  : exit ? "exited"
                                         : "died"}};
    if (exit) shim["exit"] = shim::to_json(*exit);
    j["shim"] = shim;
  }
  return j;
}

Status kill_container(const RuntimeContext& ctx, const std::string& id, int signal, bool all) {
  auto c = open_container(ctx, id);
  if (!c) return c.error();
  std::string dir = c->dir.path().string();
  if (c->status != "created" && c->status != "running" && c->status != "paused") {
    return make_error("cannot kill container " + quote_untrusted(id) + ": it is " + c->status +
                      shim_note(c->record, dir));
  }
  audit(audit_context(ctx, c->record, dir), "kill", {{"signal", signal}, {"all", all}});
  if (all && !c->record.cgroup.empty()) {
    // The cgroup holds every process of the container, wherever it re-parented itself.
    auto cg = sys::Cgroup::open(c->record.cgroup);
    if (!cg) return cg.error();
    return cg->kill_all(signal);
  }
  auto ref = make_ref(c->record, dir);
  char err[kErrLen] = {0};
  if (c->plugin->table().kill(&ref, signal, all ? 1 : 0, err, sizeof err) != 0) {
    return plugin_error("kill", c->record.backend, err);
  }
  return {};
}

Status delete_container(const RuntimeContext& ctx, const std::string& id, bool force) {
  auto c = open_container(ctx, id);
  // As runc: a forced delete of what is already gone succeeds (podman and the
  // containerd shim clean up this way after a failed create).
  if (!c && force && validate_container_id(id) && !std::filesystem::exists(ctx.store.root() / id))
    return {};
  if (!c) return c.error();
  if (c->status == "running" && !force) {
    return make_error("cannot delete container " + quote_untrusted(id) +
                      ": it is running (stop it first, or use --force)");
  }
  if (c->status == "creating" && !force) {
    return make_error("cannot delete container " + quote_untrusted(id) +
                      ": it is being created (use --force if its create was interrupted)");
  }
  auto audit_ctx = audit_context(ctx, c->record, c->dir.path().string());
  MXC_TRY(destroy(ctx, *c, true));
  audit(audit_ctx, "delete", {{"force", force}});
  return {};
}

Result<nlohmann::json> wait_container(const RuntimeContext& ctx, const std::string& id) {
  auto c = open_container(ctx, id, false);
  if (!c) return c.error();
  std::string dir = c->dir.path().string();
  if (auto exit = shim::read_exit_record(dir)) return shim::to_json(*exit);
  if (c->record.shim_pid <= 0) {
    return make_error("container " + quote_untrusted(id) +
                      " has no mxc-shim to wait on (its parent is the program that created it)");
  }
  if (!shim_alive(c->record)) {
    return make_error("container " + quote_untrusted(id) + ": it is " + c->status +
                      shim_note(c->record, dir) + "; its exit status is unknown");
  }
  auto r = shim::request(dir, {{"op", "wait"}}, -1);
  if (!r) {
    // The shim may have finished between our checks: its record is the answer.
    if (auto exit = shim::read_exit_record(dir)) return shim::to_json(*exit);
    return r.error().context("container " + quote_untrusted(id));
  }
  return *r;
}

Result<std::vector<std::string>> audit_lines(const RuntimeContext& ctx, const std::string& id) {
  if (!id.empty()) MXC_TRY(validate_container_id(id));
  std::vector<std::string> out;
  auto text = sys::read_file((ctx.store.root() / shim::kAuditFile).string());
  if (!text) {
    if (text.error().sys_errno == ENOENT) return out;
    return text.error();
  }
  for (auto line_view : spec::split_nonempty(*text, '\n')) {
    std::string line(line_view);
    if (!id.empty()) {
      auto j = nlohmann::json::parse(line, nullptr, false);
      if (!j.is_object() || j.value("id", "") != id) continue;
    }
    out.push_back(std::move(line));
  }
  return out;
}

Result<std::string> container_log_path(const RuntimeContext& ctx, const std::string& id) {
  auto c = open_container(ctx, id, false);
  if (!c) return c.error();
  if (c->record.shim_mode != "parent") {
    return make_error("container " + quote_untrusted(id) +
                      " has no output log: its output goes where its creator's went");
  }
  return (c->dir.path() / shim::kLogFile).string();
}

std::vector<nlohmann::json> list_containers(const RuntimeContext& ctx) {
  std::vector<nlohmann::json> out;
  for (const auto& id : ctx.store.list()) {
    auto s = container_state(ctx, id);
    if (s) out.push_back(*s);
  }
  return out;
}

namespace {

// Forwards signals to the container until it exits; returns its exit code.
Result<int> wait_foreground(const ContainerRecord& record, const Plugin& plugin,
                            const std::string& dir, int pty_master) {
  MXC_TRY(wait_forwarding(record.pid, pty_master));
  auto ref = make_ref(record, dir);
  int code = 0;
  char err[kErrLen] = {0};
  if (plugin.table().wait(&ref, &code, err, sizeof err) != 0) {
    return plugin_error("wait", record.backend, err);
  }
  return code;
}

}  // namespace

Result<int> run_container(const RuntimeContext& ctx, const CreateOptions& opts_in, bool detach) {
  CreateOptions opts = opts_in;
  opts.foreground = !detach;
  // In the foreground without --console-socket, a terminal is relayed to the
  // caller's own: the backend sends the pty master over this pair.
  sys::UniqueFd console_ours;
  sys::UniqueFd console_theirs;
  if (!detach && opts.console_socket.empty()) {
    int sv[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
      return sys_error("socketpair");
    console_ours.reset(sv[0]);
    console_theirs.reset(sv[1]);
    opts.console_fd = sv[1];
  }
  bool start_follows = false;
  auto pid = create_container(ctx, opts, &start_follows);
  console_theirs.reset();
  if (!pid) return pid.error();
  sys::UniqueFd pty_master;
  if (console_ours) {
    pollfd p{console_ours.get(), POLLIN, 0};
    char peek;
    // Readable with data: a pty master was sent. Readable at EOF: no terminal.
    if (::poll(&p, 1, 0) > 0 && (p.revents & POLLIN) &&
        ::recv(console_ours.get(), &peek, 1, MSG_PEEK | MSG_DONTWAIT) > 0) {
      auto fd = sys::receive_fd(console_ours.get());
      if (!fd) {
        (void)delete_container(ctx, opts.id, true);
        return fd.error();
      }
      pty_master = std::move(*fd);
    }
  }
  Result<int> code = make_error("container " + quote_untrusted(opts.id) + " vanished");
  {
    // One open (lock, record, plugin) for start and, in the foreground, wait.
    auto c = open_container(ctx, opts.id);
    Status st = c ? start_opened(ctx, *c, start_follows) : Status(c.error());
    if (!st) {
      c = make_error("");  // unlock, for the delete
      (void)delete_container(ctx, opts.id, true);
      return st.error();
    }
    if (detach) return 0;
    ContainerRecord record = c->record;
    std::unique_ptr<Plugin> plugin = std::move(c->plugin);
    std::string dir = c->dir.path().string();
    c = make_error("");  // unlock: other commands (state, kill) must work meanwhile
    code = wait_foreground(record, *plugin, dir, pty_master.get());
    // We are the parent in the foreground: the exit status is ours to audit
    // (the monitoring shim only sees the exit, and records the timeout).
    if (code && !record.agent.empty()) {
      std::optional<shim::ExitRecord> exit;
      for (int i = 0; record.shim_pid > 0 && !exit && i < 200; ++i) {
        exit = shim::read_exit_record(dir);
        if (!exit) std::this_thread::sleep_for(std::chrono::microseconds(500));
      }
      audit(audit_context(ctx, record, dir), "exit",
            {{"exitCode", *code}, {"timedOut", exit && exit->timed_out}});
    }
  }
  // Stopped now: delete it as `runc run` does.
  auto st = delete_container(ctx, opts.id, true);
  if (!code) return code.error();
  if (!st) return st.error();
  return *code;
}

}  // namespace mxc::runtime
