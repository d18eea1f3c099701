#include "bwrap_launch.hpp"

#include <fcntl.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <iterator>
#include <nlohmann/json.hpp>

#include "bwrap_proc.hpp"

extern char** environ;

namespace mxc::bwrap {

namespace {

constexpr auto kSetupLimit = std::chrono::seconds(30);
constexpr auto kDeniedLimit = std::chrono::seconds(2);
constexpr int kErrPipeFd = 6;  // the exec-error pipe in the child, close-on-exec

// What the child reports when it cannot exec bwrap.
struct ChildError {
  int err;
  char what[60];
};

// Kills and reaps a bwrap that did not make it to a working sandbox.
class Guard {
 public:
  explicit Guard(pid_t pid) : pid_(pid) {}
  Guard(const Guard&) = delete;
  Guard& operator=(const Guard&) = delete;
  ~Guard() {
    if (released_) return;
    // The sandboxed process first: without --die-with-parent it would outlive bwrap.
    if (child_ > 0) ::kill(child_, SIGKILL);
    if (reaped_) return;
    ::kill(pid_, SIGKILL);
    int st;
    while (::waitpid(pid_, &st, 0) < 0 && errno == EINTR) {
    }
  }
  void set_child(pid_t c) { child_ = c; }
  void reaped() { reaped_ = true; }
  void release() { released_ = true; }

 private:
  pid_t pid_;
  pid_t child_ = 0;
  bool reaped_ = false;
  bool released_ = false;
};

std::string describe(int wstatus) {
  if (WIFEXITED(wstatus)) return "exit status " + std::to_string(WEXITSTATUS(wstatus));
  if (WIFSIGNALED(wstatus)) return std::string("signal ") + ::sigabbrev_np(WTERMSIG(wstatus));
  return "status " + std::to_string(wstatus);
}

// Fails when bwrap has exited (reaping it); bwrap printed why on stderr.
void check_running(pid_t pid, Guard& guard) {
  int st = 0;
  pid_t r = ::waitpid(pid, &st, WNOHANG);
  if (r == pid) {
    guard.reaped();
    fail("bwrap could not set up the sandbox (" + describe(st) + "; its reason is on stderr)");
  }
}

UniqueFd high_fd(int fd) {
  // Above every target fd, so that the child's dup2 calls never collide.
  UniqueFd out(::fcntl(fd, F_DUPFD_CLOEXEC, 10));
  if (!out) fail_errno("fcntl F_DUPFD_CLOEXEC");
  return out;
}

[[noreturn]] void child_fail(int errfd, const char* what) {
  ChildError e{errno, {}};
  std::strncpy(e.what, what, sizeof e.what - 1);
  (void)!::write(errfd, &e, sizeof e);
  ::_exit(127);
}

// Between clone and exec (sharing our memory): async-signal-safe calls only.
[[noreturn]] void exec_child(const LaunchRequest& req, const std::vector<char*>& argv, int block,
                             int info, int seccomp, int errfd) {
  // Handlers first (they are the runtime's code, in its memory), then the mask.
  for (int s = 1; s < NSIG; ++s) ::signal(s, SIG_DFL);
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  for (const auto& procs : req.cgroup_procs) {
    int fd = ::open(procs.c_str(), O_WRONLY | O_CLOEXEC);
    if (fd < 0 || ::write(fd, "0", 1) != 1) child_fail(errfd, "join cgroup");
    ::close(fd);
  }
  const Inherited& inh = req.plan->inherited;
  for (const auto& [resource, limit] : inh.rlimits) {
    if (::setrlimit(resource, &limit) != 0) child_fail(errfd, "process.rlimits: setrlimit");
  }
  if (inh.oom_score_adj) {
    char buf[16];
    int n = 0;
    int v = *inh.oom_score_adj;
    unsigned u = v < 0 ? static_cast<unsigned>(-v) : static_cast<unsigned>(v);
    char tmp[16];
    int t = 0;
    do tmp[t++] = static_cast<char>('0' + u % 10);
    while ((u /= 10) != 0);
    if (v < 0) buf[n++] = '-';
    while (t > 0) buf[n++] = tmp[--t];
    int fd = ::open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);
    if (fd < 0 || ::write(fd, buf, static_cast<size_t>(n)) != n)
      child_fail(errfd, "process.oomScoreAdj");
    ::close(fd);
  }
  if (inh.umask) ::umask(*inh.umask);
  // IOPRIO_WHO_PROCESS, this process: bwrap and the sandbox inherit it.
  if (inh.io_priority && ::syscall(SYS_ioprio_set, 1, 0, *inh.io_priority) != 0)
    child_fail(errfd, "process.ioPriority: ioprio_set");
  if (req.plan->new_netns) {
    if (::unshare(CLONE_NEWNET) != 0) child_fail(errfd, "unshare(CLONE_NEWNET)");
    // What bwrap's --unshare-net does: loopback up.
    int s = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    ifreq ifr{};
    std::memcpy(ifr.ifr_name, "lo", 3);
    if (s < 0 || ::ioctl(s, SIOCGIFFLAGS, &ifr) != 0) child_fail(errfd, "SIOCGIFFLAGS lo");
    ifr.ifr_flags = static_cast<short>(ifr.ifr_flags | IFF_UP);
    if (::ioctl(s, SIOCSIFFLAGS, &ifr) != 0) child_fail(errfd, "SIOCSIFFLAGS lo up");
    ::close(s);
  }
  if (req.landlock_fd >= 0) {
    // Landlock needs no_new_privs without CAP_SYS_ADMIN; bwrap sets it anyway.
    if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
        ::syscall(SYS_landlock_restrict_self, req.landlock_fd, 0) != 0)
      child_fail(errfd, "policy: landlock_restrict_self");
  }
  if ((block >= 0 ? ::dup2(block, kBlockFd) < 0 : (::close(kBlockFd), false)) ||
      ::dup2(info, kInfoFd) < 0 ||
      (seccomp >= 0 ? ::dup2(seccomp, kSeccompFd) < 0 : (::close(kSeccompFd), false)) ||
      ::dup3(errfd, kErrPipeFd, O_CLOEXEC) < 0)
    child_fail(errfd, "dup2");
  errfd = kErrPipeFd;
  // Nothing of the runtime's leaks into the sandbox.
  ::close_range(kErrPipeFd + 1, ~0U, 0);
  ::execve(req.bwrap.c_str(), argv.data(), environ);
  child_fail(errfd, "exec bwrap");
}

struct SpawnArgs {
  const LaunchRequest* req;
  const std::vector<char*>* argv;
  int block, info, seccomp, errfd;
};

int spawn_child(void* arg) {
  auto* a = static_cast<SpawnArgs*>(arg);
  exec_child(*a->req, *a->argv, a->block, a->info, a->seccomp, a->errfd);
}

// Reads bwrap's --info-fd report up to the child's pid.
pid_t read_child_pid(int fd, pid_t bwrap, Guard& guard) {
  std::string buf;
  auto deadline = std::chrono::steady_clock::now() + kSetupLimit;
  while (std::chrono::steady_clock::now() < deadline) {
    pollfd p{fd, POLLIN, 0};
    int r = ::poll(&p, 1, 10);
    if (r < 0 && errno != EINTR) fail_errno("poll bwrap --info-fd");
    if (r > 0) {
      char chunk[1024];
      ssize_t n = ::read(fd, chunk, sizeof chunk);
      if (n > 0) {
        buf.append(chunk, static_cast<size_t>(n));
        auto doc = nlohmann::json::parse(buf, nullptr, false);
        if (!doc.is_discarded()) {
          auto pid = doc.find("child-pid");
          if (pid == doc.end() || !pid->is_number_integer())
            fail("bwrap --info-fd: no child-pid in " + buf);
          return pid->get<pid_t>();
        }
        continue;
      }
      if (n == 0) {
        // Closed without a report: bwrap gave up; wait for it to say why.
        int st = 0;
        while (::waitpid(bwrap, &st, 0) < 0 && errno == EINTR) {
        }
        guard.reaped();
        fail("bwrap could not start the sandbox (" + describe(st) + "; its reason is on stderr)");
      }
    }
    check_running(bwrap, guard);
  }
  fail("bwrap did not report its child within 30 s");
}

}  // namespace

std::string find_bwrap() {
  for (const char* p : {"/usr/bin/bwrap", "/usr/local/bin/bwrap", "/bin/bwrap"}) {
    if (::access(p, X_OK) == 0) return p;
  }
  fail(
      "bubblewrap backend: bwrap not found in /usr/bin or /usr/local/bin (install the bubblewrap "
      "package)");
}

bool bwrap_has_tmpfs_options(const std::string& bwrap) {
  // An option bwrap parses is a string literal in its binary: far cheaper
  // than running `bwrap --help` on every create.
  UniqueFd fd(::open(bwrap.c_str(), O_RDONLY | O_CLOEXEC));
  struct stat sb {};
  if (!fd || ::fstat(fd.get(), &sb) != 0 || sb.st_size <= 0) return false;
  auto size = static_cast<size_t>(sb.st_size);
  void* map = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd.get(), 0);
  if (map == MAP_FAILED) return false;
  constexpr char kOption[] = "--size";  // with its NUL: the whole literal
  bool found = ::memmem(map, size, kOption, sizeof kOption) != nullptr;
  ::munmap(map, size);
  return found;
}

Launched launch_bwrap(const LaunchRequest& req) {
  std::vector<std::string> args{"bwrap"};
  args.insert(args.end(), req.plan->args.begin(), req.plan->args.end());
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);

  int info_pipe[2], err_pipe[2];
  if (::pipe2(info_pipe, O_CLOEXEC) != 0) fail_errno("pipe");
  UniqueFd info_r(info_pipe[0]), info_w0(info_pipe[1]);
  if (::pipe2(err_pipe, O_CLOEXEC) != 0) fail_errno("pipe");
  UniqueFd err_r(err_pipe[0]), err_w0(err_pipe[1]);
  UniqueFd block;
  if (req.block_fd >= 0) block = high_fd(req.block_fd);
  UniqueFd info_w = high_fd(info_w0.get());
  UniqueFd err_w = high_fd(err_w0.get());
  UniqueFd seccomp;
  if (req.seccomp_fd >= 0) seccomp = high_fd(req.seccomp_fd);
  info_w0.reset();
  err_w0.reset();

  // vfork semantics (CLONE_VM | CLONE_VFORK, as posix_spawn does): no copy
  // of the runtime's page tables and no copy-on-write faults in the child,
  // which fork() paid for on every create (~1 ms). The child runs on its own
  // stack with every signal blocked until it has reset their handlers, and
  // touches nothing of ours but its arguments.
  SpawnArgs sa{
      &req,       &argv, block ? block.get() : -1, info_w.get(), seccomp ? seccomp.get() : -1,
      err_w.get()};
  constexpr size_t kStack = 256 * 1024;
  void* stack = ::mmap(nullptr, kStack, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
  if (stack == MAP_FAILED) fail_errno("mmap");
  sigset_t all, old;
  sigfillset(&all);
  ::pthread_sigmask(SIG_SETMASK, &all, &old);
  pid_t pid = ::clone(spawn_child, static_cast<char*>(stack) + kStack,
                      CLONE_VM | CLONE_VFORK | SIGCHLD, &sa);
  int clone_errno = errno;
  ::pthread_sigmask(SIG_SETMASK, &old, nullptr);
  ::munmap(stack, kStack);
  errno = clone_errno;
  if (pid < 0) fail_errno("clone");
  Guard guard(pid);
  info_w.reset();
  err_w.reset();
  ChildError ce{};
  ssize_t n;
  while ((n = ::read(err_r.get(), &ce, sizeof ce)) < 0 && errno == EINTR) {
  }
  if (n > 0) {
    ce.what[sizeof ce.what - 1] = '\0';
    errno = ce.err;
    fail_errno(std::string(ce.what) +
               (std::strcmp(ce.what, "exec bwrap") == 0 ? " " + req.bwrap : ""));
  }

  Launched out;
  out.bwrap_pid = pid;
  out.child_pid = read_child_pid(info_r.get(), pid, guard);
  guard.set_child(out.child_pid);
  if (!req.wait_for_setup) {
    guard.release();
    return out;
  }

  // The report comes before bwrap builds the root; create must not return
  // (nor start run) until that worked, i.e. the child waits on the block fd.
  // No event marks that moment exactly, but the last thing bwrap does before
  // it is to unmount the old root, and a mount namespace's mountinfo polls
  // readable (POLLPRI) on every mount change: wait on that, and look at the
  // child's syscall after each change (then briefly, for the few syscalls
  // between that unmount and the read), instead of sleeping blind.
  UniqueFd mounts(::open(("/proc/" + std::to_string(out.child_pid) + "/mountinfo").c_str(),
                         O_RDONLY | O_CLOEXEC));
  auto start = std::chrono::steady_clock::now();
  auto denied_since = start;
  constexpr long kMinPauseNs = 50'000, kMaxPauseNs = 1'000'000;
  for (long pause = kMinPauseNs;;) {
    check_running(pid, guard);
    auto now = std::chrono::steady_clock::now();
    Blocked b = blocked_reading(out.child_pid, kBlockFd);
    if (b == Blocked::kYes || b == Blocked::kUnknowable) break;
    if (b != Blocked::kDenied) denied_since = now;
    // Persistently hidden (an LSM denies ptrace reads): trust the report.
    if (now - denied_since > kDeniedLimit) break;
    if (now - start > kSetupLimit) fail("bwrap did not finish setting up the sandbox within 30 s");
    timespec ts{0, pause};
    if (mounts) {
      pollfd p{mounts.get(), POLLPRI, 0};
      int r = ::ppoll(&p, 1, &ts, nullptr);
      // A mount change: setup moves on, look again soon; none: back off.
      pause = r > 0 ? kMinPauseNs : std::min(pause * 2, kMaxPauseNs);
    } else {
      ::nanosleep(&ts, nullptr);
      pause = std::min(pause * 2, kMaxPauseNs / 4);
    }
  }
  guard.release();
  return out;
}

}  // namespace mxc::bwrap
