#include "mxc/runtime/mxc_exec.hpp"

#include <fcntl.h>
#include <ftw.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>

#include "container_internal.hpp"
#include "mxc/runtime/foreground.hpp"
#include "mxc/runtime/policy_compile.hpp"
#include "mxc/runtime/shim_protocol.hpp"
#include "mxc/spec/config.hpp"
#include "mxc/spec/default_spec.hpp"
#include "mxc/sys/file_util.hpp"

namespace mxc::runtime {

namespace {

using nlohmann::json;

constexpr const char* kBundlesDir = "@mxc-exec";
constexpr const char* kDefaultPath =
    "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
// How long the shim may take to write its exit record after the init exited.
constexpr int kExitRecordWaitMs = 5000;

MxcExecOutcome request_error(const Error& e) {
  return {MxcExecOutcome::Kind::kRequestError, kMxcExecRequestErrorExit, "", e.message};
}

MxcExecOutcome infra_error(const char* code, const Error& e) {
  return {MxcExecOutcome::Kind::kInfraError, kMxcExecInfraErrorExit, code, e.message};
}

Result<std::string> random_id() {
  unsigned char bytes[8];
  if (::getrandom(bytes, sizeof bytes, 0) != static_cast<ssize_t>(sizeof bytes))
    return sys_error("getrandom");
  std::string id = "mxc-exec-";
  static constexpr char kHex[] = "0123456789abcdef";
  for (unsigned char b : bytes) {
    id += kHex[b >> 4];
    id += kHex[b & 0xf];
  }
  return id;
}

bool is_dir(const std::string& path) {
  struct stat sb {};
  return ::stat(path.c_str(), &sb) == 0 && S_ISDIR(sb.st_mode);
}

// Wire paths are literal; the policy language would read these as globs or variables.
Status check_literal_paths(const std::vector<std::string>& paths, const std::string& field,
                           const std::string& label) {
  for (size_t i = 0; i < paths.size(); ++i) {
    const std::string& p = paths[i];
    if (p.find_first_of("*?") != std::string::npos || p.find("${") != std::string::npos) {
      return make_error(label + ": " + field + "[" + std::to_string(i) + "]: \"" + p +
                        "\": wildcards and ${...} are not supported (paths are literal)");
    }
  }
  return {};
}

// allowRead/allowWrite paths must exist (the policy shows them at the same path).
Status check_existing_paths(const std::vector<std::string>& paths, const std::string& field,
                            const std::string& label) {
  for (size_t i = 0; i < paths.size(); ++i) {
    struct stat sb {};
    if (::stat(paths[i].c_str(), &sb) != 0) {
      return make_error(label + ": " + field + "[" + std::to_string(i) + "]: \"" + paths[i] +
                        "\": " + std::strerror(errno));
    }
  }
  return {};
}

json patterns_json(const std::vector<spec::PathPattern>& in) {
  json out = json::array();
  for (const auto& p : in) out.push_back(p.path);
  return out;
}

// The policy as the `mxc` object of config.json (see spec/policy.hpp).
json policy_json(const spec::Policy& p, const HostSystemDirs& system) {
  json out{{"schemaVersion", "1.0"}};
  if (p.isolation) {
    out["isolation"] = {{"tier", p.isolation->tier}};
    if (p.isolation->backend) out["isolation"]["backend"] = *p.isolation->backend;
  }
  if (p.filesystem) {
    const auto& fs = *p.filesystem;
    json f{{"allowRead", patterns_json(fs.allowRead)},
           {"allowWrite", patterns_json(fs.allowWrite)},
           {"denyRead", patterns_json(fs.denyRead)}};
    // With allow lists, only what they cover of the host stays visible: the
    // system directories are listed too (after the request's own, so that the
    // compiler's messages index the request's entries).
    if (!fs.allowRead.empty() || !fs.allowWrite.empty()) {
      for (const auto& d : system.dirs) f["allowRead"].push_back(d);
    }
    out["filesystem"] = std::move(f);
  }
  if (p.network) {
    const auto& n = *p.network;
    json net{{"default", n.default_}};
    if (!n.allowDomains.empty()) net["allowDomains"] = n.allowDomains;
    if (!n.allowCidrs.empty()) net["allowCidrs"] = n.allowCidrs;
    if (!n.hosts.empty()) net["hosts"] = n.hosts;
    if (n.egress) net["egress"] = spec::egress_to_json(*n.egress);
    if (n.hostLoopback) net["hostLoopback"] = *n.hostLoopback;
    out["network"] = std::move(net);
  }
  if (p.limits && p.limits->timeoutMs) out["limits"] = {{"timeoutMs", *p.limits->timeoutMs}};
  return out;
}

json bind_ro(const std::string& path) {
  return {{"destination", path},
          {"type", "bind"},
          {"source", path},
          {"options", {"rbind", "ro", "nosuid", "nodev"}}};
}

// nftw callback: removes each entry after its children; never leaves the bundle's filesystem.
int remove_entry(const char* path, const struct stat* /*sb*/, int type, struct FTW* /*ftw*/) {
  int rc = type == FTW_DP ? ::rmdir(path) : ::unlink(path);
  return rc == 0 || errno == ENOENT ? 0 : -1;
}

// The temporary bundle: created empty, removed (without crossing a mount
// point, should one be left over it) when it goes out of scope.
class TempBundle {
 public:
  TempBundle() = default;
  TempBundle(const TempBundle&) = delete;
  TempBundle& operator=(const TempBundle&) = delete;
  TempBundle(TempBundle&& o) noexcept : path_(std::move(o.path_)) { o.path_.clear(); }
  TempBundle& operator=(TempBundle&&) = delete;
  ~TempBundle() { (void)remove(); }

  static Result<TempBundle> create(const std::filesystem::path& root, const std::string& id) {
    const std::string parent = (root / kBundlesDir).string();
    const std::string path = parent + "/" + id;
    // Another mxc-exec may remove the (empty) parent meanwhile: try again.
    for (int attempt = 0;; ++attempt) {
      std::error_code ec;
      std::filesystem::create_directories(root, ec);
      if (ec) return make_error(root.string() + ": " + ec.message());
      if (::mkdir(parent.c_str(), 0700) != 0 && errno != EEXIST)
        return sys_error("mkdir " + parent);
      if (::mkdir(path.c_str(), 0700) == 0) break;
      if (errno != ENOENT || attempt == 10) return sys_error("mkdir " + path);
    }
    TempBundle b;
    b.path_ = path;
    return b;
  }

  [[nodiscard]] const std::string& path() const { return path_; }

  Status remove() {
    if (path_.empty()) return {};
    std::string p = std::move(path_);
    path_.clear();
    if (::nftw(p.c_str(), remove_entry, 16, FTW_DEPTH | FTW_PHYS | FTW_MOUNT) != 0 &&
        errno != ENOENT)
      return sys_error("removing the temporary bundle " + p);
    // A mount point left inside is not crossed: its directory stays, so say so.
    if (::access(p.c_str(), F_OK) == 0)
      return make_error("removing the temporary bundle " + p + ": not empty (a mount is left)");
    // The parent goes too once no other mxc-exec uses it (ENOTEMPTY otherwise).
    (void)::rmdir(std::filesystem::path(p).parent_path().c_str());
    return {};
  }

 private:
  std::string path_;
};

// Deletes the container (forced) when it goes out of scope, unless released.
class ContainerGuard {
 public:
  ContainerGuard(const RuntimeContext& ctx, std::string id) : ctx_(ctx), id_(std::move(id)) {}
  ContainerGuard(const ContainerGuard&) = delete;
  ContainerGuard& operator=(const ContainerGuard&) = delete;
  ~ContainerGuard() { (void)remove(); }

  Status remove() {
    if (id_.empty()) return {};
    std::string id = std::move(id_);
    id_.clear();
    return delete_container(ctx_, id, true);
  }

 private:
  const RuntimeContext& ctx_;
  std::string id_;
};

struct Waited {
  int exit_code = 0;
  bool timed_out = false;
};

// Waits for the foreground container (forwarding signals) and learns from its
// shim whether it was killed at the timeout; the container is still there.
Result<Waited> wait_for(const RuntimeContext& ctx, const std::string& id) {
  ContainerRecord record;
  std::unique_ptr<Plugin> plugin;
  std::string dir;
  {
    auto c = detail::open_container(ctx, id);
    if (!c) return c.error();
    record = c->record;
    plugin = std::move(c->plugin);
    dir = c->dir.path().string();
  }  // unlocked: state and kill must work meanwhile
  MXC_TRY(wait_forwarding(record.pid, -1));
  auto ref = detail::make_ref(record, dir);
  Waited w;
  char err[detail::kErrLen] = {0};
  if (plugin->table().wait(&ref, &w.exit_code, err, sizeof err) != 0)
    return detail::plugin_error("wait", record.backend, err);
  if (record.shim_pid > 0) {
    // The shim writes its record right after the init exits.
    auto r = shim::request(dir, {{"op", "wait"}}, kExitRecordWaitMs);
    if (r && r->is_object()) {
      w.timed_out = r->value("timedOut", false);
    } else if (auto exit = shim::read_exit_record(dir)) {
      w.timed_out = exit->timed_out;
    } else if (record.shim_timeout) {
      return make_error("container " + id + ": its shim gave no exit record" +
                        (r ? std::string() : ": " + r.error().message));
    }
  }
  return w;
}

}  // namespace

HostSystemDirs host_system_dirs() {
  HostSystemDirs out;
  for (const char* d : {"/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/usr", "/etc"}) {
    struct stat sb {};
    if (::lstat(d, &sb) != 0) continue;
    if (S_ISLNK(sb.st_mode)) {
      std::error_code ec;
      auto target = std::filesystem::read_symlink(d, ec);
      if (!ec) out.symlinks.emplace_back(d, target.string());
    } else if (S_ISDIR(sb.st_mode)) {
      out.dirs.emplace_back(d);
    }
  }
  return out;
}

Result<json> mxc_exec_bundle_config(const spec::WireConfig& wire, const std::string& backend,
                                    const HostSystemDirs& system, const std::string& label) {
  if (!wire.process.commandLine) return make_error(label + ": process.commandLine: is required");
  auto policy = spec::wire_to_policy(wire, label);
  if (!policy) return policy.error();
  if (wire.filesystem) {
    const auto& fs = *wire.filesystem;
    MXC_TRY(check_literal_paths(fs.readwritePaths, "filesystem.readwritePaths", label));
    MXC_TRY(check_literal_paths(fs.readonlyPaths, "filesystem.readonlyPaths", label));
    MXC_TRY(check_literal_paths(fs.deniedPaths, "filesystem.deniedPaths", label));
    MXC_TRY(check_existing_paths(fs.readwritePaths, "filesystem.readwritePaths", label));
    MXC_TRY(check_existing_paths(fs.readonlyPaths, "filesystem.readonlyPaths", label));
  }
  // 0.8: egress is denied unless the request says otherwise.
  if (!policy->network)
    policy->network = spec::PolicyNetwork{"deny", {}, {}, {}, std::nullopt, std::nullopt};
  policy->isolation = spec::PolicyIsolation{"process", backend};

  std::string cwd = "/";
  if (wire.process.cwd) {
    cwd = *wire.process.cwd;
    if (cwd.empty() || cwd[0] != '/')
      return make_error(label + ": process.cwd: \"" + cwd + "\" is not an absolute path");
  } else if (wire.filesystem) {
    for (const auto* list : {&wire.filesystem->readwritePaths, &wire.filesystem->readonlyPaths}) {
      for (const auto& p : *list) {
        if (is_dir(p)) {
          cwd = p;
          break;
        }
      }
      if (cwd != "/") break;
    }
  }
  json env = json::array({kDefaultPath});
  for (const auto& e : wire.process.env) env.push_back(e);

  json doc = spec::default_spec(false);
  doc["hostname"] = "mxc-exec";
  doc["process"]["terminal"] = false;
  doc["process"]["args"] = {"/bin/sh", "-c", *wire.process.commandLine};
  doc["process"]["cwd"] = cwd;
  doc["process"]["env"] = std::move(env);
  // The runtime adds a network namespace when the policy denies egress.
  json namespaces = json::array();
  for (const char* t : {"pid", "ipc", "uts", "mount"}) namespaces.push_back({{"type", t}});
  doc["linux"]["namespaces"] = std::move(namespaces);
  // /proc, a minimal /dev, a private /tmp, the host's system directories read-only; no /sys.
  json mounts = json::array();
  for (const auto& m : doc["mounts"]) {
    const std::string dest = m.value("destination", "");
    if (dest.rfind("/sys", 0) == 0 || dest == "/dev/mqueue") continue;
    mounts.push_back(m);
  }
  mounts.push_back({{"destination", "/tmp"},
                    {"type", "tmpfs"},
                    {"source", "tmpfs"},
                    {"options", {"nosuid", "nodev", "mode=1777"}}});
  for (const auto& d : system.dirs) mounts.push_back(bind_ro(d));
  doc["mounts"] = std::move(mounts);
  doc["mxc"] = policy_json(*policy, system);
  return doc;
}

MxcExecOutcome mxc_exec(const RuntimeContext& ctx, const MxcExecRequest& request) {
  const std::string& label = request.label;
  auto wire = spec::parse_mxc_wire(request.text, label);
  if (!wire) return request_error(wire.error());
  auto backend = spec::wire_backend(*wire, label);
  if (!backend) return request_error(backend.error());
  const HostSystemDirs system = host_system_dirs();
  auto doc = mxc_exec_bundle_config(*wire, *backend, system, label);
  if (!doc) return request_error(doc.error());
  auto config = spec::parse_config(doc->dump(), label);
  if (!config) return request_error(config.error());

  // What `create` will check, checked first so that the request's faults are
  // told apart from the machine's.
  auto plugin = ctx.plugins.load(*backend);
  if (!plugin) return infra_error(kMxcExecBackendUnavailable, plugin.error());
  auto policy = compile_policy(*config, {"", "", invoking_user_home()}, label);
  if (!policy) return request_error(policy.error());
  auto enforces = json::parse((*plugin)->table().enforces, nullptr, false);
  std::vector<std::string> claims;
  if (enforces.is_array()) {
    for (const auto& f : enforces)
      if (f.is_string()) claims.push_back(f.get<std::string>());
  }
  if (auto st = check_claims(*policy, *backend, claims); !st) return request_error(st.error());
  plugin->reset();
  if (request.dry_run) return {};

  auto id = random_id();
  if (!id) return infra_error(kMxcExecBundleFailed, id.error());
  auto bundle = TempBundle::create(ctx.store.root(), *id);
  if (!bundle) return infra_error(kMxcExecBundleFailed, bundle.error());
  Status st = sys::write_file_atomic(bundle->path() + "/config.json", doc->dump(2));
  const std::string rootfs = bundle->path() + "/rootfs";
  if (st && ::mkdir(rootfs.c_str(), 0755) != 0) st = sys_error("mkdir " + rootfs);
  for (const auto& [link, target] : system.symlinks) {
    if (!st) break;
    std::string at = rootfs + link;
    if (::symlink(target.c_str(), at.c_str()) != 0) st = sys_error("symlink " + at);
  }
  if (!st) return infra_error(kMxcExecBundleFailed, st.error());

  CreateOptions opts;
  opts.id = *id;
  opts.bundle = bundle->path();
  opts.foreground = true;
  auto pid = create_container(ctx, opts);
  if (!pid) return infra_error(kMxcExecContainerFailed, pid.error());
  ContainerGuard container(ctx, *id);
  if (auto s = start_container(ctx, *id); !s)
    return infra_error(kMxcExecContainerFailed, s.error());
  auto waited = wait_for(ctx, *id);
  if (!waited) return infra_error(kMxcExecWaitFailed, waited.error());
  if (auto s = container.remove(); !s) return infra_error(kMxcExecCleanupFailed, s.error());
  if (auto s = bundle->remove(); !s) return infra_error(kMxcExecCleanupFailed, s.error());
  if (waited->timed_out) return {MxcExecOutcome::Kind::kTimedOut, kMxcExecTimeoutExit, "", ""};
  return {MxcExecOutcome::Kind::kExited, waited->exit_code, "", ""};
}

}  // namespace mxc::runtime
