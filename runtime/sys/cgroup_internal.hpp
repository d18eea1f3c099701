// Shared by cgroups.cpp and the per-version writers: file helpers whose errors
// name the JSON field, and the writers/readers of one controller each.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "mxc/spec/config.hpp"
#include "mxc/spec/result.hpp"

namespace mxc::sys::cgroup_internal {

inline constexpr uint64_t kMax = UINT64_MAX;  // "max" in a v2 file

bool file_exists(const std::string& path);
// Writes `value` to dir/file. Errors: "<field>: <file> is missing in <dir>"
// (the host lacks the knob) or "<field>: write <path>: <strerror>".
Status write_setting(const std::string& dir, const std::string& file, const std::string& value,
                     const std::string& field);
// Content without the trailing newline; nullopt when unreadable.
std::optional<std::string> read_trimmed(const std::string& dir, const std::string& file);
// A number, "max" as kMax; nullopt when missing or not a number.
std::optional<uint64_t> read_u64(const std::string& dir, const std::string& file);
// "key value" lines (memory.stat, cpu.stat, memory.events, ...).
std::map<std::string, uint64_t> read_keyed(const std::string& dir, const std::string& file);

// One linux.resources.devices entry, checked: type 'a' 'b' 'c'; -1 is a wildcard.
struct DeviceRule {
  bool allow = false;
  char type = 'a';
  int64_t major = -1;
  int64_t minor = -1;
  unsigned access = 0;  // BPF_DEVCG_ACC_* bits (mknod 1, read 2, write 4)
  std::string access_text;
};
Result<std::vector<DeviceRule>> parse_device_rules(const std::vector<spec::DeviceCgroup>& rules);

// ---- v1 (cgroup_v1.cpp) ----
Status v1_cpuset_inherit(const std::string& parent, const std::string& dir);
Status v1_memory(const std::string& dir, const spec::Memory& m);
Status v1_cpu(const std::string& dir, const spec::Cpu& c);
Status v1_cpuset(const std::string& dir, const spec::Cpu& c);
Status v1_blkio(const std::string& dir, const spec::BlockIo& b);
Status v1_hugetlb(const std::string& dir, const std::vector<spec::HugepageLimit>& limits);
Status v1_devices(const std::string& dir, const std::vector<spec::DeviceCgroup>& rules);
Status v1_net_cls(const std::string& dir, uint32_t class_id);
Status v1_net_prio(const std::string& dir, const std::vector<spec::NetworkPriority>& prios);
Status v1_freeze(const std::string& dir, bool freeze);
Result<bool> v1_frozen(const std::string& dir);
void v1_cpu_stats(const std::optional<std::string>& cpu_dir,
                  const std::optional<std::string>& cpuacct_dir, nlohmann::json& out);
void v1_memory_stats(const std::string& dir, nlohmann::json& out);
void v1_blkio_stats(const std::string& dir, nlohmann::json& out);
void v1_hugetlb_stats(const std::string& dir, nlohmann::json& out);

// ---- v2 (cgroup_v2.cpp) ----
Status v2_memory(const std::string& dir, const spec::Memory& m);
Status v2_cpu(const std::string& dir, const spec::Cpu& c);
Status v2_cpuset(const std::string& dir, const spec::Cpu& c);
Status v2_io(const std::string& dir, const spec::BlockIo& b);
Status v2_hugetlb(const std::string& dir, const std::vector<spec::HugepageLimit>& limits);
Status v2_unified(const std::string& dir, const std::map<std::string, std::string>& unified);
Status v2_freeze(const std::string& dir, bool freeze);
Result<bool> v2_frozen(const std::string& dir);
void v2_cpu_stats(const std::string& dir, nlohmann::json& out);
void v2_memory_stats(const std::string& dir, nlohmann::json& out);
void v2_io_stats(const std::string& dir, nlohmann::json& out);
void v2_hugetlb_stats(const std::string& dir, nlohmann::json& out);

// ---- either version: same file names ----
Status write_pids(const std::string& dir, const spec::Pids& p);
Status write_rdma(const std::string& dir, const std::map<std::string, spec::Rdma>& rdma);
void pids_stats(const std::string& dir, nlohmann::json& out);

// Whitespace-separated words and a strict unsigned parse, without iostreams.
std::vector<std::string> split_words(std::string_view s);
std::optional<uint64_t> parse_u64(std::string_view s);

}  // namespace mxc::sys::cgroup_internal
