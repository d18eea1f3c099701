// example: a minimal mxc-runtime backend, written against the installed SDK
// headers only. It runs a bundle's process chrooted into root.path, as pid 1 of
// a new pid namespace with a mount namespace of its own (for its /proc). No
// cgroup limits of its own (it joins the runtime's cgroup), and no mounts,
// user, capabilities, rlimits or other namespaces from config.json: a starting
// point, not an isolation boundary. What it cannot skip silently (seccomp, the
// hooks that run in the container's namespaces, a terminal) it refuses.
//
// The create/start split: the process blocks opening a FIFO in the state
// directory for writing; start() opens it for reading, which releases it.
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

#include "mxc/plugin.hpp"

namespace {

using mxc::sdk::guard;
using mxc::sdk::set_error;

// Thrown inside guard(), which turns it into -1 and the one-line message.
[[noreturn]] void fail(const std::string& msg) {
  throw std::runtime_error("example: " + msg);
}
[[noreturn]] void fail_errno(const std::string& what) {
  fail(what + ": " + std::strerror(errno));
}

std::string fifo_path(const char* state_dir) {
  return std::string(state_dir) + "/example.fifo";
}

// A field appended in a later minor version exists only if the runtime's
// struct_size covers it.
#define EXAMPLE_HAS_FIELD(req, field) \
  ((req)->struct_size >=              \
   offsetof(std::remove_pointer_t<decltype(req)>, field) + sizeof((req)->field))

// Everything the child needs, prepared before clone(): after it, the child
// only makes system calls (its memory is a copy of the runtime's, whose locks
// may have been held at the time).
struct Launch {
  std::string root;
  std::string cwd;
  std::vector<std::string> args;
  std::vector<std::string> env;
  std::vector<std::string> programs;  // where args[0] may be, in PATH order
  std::vector<char*> argv;
  std::vector<char*> envp;
  int fifo_fd = -1;           // O_PATH descriptor of the FIFO
  std::string fifo_link;      // /proc/self/fd/<fifo_fd>, seen from inside
  int go_fd = -1;             // read end: the parent has put us in the cgroups
  int report_fd = -1;         // write end: "0" when set up, else "E" and why
  unsigned preserve_fds = 0;  // the caller's fds 3 .. 3+N-1 pass to the process
  std::vector<int> keep;      // every descriptor the child keeps, sorted
};

void write_all(int fd, const char* s) {
  size_t n = std::strlen(s);
  while (n > 0) {
    ssize_t w = ::write(fd, s, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return;
    s += w;
    n -= static_cast<size_t>(w);
  }
}

[[noreturn]] void child_fail(const Launch& l, const char* what, const char* arg) {
  const char* why = std::strerror(errno);
  write_all(l.report_fd, "E");
  write_all(l.report_fd, what);
  write_all(l.report_fd, arg);
  write_all(l.report_fd, ": ");
  write_all(l.report_fd, why);
  ::_exit(1);
}

int child_main(void* arg) {
  const Launch& l = *static_cast<const Launch*>(arg);
  // Nothing of the runtime's but stdio and --preserve-fds may reach the
  // container: one of its descriptors holds the container's lock, which
  // `start` must take.
  unsigned next = 0;
  for (int fd : l.keep) {
    if (static_cast<unsigned>(fd) > next) ::close_range(next, static_cast<unsigned>(fd) - 1, 0);
    next = static_cast<unsigned>(fd) + 1;
  }
  ::close_range(next, ~0U, 0);
  // The runtime may have blocked or ignored signals (a foreground run relays
  // them); the container starts with the defaults.
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  for (int sig = 1; sig < NSIG; ++sig) ::signal(sig, SIG_DFL);
  char go = 0;
  if (::read(l.go_fd, &go, 1) != 1) ::_exit(1);  // the parent gave up
  // Private first, so that our /proc stays in our mount namespace.
  if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0)
    child_fail(l, "make / private", "");
  if (::chroot(l.root.c_str()) != 0) child_fail(l, "chroot ", l.root.c_str());
  if (::chdir("/") != 0) child_fail(l, "chdir /", "");
  if (::mkdir("/proc", 0555) != 0 && errno != EEXIST) child_fail(l, "mkdir /proc", "");
  if (::mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr) != 0)
    child_fail(l, "mount /proc", "");
  if (::chdir(l.cwd.c_str()) != 0) child_fail(l, "process.cwd ", l.cwd.c_str());
  write_all(l.report_fd, "0");

  // Blocks until start() opens the FIFO for reading. The FIFO is outside the
  // chroot: reach it through our descriptor.
  int w;
  do {
    w = ::open(l.fifo_link.c_str(), O_WRONLY | O_CLOEXEC);
  } while (w < 0 && errno == EINTR);
  if (w < 0) ::_exit(127);
  write_all(w, "0");
  ::close(w);

  for (unsigned i = 0; i < l.preserve_fds; ++i) {
    int fd = 3 + static_cast<int>(i);
    ::fcntl(fd, F_SETFD, ::fcntl(fd, F_GETFD) & ~FD_CLOEXEC);
  }
  for (const auto& p : l.programs) ::execve(p.c_str(), l.argv.data(), l.envp.data());
  const char* why = std::strerror(errno);
  write_all(2, "example: exec ");
  write_all(2, l.args[0].c_str());
  write_all(2, ": ");
  write_all(2, why);
  write_all(2, "\n");
  ::_exit(127);
}

// Only the fields this backend uses; the runtime has validated the document.
void parse_config(const char* config_json, Launch& l) {
  auto doc = nlohmann::json::parse(config_json, nullptr, false);
  if (doc.is_discarded()) fail("config.json: invalid JSON");
  // Refuse what this backend would otherwise silently skip: a filter or a hook
  // that does not run is a weaker container than the bundle asked for.
  if (doc.contains("linux") && doc["linux"].contains("seccomp"))
    fail("linux.seccomp: not supported by this backend");
  for (const char* kind : {"prestart", "createRuntime", "createContainer", "startContainer"}) {
    if (doc.contains("hooks") && !doc["hooks"].value(kind, nlohmann::json::array()).empty())
      fail(std::string("hooks.") + kind + ": not supported by this backend");
  }
  l.root = doc.at("root").at("path").get<std::string>();
  const auto& process = doc.at("process");
  if (process.value("terminal", false))
    fail("process.terminal: not supported by this backend (set it to false)");
  l.args = process.at("args").get<std::vector<std::string>>();
  if (l.args.empty()) fail("process.args: empty");
  l.env = process.value("env", std::vector<std::string>{});
  l.cwd = process.value("cwd", std::string("/"));

  // execve() does not search PATH: find the candidates here, in the
  // container's PATH (paths are resolved inside the chroot, at exec time).
  const std::string& prog = l.args[0];
  if (prog.find('/') != std::string::npos) {
    l.programs.push_back(prog);
  } else {
    std::string path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
    for (const auto& e : l.env) {
      if (e.rfind("PATH=", 0) == 0) path = e.substr(5);
    }
    size_t start = 0;
    while (start <= path.size()) {
      size_t end = path.find(':', start);
      if (end == std::string::npos) end = path.size();
      if (end > start) l.programs.push_back(path.substr(start, end - start) + "/" + prog);
      start = end + 1;
    }
  }
  for (auto& a : l.args) l.argv.push_back(a.data());
  l.argv.push_back(nullptr);
  for (auto& e : l.env) l.envp.push_back(e.data());
  l.envp.push_back(nullptr);
}

// Closes a descriptor when it goes out of scope.
struct Fd {
  int fd = -1;
  Fd() = default;
  explicit Fd(int f) : fd(f) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() { reset(); }
  void reset(int f = -1) {
    if (fd >= 0) ::close(fd);
    fd = f;
  }
};

bool alive(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
  size_t paren = text.rfind(')');
  // A zombie has exited: only its parent's waitpid() is left.
  return paren != std::string::npos && paren + 2 < text.size() && text[paren + 2] != 'Z' &&
         text[paren + 2] != 'X';
}

int ex_create(const mxc_create_request* req, mxc_create_result* out, char* err, size_t err_len) {
  return guard(err, err_len, [&] {
    Launch l;
    parse_config(req->config_json, l);
    std::string fifo = fifo_path(req->state_dir);
    if (::mkfifo(fifo.c_str(), 0600) != 0) fail_errno("mkfifo " + fifo);
    Fd fifo_fd(::open(fifo.c_str(), O_PATH | O_CLOEXEC));
    int go[2];
    int report[2];
    if (fifo_fd.fd < 0 || ::pipe2(go, O_CLOEXEC) != 0) {
      int saved = errno;
      ::unlink(fifo.c_str());
      errno = saved;
      fail_errno("create " + fifo);
    }
    Fd go_rd(go[0]), go_wr(go[1]);
    if (::pipe2(report, O_CLOEXEC) != 0) {
      ::unlink(fifo.c_str());
      fail_errno("pipe");
    }
    Fd report_rd(report[0]), report_wr(report[1]);
    l.fifo_fd = fifo_fd.fd;
    l.fifo_link = "/proc/self/fd/" + std::to_string(fifo_fd.fd);
    l.go_fd = go_rd.fd;
    l.report_fd = report_wr.fd;
    if (EXAMPLE_HAS_FIELD(req, preserve_fds)) l.preserve_fds = req->preserve_fds;
    for (int fd = 0; fd < 3 + static_cast<int>(l.preserve_fds); ++fd) l.keep.push_back(fd);
    l.keep.insert(l.keep.end(), {l.fifo_fd, l.go_fd, l.report_fd});
    std::sort(l.keep.begin(), l.keep.end());

    // clone(), not fork() + unshare(): the child itself is pid 1 of the new
    // namespace and a child of the runtime process, whose wait() needs that.
    std::vector<char> stack(1 << 20);
    pid_t pid =
        ::clone(child_main, stack.data() + stack.size(), CLONE_NEWPID | CLONE_NEWNS | SIGCHLD, &l);
    if (pid < 0) {
      int saved = errno;
      ::unlink(fifo.c_str());
      errno = saved;
      fail_errno("clone");
    }
    go_rd.reset();
    report_wr.reset();
    auto abandon = [&](const std::string& msg) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, nullptr, 0);
      ::unlink(fifo.c_str());
      fail(msg);
    };
    // The runtime made the cgroup with its limits; join it before anything runs.
    if (EXAMPLE_HAS_FIELD(req, cgroup_procs) && req->cgroup_procs != nullptr) {
      std::string list = req->cgroup_procs;
      size_t start = 0;
      while (start < list.size()) {
        size_t end = list.find('\n', start);
        if (end == std::string::npos) end = list.size();
        std::string file = list.substr(start, end - start);
        start = end + 1;
        if (file.empty()) continue;
        std::ofstream procs(file);
        procs << pid << std::flush;
        if (!procs) abandon("cannot join cgroup " + file);
      }
    }
    write_all(go_wr.fd, "1");
    go_wr.reset();
    std::string reply;
    char buf[512];
    for (;;) {
      ssize_t n = ::read(report_rd.fd, buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      reply.append(buf, static_cast<size_t>(n));
      if (reply == "0") break;  // set up; it keeps the pipe until exec
    }
    if (reply != "0")
      abandon(reply.empty() ? "process exited while being set up" : reply.substr(1));
    out->pid = pid;
    return 0;
  });
}

int ex_start(const mxc_container_ref* ref, char* err, size_t err_len) {
  return guard(err, err_len, [&] {
    std::string fifo = fifo_path(ref->state_dir);
    Fd fd(::open(fifo.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC));
    if (fd.fd < 0) {
      if (errno == ENOENT) fail("the container was already started");
      fail_errno("open " + fifo);
    }
    // The process writes "0" once it has the FIFO open; it may die instead.
    for (;;) {
      pollfd p{fd.fd, POLLIN, 0};
      int rc = ::poll(&p, 1, 50);
      if (rc < 0 && errno != EINTR) fail_errno("poll " + fifo);
      if (rc > 0 && (p.revents & POLLIN)) break;
      if (!alive(ref->pid)) {
        ::unlink(fifo.c_str());
        fail("process " + std::to_string(ref->pid) + " exited before start");
      }
    }
    ::unlink(fifo.c_str());  // "running" from now on (see status)
    return 0;
  });
}

// The pids whose pid namespace is the container's, the init included.
std::vector<pid_t> container_pids(pid_t init) {
  std::error_code ec;
  auto ns = std::filesystem::read_symlink("/proc/" + std::to_string(init) + "/ns/pid", ec);
  if (ec) return {};
  std::vector<pid_t> out;
  for (const auto& e : std::filesystem::directory_iterator("/proc", ec)) {
    const std::string name = e.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::error_code ec2;
    if (std::filesystem::read_symlink(e.path() / "ns/pid", ec2) == ns && !ec2)
      out.push_back(static_cast<pid_t>(std::stol(name)));
  }
  return out;
}

int ex_kill(const mxc_container_ref* ref, int signal, int all, char* err, size_t err_len) {
  return guard(err, err_len, [&] {
    if (all) {
      for (pid_t p : container_pids(ref->pid)) ::kill(p, signal);
      return 0;
    }
    // Note: pid 1 of a namespace gets only the signals it handles (and SIGKILL).
    if (::kill(ref->pid, signal) != 0) fail_errno("kill " + std::to_string(ref->pid));
    return 0;
  });
}

int ex_status(const mxc_container_ref* ref, char* status, size_t status_len, char* err,
              size_t err_len) {
  return guard(err, err_len, [&] {
    struct stat sb {};
    const char* s = !alive(ref->pid)                                       ? "stopped"
                    : ::lstat(fifo_path(ref->state_dir).c_str(), &sb) == 0 ? "created"
                                                                           : "running";
    set_error(status, status_len, s);
    return 0;
  });
}

int ex_wait(const mxc_container_ref* ref, int* exit_code, char* err, size_t err_len) {
  return guard(err, err_len, [&] {
    int ws = 0;
    pid_t r;
    do {
      r = ::waitpid(ref->pid, &ws, 0);
    } while (r < 0 && errno == EINTR);
    if (r < 0) fail_errno("waitpid " + std::to_string(ref->pid));
    *exit_code = WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws);
    return 0;
  });
}

int ex_destroy(const mxc_container_ref* ref, char* err, size_t err_len) {
  return guard(err, err_len, [&] {
    // The mount namespace, and its /proc, went with the processes.
    std::string fifo = fifo_path(ref->state_dir);
    if (::unlink(fifo.c_str()) != 0 && errno != ENOENT) fail_errno("unlink " + fifo);
    return 0;
  });
}

constexpr mxc_plugin kPlugin{
    MXC_PLUGIN_ABI_MAJOR,
    MXC_PLUGIN_ABI_MINOR,
    "example",
    EXAMPLE_VERSION,
    "process",
    "[]",  // enforces no policy field: the runtime must not claim otherwise
    ex_create,
    ex_start,
    ex_kill,
    ex_status,
    ex_wait,
    ex_destroy,
    nullptr,  // exec: not supported, which the runtime reports
};

}  // namespace

extern "C" __attribute__((visibility("default"))) const mxc_plugin* mxc_plugin_entry(void) {
  return &kPlugin;
}
