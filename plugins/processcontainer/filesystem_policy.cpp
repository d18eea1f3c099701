#include "filesystem_policy.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <climits>
#include <cstdlib>
#include <map>

#include <nlohmann/json.hpp>

#include "mxc/sys/mounts.hpp"

namespace mxc::processcontainer {

namespace {

constexpr const char* kBackend = "backend processcontainer";

// ---- paths ----

bool is_under(const std::string& p, const std::string& base) {
  if (base == "/") return true;
  return p == base ||
         (p.size() > base.size() && p.compare(0, base.size(), base) == 0 && p[base.size()] == '/');
}

// p relative to base, "" or starting with "/" (is_under(p, base) holds).
std::string relative(const std::string& p, const std::string& base) {
  return base == "/" ? (p == "/" ? "" : p) : p.substr(base.size());
}

std::string join(const std::string& dir, const std::string& rel) {
  if (rel.empty()) return dir;
  return dir == "/" ? rel : dir + rel;
}

std::string parent_of(const std::string& p) {
  auto slash = p.rfind('/');
  return slash == 0 || slash == std::string::npos ? "/" : p.substr(0, slash);
}

bool exists_on_host(const std::string& p) {
  struct stat sb {};
  return ::lstat(p.c_str(), &sb) == 0;
}

std::string real_or_self(const std::string& p) {
  char buf[PATH_MAX];
  return ::realpath(p.c_str(), buf) != nullptr ? std::string(buf) : p;
}

bool is_bind(const spec::Mount& m) {
  if (m.type.value_or("") == "bind") return true;
  return std::any_of(m.options.begin(), m.options.end(),
                     [](const std::string& o) { return o == "bind" || o == "rbind"; });
}

// ---- parsing ----

Result<std::vector<std::string>> path_list(const nlohmann::json& v, const std::string& field) {
  if (!v.is_array()) return make_error("policy: " + field + ": must be an array of paths");
  std::vector<std::string> out;
  for (size_t i = 0; i < v.size(); ++i) {
    std::string at = field + "[" + std::to_string(i) + "]";
    if (!v[i].is_string()) return make_error("policy: " + at + ": must be a string");
    auto p = v[i].get<std::string>();
    if (p.empty() || p.front() != '/') return make_error("policy: " + at + ": must be absolute");
    if (p.find('\0') != std::string::npos) return make_error("policy: " + at + ": contains NUL");
    if (p.size() > 1 && p.back() == '/') p.pop_back();
    out.push_back(std::move(p));
  }
  return out;
}

Error refuse(const std::string& field) {
  return make_error("policy: " + field + ": not enforced by " + kBackend);
}

// ---- desktop ----

// Where hosts keep display, session bus and audio sockets (Wayland and
// PipeWire live in /run/user/<uid>).
constexpr const char* kDesktopDirs[] = {"/tmp/.X11-unix", "/tmp/.ICE-unix", "/run/user",
                                        "/var/run/user",  "/run/dbus",      "/var/run/dbus",
                                        "/run/pulse",     "/var/run/pulse", "/run/pipewire"};

bool is_desktop_socket_name(const std::string& p) {
  auto base = p.substr(p.rfind('/') + 1);
  return base.rfind("wayland-", 0) == 0 || base.rfind("pipewire-", 0) == 0 ||
         p.find("/pulse/native") != std::string::npos || base == "bus";
}

// ---- the rule tree, in canonical container paths ----

enum class Level { None, Rw, Ro, Deny };  // for one path: Deny beats Ro beats Rw

struct Node {
  Level level = Level::None;
  bool policy = false;      // from the policy (beats the bundle's baseline)
  std::string host;         // the host path whose content the node shows
  std::string rule;         // the policy path that made it (most specific wins)
  bool needs_bind = false;  // an allowed host path not otherwise visible
  bool covered = false;     // a cover was mounted on it
  bool concealed = false;   // under a cover of an ancestor
  [[nodiscard]] bool hidden() const { return level == Level::None || level == Level::Deny; }
};

class Planner {
 public:
  Planner(int root_fd, std::string rootfs, uint64_t all)
      : root_fd_(root_fd), rootfs_(std::move(rootfs)), all_(all) {}

  // The canonical container path of `cpath` (symlinks resolved inside the
  // root); a missing tail is kept as written.
  Result<std::string> canonical(const std::string& cpath) const {
    auto fd = sys::open_in_root(root_fd_, cpath, false, false);
    if (!fd) {
      if (fd.error().sys_errno != ENOENT || cpath == "/") return fd.error();
      auto parent = canonical(parent_of(cpath));
      if (!parent) return parent.error();
      return join(*parent, cpath.substr(cpath.rfind('/')));
    }
    char buf[PATH_MAX];
    ssize_t n = ::readlink(sys::fd_path(fd->get()).c_str(), buf, sizeof buf - 1);
    if (n < 0) return sys_error("readlink " + cpath);
    std::string host(buf, static_cast<size_t>(n));
    if (!is_under(host, rootfs_))
      return make_error(cpath + ": resolves outside the container root");
    std::string rel = relative(host, rootfs_);
    return rel.empty() ? std::string("/") : rel;
  }

  void add_baseline(const std::string& cpath, Level level, const std::string& host) {
    auto& n = nodes_[cpath];
    if (n.policy) return;
    n = Node{level, false, host, "", false};
  }

  void add_policy(const std::string& cpath, Level level, const std::string& host,
                  const std::string& rule, bool bind) {
    auto it = nodes_.find(cpath);
    if (it != nodes_.end() && it->second.policy) {
      const Node& old = it->second;
      bool old_deeper = old.rule != rule && is_under(old.rule, rule);
      bool new_deeper = old.rule != rule && is_under(rule, old.rule);
      if (old_deeper || (!new_deeper && old.level >= level)) return;
      bind = bind || old.needs_bind;
    }
    nodes_[cpath] = Node{level, true, host, rule, bind};
  }

  Status mount_all() {
    std::vector<sys::UniqueFd> covers;
    for (auto& [cpath, n] : nodes_) {
      const Node* anc = nearest_ancestor(cpath);
      n.concealed = anc != nullptr && anc->hidden() && (anc->covered || anc->concealed);
      if (n.hidden()) {
        if (n.concealed) continue;
        auto fd = sys::open_in_root(root_fd_, cpath, false, false);
        if (!fd) continue;  // nothing there to hide; Landlock keeps it from being made
        MXC_TRY(cover(cpath, fd->get(), covers));
        n.covered = true;
        continue;
      }
      if (n.needs_bind || n.concealed) {
        if (!exists_on_host(n.host)) {
          if (n.needs_bind) return sys_error("policy: filesystem: " + n.host);
          continue;
        }
        MXC_TRY(bind(n.host, cpath, n.level == Level::Ro));
      } else if (n.policy && n.level == Level::Ro) {
        MXC_TRY(self_bind(cpath, true));
      } else if (n.policy && n.level == Level::Rw && has_ro_ancestor(cpath)) {
        MXC_TRY(self_bind(cpath, false));
      }
    }
    for (auto& fd : covers) {
      auto st = sys::remount_bind(fd.get(), MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC);
      if (!st) return st.error().context("policy: filesystem: hide");
    }
    return {};
  }

  Status realize(LandlockPlan& plan) { return realize(plan, "/", access(nodes_.at("/"))); }

 private:
  uint64_t access(const Node& n) const {
    switch (n.level) {
      case Level::Rw:
        return all_;
      case Level::Ro:
        return sys::landlock::kReadAccess;
      default:
        return 0;
    }
  }

  const Node* nearest_ancestor(const std::string& cpath) const {
    std::string p = cpath;
    while (p != "/") {
      p = parent_of(p);
      if (auto it = nodes_.find(p); it != nodes_.end()) return &it->second;
    }
    return nullptr;
  }

  bool has_ro_ancestor(const std::string& cpath) const {
    std::string p = cpath;
    while (p != "/") {
      p = parent_of(p);
      if (auto it = nodes_.find(p); it != nodes_.end() && it->second.policy)
        return it->second.level == Level::Ro;
    }
    return false;
  }

  // The nodes strictly beneath `cpath`.
  std::vector<std::string> below(const std::string& cpath) const {
    std::string prefix = cpath == "/" ? "/" : cpath + "/";
    std::vector<std::string> out;
    for (auto it = nodes_.lower_bound(prefix);
         it != nodes_.end() && it->first.compare(0, prefix.size(), prefix) == 0; ++it) {
      if (it->first != cpath) out.push_back(it->first);
    }
    return out;
  }

  bool has_allowed_below(const std::string& cpath) const {
    auto b = below(cpath);
    return std::any_of(b.begin(), b.end(), [&](const auto& p) { return !nodes_.at(p).hidden(); });
  }

  // An empty read-only tmpfs (mode 000; 0111 when allowed paths lie beneath,
  // so they can be reached) over a directory, /dev/null over anything else.
  Status cover(const std::string& cpath, int fd, std::vector<sys::UniqueFd>& covers) {
    struct stat sb {};
    if (::fstat(fd, &sb) != 0) return sys_error("policy: filesystem: stat " + cpath);
    std::string target = sys::fd_path(fd);
    int rc = S_ISDIR(sb.st_mode)
                 ? ::mount("tmpfs", target.c_str(), "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
                           has_allowed_below(cpath) ? "mode=0111,size=16k" : "mode=000,size=16k")
                 : ::mount("/dev/null", target.c_str(), "", MS_BIND, nullptr);
    if (rc != 0) return sys_error("policy: filesystem: hide " + cpath);
    auto mounted = sys::open_in_root(root_fd_, cpath, false, false);
    if (!mounted) return mounted.error().context("policy: filesystem");
    covers.push_back(std::move(*mounted));
    return {};
  }

  Status bind(const std::string& host, const std::string& cpath, bool ro) {
    struct stat sb {};
    if (::stat(host.c_str(), &sb) != 0) return sys_error("policy: filesystem: " + host);
    auto target = sys::open_in_root(root_fd_, cpath, true, !S_ISDIR(sb.st_mode));
    if (!target) return target.error().context("policy: filesystem");
    if (::mount(host.c_str(), sys::fd_path(target->get()).c_str(), "", MS_BIND | MS_REC, nullptr) !=
        0) {
      return sys_error("policy: filesystem: bind " + host + " on " + cpath);
    }
    if (!ro) return {};
    auto mounted = sys::open_in_root(root_fd_, cpath, false, false);
    if (!mounted) return mounted.error().context("policy: filesystem");
    auto st = sys::remount_bind(mounted->get(), MS_RDONLY);
    if (!st) return st.error().context("policy: filesystem: " + cpath);
    return {};
  }

  // The container's own view of `cpath` bound over itself, read-only or not
  // (the root is already a bind mount of its own).
  Status self_bind(const std::string& cpath, bool ro) {
    if (cpath != "/") {
      auto fd = sys::open_in_root(root_fd_, cpath, false, false);
      if (!fd) return {};  // missing: nothing to protect
      std::string p = sys::fd_path(fd->get());
      if (::mount(p.c_str(), p.c_str(), "", MS_BIND | MS_REC, nullptr) != 0)
        return sys_error("policy: filesystem: bind " + cpath);
    }
    auto mounted = sys::open_in_root(root_fd_, cpath, false, false);
    if (!mounted) return mounted.error().context("policy: filesystem");
    if (!ro) return {};
    auto st = sys::remount_bind(mounted->get(), MS_RDONLY);
    if (!st) return st.error().context("policy: filesystem: " + cpath);
    return {};
  }

  // Grants `acc` to `cpath` and everything beneath it, except the nodes
  // beneath, which get their own. See the header for the split.
  Status realize(LandlockPlan& plan, const std::string& cpath, uint64_t acc) {
    auto nodes = below(cpath);
    // Read-only paths inside need no split: their mounts are read-only, and
    // a restricted task cannot remount them. Hidden ones do: their covers
    // must not be readable (nor a hard link's source, nor their parent).
    bool split = acc != 0 && std::any_of(nodes.begin(), nodes.end(),
                                         [&](const auto& p) { return nodes_.at(p).hidden(); });
    if (!split) {
      if (acc != 0) plan.rules.emplace_back(cpath, acc);
      for (const auto& p : nodes) {
        if (!between(cpath, p)) MXC_TRY(realize(plan, p, access(nodes_.at(p))));
      }
      return {};
    }
    if (acc & sys::landlock::kReadDir) plan.rules.emplace_back(cpath, sys::landlock::kReadDir);
    auto dirfd = sys::open_in_root(root_fd_, cpath, false, false);
    if (!dirfd) return {};
    sys::UniqueFd dfd(::openat(dirfd->get(), ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!dfd) return {};  // not a directory: nothing beneath
    DIR* dir = ::fdopendir(dfd.release());
    if (dir == nullptr) return sys_error("policy: filesystem: list " + cpath);
    std::vector<std::string> names;
    while (auto* e = ::readdir(dir)) {
      std::string name = e->d_name;
      if (name == "." || name == "..") continue;
      struct stat sb {};
      if (::fstatat(::dirfd(dir), name.c_str(), &sb, AT_SYMLINK_NOFOLLOW) == 0 &&
          S_ISLNK(sb.st_mode)) {
        continue;  // checked where it leads
      }
      names.push_back(std::move(name));
    }
    ::closedir(dir);
    std::sort(names.begin(), names.end());
    for (const auto& name : names) {
      std::string child = join(cpath, "/" + name);
      if (auto it = nodes_.find(child); it != nodes_.end()) {
        MXC_TRY(realize(plan, child, access(it->second)));
      } else {
        MXC_TRY(realize(plan, child, acc));
      }
    }
    return {};
  }

  // Whether a node lies strictly between `top` and `p`.
  bool between(const std::string& top, const std::string& p) const {
    std::string q = parent_of(p);
    while (q != top && q != "/") {
      if (nodes_.count(q)) return true;
      q = parent_of(q);
    }
    return false;
  }

  int root_fd_;
  std::string rootfs_;
  uint64_t all_;
  std::map<std::string, Node> nodes_;
};

}  // namespace

Result<BackendPolicy> parse_backend_policy(const std::string& policy_json) {
  auto doc = nlohmann::json::parse(policy_json, nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) return make_error("policy: must be a JSON object");
  BackendPolicy out;
  out.present = !doc.empty();
  for (const auto& [area, value] : doc.items()) {
    if (area == "agent") continue;  // identity: recorded by the runtime, nothing to enforce here
    if (area == "filesystem") {
      if (!value.is_object()) return make_error("policy: filesystem: must be an object");
      FilesystemRules fs;
      for (const auto& [field, v] : value.items()) {
        std::vector<std::string>* list = field == "allowRead"    ? &fs.allow_read
                                         : field == "allowWrite" ? &fs.allow_write
                                         : field == "denyRead"   ? &fs.deny_read
                                                                 : nullptr;
        if (list == nullptr) return refuse("filesystem." + field);
        auto paths = path_list(v, "filesystem." + field);
        if (!paths) return paths.error();
        *list = std::move(*paths);
      }
      out.filesystem = std::move(fs);
      continue;
    }
    if (area == "network") {
      if (!value.is_object()) return make_error("policy: network: must be an object");
      for (const auto& [field, v] : value.items()) {
        if (field == "default") {
          if (!v.is_string() || (v != "deny" && v != "allow"))
            return make_error("policy: network.default: must be \"deny\" or \"allow\"");
          out.network_default = v.get<std::string>();
        } else if (field != "proxy" && field != "egress") {
          // proxy: served by mxc-shim outside the container; egress: enforced by
          // the runtime's cgroup BPF program on the container's cgroup.
          return refuse("network." + field);
        }
      }
      continue;
    }
    if (area == "desktop") {
      if (!value.is_object()) return make_error("policy: desktop: must be an object");
      for (const auto& [field, v] : value.items()) {
        if (field != "shareClipboard" && field != "shareInput") return refuse("desktop." + field);
        if (!v.is_boolean()) return make_error("policy: desktop." + field + ": must be a boolean");
        if (v.get<bool>()) {
          return make_error("policy: desktop." + field + ": sharing needs the session tier; " +
                            kBackend + " (process tier) gives the container no desktop");
        }
      }
      continue;
    }
    return refuse(area);
  }
  return out;
}

Status check_desktop_mounts(const spec::Config& config) {
  for (size_t i = 0; i < config.mounts.size(); ++i) {
    const auto& m = config.mounts[i];
    if (!is_bind(m) || !m.source) continue;
    std::string what = "mounts[" + std::to_string(i) + "]";
    std::string src = real_or_self(*m.source);
    std::string tail = std::string(
        ": the agent policy gives the container no host display, session bus or audio socket "
        "(backend processcontainer)");
    for (const char* d : kDesktopDirs) {
      if (is_under(src, d) || is_under(*m.source, d))
        return make_error(what + ": source " + *m.source + tail);
      if (is_under(d, src) && exists_on_host(d))
        return make_error(what + ": source " + *m.source + " contains " + d + tail);
      if (is_under(m.destination, d))
        return make_error(what + ": destination " + m.destination + tail);
    }
    if (is_desktop_socket_name(src)) return make_error(what + ": source " + *m.source + tail);
  }
  return {};
}

std::string to_json(const LandlockPlan& plan) {
  nlohmann::json rules = nlohmann::json::array();
  for (const auto& [path, access] : plan.rules)
    rules.push_back({{"path", path}, {"access", access}});
  return nlohmann::json{{"handledFs", plan.handled_fs}, {"scoped", plan.scoped}, {"rules", rules}}
      .dump();
}

Result<LandlockPlan> landlock_plan_from_json(const std::string& text) {
  auto doc = nlohmann::json::parse(text, nullptr, false);
  try {
    LandlockPlan plan;
    plan.handled_fs = doc.at("handledFs").get<uint64_t>();
    plan.scoped = doc.at("scoped").get<uint64_t>();
    for (const auto& r : doc.at("rules")) {
      plan.rules.emplace_back(r.at("path").get<std::string>(), r.at("access").get<uint64_t>());
    }
    return plan;
  } catch (const nlohmann::json::exception&) {
    return make_error("landlock plan: malformed");
  }
}

Result<LandlockPlan> base_landlock_plan(const BackendPolicy& policy) {
  LandlockPlan plan;
  if (!policy.present) return plan;
  int abi = sys::landlock_abi();
  if (policy.filesystem) {
    if (abi == 0) {
      return make_error("policy: filesystem: " + std::string(kBackend) +
                        " enforces file rules with Landlock, which this kernel does not provide");
    }
    plan.handled_fs = sys::landlock_fs_access_for_abi(abi);
  }
  if (abi < 6) {
    return make_error("policy: desktop: " + std::string(kBackend) +
                      " scopes abstract unix sockets with Landlock ABI 6, this kernel has ABI " +
                      std::to_string(abi));
  }
  plan.scoped = sys::landlock::kScopeAbstractUnixSocket;
  return plan;
}

Status apply_filesystem_policy(int root_fd, const std::string& rootfs, const spec::Config& config,
                               const FilesystemRules& rules, LandlockPlan& plan) {
  std::string root_real = real_or_self(rootfs);
  Planner planner(root_fd, root_real, plan.handled_fs);
  bool allowlist = !rules.allow_read.empty() || !rules.allow_write.empty();

  // The bundle's own view: its root and its own mounts keep working; its bind
  // mounts of host paths too unless allow lists say what of the host is shown.
  struct HostBind {
    std::string source, dest;
    bool from_policy = false;  // an allowed path bound at its own path
  };
  std::vector<HostBind> binds;
  planner.add_baseline("/", Level::Rw, root_real);
  for (const auto& m : config.mounts) {
    auto dest = planner.canonical(m.destination);
    if (!dest) return dest.error().context("mounts: " + m.destination);
    if (is_bind(m) && m.source) {
      std::string src = real_or_self(*m.source);
      binds.push_back({src, *dest});
      planner.add_baseline(*dest, allowlist ? Level::None : Level::Rw, src);
    } else {
      planner.add_baseline(*dest, Level::Rw, "");
    }
  }

  const std::pair<const std::vector<std::string>*, Level> lists[] = {
      {&rules.allow_write, Level::Rw},
      {&rules.allow_read, Level::Ro},
      {&rules.deny_read, Level::Deny}};
  for (const auto& [list, level] : lists) {
    const char* field = level == Level::Rw   ? "filesystem.allowWrite"
                        : level == Level::Ro ? "filesystem.allowRead"
                                             : "filesystem.denyRead";
    for (size_t i = 0; i < list->size(); ++i) {
      const std::string& p = (*list)[i];
      std::string at = std::string("policy: ") + field + "[" + std::to_string(i) + "]: " + p;
      bool shown = false;
      auto add = [&](const std::string& cpath, const std::string& host) -> Status {
        auto c = planner.canonical(cpath);
        if (!c) return c.error().context(at);
        planner.add_policy(*c, level, host, p, false);
        shown = true;
        return {};
      };
      if (is_under(p, root_real)) {
        MXC_TRY(add(join("/", relative(p, root_real)), p));
      } else if (is_under(root_real, p)) {
        if (level == Level::Deny) {
          return make_error(at + ": contains the container's root filesystem " + root_real);
        }
        MXC_TRY(add("/", root_real));
      }
      for (const auto& b : binds) {
        if (is_under(p, b.source)) {
          MXC_TRY(add(join(b.dest, relative(p, b.source)), p));
        } else if (is_under(b.source, p) && !b.from_policy) {
          MXC_TRY(add(b.dest, b.source));
        }
      }
      if (shown || level == Level::Deny) continue;  // a denied path not shown is not there
      if (p == "/") return make_error(at + ": the host's root cannot be shared; name directories");
      auto c = planner.canonical(p);
      if (!c) return c.error().context(at);
      planner.add_policy(*c, level, p, p, true);
      binds.push_back({p, *c, true});
    }
  }
  MXC_TRY(planner.mount_all());
  return planner.realize(plan);
}

Result<sys::LandlockRuleset> build_landlock_ruleset(const LandlockPlan& plan) {
  auto rs = sys::LandlockRuleset::create(plan.handled_fs, plan.scoped);
  if (!rs) return rs.error();
  for (const auto& [path, access] : plan.rules) {
    open_how how{};
    how.flags = O_PATH | O_CLOEXEC;
    how.resolve = RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
    long fd = ::syscall(SYS_openat2, AT_FDCWD, path.c_str(), &how, sizeof how);
    if (fd < 0) {
      if (errno == ENOENT || errno == ELOOP || errno == ENOTDIR) continue;
      return sys_error("landlock: open " + path);
    }
    sys::UniqueFd owned(static_cast<int>(fd));
    auto st = rs->allow(owned.get(), access);
    if (!st) return st.error().context(path);
  }
  return rs;
}

}  // namespace mxc::processcontainer
