// Containers on disk: one 0700 directory per id under --root, holding
// state.json (written atomically) and locked with flock for every command.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "mxc/spec/result.hpp"
#include "mxc/sys/unique_fd.hpp"

namespace mxc::runtime {

// What the runtime records about a container.
struct ContainerRecord {
  std::string id;
  std::string oci_version;
  std::string bundle;
  std::string rootfs;
  std::string backend;
  bool creating = true;  // until create has finished
  pid_t pid = 0;
  uint64_t pid_start_time = 0;  // guards against pid reuse
  std::string created;          // RFC 3339
  std::string owner;
  std::string cgroup;  // the container's cgroup path, empty with --cgroup-manager disabled
  std::map<std::string, std::string> annotations;
  // The container's mxc-shim, if it has one (see shim_launch.hpp).
  pid_t shim_pid = 0;
  uint64_t shim_start_time = 0;
  std::string shim_mode;      // "parent", "monitor", or empty without a shim
  bool shim_timeout = false;  // the shim's clock starts at `start`
  std::string agent;          // the policy's agent as JSON, empty without a policy
  bool late_hooks = true;     // poststart/poststop hooks to run (read from the stored config)
};

// A container directory, locked for as long as this object lives.
class ContainerDir {
 public:
  ContainerDir(std::filesystem::path path, sys::UniqueFd lock)
      : path_(std::move(path)), lock_(std::move(lock)) {}
  [[nodiscard]] const std::filesystem::path& path() const { return path_; }
  Result<ContainerRecord> read() const;
  Status write(const ContainerRecord& record) const;
  // The config.json the container was created from (policy changes applied),
  // for what later commands need from it (exec, poststart/poststop hooks).
  Result<std::string> read_config() const;
  Status write_config(const std::string& config_json) const;
  // Removes the directory and its files; the lock goes with it.
  Status remove();

 private:
  std::filesystem::path path_;
  sys::UniqueFd lock_;
};

class StateStore {
 public:
  // A relative --root is made absolute: the shim and hooks run elsewhere.
  explicit StateStore(const std::filesystem::path& root) : root_(absolute_or_same(root)) {}
  [[nodiscard]] const std::filesystem::path& root() const { return root_; }

  // Makes the directory for a new id; fails if the id exists (mkdir is the
  // arbiter between concurrent creates).
  Result<ContainerDir> create(const std::string& id) const;
  // Opens and locks an existing container's directory. Readers (state, list)
  // pass lock=false: the record is replaced atomically, and a hook run by
  // `create` must be able to ask for the state while create holds the lock.
  Result<ContainerDir> open(const std::string& id, bool lock = true) const;
  // Ids of every container, sorted.
  std::vector<std::string> list() const;

 private:
  static std::filesystem::path absolute_or_same(const std::filesystem::path& p) {
    std::error_code ec;
    auto a = std::filesystem::absolute(p, ec);
    return ec || p.empty() ? p : a;
  }
  std::filesystem::path root_;
};

}  // namespace mxc::runtime
