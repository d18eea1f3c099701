// The bubblewrap backend: the sandbox is built by bwrap(1) from config.json;
// this plugin only translates, starts and tracks it. It uses the plugin SDK
// and nothing of the runtime.
//
// Processes: create() starts bwrap, which clones the sandboxed process (pid 1
// of its pid namespace with --as-pid-1) and waits for it, exiting with its
// status. That process blocks reading a pipe (--block-fd) until start()
// writes a byte. The pipe is anonymous (no file to create, see
// bwrap_proc.hpp) and opened read-write by the process itself, so that it
// never sees EOF; start() reaches it as /proc/PID/fd/3. In a foreground run
// that the runtime starts at once (MXC_CREATE_START_FOLLOWS) there is no pipe:
// the command runs as soon as bwrap has built the sandbox, as with plain
// bwrap, and start() has nothing left to do.
//
// The pid given to the runtime: the sandboxed process, as the host sees it
// (what `state` reports and `kill` signals) — except in a foreground run,
// where the runtime waits with waitpid() for the pid it got and so needs its
// own child: bwrap, whose exit status is the sandboxed process's.
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <chrono>
#include <cstddef>
#include <cstring>
#include <string>
#include <thread>

#include "bwrap_args.hpp"
#include "bwrap_launch.hpp"
#include "bwrap_policy.hpp"
#include "bwrap_proc.hpp"
#include "bwrap_seccomp.hpp"
#include "mxc/plugin.hpp"

namespace {

namespace bw = mxc::bwrap;
using mxc::sdk::guard;
using mxc::sdk::set_error;
using nlohmann::json;

std::vector<std::string> split_lines(const char* text) {
  std::vector<std::string> out;
  std::string line;
  for (const char* p = text; p != nullptr && *p != '\0'; ++p) {
    if (*p != '\n') {
      line += *p;
    } else if (!line.empty()) {
      out.push_back(std::move(line));
      line.clear();
    }
  }
  if (!line.empty()) out.push_back(line);
  return out;
}

bw::Record load(const mxc_container_ref* ref) {
  bw::Record r;
  if (!bw::read_record(ref->state_dir, &r)) {
    bw::fail("container " + std::string(ref->id) + ": no bubblewrap record in its state directory");
  }
  return r;
}

int bw_create(const mxc_create_request* req, mxc_create_result* out, char* err, size_t len) {
  return guard(err, len, [&] {
    json config = json::parse(req->config_json, nullptr, false);
    if (config.is_discarded() || !config.is_object()) bw::fail("config.json: invalid JSON");
    bw::ArgsOptions opt;
    opt.bundle = req->bundle;
    opt.euid = ::geteuid();
    opt.egid = ::getegid();
    // A foreground run: the flag, or (the runtime's create does not pass the
    // flag yet) the console socket pair that only `run` without -d hands over.
    bool has_console_fd =
        req->struct_size >= offsetof(mxc_create_request, console_fd) + sizeof req->console_fd &&
        req->console_fd >= 0;
    opt.foreground = (req->flags & MXC_CREATE_FOREGROUND) != 0 || has_console_fd;
    opt.autostart = opt.foreground && (req->flags & MXC_CREATE_START_FOLLOWS) != 0;
    std::string bwrap = bw::find_bwrap();
    bw::Policy policy = bw::parse_policy(req->policy_json != nullptr ? req->policy_json : "{}");
    opt.policy = &policy;
    if (policy.present) opt.landlock_abi = bw::landlock_abi();
    opt.tmpfs_options = (bw::wants_tmpfs_options(config) || policy.filesystem) &&
                        bw::bwrap_has_tmpfs_options(bwrap);
    bw::UniqueFd seccomp;
    if (auto l = config.find("linux"); l != config.end() && l->is_object()) {
      if (auto s = l->find("seccomp"); s != l->end() && !s->is_null()) {
        seccomp = bw::compile_seccomp(*s);
        opt.seccomp = true;
      }
    }
    bw::Plan plan = bw::plan_bwrap(config, opt);
    bw::UniqueFd scope;
    if (plan.scope_abstract_unix) scope = bw::abstract_unix_scope_ruleset();

    // The start pipe, reopened read-write: bwrap's read then blocks for data
    // and never returns at EOF (both ends are its own).
    bw::UniqueFd block;
    struct stat pipe_st {};
    if (!opt.autostart) {
      int pipe_fds[2];
      if (::pipe2(pipe_fds, O_CLOEXEC) != 0) bw::fail_errno("pipe");
      bw::UniqueFd pipe_r(pipe_fds[0]), pipe_w(pipe_fds[1]);
      block.reset(
          ::open(("/proc/self/fd/" + std::to_string(pipe_r.get())).c_str(), O_RDWR | O_CLOEXEC));
      if (!block) bw::fail_errno("open the start pipe read-write");
      if (::fstat(block.get(), &pipe_st) != 0) bw::fail_errno("fstat the start pipe");
    }

    bw::LaunchRequest lr;
    lr.bwrap = bwrap;
    lr.plan = &plan;
    lr.cgroup_procs = req->struct_size > offsetof(mxc_create_request, cgroup_procs)
                          ? split_lines(req->cgroup_procs)
                          : std::vector<std::string>{};
    lr.block_fd = block.get();
    lr.seccomp_fd = seccomp ? seccomp.get() : -1;
    lr.landlock_fd = scope ? scope.get() : -1;
    lr.wait_for_setup = !opt.autostart;
    bw::Launched l = bw::launch_bwrap(lr);
    bw::Record r{l.bwrap_pid,    bw::start_time(l.bwrap_pid),
                 l.child_pid,    bw::start_time(l.child_pid),
                 pipe_st.st_ino, opt.autostart};
    try {
      bw::write_record(req->state_dir, r);
    } catch (...) {
      ::kill(l.child_pid, SIGKILL);
      ::kill(l.bwrap_pid, SIGKILL);
      ::waitpid(l.bwrap_pid, nullptr, 0);
      throw;
    }
    out->pid = opt.foreground ? l.bwrap_pid : l.child_pid;
    return 0;
  });
}

int bw_start(const mxc_container_ref* ref, char* err, size_t len) {
  return guard(err, len, [&] {
    bw::Record r = load(ref);
    // Started by create() (no start pipe): running, or even done, already.
    if (r.started && r.block_ino == 0) return 0;
    if (!bw::alive(r.child_pid, r.child_start)) bw::fail("the container's process has exited");
    if (r.started) bw::fail("the container has been started already");
    // Non-blocking: the sandbox holds the pipe open for reading, so this
    // cannot wait. The fd must still be the start pipe (not one the process
    // opened after a start that failed to record itself).
    std::string block =
        "/proc/" + std::to_string(r.child_pid) + "/fd/" + std::to_string(bw::kBlockFd);
    bw::UniqueFd fd(::open(block.c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC));
    struct stat sb {};
    if (!fd || ::fstat(fd.get(), &sb) != 0 || !S_ISFIFO(sb.st_mode) || sb.st_ino != r.block_ino)
      bw::fail("the container's process no longer waits to be started (" + block + ")");
    if (::write(fd.get(), "s", 1) != 1) bw::fail_errno("write " + block);
    r.started = true;  // from now on: running
    bw::write_record(ref->state_dir, r);
    return 0;
  });
}

int bw_kill(const mxc_container_ref* ref, int signal, int all, char* err, size_t len) {
  return guard(err, len, [&] {
    bw::Record r = load(ref);
    // Always the sandboxed process: bwrap itself forwards no signals.
    if (!bw::alive(r.child_pid, r.child_start)) {
      // Signalling everything of a container that is gone leaves nothing to
      // do (the runtime's forced delete kills the cgroup first, then asks).
      if (all) return 0;
      bw::fail("the container's process has exited");
    }
    if (all) {
      uint64_t ns = bw::namespace_inode(r.child_pid, "pid");
      bool own_ns = ns != 0 && ns != bw::namespace_inode(::getpid(), "pid");
      auto pids = own_ns ? bw::pids_in_pid_namespace(ns) : bw::process_tree(r.child_pid);
      for (pid_t p : pids) ::kill(p, signal);
      return 0;
    }
    if (::kill(r.child_pid, signal) != 0) bw::fail_errno("kill " + std::to_string(r.child_pid));
    return 0;
  });
}

int bw_status(const mxc_container_ref* ref, char* status, size_t status_len, char* err,
              size_t len) {
  return guard(err, len, [&] {
    bw::Record r;
    const char* s = !bw::read_record(ref->state_dir, &r) || !bw::alive(r.child_pid, r.child_start)
                        ? "stopped"
                    : r.started ? "running"
                                : "created";
    set_error(status, status_len, s);
    return 0;
  });
}

int bw_wait(const mxc_container_ref* ref, int* exit_code, char* err, size_t len) {
  return guard(err, len, [&] {
    int st = 0;
    pid_t r;
    while ((r = ::waitpid(ref->pid, &st, 0)) < 0 && errno == EINTR) {
    }
    if (r < 0) {
      bw::fail_errno("wait for pid " + std::to_string(ref->pid) +
                     " (only the process that ran it in the foreground can)");
    }
    // bwrap exits with the sandboxed process's code, or 128+signal.
    *exit_code = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    return 0;
  });
}

int bw_destroy(const mxc_container_ref* ref, char* err, size_t len) {
  return guard(err, len, [&] {
    bw::Record r;
    if (bw::read_record(ref->state_dir, &r)) {
      // Normally gone already; not when a signal killed bwrap alone.
      bool child = bw::alive(r.child_pid, r.child_start);
      if (child) ::kill(r.child_pid, SIGKILL);
      if (bw::alive(r.bwrap_pid, r.bwrap_start)) ::kill(r.bwrap_pid, SIGKILL);
      auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
      while (child && bw::alive(r.child_pid, r.child_start) &&
             std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
      }
    }
    ::unlink(bw::record_path(ref->state_dir).c_str());
    ::unlink((bw::record_path(ref->state_dir) + ".tmp").c_str());
    ::removexattr(ref->state_dir, "user.mxc.bwrap");
    return 0;
  });
}

constexpr mxc_plugin kPlugin{
    MXC_PLUGIN_ABI_MAJOR, MXC_PLUGIN_ABI_MINOR, "bubblewrap", MXC_PLUGIN_VERSION, "process",
    // What the plugin kit verifies (conformance/plugins/cases/claims.sh); see bwrap_policy.hpp.
    "[\"filesystem.allowRead\", \"filesystem.allowWrite\", \"filesystem.denyRead\", "
    "\"network.default\", \"network.allowDomains\", \"desktop.display\"]",
    bw_create, bw_start, bw_kill, bw_status, bw_wait, bw_destroy,
    nullptr,  // exec: the runtime reports that this backend has none
};

}  // namespace

extern "C" __attribute__((visibility("default"))) const mxc_plugin* mxc_plugin_entry(void) {
  return &kPlugin;
}
