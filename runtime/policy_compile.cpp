// Compiling the agent policy (policy_compile.hpp): source selection, host path
// resolution, and the checks that need config.json.
#include "mxc/runtime/policy_compile.hpp"
#include "mxc/spec/text.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <climits>
#include <cstdlib>
#include <set>

#include "mxc/spec/policy.hpp"
#include "mxc/sys/unique_fd.hpp"

namespace mxc::runtime {

using nlohmann::json;
using spec::PathPattern;

namespace {

// Bounds on glob expansion, so that `/**/x` cannot walk the host for minutes.
constexpr size_t kMaxGlobMatches = 10000;
constexpr size_t kMaxGlobDirs = 100000;

std::string quote(const std::string& s) {
  return json(s).dump(-1, ' ', false, json::error_handler_t::replace);
}

Result<std::string> read_policy_file(const std::string& path) {
  sys::UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY));
  if (!fd) return sys_error(path);
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return sys_error(path);
  if (!S_ISREG(st.st_mode)) return make_error(path + ": not a regular file");
  if (static_cast<uint64_t>(st.st_size) > spec::kPolicyMaxBytes) {
    return make_error(path + ": policy document is larger than 1 MiB (" +
                      std::to_string(st.st_size) + " bytes)");
  }
  std::string text;
  char buf[16384];
  for (;;) {
    ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return sys_error(path);
    if (n == 0) break;
    text.append(buf, static_cast<size_t>(n));
    if (text.size() > spec::kPolicyMaxBytes) {
      return make_error(path + ": policy document is larger than 1 MiB");
    }
  }
  return text;
}

std::optional<std::string> real_path(const std::string& p, int& err) {
  char buf[PATH_MAX];
  if (::realpath(p.c_str(), buf) == nullptr) {
    err = errno;
    return std::nullopt;
  }
  return std::string(buf);
}

// realpath of the longest existing prefix, the rest appended as written.
std::string weakly_canonical(const std::string& p) {
  int err = 0;
  if (auto r = real_path(p, err)) return *r;
  const size_t slash = p.rfind('/');
  if (slash == std::string::npos || p == "/") return p;
  const std::string parent = slash == 0 ? "/" : p.substr(0, slash);
  std::string base = weakly_canonical(parent);
  if (base != "/") base += '/';
  return base + p.substr(slash + 1);
}

bool is_dir_no_follow(const std::string& p) {
  struct stat st {};
  return ::lstat(p.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

bool exists_no_follow(const std::string& p) {
  struct stat st {};
  return ::lstat(p.c_str(), &st) == 0;
}

std::vector<std::string> split(const std::string& path) {
  std::vector<std::string> parts;
  for (auto part : spec::split_nonempty(path, '/')) parts.emplace_back(part);
  return parts;
}

std::string join(const std::string& dir, const std::string& name) {
  return dir == "/" ? "/" + name : dir + "/" + name;
}

// Expands glob components against the host. `*` and `?` match within one
// component (leading dots included: a denyRead of `${HOME}/*` must cover
// dotfiles); `**` matches zero or more directories without following symlinks.
class Globber {
 public:
  explicit Globber(std::vector<std::string> parts) : parts_(std::move(parts)) {}

  Status run() {
    walk("/", 0);
    if (too_many_) {
      return make_error("matches more than " + std::to_string(kMaxGlobMatches) +
                        " paths or walks more than " + std::to_string(kMaxGlobDirs) +
                        " directories");
    }
    return {};
  }
  [[nodiscard]] const std::set<std::string>& matches() const { return matches_; }

 private:
  void walk(const std::string& dir, size_t i) {
    if (too_many_) return;
    if (i == parts_.size()) {
      if (matches_.size() >= kMaxGlobMatches) {
        too_many_ = true;
        return;
      }
      matches_.insert(dir);
      return;
    }
    const std::string& part = parts_[i];
    if (part == "**") {
      walk(dir, i + 1);  // zero directories
      for_each_entry(dir, [&](const std::string& name) {
        const std::string sub = join(dir, name);
        if (is_dir_no_follow(sub)) walk(sub, i);
      });
      return;
    }
    if (part.find_first_of("*?") == std::string::npos) {
      const std::string next = join(dir, part);
      if (exists_no_follow(next)) walk(next, i + 1);
      return;
    }
    // Only `*` and `?` are special: `[` and `\\` match themselves.
    std::string pattern;
    for (char c : part) {
      if (c == '[' || c == ']' || c == '\\') pattern += '\\';
      pattern += c;
    }
    for_each_entry(dir, [&](const std::string& name) {
      if (::fnmatch(pattern.c_str(), name.c_str(), 0) == 0) walk(join(dir, name), i + 1);
    });
  }

  template <class F>
  void for_each_entry(const std::string& dir, F&& f) {
    if (++dirs_ > kMaxGlobDirs) {
      too_many_ = true;
      return;
    }
    DIR* d = ::opendir(dir.c_str());
    if (d == nullptr) return;  // unreadable or not a directory: nothing matches there
    std::vector<std::string> names;
    while (dirent* e = ::readdir(d)) {
      const std::string name = e->d_name;
      if (name != "." && name != "..") names.push_back(name);
    }
    ::closedir(d);
    std::sort(names.begin(), names.end());
    for (const auto& n : names) {
      if (too_many_) return;
      f(n);
    }
  }

  std::vector<std::string> parts_;
  std::set<std::string> matches_;
  size_t dirs_ = 0;
  bool too_many_ = false;
};

enum class ListKind { allow, deny };

// Resolves one list of patterns to canonical host paths.
Status resolve_list(const std::vector<PathPattern>& patterns, ListKind kind,
                    const std::string& where, std::set<std::string>& out) {
  for (size_t i = 0; i < patterns.size(); ++i) {
    const PathPattern& p = patterns[i];
    const std::string field = where + "[" + std::to_string(i) + "]";
    std::vector<std::string> candidates;
    if (p.kind == PathPattern::Kind::glob) {
      std::string g = p.path;
      // A trailing `/**` adds nothing: every compiled path covers what is below it.
      if (g.size() >= 3 && g.compare(g.size() - 3, 3, "/**") == 0) {
        g.resize(g.size() - 3);
        if (g.empty()) g = "/";
      }
      Globber globber(split(g));
      if (auto st = globber.run(); !st) return st.error().context(field + ": " + quote(p.written));
      if (globber.matches().empty()) {
        return make_error(field + ": " + quote(p.written) + " matches nothing");
      }
      candidates.assign(globber.matches().begin(), globber.matches().end());
    } else {
      candidates.push_back(p.path);
    }
    for (const auto& c : candidates) {
      int err = 0;
      auto resolved = real_path(c, err);
      if (kind == ListKind::allow) {
        if (!resolved) {
          if (err == ENOENT) return make_error(field + ": " + quote(c) + " does not exist");
          return sys_error(field + ": " + quote(c), err);
        }
        out.insert(*resolved);
      } else {
        // Deny both the path as written and where it leads, so that neither
        // the link nor its target is reachable; a missing path is kept.
        const std::string target = resolved ? *resolved : weakly_canonical(c);
        out.insert(target);
        if (target != c) out.insert(c);
      }
    }
  }
  return {};
}

// Where the policy comes from, for source selection and messages.
struct Source {
  std::string what;   // "the mxc section of config.json", ...
  std::string label;  // error prefix
  std::string root;   // JSON path prefix ("mxc" or "")
  json doc;           // already a JSON document (mxc section)
  std::string text;   // or text to parse
  bool is_json = false;
  std::string file;  // or a file to read (the two file sources)
};

Result<std::optional<std::string>> resolve_workspace(const spec::Config& config,
                                                     const PolicySources& sources,
                                                     const std::string& label) {
  std::string dir = sources.workspace;
  std::string field = "--workspace";
  if (dir.empty()) {
    auto a = config.annotations.find(kWorkspaceAnnotation);
    if (a == config.annotations.end()) return std::optional<std::string>{};
    dir = a->second;
    field = label + ": annotations[\"" + kWorkspaceAnnotation + "\"]";
  }
  if (dir.empty() || dir[0] != '/') return make_error(field + ": must be an absolute path");
  if (dir.find('\0') != std::string::npos) return make_error(field + ": contains a NUL byte");
  int err = 0;
  auto real = real_path(dir, err);
  if (!real) return sys_error(field + ": " + quote(dir), err);
  struct stat st {};
  if (::stat(real->c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    return make_error(field + ": " + quote(dir) + " is not a directory");
  }
  return std::optional<std::string>(*real);
}

Result<std::optional<Source>> pick_source(const spec::Config& config, const PolicySources& sources,
                                          const std::string& label) {
  std::vector<Source> found;
  if (!config.mxc.is_null()) {
    found.push_back(Source{"the mxc section of " + label, label, "mxc", config.mxc, "", true, ""});
  }
  if (auto a = config.annotations.find(kPolicyAnnotation); a != config.annotations.end()) {
    const std::string where = std::string("annotations[\"") + kPolicyAnnotation + "\"]";
    found.push_back(Source{"the annotation " + std::string(kPolicyAnnotation), label + ": " + where,
                           "", json(), a->second, false, ""});
  }
  if (auto a = config.annotations.find(kPolicyFileAnnotation); a != config.annotations.end()) {
    const std::string where = std::string("annotations[\"") + kPolicyFileAnnotation + "\"]";
    const std::string& path = a->second;
    if (path.empty() || path[0] != '/') {
      return make_error(label + ": " + where + ": must be an absolute path, got " + quote(path));
    }
    found.push_back(
        Source{"the annotation " + std::string(kPolicyFileAnnotation) + " (" + path + ")", path, "",
               json(), "", false, path});
  }
  if (!sources.policy_file.empty()) {
    found.push_back(Source{"--policy " + sources.policy_file, sources.policy_file, "", json(), "",
                           false, sources.policy_file});
  }
  if (found.size() > 1) {
    return make_error(label + ": the policy is given twice, by " + found[0].what + " and by " +
                      found[1].what + "; give one");
  }
  if (found.empty()) return std::optional<Source>{};
  Source s = std::move(found[0]);
  if (!s.file.empty()) {
    auto text = read_policy_file(s.file);
    if (!text) return text.error();
    s.text = std::move(*text);
  }
  return std::optional<Source>(std::move(s));
}

json proxy_env_patch() {
  const std::string http = "http://127.0.0.1:" + std::to_string(kProxyPort);
  const std::string socks = "socks5h://127.0.0.1:" + std::to_string(kProxyPort);
  const std::string none = "localhost,127.0.0.1,::1";
  json env = json::array();
  for (const char* k : {"HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"}) {
    env.push_back(std::string(k) + "=" + http);
  }
  env.push_back("ALL_PROXY=" + socks);
  env.push_back("all_proxy=" + socks);
  env.push_back("NO_PROXY=" + none);
  env.push_back("no_proxy=" + none);
  return env;
}

}  // namespace

bool shares_runtime_netns(const spec::Config& config) {
  if (!config.linux_) return true;
  for (const auto& ns : config.linux_->namespaces) {
    if (ns.type != "network") continue;
    if (!ns.path) return false;  // a new one
    struct stat joined {
    }, ours{};
    return ::stat(ns.path->c_str(), &joined) == 0 && ::stat("/proc/self/ns/net", &ours) == 0 &&
           joined.st_dev == ours.st_dev && joined.st_ino == ours.st_ino;
  }
  return true;
}

std::string invoking_user_home() {
  if (const char* h = std::getenv("HOME"); h != nullptr && h[0] == '/') return h;
  if (passwd* pw = ::getpwuid(::getuid()); pw != nullptr && pw->pw_dir != nullptr) {
    return pw->pw_dir;
  }
  return "";
}

Result<CompiledPolicy> compile_policy(const spec::Config& config, const PolicySources& sources,
                                      const std::string& label) {
  CompiledPolicy out;
  out.plugin_json = json::object();
  out.config_patch = json::object();

  auto source = pick_source(config, sources, label);
  if (!source) return source.error();
  if (!*source) return out;
  const Source& src = **source;

  auto workspace = resolve_workspace(config, sources, label);
  if (!workspace) return workspace.error();
  spec::PolicyContext ctx{*workspace, sources.home};

  Result<spec::Policy> parsed = src.is_json
                                    ? spec::parse_policy(src.doc, ctx, src.label, src.root)
                                    : spec::parse_policy_text(src.text, ctx, src.label, src.root);
  if (!parsed) return parsed.error();
  const spec::Policy& policy = *parsed;
  // "<label>: <root.>field: reason"
  auto fail = [&](const std::string& field, const std::string& why) {
    return make_error(src.label + ": " + (src.root.empty() ? field : src.root + "." + field) +
                      ": " + why);
  };

  const std::string tier = policy.isolation ? policy.isolation->tier : "process";
  if (tier != "process") {
    return fail("isolation.tier",
                "no backend of tier " + tier + " is installed (only the process tier is)");
  }
  if (policy.isolation && policy.isolation->backend) {
    out.backend = policy.isolation->backend;
    auto a = config.annotations.find("mxc.isolation.backend");
    if (a != config.annotations.end() && a->second != *out.backend) {
      return fail("isolation.backend", quote(*out.backend) + " differs from the annotation " +
                                           "mxc.isolation.backend " + quote(a->second));
    }
  }
  out.present = policy.restricts();
  if (!out.present) return out;

  if (policy.desktop) {
    if (policy.desktop->shareClipboard) {
      return fail("desktop.shareClipboard", "needs the session tier (isolation.tier: session)");
    }
    if (policy.desktop->shareInput) {
      return fail("desktop.shareInput", "needs the session tier (isolation.tier: session)");
    }
    if (policy.desktop->display == "allow") {
      return fail("desktop.display", "allow needs the session tier (isolation.tier: session)");
    }
  }

  if (policy.agent) {
    out.agent = json{{"name", policy.agent->name}, {"identity", policy.agent->identity}};
    out.plugin_json["agent"] = out.agent;
  }
  if (policy.limits && policy.limits->timeoutMs) out.timeout_ms = policy.limits->timeoutMs;

  if (policy.filesystem) {
    const auto& fs = *policy.filesystem;
    const std::string base = src.root.empty() ? "filesystem" : src.root + ".filesystem";
    std::set<std::string> read, write, deny;
    auto resolve = [&](const std::vector<PathPattern>& list, ListKind kind, const char* name,
                       std::set<std::string>& into) -> Status {
      if (auto st = resolve_list(list, kind, base + "." + name, into); !st) {
        return st.error().context(src.label);
      }
      return {};
    };
    MXC_TRY(resolve(fs.allowRead, ListKind::allow, "allowRead", read));
    MXC_TRY(resolve(fs.allowWrite, ListKind::allow, "allowWrite", write));
    MXC_TRY(resolve(fs.denyRead, ListKind::deny, "denyRead", deny));
    out.plugin_json["filesystem"] =
        json{{"allowRead", std::vector<std::string>(read.begin(), read.end())},
             {"allowWrite", std::vector<std::string>(write.begin(), write.end())},
             {"denyRead", std::vector<std::string>(deny.begin(), deny.end())}};
    if (!read.empty()) out.fields.push_back("filesystem.allowRead");
    if (!write.empty()) out.fields.push_back("filesystem.allowWrite");
    if (!deny.empty()) out.fields.push_back("filesystem.denyRead");
  }

  if (policy.network) {
    const auto& net = *policy.network;
    const bool deny = net.default_ == "deny";
    const bool proxied = !net.allowDomains.empty() || !net.allowCidrs.empty();
    if (!deny && !net.allowDomains.empty()) {
      return fail("network.allowDomains",
                  "needs network.default: deny (with allow every domain is reachable)");
    }
    if (!deny && !net.allowCidrs.empty()) {
      return fail("network.allowCidrs",
                  "needs network.default: deny (with allow every address is reachable)");
    }
    if (!net.hosts.empty() && !proxied) {
      return fail("network.hosts", "is used only by the proxy: needs network.allowDomains");
    }
    json plugin_net{{"default", net.default_}};
    if (deny) {
      out.fields.push_back("network.default");
      bool has_netns = false;
      if (config.linux_) {
        const auto& nss = config.linux_->namespaces;
        for (size_t i = 0; i < nss.size(); ++i) {
          if (nss[i].type != "network") continue;
          if (nss[i].path) {
            return make_error(label + ": linux.namespaces[" + std::to_string(i) +
                              "]: joins the network namespace " + quote(*nss[i].path) +
                              ", but the policy's network.default deny needs a new one");
          }
          has_netns = true;
        }
      }
      if (!has_netns) {
        out.config_patch["addNamespaces"] = json::array({json{{"type", "network"}}});
      }
    }
    if (proxied) {
      out.fields.push_back("network.allowDomains");
      json hosts = json::object();
      for (const auto& [name, addrs] : net.hosts) hosts[name] = addrs;
      out.proxy = json{{"port", kProxyPort},
                       {"allowDomains", net.allowDomains},
                       {"hosts", hosts},
                       {"allowCidrs", net.allowCidrs}};
      plugin_net["proxy"] = json{{"address", "127.0.0.1"}, {"port", kProxyPort}};
      out.config_patch["setEnv"] = proxy_env_patch();
    }
    // The host's loopback is the container's only if it shares the host's
    // network namespace: there direct egress refuses it unless allowed, and
    // an explicit deny on the unfiltered host network gets an allow-all
    // filter to carry the refusal.
    const bool shared = !deny && shares_runtime_netns(config);
    if (net.hostLoopback == "allow" && !shared) {
      return fail("network.hostLoopback",
                  "allow needs the host's network namespace (the container gets its own, whose "
                  "loopback is not the host's: use network.egress without a network namespace)");
    }
    std::optional<spec::PolicyEgress> egress = net.egress;
    if (net.hostLoopback == "deny" && shared && !egress) {
      egress.emplace();
      egress->default_ = "allow";
    }
    if (egress) {
      // Enforced by the runtime's cgroup BPF program (sys/egress_bpf.hpp) on
      // the container's own network: no namespace is added.
      out.fields.push_back("network.egress");
      plugin_net["egress"] = spec::egress_to_json(*egress);
    }
    out.host_loopback_refused = shared && egress && net.hostLoopback != "allow";
    out.plugin_json["network"] = plugin_net;
  }

  if (policy.desktop) {
    out.plugin_json["desktop"] = json{{"shareClipboard", policy.desktop->shareClipboard},
                                      {"shareInput", policy.desktop->shareInput}};
  }
  // The process tier gives no host display, D-Bus or audio socket whenever a policy is present.
  out.fields.push_back("desktop.display");
  return out;
}

Status check_claims(const CompiledPolicy& policy, const std::string& backend,
                    const std::vector<std::string>& plugin_enforces) {
  for (const auto& f : policy.fields) {
    if (std::find(plugin_enforces.begin(), plugin_enforces.end(), f) == plugin_enforces.end()) {
      return make_error("policy field " + f + " cannot be enforced by backend " + backend);
    }
  }
  return {};
}

json apply_config_patch(json config_raw, const CompiledPolicy& policy) {
  const json& patch = policy.config_patch;
  if (!patch.is_object() || patch.empty()) return config_raw;
  if (auto ns = patch.find("addNamespaces"); ns != patch.end()) {
    json& list = config_raw["linux"]["namespaces"];
    if (!list.is_array()) list = json::array();
    for (const auto& n : *ns) list.push_back(n);
  }
  if (auto env = patch.find("setEnv"); env != patch.end()) {
    json& list = config_raw["process"]["env"];
    if (!list.is_array()) list = json::array();
    for (const auto& kv : *env) {
      const std::string s = kv.get<std::string>();
      const std::string key = s.substr(0, s.find('=') + 1);
      auto same = std::find_if(list.begin(), list.end(), [&](const json& e) {
        return e.is_string() && e.get<std::string>().compare(0, key.size(), key) == 0;
      });
      if (same != list.end())
        *same = s;
      else
        list.push_back(s);
    }
  }
  return config_raw;
}

}  // namespace mxc::runtime
