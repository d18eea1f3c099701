#include "container_exec.hpp"

#include <sched.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "mxc/sys/console.hpp"
#include "mxc/sys/file_util.hpp"
#include "mxc/sys/namespaces.hpp"
#include "mxc/sys/proc_info.hpp"
#include "mxc/sys/process_setup.hpp"
#include "mxc/sys/sync_channel.hpp"
#include "process_exec.hpp"

namespace mxc::processcontainer {

namespace {

constexpr const char* kPidPrefix = "pid ";
constexpr const char* kErrorPrefix = "error ";
constexpr const char* kReady = "ready";

std::string ns_file(const std::string& type) {
  if (type == "network") return "net";
  if (type == "mount") return "mnt";
  return type;
}

[[noreturn]] void run_exec_process(const ExecRequest& req, int sync_fd) {
  auto report = [&](const Error& e) {
    (void)sys::send_message(sync_fd, kErrorPrefix + e.message);
    ::_exit(1);
  };
  const spec::Process& proc = *req.process;
  if (::setsid() < 0) report(sys_error("setsid"));
  if (proc.terminal) {
    auto pty = sys::open_pty(proc.consoleSize, proc.user.uid, proc.user.gid);
    if (!pty) report(pty.error());
    if (auto st = sys::send_fd(req.console_fd, pty->master.get(), "/dev/ptmx"); !st)
      report(st.error());
    ::close(req.console_fd);
    if (auto st = sys::attach_terminal(pty->slave.get()); !st) report(st.error());
  }
  if (auto st = sys::apply_rlimits(proc.rlimits); !st) report(st.error());
  if (proc.oomScoreAdj) {
    if (auto st = sys::set_oom_score_adj(*proc.oomScoreAdj); !st) report(st.error());
  }
  auto exe = sys::find_executable(proc.args.front(), proc.env);
  if (!exe) report(exe.error());
  std::optional<sys::LandlockRuleset> landlock;
  if (req.landlock) {
    auto rs = build_landlock_ruleset(*req.landlock);
    if (!rs) report(rs.error().context("policy"));
    landlock.emplace(std::move(*rs));
  }
  // The sync socket is close-on-exec: a successful exec closes it, telling the
  // runtime the process runs.
  (void)sys::send_message(sync_fd, kReady);
  finish_and_exec(ProcessPlan{&proc, &req.capabilities, &req.seccomp,
                              req.config->linux_ ? &req.config->linux_->personality : nullptr,
                              req.preserve_fds, landlock ? &*landlock : nullptr},
                  *exe);
}

}  // namespace

Result<pid_t> exec_in_container(const ExecRequest& req) {
  std::vector<spec::Namespace> namespaces;
  if (req.config->linux_) {
    for (const auto& ns : req.config->linux_->namespaces) {
      namespaces.push_back(spec::Namespace{
          ns.type, "/proc/" + std::to_string(req.init_pid) + "/ns/" + ns_file(ns.type)});
    }
  }
  auto plan = sys::plan_namespaces(namespaces);
  if (!plan) return plan.error();
  auto pair = sys::make_sync_pair();
  if (!pair) return pair.error();
  auto& [parent_end, child_end] = *pair;

  pid_t helper = ::fork();
  if (helper < 0) return sys_error("fork");
  if (helper == 0) {
    parent_end.reset();
    std::vector<int> keep{child_end.get(), req.console_fd};
    for (const auto& j : plan->join) keep.push_back(j.fd.get());
    for (unsigned i = 0; i < req.preserve_fds; ++i) keep.push_back(3 + static_cast<int>(i));
    sys::close_fds_except(std::move(keep));
    int sync_fd = child_end.get();
    auto report = [&](const Error& e) {
      (void)sys::send_message(sync_fd, kErrorPrefix + e.message);
      ::_exit(1);
    };
    for (const auto& procs : req.cgroup_procs) {
      if (auto st = sys::write_file(procs, "0"); !st) report(st.error().context("cgroup"));
    }
    if (auto st = sys::join_namespaces(*plan); !st) report(st.error());
    long pid = ::syscall(SYS_clone, CLONE_PARENT | SIGCHLD, nullptr, nullptr, nullptr, nullptr);
    if (pid < 0) report(sys_error("clone"));
    if (pid == 0) run_exec_process(req, sync_fd);
    (void)sys::send_message(sync_fd, kPidPrefix + std::to_string(pid));
    ::_exit(0);
  }
  child_end.reset();
  pid_t pid = -1;
  bool ready = false;
  std::optional<Error> error;
  // Until end of stream: the helper's exit and the process's exec both close their ends.
  for (;;) {
    auto msg = sys::receive_message(parent_end.get());
    if (!msg) {
      error = msg.error();
      break;
    }
    if (!*msg) break;
    const std::string& m = **msg;
    if (m.rfind(kPidPrefix, 0) == 0) {
      pid = static_cast<pid_t>(std::stol(m.substr(4)));
    } else if (m == kReady) {
      ready = true;
    } else if (m.rfind(kErrorPrefix, 0) == 0) {
      if (!error) error = make_error(m.substr(6));
    }
  }
  while (::waitpid(helper, nullptr, 0) < 0 && errno == EINTR) {
  }
  if (!error && (!ready || pid <= 0)) error = make_error("exec: the process exited during setup");
  if (!error) return pid;
  sys::kill_and_reap(pid);
  return *error;
}

}  // namespace mxc::processcontainer
