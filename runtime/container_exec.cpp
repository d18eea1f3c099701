// `exec`: another process in a running container, built from --process or
// from the container's own process with the command line's changes.
#include <sys/socket.h>
#include <unistd.h>

#include <charconv>

#include "container_internal.hpp"
#include "mxc/runtime/container_id.hpp"
#include "mxc/runtime/container_ops.hpp"
#include "mxc/runtime/foreground.hpp"
#include "mxc/sys/cgroups.hpp"
#include "mxc/sys/console.hpp"
#include "mxc/sys/file_util.hpp"
#include "mxc/sys/proc_info.hpp"

namespace mxc::runtime {

using namespace detail;

namespace {

// The process exec runs: --process, or the container's own process with the flags applied.
Result<nlohmann::json> exec_process_json(const ExecOptions& o, const nlohmann::json& config) {
  nlohmann::json p;
  if (!o.process_file.empty()) {
    auto text =
        o.process_file == "-" ? sys::read_file("/dev/stdin") : sys::read_file(o.process_file);
    if (!text) return text.error().context("--process");
    p = nlohmann::json::parse(*text, nullptr, false);
    if (p.is_discarded() || !p.is_object())
      return make_error("--process " + o.process_file + ": not a JSON object");
    return p;
  }
  p = config.value("process", nlohmann::json::object());
  p["args"] = o.args;
  p["terminal"] = o.tty;
  if (!o.cwd.empty()) p["cwd"] = o.cwd;
  auto env = p.value("env", std::vector<std::string>{});
  for (const auto& e : o.env) {
    auto key = e.substr(0, e.find('='));
    std::erase_if(env, [&](const std::string& x) { return x.substr(0, x.find('=')) == key; });
    env.push_back(e);
  }
  p["env"] = env;
  if (!o.user.empty()) {
    auto colon = o.user.find(':');
    auto number = [&](const std::string& s) -> Result<uint32_t> {
      uint32_t v = 0;
      auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
      if (ec != std::errc() || ptr != s.data() + s.size()) {
        return make_error("--user " + quote_untrusted(o.user) + ": expected uid[:gid] as numbers");
      }
      return v;
    };
    auto uid = number(o.user.substr(0, colon));
    if (!uid) return uid.error();
    p["user"]["uid"] = *uid;
    if (colon != std::string::npos) {
      auto gid = number(o.user.substr(colon + 1));
      if (!gid) return gid.error();
      p["user"]["gid"] = *gid;
    }
  }
  for (const auto& cap : o.caps) {
    for (const char* set : {"bounding", "effective", "permitted"})
      p["capabilities"][set].push_back(cap);
  }
  if (o.no_new_privs) p["noNewPrivileges"] = true;
  return p;
}

}  // namespace

Result<int> exec_container(const RuntimeContext& ctx, const ExecOptions& opts) {
  auto c = open_container(ctx, opts.id);
  if (!c) return c.error();
  if (c->status != "running" && c->status != "created") {
    return make_error("cannot exec in container " + quote_untrusted(opts.id) + ": it is " +
                      c->status);
  }
  if (c->plugin->table().exec == nullptr) {
    return make_error("backend " + c->record.backend + " does not support exec");
  }
  // Refused before the process runs, not after.
  if (!opts.pid_file.empty()) MXC_TRY(sys::check_pid_file(opts.pid_file));
  auto config_text = c->dir.read_config();
  if (!config_text) return config_text.error();
  auto config = nlohmann::json::parse(*config_text, nullptr, false);
  auto process = exec_process_json(opts, config);
  if (!process) return process.error();
  if (opts.process_file.empty() && opts.args.empty()) return make_error("exec: no command given");
  bool tty = process->value("terminal", false);

  sys::UniqueFd console_ours;
  sys::UniqueFd console_theirs;
  if (tty && opts.console_socket.empty()) {
    if (opts.detach)
      return make_error("exec: a terminal (-t) with --detach needs --console-socket");
    int sv[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
      return sys_error("socketpair");
    console_ours.reset(sv[0]);
    console_theirs.reset(sv[1]);
  }
  std::string cgroup_procs;
  if (!c->record.cgroup.empty()) {
    if (auto cg = sys::Cgroup::open(c->record.cgroup)) {
      for (const auto& f : cg->procs_files()) cgroup_procs += f + "\n";
    }
  }
  std::string process_json = process->dump();
  mxc_exec_request req{};
  req.struct_size = sizeof req;
  req.config_json = config_text->c_str();
  req.process_json = process_json.c_str();
  req.console_socket = opts.console_socket.empty() ? nullptr : opts.console_socket.c_str();
  req.console_fd = console_theirs ? console_theirs.get() : -1;
  req.cgroup_procs = cgroup_procs.empty() ? nullptr : cgroup_procs.c_str();
  req.flags = opts.detach ? 0 : MXC_CREATE_FOREGROUND;
  req.preserve_fds = opts.preserve_fds;
  std::string dir = c->dir.path().string();
  auto ref = make_ref(c->record, dir);
  mxc_create_result out{sizeof(mxc_create_result), 0};
  char err[kErrLen] = {0};
  if (c->plugin->table().exec(&ref, &req, &out, err, sizeof err) != 0)
    return plugin_error("exec", c->record.backend, err);
  console_theirs.reset();
  if (!opts.pid_file.empty()) {
    if (auto st = sys::write_pid_file(opts.pid_file, out.pid); !st) return st.error();
  }
  if (opts.detach) return 0;
  sys::UniqueFd pty_master;
  if (console_ours) {
    auto fd = sys::receive_fd(console_ours.get());
    if (!fd) return fd.error();
    pty_master = std::move(*fd);
  }
  ContainerRecord record = c->record;
  record.pid = out.pid;
  std::unique_ptr<Plugin> plugin = std::move(c->plugin);
  c = make_error("");  // unlock while the process runs
  MXC_TRY(wait_forwarding(out.pid, pty_master.get()));
  auto exec_ref = make_ref(record, dir);
  int code = 0;
  if (plugin->table().wait(&exec_ref, &code, err, sizeof err) != 0)
    return plugin_error("wait", record.backend, err);
  return code;
}

}  // namespace mxc::runtime
