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
// The record is an extended attribute of the container's directory where the
// filesystem has them and it fits: a new file costs a new inode, most of a
// millisecond per create on a disk filesystem (ext4), where setting an
// attribute costs a few microseconds. state.json is the fallback.
constexpr const char* kStateXattr = "user.mxc.state";
constexpr size_t kMaxXattrRecord = 3072;  // well inside ext4's one block

// The record as text: the attribute if set, else state.json.
Result<std::string> read_record_text(int dir_fd, const std::filesystem::path& dir) {
  for (int attempt = 0; attempt < 8; ++attempt) {
    ssize_t size = ::fgetxattr(dir_fd, kStateXattr, nullptr, 0);
    if (size < 0) break;
    std::string text(static_cast<size_t>(size), '\0');
    ssize_t n = ::fgetxattr(dir_fd, kStateXattr, text.data(), text.size());
    if (n >= 0) {
      text.resize(static_cast<size_t>(n));
      return text;
    }
    if (errno != ERANGE) break;  // ERANGE: it grew meanwhile; ask again
  }
  return sys::read_file((dir / kStateFile).string());
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
  auto text = read_record_text(lock_.get(), path_);
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
  std::string text = j.dump();
  std::string file = (path_ / kStateFile).string();
  if (text.size() <= kMaxXattrRecord &&
      ::fsetxattr(lock_.get(), kStateXattr, text.data(), text.size(), 0) == 0) {
    // A state.json from a larger record before must not outlive it.
    if (::unlink(file.c_str()) != 0 && errno != ENOENT) return sys_error("remove " + file);
    return {};
  }
  MXC_TRY(sys::write_file_atomic(file, text));
  // Readers look at the attribute first.
  if (::fremovexattr(lock_.get(), kStateXattr) != 0 && errno != ENODATA && errno != ENOTSUP)
    return sys_error("remove the state attribute of " + path_.string());
  return {};
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
