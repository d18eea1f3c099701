// Control groups: which hierarchies this host mounts (cgroup v1, v2 or both),
// where a container's cgroup lives in each, and applying linux.resources.
//
// Every controller is served by the hierarchy that has it: a v1 mount listing
// it, else the v2 mount when its cgroup.controllers lists it. So a hybrid host
// whose hugetlb lives in the unified mount writes hugetlb.<size>.max there and
// everything else in the v1 mounts. A cgroup directory is made in every
// mounted hierarchy (named ones such as name=systemd and the unified mount of
// a hybrid host included), and processes join all of them.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "mxc/spec/config.hpp"
#include "mxc/spec/result.hpp"

namespace mxc::sys {

struct CgroupHierarchy {
  std::string mountpoint;
  // v1: the controllers of the mount ("cpu", "cpuacct", "name=systemd", ...).
  // v2: the root's cgroup.controllers; parse_cgroup_hierarchies() cannot read
  // files and leaves it empty, detect_cgroup_hierarchies() fills it.
  std::vector<std::string> controllers;
  bool v2 = false;
  std::string root;  // the cgroup mounted there ("/" unless bind-mounted from deeper)
};

enum class CgroupLayout { kNone, kV1, kHybrid, kV2 };

// One entry per hierarchy in /proc/self/mountinfo text, in mount order. A
// hierarchy mounted twice (same device) is listed once, preferring root "/".
std::vector<CgroupHierarchy> parse_cgroup_hierarchies(std::string_view mountinfo);
// The live /proc/self/mountinfo, with v2 controllers read from cgroup.controllers.
std::vector<CgroupHierarchy> detect_cgroup_hierarchies();
CgroupLayout cgroup_layout(const std::vector<CgroupHierarchy>& hierarchies);

// linux.cgroupsPath -> a path relative to every hierarchy root.
//   absent       -> "/mxc/<id>"
//   "/a/b"       -> "/a/b"
//   "a/b"        -> "/mxc/a/b": relative paths go under the runtime's own
//                   directory, not under the caller's cgroup as runc puts
//                   them, because on a hybrid host the caller sits in a
//                   different cgroup in each hierarchy; one fixed place keeps
//                   the container's path the same everywhere.
// Refuses "/", ".", "..", NUL and empty components ("a//b", "a/").
// With systemd=true the "slice:prefix:name" form is required (absent means
// "system.slice:mxc:<id>") and systemd must be running (/run/systemd/system).
Result<std::string> resolve_cgroups_path(const std::optional<std::string>& cgroups_path,
                                         const std::string& id, bool systemd);
// "slice:prefix:name" -> "/a.slice/a-b.slice/prefix-name.scope" as systemd
// names it (no D-Bus: the caller still creates it through cgroupfs).
Result<std::string> expand_systemd_cgroups_path(const std::string& spec);

// Converters shared with `update` and tests; 0 means "unset" in both.
// cpu.shares [2, 262144] -> cpu.weight [1, 10000] with the quadratic fit that
// runc (>= 1.3) and crun (>= 1.10) use: 2 -> 1, 1024 -> 100, 262144 -> 10000.
uint64_t cpu_shares_to_weight(uint64_t shares);
// blkio.weight [10, 1000] -> io.weight [1, 10000] (linear, as runc).
uint64_t blkio_weight_to_io_weight(uint64_t weight);

// Loads a BPF_PROG_TYPE_CGROUP_DEVICE program built from `rules` (OCI
// semantics: default deny, later rules override earlier ones) and attaches it
// to the cgroup v2 directory `dir` with BPF_F_ALLOW_MULTI, then detaches the
// device programs that were there before (so an update never leaves a gap).
Status attach_device_filter(const std::string& dir, const std::vector<spec::DeviceCgroup>& rules);

class Cgroup {
 public:
  // mkdir -p `path` in every hierarchy; on v2 enables the root's controllers in
  // each parent's cgroup.subtree_control; on v1 cpuset copies cpus/mems from
  // the parent when empty. On failure removes the directories it made.
  static Result<Cgroup> create(const std::string& path);
  static Result<Cgroup> create(const std::string& path, std::vector<CgroupHierarchy> hierarchies);
  // An existing cgroup: the hierarchies where `path` exists (at least one).
  static Result<Cgroup> open(const std::string& path);
  static Result<Cgroup> open(const std::string& path, std::vector<CgroupHierarchy> hierarchies);

  Cgroup(Cgroup&&) noexcept = default;
  Cgroup& operator=(Cgroup&&) noexcept = default;
  Cgroup(const Cgroup&) = delete;
  Cgroup& operator=(const Cgroup&) = delete;
  ~Cgroup() = default;  // no rmdir: the container outlives the runtime process

  // Writes every field that is set. A field whose controller or file this host
  // lacks is an error naming the field. Controllers are checked before any
  // file is written; an error in a write may leave earlier writes done.
  // An empty `devices` list leaves the device controller alone: callers pass
  // the full list (deny-all first) as runc's defaults do.
  Status apply(const spec::Resources& r) const;

  Status add_process(pid_t pid) const;
  std::vector<std::string> procs_files() const;
  Result<std::vector<pid_t>> pids() const;  // every hierarchy, recursive, sorted
  // SIGKILL through cgroup.kill when present; otherwise freeze, signal every
  // pid, thaw, so a forking process cannot escape.
  Status kill_all(int signal) const;
  Status freeze() const;
  Status thaw() const;
  Result<bool> frozen() const;
  Result<nlohmann::json> stats() const;  // runc `events --stats` "data"
  Result<uint64_t> oom_kill_count() const;
  // rmdir (children first) in every hierarchy, retrying EBUSY for ~1 s.
  Status destroy();
  // One rmdir per hierarchy, no retry: for a shared parent that may still hold others.
  void remove_if_empty() const;

  const std::string& path() const { return path_; }
  // The directory serving `controller` ("memory", "io", "blkio", ...), if any.
  std::optional<std::string> controller_dir(std::string_view controller) const;
  // The directory in the v2 hierarchy, if this host mounts one.
  std::optional<std::string> unified_dir() const;
  // The directory in every hierarchy.
  std::vector<std::string> dirs() const;

 private:
  Cgroup(std::string path, std::vector<CgroupHierarchy> hierarchies)
      : path_(std::move(path)), hierarchies_(std::move(hierarchies)) {}
  const CgroupHierarchy* hierarchy_for(std::string_view controller) const;
  std::string dir_in(const CgroupHierarchy& h) const { return h.mountpoint + path_; }

  std::string path_;
  std::vector<CgroupHierarchy> hierarchies_;
};

}  // namespace mxc::sys
