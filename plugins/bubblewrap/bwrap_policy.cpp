#include "bwrap_policy.hpp"

#include <linux/landlock.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>

namespace mxc::bwrap {

namespace {

using nlohmann::json;

constexpr const char* kBackend = "backend bubblewrap";

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

// ---- parsing ----

std::vector<std::string> path_list(const json& v, const std::string& field) {
  if (!v.is_array()) fail("policy: " + field + ": must be an array of paths");
  std::vector<std::string> out;
  for (size_t i = 0; i < v.size(); ++i) {
    std::string at = field + "[" + std::to_string(i) + "]";
    if (!v[i].is_string()) fail("policy: " + at + ": must be a string");
    auto p = v[i].get<std::string>();
    if (p.empty() || p.front() != '/') fail("policy: " + at + ": must be absolute");
    if (p.find('\0') != std::string::npos) fail("policy: " + at + ": contains NUL");
    if (p.size() > 1 && p.back() == '/') p.pop_back();
    out.push_back(std::move(p));
  }
  return out;
}

[[noreturn]] void refuse(const std::string& field) {
  fail("policy: " + field + ": not enforced by " + std::string(kBackend));
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

// ---- the rule tree, in container paths ----

enum class Level { None, Rw, Ro, Deny };  // for one path: Deny beats Ro beats Rw

struct Node {
  Level level = Level::None;
  bool policy = false;      // from the policy (beats the bundle's baseline)
  std::string host;         // the host path whose content the node shows ("" for none)
  std::string rule;         // the policy path that made it (most specific wins)
  bool needs_bind = false;  // an allowed host path not otherwise visible
  bool covered = false;     // a cover was mounted on it
  bool concealed = false;   // under a cover of an ancestor
  [[nodiscard]] bool hidden() const { return level == Level::None || level == Level::Deny; }
};

class Planner {
 public:
  Planner(const std::vector<MountInfo>& mounts, bool tmpfs_perms)
      : mounts_(mounts), tmpfs_perms_(tmpfs_perms) {
    out_.after.resize(mounts.size() + 1);
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

  PolicyMounts plan() {
    for (auto& [cpath, n] : nodes_) {
      const Node* anc = nearest_ancestor(cpath);
      n.concealed = anc != nullptr && anc->hidden() && (anc->covered || anc->concealed);
      auto& group = out_.after[owner(cpath)];
      if (n.hidden()) {
        if (n.concealed) continue;
        bool dir = true;
        if (!n.host.empty()) {
          struct stat sb {};
          // Nothing there to hide; a symlink is hidden where it leads (the
          // policy lists its target too).
          if (::lstat(n.host.c_str(), &sb) != 0 || S_ISLNK(sb.st_mode)) continue;
          dir = S_ISDIR(sb.st_mode);
        }
        if (dir) {
          // Mode 0111 when allowed paths lie beneath, so they can be reached.
          if (tmpfs_perms_)
            add(group, {"--perms", has_allowed_below(cpath) ? "0111" : "0000", "--size", "16384"});
          add(group, {"--tmpfs", cpath});
          out_.last.insert(out_.last.end(), {"--remount-ro", cpath});
        } else {
          add(group, {"--ro-bind", "/dev/null", cpath});
        }
        n.covered = true;
        continue;
      }
      if (n.needs_bind || n.concealed) {
        if (!exists_on_host(n.host)) {
          if (n.needs_bind) fail_errno("policy: filesystem: " + n.host);
          continue;
        }
        // Recursive: the host's mounts beneath come along, read-only too.
        add(group, {n.level == Level::Ro ? "--ro-bind" : "--bind", n.host, cpath});
      } else if (n.policy && n.level == Level::Ro) {
        if (!is_mount_point(cpath)) {
          if (n.host.empty() || !exists_on_host(n.host)) continue;  // nothing to protect
          add(group, {"--bind", n.host, cpath});
        }
        out_.last.insert(out_.last.end(), {"--remount-ro", cpath});
      } else if (n.policy && n.level == Level::Rw && has_ro_ancestor(cpath) &&
                 !is_mount_point(cpath) && !n.host.empty() && exists_on_host(n.host)) {
        // Its own mount, which the ancestor's (non-recursive) remount leaves writable.
        add(group, {"--bind", n.host, cpath});
      }
    }
    return std::move(out_);
  }

 private:
  static void add(std::vector<std::string>& to, std::initializer_list<std::string> a) {
    to.insert(to.end(), a.begin(), a.end());
  }

  // The index into PolicyMounts::after: the deepest mount cpath lies in (the
  // last of equals, as a later mount covers an earlier one).
  size_t owner(const std::string& cpath) const {
    size_t best = 0, best_len = 0;
    for (size_t i = 0; i < mounts_.size(); ++i) {
      const auto& d = mounts_[i].dest;
      if (is_under(cpath, d) && d.size() >= best_len) {
        best = i + 1;
        best_len = d.size();
      }
    }
    return best;
  }

  bool is_mount_point(const std::string& cpath) const {
    if (cpath == "/") return true;
    return std::any_of(mounts_.begin(), mounts_.end(),
                       [&](const MountInfo& m) { return m.dest == cpath; });
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

  bool has_allowed_below(const std::string& cpath) const {
    std::string prefix = cpath == "/" ? "/" : cpath + "/";
    for (auto it = nodes_.lower_bound(prefix);
         it != nodes_.end() && it->first.compare(0, prefix.size(), prefix) == 0; ++it) {
      if (it->first != cpath && !it->second.hidden()) return true;
    }
    return false;
  }

  const std::vector<MountInfo>& mounts_;
  bool tmpfs_perms_;
  std::map<std::string, Node> nodes_;
  PolicyMounts out_;
};

}  // namespace

Policy parse_policy(const std::string& policy_json) {
  auto doc = json::parse(policy_json, nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) fail("policy: must be a JSON object");
  Policy out;
  out.present = !doc.empty();
  for (const auto& [area, value] : doc.items()) {
    if (area == "agent") continue;  // identity: recorded by the runtime, nothing to enforce here
    if (area == "filesystem") {
      if (!value.is_object()) fail("policy: filesystem: must be an object");
      FileRules fs;
      for (const auto& [field, v] : value.items()) {
        std::vector<std::string>* list = field == "allowRead"    ? &fs.allow_read
                                         : field == "allowWrite" ? &fs.allow_write
                                         : field == "denyRead"   ? &fs.deny_read
                                                                 : nullptr;
        if (list == nullptr) refuse("filesystem." + field);
        *list = path_list(v, "filesystem." + field);
      }
      out.filesystem = std::move(fs);
      continue;
    }
    if (area == "network") {
      if (!value.is_object()) fail("policy: network: must be an object");
      for (const auto& [field, v] : value.items()) {
        if (field == "default") {
          if (!v.is_string() || (v != "deny" && v != "allow"))
            fail("policy: network.default: must be \"deny\" or \"allow\"");
          out.network_default = v.get<std::string>();
        } else if (field == "proxy") {
          out.proxy = true;  // served by mxc-shim outside the sandbox
        } else {
          refuse("network." + field);
        }
      }
      continue;
    }
    if (area == "desktop") {
      if (!value.is_object()) fail("policy: desktop: must be an object");
      for (const auto& [field, v] : value.items()) {
        if (field != "shareClipboard" && field != "shareInput") refuse("desktop." + field);
        if (!v.is_boolean()) fail("policy: desktop." + field + ": must be a boolean");
        if (v.get<bool>()) {
          fail("policy: desktop." + field + ": sharing needs the session tier; " + kBackend +
               " (process tier) gives the container no desktop");
        }
      }
      continue;
    }
    refuse(area);
  }
  return out;
}

void check_desktop_mounts(const std::vector<MountInfo>& mounts) {
  const std::string tail =
      ": the agent policy gives the container no host display, session bus or audio socket "
      "(backend bubblewrap)";
  for (size_t i = 0; i < mounts.size(); ++i) {
    const auto& m = mounts[i];
    if (!m.bind) continue;
    std::string what = "mounts[" + std::to_string(i) + "]";
    for (const char* d : kDesktopDirs) {
      if (is_under(m.real, d) || is_under(m.source, d)) fail(what + ": source " + m.source + tail);
      if (is_under(d, m.real) && exists_on_host(d))
        fail(what + ": source " + m.source + " contains " + d + tail);
      if (is_under(m.dest, d)) fail(what + ": destination " + m.dest + tail);
    }
    if (is_desktop_socket_name(m.real)) fail(what + ": source " + m.source + tail);
  }
}

PolicyMounts plan_policy_mounts(const FileRules& rules, const std::string& root,
                                const std::vector<MountInfo>& mounts, bool tmpfs_perms) {
  Planner planner(mounts, tmpfs_perms);
  bool allowlist = !rules.allow_read.empty() || !rules.allow_write.empty();

  // The bundle's own view: its root and its own mounts keep working; its bind
  // mounts of host paths too unless allow lists say what of the host is shown.
  struct HostBind {
    std::string source, dest;
    bool from_policy = false;  // an allowed path bound at its own path
  };
  std::vector<HostBind> binds;
  planner.add_baseline("/", Level::Rw, root);
  for (const auto& m : mounts) {
    if (m.bind) {
      binds.push_back({m.real, m.dest});
      planner.add_baseline(m.dest, allowlist ? Level::None : Level::Rw, m.real);
    } else {
      planner.add_baseline(m.dest, Level::Rw, "");
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
      auto add = [&](const std::string& cpath, const std::string& host) {
        planner.add_policy(cpath, level, host, p, false);
        shown = true;
      };
      if (level == Level::Deny && is_under(root, p))
        fail(at + ": contains the container's root filesystem " + root);
      if (is_under(p, root)) {
        add(join("/", relative(p, root)), p);
      } else if (is_under(root, p)) {
        add("/", root);
      }
      for (const auto& b : binds) {
        if (is_under(p, b.source)) {
          add(join(b.dest, relative(p, b.source)), p);
        } else if (is_under(b.source, p) && !b.from_policy) {
          add(b.dest, b.source);
        }
      }
      if (shown || level == Level::Deny) continue;  // a denied path not shown is not there
      if (p == "/") fail(at + ": the host's root cannot be shared; name directories");
      planner.add_policy(p, level, p, p, true);
      binds.push_back({p, p, true});
    }
  }
  return planner.plan();
}

// The kernel headers here predate Landlock ABI 6 (scoped).
namespace {
struct RulesetAttr {
  uint64_t handled_access_fs;
  uint64_t handled_access_net;
  uint64_t scoped;
};
constexpr uint64_t kScopeAbstractUnixSocket = 1ULL << 0;
constexpr uint32_t kCreateRulesetVersion = 1U << 0;
}  // namespace

int landlock_abi() {
  long v = ::syscall(SYS_landlock_create_ruleset, nullptr, 0, kCreateRulesetVersion);
  return v < 0 ? 0 : static_cast<int>(v);
}

UniqueFd abstract_unix_scope_ruleset() {
  RulesetAttr attr{0, 0, kScopeAbstractUnixSocket};
  long fd = ::syscall(SYS_landlock_create_ruleset, &attr, sizeof attr, 0);
  if (fd < 0)
    fail_errno("policy: desktop.display: landlock_create_ruleset (scope abstract unix sockets)");
  return UniqueFd(static_cast<int>(fd));
}

}  // namespace mxc::bwrap
