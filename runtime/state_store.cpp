#include "mxc/runtime/state_store.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "mxc/runtime/container_id.hpp"
#include "mxc/sys/file_util.hpp"

namespace mxc::runtime {

namespace {

constexpr const char* kStateFile = "state.json";
constexpr const char* kConfigFile = "config.json";
// Small state lives in extended attributes of the container's directory where
// the filesystem has them: a new file costs a new inode, most of a
// millisecond per create on a disk filesystem (ext4 here), where setting an
// attribute costs a few microseconds. A file is the fallback (no user xattrs,
// or too large: ext4 keeps all of an inode's attributes in one 4 KiB block).
constexpr const char* kStateXattr = "user.mxc.state";
constexpr const char* kConfigXattr = "user.mxc.config";
constexpr size_t kMaxStateXattr = 3072;
constexpr size_t kMaxConfigXattr = 2048;

// The attribute `name` if set, else the file.
Result<std::string> read_attr_or_file(int dir_fd, const char* name, const std::string& file) {
  for (int attempt = 0; attempt < 8; ++attempt) {
    ssize_t size = ::fgetxattr(dir_fd, name, nullptr, 0);
    if (size < 0) break;
    std::string text(static_cast<size_t>(size), '\0');
    ssize_t n = ::fgetxattr(dir_fd, name, text.data(), text.size());
    if (n >= 0) {
      text.resize(static_cast<size_t>(n));
      return text;
    }
    if (errno != ERANGE) break;  // ERANGE: it grew meanwhile; ask again
  }
  return sys::read_file(file);
}

// Replaces the attribute `name` (if `text` fits) or the file, and removes the
// other: readers look at the attribute first, so neither outlives a newer one.
Status write_attr_or_file(int dir_fd, const char* name, size_t max, const std::string& file,
                          const std::string& text) {
  if (text.size() <= max && ::fsetxattr(dir_fd, name, text.data(), text.size(), 0) == 0) {
    if (::unlink(file.c_str()) != 0 && errno != ENOENT) return sys_error("remove " + file);
    return {};
  }
  MXC_TRY(sys::write_file_atomic(file, text));
  if (::fremovexattr(dir_fd, name) != 0 && errno != ENODATA && errno != ENOTSUP)
    return sys_error("remove the attribute " + std::string(name) + " of " + file);
  return {};
}

Result<sys::UniqueFd> open_dir(const std::filesystem::path& dir) {
  sys::UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd) return sys_error("open " + dir.string());
  return fd;
}

Result<sys::UniqueFd> lock_dir(const std::filesystem::path& dir) {
  auto fd = open_dir(dir);
  if (!fd) return fd.error();
  int rc;
  do {
    rc = ::flock(fd->get(), LOCK_EX);
  } while (rc != 0 && errno == EINTR);
  if (rc != 0) return sys_error("lock " + dir.string());
  return std::move(*fd);
}

Status mkdir_p(const std::filesystem::path& dir, mode_t mode) {
  std::error_code ec;
  // Only a root we make ourselves gets our mode: --root may name a shared directory.
  bool made = std::filesystem::create_directories(dir, ec);
  if (ec) return make_error("--root " + dir.string() + ": " + ec.message());
  if (made) ::chmod(dir.c_str(), mode);
  return {};
}

}  // namespace

Result<ContainerRecord> ContainerDir::read() const {
  auto text = read_attr_or_file(lock_.get(), kStateXattr, (path_ / kStateFile).string());
  if (!text) return text.error();
  try {
    auto j = nlohmann::json::parse(*text);
    ContainerRecord r;
    r.id = j.at("id").get<std::string>();
    r.oci_version = j.value("ociVersion", "");
    r.bundle = j.value("bundle", "");
    r.rootfs = j.value("rootfs", "");
    r.backend = j.value("backend", "");
    r.creating = j.value("creating", false);
    r.pid = j.value("pid", 0);
    r.pid_start_time = j.value("pidStartTime", uint64_t{0});
    r.created = j.value("created", "");
    r.owner = j.value("owner", "");
    r.cgroup = j.value("cgroup", "");
    r.annotations = j.value("annotations", std::map<std::string, std::string>{});
    r.shim_pid = j.value("shimPid", 0);
    r.shim_start_time = j.value("shimStartTime", uint64_t{0});
    r.shim_mode = j.value("shimMode", "");
    r.shim_timeout = j.value("shimTimeout", false);
    r.agent = j.value("agent", "");
    r.late_hooks = j.value("lateHooks", true);
    return r;
  } catch (const nlohmann::json::exception& e) {
    return make_error((path_ / kStateFile).string() + ": corrupt state: " + e.what());
  }
}

Status ContainerDir::write(const ContainerRecord& r) const {
  nlohmann::json j{{"id", r.id},           {"ociVersion", r.oci_version},
                   {"bundle", r.bundle},   {"rootfs", r.rootfs},
                   {"backend", r.backend}, {"creating", r.creating},
                   {"pid", r.pid},         {"pidStartTime", r.pid_start_time},
                   {"created", r.created}, {"owner", r.owner},
                   {"cgroup", r.cgroup},   {"annotations", r.annotations}};
  if (r.shim_pid > 0) {
    j["shimPid"] = r.shim_pid;
    j["shimStartTime"] = r.shim_start_time;
    j["shimMode"] = r.shim_mode;
    j["shimTimeout"] = r.shim_timeout;
  }
  if (!r.agent.empty()) j["agent"] = r.agent;
  if (!r.late_hooks) j["lateHooks"] = false;
  return write_attr_or_file(lock_.get(), kStateXattr, kMaxStateXattr, (path_ / kStateFile).string(),
                            j.dump());
}

Result<std::string> ContainerDir::read_config() const {
  return read_attr_or_file(lock_.get(), kConfigXattr, (path_ / kConfigFile).string());
}

Status ContainerDir::write_config(const std::string& config_json) const {
  return write_attr_or_file(lock_.get(), kConfigXattr, kMaxConfigXattr,
                            (path_ / kConfigFile).string(), config_json);
}

Status ContainerDir::remove() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
  lock_.reset();
  if (ec) return make_error("remove " + path_.string() + ": " + ec.message());
  return {};
}

Result<ContainerDir> StateStore::create(const std::string& id) const {
  MXC_TRY(validate_container_id(id));
  MXC_TRY(mkdir_p(root_, 0700));
  auto dir = root_ / id;
  if (::mkdir(dir.c_str(), 0700) != 0) {
    if (errno == EEXIST) return make_error("container " + quote_untrusted(id) + " already exists");
    return sys_error("create " + dir.string());
  }
  auto lock = lock_dir(dir);
  if (!lock) {
    ::rmdir(dir.c_str());
    return lock.error();
  }
  return ContainerDir(dir, std::move(*lock));
}

Result<ContainerDir> StateStore::open(const std::string& id, bool exclusive) const {
  MXC_TRY(validate_container_id(id));
  auto dir = root_ / id;
  auto missing = make_error("container " + quote_untrusted(id) + " does not exist");
  auto lock = exclusive ? lock_dir(dir) : open_dir(dir);
  if (!lock) return lock.error().sys_errno == ENOENT ? missing : lock.error();
  // A concurrent delete may have removed it while we waited for the lock.
  struct stat sb {};
  if (::fstat(lock->get(), &sb) != 0 || sb.st_nlink == 0) return missing;
  // A create that died before writing any state leaves an empty directory.
  ContainerDir cd(dir, std::move(*lock));
  return cd;
}

std::vector<std::string> StateStore::list() const {
  std::vector<std::string> ids;
  DIR* d = ::opendir(root_.c_str());
  if (d == nullptr) return ids;
  while (auto* e = ::readdir(d)) {
    std::string name = e->d_name;
    if (name == "." || name == "..") continue;
    if (!validate_container_id(name)) continue;
    struct stat sb {};
    bool dir =
        e->d_type == DT_DIR ||
        (e->d_type == DT_UNKNOWN &&
         ::fstatat(::dirfd(d), e->d_name, &sb, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(sb.st_mode));
    if (dir) ids.push_back(name);
  }
  ::closedir(d);
  std::sort(ids.begin(), ids.end());
  return ids;
}

}  // namespace mxc::runtime
