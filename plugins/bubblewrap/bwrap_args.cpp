#include "bwrap_args.hpp"

#include <limits.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <filesystem>
#include <map>
#include <set>

#include "bwrap_proc.hpp"

namespace mxc::bwrap {

namespace {

using nlohmann::json;

std::string at(const std::string& base, size_t i) {
  return base + "[" + std::to_string(i) + "]";
}

const json& member(const json& obj, const char* key) {
  static const json kNull;
  if (!obj.is_object()) return kNull;
  auto it = obj.find(key);
  return it == obj.end() ? kNull : *it;
}

std::string string_of(const json& v, const std::string& field) {
  if (!v.is_string()) fail(field + ": must be a string");
  return v.get<std::string>();
}

std::vector<std::string> options_of(const json& mount, const std::string& field) {
  std::vector<std::string> out;
  const json& o = member(mount, "options");
  if (o.is_null()) return out;
  if (!o.is_array()) fail(field + ".options: must be an array");
  for (size_t i = 0; i < o.size(); ++i) out.push_back(string_of(o[i], at(field + ".options", i)));
  return out;
}

bool has(const std::vector<std::string>& opts, std::string_view o) {
  for (const auto& x : opts)
    if (x == o) return true;
  return false;
}

// "ro" unless a later "rw" undoes it, as mount(8) reads options.
bool read_only(const std::vector<std::string>& opts) {
  bool ro = false;
  for (const auto& o : opts) {
    if (o == "ro") ro = true;
    if (o == "rw") ro = false;
  }
  return ro;
}

std::string normal(const std::string& p) {
  std::string s = std::filesystem::path(p).lexically_normal().string();
  while (s.size() > 1 && s.back() == '/') s.pop_back();
  return s;
}

bool under(const std::string& path, const std::string& dir) {
  return path == dir || dir == "/" || path.rfind(dir + "/", 0) == 0;
}

// The names bwrap's --cap-add knows (Linux 5.9+: up to CAP_CHECKPOINT_RESTORE).
const std::set<std::string> kCapabilities{"CAP_CHOWN",
                                          "CAP_DAC_OVERRIDE",
                                          "CAP_DAC_READ_SEARCH",
                                          "CAP_FOWNER",
                                          "CAP_FSETID",
                                          "CAP_KILL",
                                          "CAP_SETGID",
                                          "CAP_SETUID",
                                          "CAP_SETPCAP",
                                          "CAP_LINUX_IMMUTABLE",
                                          "CAP_NET_BIND_SERVICE",
                                          "CAP_NET_BROADCAST",
                                          "CAP_NET_ADMIN",
                                          "CAP_NET_RAW",
                                          "CAP_IPC_LOCK",
                                          "CAP_IPC_OWNER",
                                          "CAP_SYS_MODULE",
                                          "CAP_SYS_RAWIO",
                                          "CAP_SYS_CHROOT",
                                          "CAP_SYS_PTRACE",
                                          "CAP_SYS_PACCT",
                                          "CAP_SYS_ADMIN",
                                          "CAP_SYS_BOOT",
                                          "CAP_SYS_NICE",
                                          "CAP_SYS_RESOURCE",
                                          "CAP_SYS_TIME",
                                          "CAP_SYS_TTY_CONFIG",
                                          "CAP_MKNOD",
                                          "CAP_LEASE",
                                          "CAP_AUDIT_WRITE",
                                          "CAP_AUDIT_CONTROL",
                                          "CAP_SETFCAP",
                                          "CAP_MAC_OVERRIDE",
                                          "CAP_MAC_ADMIN",
                                          "CAP_SYSLOG",
                                          "CAP_WAKE_ALARM",
                                          "CAP_BLOCK_SUSPEND",
                                          "CAP_AUDIT_READ",
                                          "CAP_PERFMON",
                                          "CAP_BPF",
                                          "CAP_CHECKPOINT_RESTORE"};

// What the sandbox sees at a mount destination, to find a path's host side.
struct MountView {
  std::string dest;
  std::string host;  // the host directory shown there; empty when nothing on the host is
};

class Builder {
 public:
  Builder(const json& config, const ArgsOptions& opt) : config_(config), opt_(opt) {}

  Plan build() {
    const json& linux_ = member(config_, "linux");
    unsupported(linux_);
    namespaces(linux_);
    process(member(config_, "process"));
    rootfs();
    mounts();
    masked(member(linux_, "maskedPaths"));
    readonly(member(linux_, "readonlyPaths"));
    if (opt_.policy != nullptr && opt_.policy->present) policy(*opt_.policy);
    if (const json& label = member(linux_, "mountLabel"); label.is_string() && !label.empty())
      add({"--file-label", label.get<std::string>()});
    if (opt_.seccomp) add({"--seccomp", std::to_string(kSeccompFd)});
    // The start pipe and the pid report (see bwrap_launch.cpp).
    if (!opt_.autostart) add({"--block-fd", std::to_string(kBlockFd)});
    add({"--info-fd", std::to_string(kInfoFd)});
    // No TIOCSTI into the caller's terminal.
    add({"--new-session"});
    // Only a caller that stays (a foreground run) may own the sandbox's life;
    // after a detached create the runtime process exits at once.
    if (opt_.foreground) add({"--die-with-parent"});
    add({"--"});
    const json& args = member(member(config_, "process"), "args");
    if (!args.is_array() || args.empty()) fail("process.args: must be a non-empty array");
    for (size_t i = 0; i < args.size(); ++i) add({string_of(args[i], at("process.args", i))});
    return std::move(plan_);
  }

 private:
  void add(std::initializer_list<std::string> a) {
    plan_.args.insert(plan_.args.end(), a.begin(), a.end());
  }

  // Fields whose meaning bwrap cannot provide: refusing beats ignoring them.
  void unsupported(const json& linux_) {
    for (const char* key : {"sysctl", "devices", "intelRdt", "personality"}) {
      const json& v = member(linux_, key);
      if (!v.is_null() && !v.empty())
        fail(std::string("linux.") + key + ": not supported by the bubblewrap backend");
    }
    for (const char* key : {"prestart", "createRuntime", "createContainer", "startContainer"}) {
      const json& v = member(member(config_, "hooks"), key);
      if (!v.is_null() && !v.empty())
        fail(std::string("hooks.") + key + ": not supported by the bubblewrap backend");
    }
    // bwrap makes the whole tree a slave of the host's; nothing else.
    if (const json& rp = member(linux_, "rootfsPropagation");
        rp.is_string() && !rp.empty() && rp != "slave" && rp != "rslave")
      fail("linux.rootfsPropagation: \"" + rp.get<std::string>() +
           "\" cannot be enforced by the bubblewrap backend (only \"rslave\")");
    if (const json& d = member(config_, "domainname"); d.is_string() && !d.empty())
      fail("domainname: not supported by the bubblewrap backend");
  }

  void namespaces(const json& linux_) {
    const json& list = member(linux_, "namespaces");
    for (size_t i = 0; i < list.size(); ++i) {
      std::string f = at("linux.namespaces", i);
      if (!member(list[i], "path").is_null())
        fail(f + ".path: joining an existing namespace is not supported by the bubblewrap backend");
      std::string type = string_of(member(list[i], "type"), f + ".type");
      static const std::set<std::string> kKnown{"pid",   "network", "ipc",   "uts",
                                                "mount", "user",    "cgroup"};
      if (!kKnown.count(type))
        fail(f + ".type: \"" + type + "\" is not supported by the bubblewrap backend");
      ns_.insert(type);
    }
    // bwrap always makes a mount namespace (it has to, to build the root).
    if (ns_.count("pid")) add({"--unshare-pid", "--as-pid-1"});  // the process is pid 1
    if (ns_.count("ipc")) add({"--unshare-ipc"});
    if (ns_.count("uts")) add({"--unshare-uts"});
    if (ns_.count("network")) {
      // The egress proxy is served in the namespace of the pid create()
      // returns, which in a foreground run is bwrap's (the caller's child):
      // there bwrap itself must be in the sandbox's network namespace.
      // Without privilege (needing a user namespace of our own first) it is
      // not, and the proxy cannot be set up.
      const Policy* pol = opt_.policy;
      if (opt_.foreground && pol != nullptr && pol->proxy && opt_.euid == 0)
        plan_.new_netns = true;
      else
        add({"--unshare-net"});
    }
    if (ns_.count("cgroup")) add({"--unshare-cgroup"});

    const json& user = member(member(config_, "process"), "user");
    uint32_t uid = member(user, "uid").is_number_unsigned() ? user["uid"].get<uint32_t>() : 0;
    uint32_t gid = member(user, "gid").is_number_unsigned() ? user["gid"].get<uint32_t>() : 0;
    // Without privilege, only a user namespace lets bwrap mount anything.
    bool userns = ns_.count("user") || opt_.euid != 0;
    if (!userns && (uid != 0 || gid != 0)) {
      // Outside a user namespace bwrap (not setuid) cannot change ids.
      fail(std::string(uid != 0 ? "process.user.uid" : "process.user.gid") +
           ": the bubblewrap backend running as root switches ids only inside a user namespace "
           "(add {\"type\": \"user\"} to linux.namespaces)");
    }
    if (userns) {
      one_id_mapping(member(linux_, "uidMappings"), "linux.uidMappings", uid, opt_.euid);
      one_id_mapping(member(linux_, "gidMappings"), "linux.gidMappings", gid, opt_.egid);
      add({"--unshare-user", "--uid", std::to_string(uid), "--gid", std::to_string(gid)});
    } else if (!member(linux_, "uidMappings").empty() || !member(linux_, "gidMappings").empty()) {
      fail("linux.uidMappings: needs a user namespace (linux.namespaces)");
    }
    if (const json& h = member(config_, "hostname"); h.is_string() && !h.empty()) {
      if (!ns_.count("uts")) fail("hostname: needs a uts namespace (linux.namespaces)");
      add({"--hostname", h.get<std::string>()});
    }
  }

  // bwrap maps exactly one id: the caller's, to the process's.
  static void one_id_mapping(const json& m, const std::string& field, uint32_t inside,
                             uint32_t host) {
    if (m.is_null() || m.empty()) return;
    if (m.size() == 1 && member(m[0], "containerID") == inside && member(m[0], "hostID") == host &&
        member(m[0], "size") == 1)
      return;
    fail(field + ": the bubblewrap backend maps one id only: [{\"containerID\": " +
         std::to_string(inside) + ", \"hostID\": " + std::to_string(host) + ", \"size\": 1}]");
  }

  void process(const json& p) {
    if (member(p, "terminal") == true)
      fail("process.terminal: not supported by the bubblewrap backend");
    if (const json& a = member(p, "apparmorProfile"); a.is_string() && !a.empty())
      fail("process.apparmorProfile: not supported by the bubblewrap backend");
    if (const json& l = member(p, "selinuxLabel"); l.is_string() && !l.empty())
      add({"--exec-label", l.get<std::string>()});
    add({"--clearenv"});
    const json& env = member(p, "env");
    for (size_t i = 0; i < env.size(); ++i) {
      std::string e = string_of(env[i], at("process.env", i));
      auto eq = e.find('=');
      if (eq == std::string::npos || eq == 0) fail(at("process.env", i) + ": expected NAME=VALUE");
      add({"--setenv", e.substr(0, eq), e.substr(eq + 1)});
    }
    if (const json& cwd = member(p, "cwd"); !cwd.is_null())
      add({"--chdir", string_of(cwd, "process.cwd")});
    // One capability set in bwrap: the bounding set stands for all of them.
    // Outside a user namespace only root holds any to keep.
    add({"--cap-drop", "ALL"});
    const json& bounding = member(member(p, "capabilities"), "bounding");
    for (size_t i = 0; i < bounding.size(); ++i) {
      std::string f = at("process.capabilities.bounding", i);
      std::string cap = string_of(bounding[i], f);
      if (!kCapabilities.count(cap)) fail(f + ": unknown capability \"" + cap + "\"");
      add({"--cap-add", cap});
    }
    const json& user = member(p, "user");
    const json& extra = member(user, "additionalGids");
    for (size_t i = 0; i < extra.size(); ++i) {
      // bwrap sets no supplementary groups (none can be, in a user namespace).
      if (extra[i] != member(user, "gid"))
        fail(at("process.user.additionalGids", i) +
             ": supplementary groups cannot be set by the bubblewrap backend");
    }
    if (!member(p, "scheduler").is_null())
      fail("process.scheduler: not supported by the bubblewrap backend");
    io_priority(member(p, "ioPriority"));
    rlimits(member(p, "rlimits"));
    if (const json& o = member(p, "oomScoreAdj"); o.is_number_integer())
      plan_.inherited.oom_score_adj = o.get<int>();
    if (const json& u = member(member(p, "user"), "umask"); u.is_number_unsigned())
      plan_.inherited.umask = static_cast<mode_t>(u.get<uint32_t>() & 0777);
  }

  // Set on the process that execs bwrap, and inherited from there.
  void io_priority(const json& io) {
    if (io.is_null()) return;
    static const std::map<std::string, int> kClasses{
        {"IOPRIO_CLASS_RT", 1}, {"IOPRIO_CLASS_BE", 2}, {"IOPRIO_CLASS_IDLE", 3}};
    auto it = kClasses.find(string_of(member(io, "class"), "process.ioPriority.class"));
    if (it == kClasses.end()) fail("process.ioPriority.class: unknown class");
    const json& prio = member(io, "priority");
    int level = prio.is_null() ? 0 : prio.is_number_integer() ? prio.get<int>() : -1;
    if (level < 0 || level > 7) fail("process.ioPriority.priority: must be 0..7");
    plan_.inherited.io_priority = (it->second << 13) | level;  // IOPRIO_PRIO_VALUE
  }

  void rlimits(const json& list) {
    static const std::map<std::string, int> kLimits{{"RLIMIT_AS", RLIMIT_AS},
                                                    {"RLIMIT_CORE", RLIMIT_CORE},
                                                    {"RLIMIT_CPU", RLIMIT_CPU},
                                                    {"RLIMIT_DATA", RLIMIT_DATA},
                                                    {"RLIMIT_FSIZE", RLIMIT_FSIZE},
                                                    {"RLIMIT_LOCKS", RLIMIT_LOCKS},
                                                    {"RLIMIT_MEMLOCK", RLIMIT_MEMLOCK},
                                                    {"RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE},
                                                    {"RLIMIT_NICE", RLIMIT_NICE},
                                                    {"RLIMIT_NOFILE", RLIMIT_NOFILE},
                                                    {"RLIMIT_NPROC", RLIMIT_NPROC},
                                                    {"RLIMIT_RSS", RLIMIT_RSS},
                                                    {"RLIMIT_RTPRIO", RLIMIT_RTPRIO},
                                                    {"RLIMIT_RTTIME", RLIMIT_RTTIME},
                                                    {"RLIMIT_SIGPENDING", RLIMIT_SIGPENDING},
                                                    {"RLIMIT_STACK", RLIMIT_STACK}};
    for (size_t i = 0; i < list.size(); ++i) {
      std::string f = at("process.rlimits", i);
      auto it = kLimits.find(string_of(member(list[i], "type"), f + ".type"));
      if (it == kLimits.end()) fail(f + ".type: unknown limit");
      rlimit r{member(list[i], "soft").get<rlim_t>(), member(list[i], "hard").get<rlim_t>()};
      plan_.inherited.rlimits.emplace_back(it->second, r);
    }
  }

  // The agent policy: see bwrap_policy.hpp.
  void policy(const Policy& pol) {
    check_desktop_mounts(mount_info_);
    // Abstract unix sockets are per network namespace; Landlock scopes them
    // in any (ABI 6).
    if (opt_.landlock_abi >= 6) {
      plan_.scope_abstract_unix = true;
    } else if (!ns_.count("network")) {
      fail(
          "policy: desktop.display: the bubblewrap backend keeps the host's abstract unix "
          "sockets (X11, D-Bus) out of reach with a network namespace or Landlock ABI 6, and "
          "this kernel has Landlock ABI " +
          std::to_string(opt_.landlock_abi) + ": add {\"type\": \"network\"} to linux.namespaces");
    }
    // mxc-shim (the caller's user) cannot setns into a network namespace
    // owned by bwrap's user namespace: say so rather than let it fail later.
    if (pol.proxy && opt_.euid != 0)
      fail(
          "policy: network.allowDomains: the bubblewrap backend without root cannot have the "
          "egress proxy served inside the sandbox's network namespace (run as root, or use "
          "network.default deny without allowDomains)");
    if (pol.network_default == "deny" && !ns_.count("network"))
      fail("policy: network.default: deny needs a network namespace (linux.namespaces)");
    if (!pol.filesystem) return;
    // The sandbox must not be able to undo the policy's mounts.
    for (const auto& cap : member(member(member(config_, "process"), "capabilities"), "bounding")) {
      if (cap == "CAP_SYS_ADMIN")
        fail(
            "process.capabilities.bounding: CAP_SYS_ADMIN would let the container unmount what "
            "the agent policy's filesystem rules hide (backend bubblewrap)");
    }
    char buf[PATH_MAX];
    std::string root = ::realpath(root_.c_str(), buf) != nullptr ? std::string(buf) : root_;
    PolicyMounts pm = plan_policy_mounts(*pol.filesystem, root, mount_info_, opt_.tmpfs_options);
    // From the back, so that the earlier positions stay valid.
    for (size_t k = pm.after.size(); k-- > 0;) {
      plan_.args.insert(plan_.args.begin() + static_cast<std::ptrdiff_t>(positions_[k]),
                        pm.after[k].begin(), pm.after[k].end());
    }
    plan_.args.insert(plan_.args.end(), pm.last.begin(), pm.last.end());
  }

  void rootfs() {
    const json& root = member(config_, "root");
    root_ = normal(string_of(member(root, "path"), "root.path"));
    add({member(root, "readonly") == true ? "--ro-bind" : "--bind", root_, "/"});
  }

  void mounts() {
    const json& list = member(config_, "mounts");
    bool dev = false;                         // a --dev /dev provides /dev/pts too
    positions_.push_back(plan_.args.size());  // after the root
    for (size_t i = 0; i < list.size(); ++i) {
      if (i > 0) positions_.push_back(plan_.args.size());  // after mounts[i - 1]
      std::string f = at("mounts", i);
      const json& m = list[i];
      std::string dest = normal(string_of(member(m, "destination"), f + ".destination"));
      if (dest.empty() || dest[0] != '/') fail(f + ".destination: must be an absolute path");
      mount_info_.push_back({dest, "", "", false});
      auto opts = options_of(m, f);
      const json& jtype = member(m, "type");
      std::string type = jtype.is_null() ? "" : string_of(jtype, f + ".type");
      bool ro = read_only(opts);
      bool bind = type == "bind" || has(opts, "bind") || has(opts, "rbind");
      check_options(bind             ? Kind::kBind
                    : type == "proc" ? Kind::kProc
                    : type == "devtmpfs" || type == "dev" || (type == "tmpfs" && dest == "/dev")
                        ? Kind::kDev
                    : type == "devpts" ? Kind::kDevpts
                    : type == "tmpfs"  ? Kind::kTmpfs
                    : type == "mqueue" ? Kind::kMqueue
                    : type == "sysfs"  ? Kind::kSysfs
                                       : Kind::kOther,
                    dest, opts, f);
      if (bind) {
        std::filesystem::path src = string_of(member(m, "source"), f + ".source");
        if (src.is_relative()) src = std::filesystem::path(opt_.bundle) / src;
        struct stat sb {};
        if (::stat(src.c_str(), &sb) != 0) fail_errno(f + ".source: " + src.string());
        // bwrap binds recursively, always nosuid and nodev.
        add({ro ? "--ro-bind" : "--bind", src.string(), dest});
        char real[PATH_MAX];
        mount_info_.back() = {dest, src.string(),
                              ::realpath(src.c_str(), real) != nullptr ? real : normal(src), true};
        views_.push_back({dest, normal(src.string())});
        continue;
      }
      if (type == "proc") {
        add({"--proc", dest});
        views_.push_back({dest, "/proc"});  // the same kernel files, for masking
      } else if (type == "devtmpfs" || type == "dev" || (type == "tmpfs" && dest == "/dev")) {
        // A minimal /dev: null, zero, full, random, urandom, tty, pts, shm.
        add({"--dev", dest});
        views_.push_back({dest, ""});
        dev = dev || dest == "/dev";
      } else if (type == "devpts" && dev && dest == "/dev/pts") {
        continue;  // --dev mounted a private devpts there already
      } else if (type == "tmpfs") {
        tmpfs_options(opts, f);
        add({"--tmpfs", dest});
        views_.push_back({dest, ""});
      } else if (type == "mqueue") {
        add({"--mqueue", dest});
        views_.push_back({dest, ""});
      } else if (type == "sysfs") {
        // bwrap cannot mount sysfs; the host's, read-only, is what it offers,
        // which answers only a request for a read-only one.
        if (!ro)
          fail(f +
               ".options: a writable sysfs cannot be provided by the bubblewrap backend (it "
               "binds the host's /sys read-only: add \"ro\")");
        add({"--ro-bind", "/sys", dest});
        views_.push_back({dest, "/sys"});
        continue;
      } else {
        fail(f + ".type: \"" + type + "\" is not supported by the bubblewrap backend");
      }
      if (ro) add({"--remount-ro", dest});
    }
    if (!list.empty()) positions_.push_back(plan_.args.size());  // after the last mount
  }

  enum class Kind { kBind, kProc, kDev, kDevpts, kTmpfs, kMqueue, kSysfs, kOther };

  // Every mount option is honoured, satisfied by what bwrap does anyway, or
  // refused: none is dropped. What bwrap 0.8 itself applies (strace of its
  // mount calls): proc nosuid,nodev,noexec; --dev a tmpfs nosuid,nodev
  // mode=0755 with devpts nosuid,noexec newinstance,ptmxmode=0666,mode=620;
  // --tmpfs nosuid,nodev; binds (recursive) remounted nosuid,nodev; mqueue no
  // flags; and every mount rslave (it makes / MS_REC|MS_SLAVE first).
  void check_options(Kind kind, const std::string& dest, const std::vector<std::string>& opts,
                     const std::string& f) {
    auto refuse = [&](const std::string& o) {
      fail(f + ".options: \"" + o + "\" cannot be enforced by the bubblewrap backend");
    };
    for (const auto& o : opts) {
      if (o == "ro" || o == "rw") continue;  // --ro-bind, --remount-ro
      // Access times do not weaken anything; bwrap keeps its defaults.
      if (o == "strictatime" || o == "relatime" || o == "noatime" || o == "nodiratime") continue;
      // bwrap makes every mount a slave of the host's.
      if (o == "slave" || o == "rslave") continue;
      if (kind == Kind::kBind && (o == "bind" || o == "rbind"))
        continue;  // bwrap binds with MS_REC
      // bwrap mounts all of these nosuid,nodev itself; mqueue (no flags) and
      // devpts (nosuid only) hold neither set-id programs nor device nodes
      // that the options would stop.
      if (o == "nosuid" || o == "nodev") {
        if (kind != Kind::kOther) continue;
        refuse(o);
      }
      if (o == "noexec") {
        // Applied by bwrap to proc and devpts; mqueue and sysfs (a read-only
        // bind) hold nothing executable.
        if (kind == Kind::kProc || kind == Kind::kDevpts || kind == Kind::kMqueue ||
            kind == Kind::kSysfs)
          continue;
        // Not enforced: bwrap's tmpfs is exec. Accepted on /dev/shm only,
        // because `runc spec` asks for it there and refusing would refuse
        // the default config; anywhere else it is refused.
        if (kind == Kind::kTmpfs && dest == "/dev/shm") continue;
        refuse(o);
      }
      if (o == "exec" && (kind == Kind::kBind || kind == Kind::kTmpfs || kind == Kind::kDev))
        continue;  // bwrap's default there
      if (kind == Kind::kTmpfs && (o.rfind("mode=", 0) == 0 || o.rfind("size=", 0) == 0))
        continue;  // tmpfs_options
      if (kind == Kind::kDev) {
        // bwrap's --dev is mode 0755; its size is not limited: a size is
        // accepted (the default config's 65536k) as the memory cgroup bounds
        // a tmpfs anyway.
        if (o == "mode=755" || o == "mode=0755" || o.rfind("size=", 0) == 0) continue;
      }
      if (kind == Kind::kDevpts) {
        // What bwrap's devpts has, but gid=5 (the tty group): accepted, as
        // the default config asks for it; ptys then belong to the process's
        // group instead.
        if (o == "newinstance" || o == "ptmxmode=0666" || o == "mode=620" || o == "mode=0620" ||
            o == "gid=5")
          continue;
      }
      refuse(o);
    }
  }

  void tmpfs_options(const std::vector<std::string>& opts, const std::string& f) {
    if (!opt_.tmpfs_options) {
      // An old bwrap: only its defaults.
      for (const auto& o : opts) {
        if (o.rfind("mode=", 0) == 0 || o.rfind("size=", 0) == 0)
          fail(f + ".options: \"" + o + "\" needs bwrap 0.5.0 or later (--size, --perms)");
      }
      return;
    }
    for (const auto& o : opts) {
      if (o.rfind("mode=", 0) == 0) {
        std::string mode = o.substr(5);
        if (mode.empty() || mode.find_first_not_of("01234567") != std::string::npos)
          fail(f + ".options: \"" + o + "\": mode must be octal");
        add({"--perms", mode});
      } else if (o.rfind("size=", 0) == 0) {
        std::string v = o.substr(5);
        char* end = nullptr;
        unsigned long long n = std::strtoull(v.c_str(), &end, 10);
        if (end == v.c_str()) fail(f + ".options: \"" + o + "\": size must be a number");
        std::string suffix = end;
        if (suffix == "%")
          fail(f + ".options: \"" + o +
               "\" cannot be enforced by the bubblewrap backend (bwrap takes a size in bytes)");
        if (suffix == "k" || suffix == "K")
          n <<= 10;
        else if (suffix == "m" || suffix == "M")
          n <<= 20;
        else if (suffix == "g" || suffix == "G")
          n <<= 30;
        else if (!suffix.empty())
          fail(f + ".options: \"" + o + "\": unknown size suffix");
        add({"--size", std::to_string(n)});
      }
    }
  }

  // The host path behind a sandbox path, to learn whether it exists and is a
  // directory; empty when it lives on a fresh filesystem (tmpfs, dev, mqueue).
  std::string host_path(const std::string& path) const {
    const MountView* best = nullptr;
    for (const auto& v : views_) {
      if (under(path, v.dest) && (best == nullptr || v.dest.size() >= best->dest.size())) best = &v;
    }
    if (best == nullptr) return root_ + path;
    if (best->host.empty()) return {};
    return best->host + path.substr(best->dest == "/" ? 0 : best->dest.size());
  }

  bool is_mount_point(const std::string& path) const {
    if (path == "/") return true;
    for (const auto& v : views_)
      if (v.dest == path) return true;
    return false;
  }

  void masked(const json& list) {
    for (size_t i = 0; i < list.size(); ++i) {
      std::string p = normal(string_of(list[i], at("linux.maskedPaths", i)));
      std::string host = host_path(p);
      struct stat sb {};
      // Like runc: a path that is not there needs no mask.
      if (host.empty() || ::stat(host.c_str(), &sb) != 0) continue;
      if (S_ISDIR(sb.st_mode)) {
        add({"--tmpfs", p, "--remount-ro", p});
      } else {
        // A device bind: bwrap's plain binds are nodev, and /dev/null must open.
        add({"--dev-bind-try", "/dev/null", p});
      }
    }
  }

  void readonly(const json& list) {
    for (size_t i = 0; i < list.size(); ++i) {
      std::string p = normal(string_of(list[i], at("linux.readonlyPaths", i)));
      if (is_mount_point(p)) {
        add({"--remount-ro", p});
        continue;
      }
      // --remount-ro needs a mount point: bind the path onto itself, read-only.
      std::string host = host_path(p);
      if (!host.empty()) add({"--ro-bind-try", host, p});
    }
  }

  const json& config_;
  const ArgsOptions& opt_;
  Plan plan_;
  std::set<std::string> ns_;
  std::string root_;
  std::vector<MountView> views_;
  std::vector<MountInfo> mount_info_;  // config.json's mounts, for the policy
  std::vector<size_t> positions_;      // in plan_.args: after the root, after each mount
};

}  // namespace

Plan plan_bwrap(const nlohmann::json& config, const ArgsOptions& opt) {
  return Builder(config, opt).build();
}

bool wants_tmpfs_options(const nlohmann::json& config) {
  const json& list = member(config, "mounts");
  for (const auto& m : list) {
    if (member(m, "type") != "tmpfs" || member(m, "destination") == "/dev") continue;
    for (const auto& o : member(m, "options")) {
      if (!o.is_string()) continue;
      auto s = o.get<std::string>();
      if (s.rfind("size=", 0) == 0 || s.rfind("mode=", 0) == 0) return true;
    }
  }
  return false;
}

}  // namespace mxc::bwrap
