// cgroup v1 resource files: one directory per controller. Write orders and
// conversions follow runc's libcontainer/cgroups/fs.
#include <dirent.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <regex>
#include <sstream>
#include <thread>

#include "cgroup_internal.hpp"

namespace mxc::sys::cgroup_internal {

namespace {

const std::string kMem = "linux.resources.memory.";
const std::string kCpu = "linux.resources.cpu.";
const std::string kBlk = "linux.resources.blockIO.";

// "a-b.c" style page size as the kernel names it: digits then KB, MB or GB.
bool valid_page_size(const std::string& s) {
  static const std::regex re("[0-9]+[KMG]B");
  return std::regex_match(s, re);
}

std::string dev(int64_t major, int64_t minor) {
  return std::to_string(major) + ":" + std::to_string(minor);
}

Status set_memory_limit(const std::string& dir, int64_t limit) {
  auto st = write_setting(dir, "memory.limit_in_bytes", std::to_string(limit), kMem + "limit");
  if (!st && st.error().sys_errno == EBUSY) {
    // The kernel could not reclaim down to the new limit: say why.
    return make_error(st.error().message + " (current usage " +
                      std::to_string(read_u64(dir, "memory.usage_in_bytes").value_or(0)) +
                      ", peak " +
                      std::to_string(read_u64(dir, "memory.max_usage_in_bytes").value_or(0)) + ")");
  }
  return st;
}

Status set_swap_limit(const std::string& dir, int64_t swap) {
  return write_setting(dir, "memory.memsw.limit_in_bytes", std::to_string(swap), kMem + "swap");
}

}  // namespace

Status v1_cpuset_inherit(const std::string& parent, const std::string& dir) {
  // A new v1 cpuset has empty cpus/mems and refuses tasks until they are set.
  for (const char* file : {"cpuset.cpus", "cpuset.mems"}) {
    auto mine = read_trimmed(dir, file);
    if (mine && !mine->empty()) continue;
    auto theirs = read_trimmed(parent, file);
    if (!theirs) return make_error(parent + "/" + file + ": cannot read");
    if (theirs->empty()) continue;
    MXC_TRY(write_setting(dir, file, *theirs, "cgroup cpuset of " + dir));
  }
  return {};
}

Status v1_memory(const std::string& dir, const spec::Memory& m) {
  int64_t limit = m.limit.value_or(0);
  int64_t swap = m.swap.value_or(0);
  const bool swap_accounting = file_exists(dir + "/memory.memsw.limit_in_bytes");
  if (m.checkBeforeUpdate.value_or(false) && limit > 0) {
    uint64_t usage = read_u64(dir, "memory.usage_in_bytes").value_or(0);
    if (usage > static_cast<uint64_t>(limit))
      return make_error(kMem + "checkBeforeUpdate: the limit " + std::to_string(limit) +
                        " is below the current usage " + std::to_string(usage));
  }
  // Unlimited memory with swap left unset means unlimited swap too (as runc).
  if (limit == -1 && swap == 0 && swap_accounting) swap = -1;
  if (swap != 0 && !swap_accounting) {
    // Unlimited is exactly what a host without swap accounting gives.
    if (swap != -1)
      return make_error(kMem +
                        "swap: this host has no swap accounting "
                        "(memory.memsw.limit_in_bytes is missing)");
    swap = 0;
  }
  // memsw must stay >= limit at every step: when raising, swap goes first.
  bool done = false;
  if (limit != 0 && swap != 0) {
    auto cur = read_u64(dir, "memory.limit_in_bytes");
    if (!cur) return make_error(kMem + "limit: memory.limit_in_bytes is missing in " + dir);
    if (swap == -1 || *cur < static_cast<uint64_t>(swap)) {
      MXC_TRY(set_swap_limit(dir, swap));
      MXC_TRY(set_memory_limit(dir, limit));
      done = true;
    }
  }
  if (!done) {
    if (limit != 0) MXC_TRY(set_memory_limit(dir, limit));
    if (swap != 0) MXC_TRY(set_swap_limit(dir, swap));
  }
  if (m.reservation)
    MXC_TRY(write_setting(dir, "memory.soft_limit_in_bytes", std::to_string(*m.reservation),
                          kMem + "reservation"));
  if (m.kernel) {
    auto st = write_setting(dir, "memory.kmem.limit_in_bytes", std::to_string(*m.kernel),
                            kMem + "kernel");
    if (!st) return make_error(st.error().message + " (kernel memory limits are deprecated)");
  }
  if (m.kernelTCP)
    MXC_TRY(write_setting(dir, "memory.kmem.tcp.limit_in_bytes", std::to_string(*m.kernelTCP),
                          kMem + "kernelTCP"));
  if (m.swappiness) {
    if (*m.swappiness > 100)
      return make_error(kMem + "swappiness: " + std::to_string(*m.swappiness) + " is above 100");
    MXC_TRY(write_setting(dir, "memory.swappiness", std::to_string(*m.swappiness),
                          kMem + "swappiness"));
  }
  if (m.disableOOMKiller)
    MXC_TRY(write_setting(dir, "memory.oom_control", *m.disableOOMKiller ? "1" : "0",
                          kMem + "disableOOMKiller"));
  if (m.useHierarchy)
    MXC_TRY(write_setting(dir, "memory.use_hierarchy", *m.useHierarchy ? "1" : "0",
                          kMem + "useHierarchy"));
  return {};
}

Status v1_cpu(const std::string& dir, const spec::Cpu& c) {
  if (c.shares) {
    MXC_TRY(write_setting(dir, "cpu.shares", std::to_string(*c.shares), kCpu + "shares"));
    // The kernel clamps silently; a clamped value is not what was asked for.
    auto got = read_u64(dir, "cpu.shares");
    if (got && *got != *c.shares)
      return make_error(kCpu + "shares: " + std::to_string(*c.shares) +
                        " is outside what the kernel accepts (it set " + std::to_string(*got) +
                        ")");
  }
  if (c.realtimePeriod)
    MXC_TRY(write_setting(dir, "cpu.rt_period_us", std::to_string(*c.realtimePeriod),
                          kCpu + "realtimePeriod"));
  if (c.realtimeRuntime)
    MXC_TRY(write_setting(dir, "cpu.rt_runtime_us", std::to_string(*c.realtimeRuntime),
                          kCpu + "realtimeRuntime"));
  // The kernel keeps burst <= quota at every step: try the burst first (it may
  // need the new quota) and again after the quota, as runc does.
  bool burst_pending = false;
  if (c.burst)
    burst_pending =
        !write_setting(dir, "cpu.cfs_burst_us", std::to_string(*c.burst), kCpu + "burst").ok();
  // A shorter period can be refused (EINVAL) while the old quota is in place;
  // when a quota follows, retry the period after it (as runc).
  bool period_pending = false;
  if (c.period) {
    auto st = write_setting(dir, "cpu.cfs_period_us", std::to_string(*c.period), kCpu + "period");
    if (!st) {
      if (st.error().sys_errno != EINVAL || !c.quota) return st;
      period_pending = true;
    }
  }
  if (c.quota) {
    MXC_TRY(write_setting(dir, "cpu.cfs_quota_us", std::to_string(*c.quota), kCpu + "quota"));
    if (period_pending)
      MXC_TRY(write_setting(dir, "cpu.cfs_period_us", std::to_string(*c.period), kCpu + "period"));
  }
  if (burst_pending)
    MXC_TRY(write_setting(dir, "cpu.cfs_burst_us", std::to_string(*c.burst), kCpu + "burst"));
  if (c.idle) MXC_TRY(write_setting(dir, "cpu.idle", *c.idle ? "1" : "0", kCpu + "idle"));
  return {};
}

Status v1_cpuset(const std::string& dir, const spec::Cpu& c) {
  if (c.cpus) MXC_TRY(write_setting(dir, "cpuset.cpus", *c.cpus, kCpu + "cpus"));
  if (c.mems) MXC_TRY(write_setting(dir, "cpuset.mems", *c.mems, kCpu + "mems"));
  return {};
}

Status v1_blkio(const std::string& dir, const spec::BlockIo& b) {
  // CFQ's blkio.weight is gone since 5.0; BFQ offers blkio.bfq.weight.
  const bool cfq = file_exists(dir + "/blkio.weight");
  const bool bfq = file_exists(dir + "/blkio.bfq.weight");
  const std::string weight_file = cfq ? "blkio.weight" : "blkio.bfq.weight";
  if (b.weight) {
    if (!cfq && !bfq)
      return make_error(kBlk + "weight: this host has neither blkio.weight nor blkio.bfq.weight");
    MXC_TRY(write_setting(dir, weight_file, std::to_string(*b.weight), kBlk + "weight"));
  }
  if (b.leafWeight)
    MXC_TRY(write_setting(dir, "blkio.leaf_weight", std::to_string(*b.leafWeight),
                          kBlk + "leafWeight"));
  for (size_t i = 0; i < b.weightDevice.size(); ++i) {
    const auto& wd = b.weightDevice[i];
    const std::string field = kBlk + "weightDevice[" + std::to_string(i) + "]";
    if (wd.weight)
      MXC_TRY(write_setting(dir, cfq ? "blkio.weight_device" : "blkio.bfq.weight_device",
                            dev(wd.major, wd.minor) + " " + std::to_string(*wd.weight),
                            field + ".weight"));
    if (wd.leafWeight)
      MXC_TRY(write_setting(dir, "blkio.leaf_weight_device",
                            dev(wd.major, wd.minor) + " " + std::to_string(*wd.leafWeight),
                            field + ".leafWeight"));
  }
  const std::pair<const std::vector<spec::BlockIoDeviceThrottle>*, const char*> throttles[] = {
      {&b.throttleReadBpsDevice, "throttleReadBpsDevice"},
      {&b.throttleWriteBpsDevice, "throttleWriteBpsDevice"},
      {&b.throttleReadIOPSDevice, "throttleReadIOPSDevice"},
      {&b.throttleWriteIOPSDevice, "throttleWriteIOPSDevice"}};
  const char* files[] = {"blkio.throttle.read_bps_device", "blkio.throttle.write_bps_device",
                         "blkio.throttle.read_iops_device", "blkio.throttle.write_iops_device"};
  for (size_t k = 0; k < 4; ++k) {
    const auto& list = *throttles[k].first;
    for (size_t i = 0; i < list.size(); ++i)
      MXC_TRY(write_setting(dir, files[k],
                            dev(list[i].major, list[i].minor) + " " + std::to_string(list[i].rate),
                            kBlk + throttles[k].second + "[" + std::to_string(i) + "]"));
  }
  return {};
}

Status v1_hugetlb(const std::string& dir, const std::vector<spec::HugepageLimit>& limits) {
  for (size_t i = 0; i < limits.size(); ++i) {
    const auto& l = limits[i];
    const std::string field = "linux.resources.hugepageLimits[" + std::to_string(i) + "]";
    if (!valid_page_size(l.pageSize))
      return make_error(field + ".pageSize: \"" + l.pageSize + "\" is not a size like 2MB");
    const std::string file = "hugetlb." + l.pageSize + ".limit_in_bytes";
    if (!file_exists(dir + "/" + file))
      return make_error(field + ".pageSize: this host has no " + l.pageSize + " huge pages (" +
                        file + " is missing)");
    MXC_TRY(write_setting(dir, file, std::to_string(l.limit), field + ".limit"));
    // Reservations are charged separately (5.7+); limit them alike, as runc.
    const std::string rsvd = "hugetlb." + l.pageSize + ".rsvd.limit_in_bytes";
    if (file_exists(dir + "/" + rsvd))
      MXC_TRY(write_setting(dir, rsvd, std::to_string(l.limit), field + ".limit"));
  }
  return {};
}

Status v1_devices(const std::string& dir, const std::vector<spec::DeviceCgroup>& rules) {
  auto parsed = parse_device_rules(rules);
  if (!parsed) return parsed.error();
  MXC_TRY(write_setting(dir, "devices.deny", "a", "linux.resources.devices"));
  for (size_t i = 0; i < parsed->size(); ++i) {
    const auto& r = (*parsed)[i];
    if (r.access == 0) continue;
    std::string line(1, r.type);
    if (r.type != 'a') {
      line += " " + (r.major < 0 ? std::string("*") : std::to_string(r.major)) + ":" +
              (r.minor < 0 ? std::string("*") : std::to_string(r.minor)) + " " + r.access_text;
    }
    MXC_TRY(write_setting(dir, r.allow ? "devices.allow" : "devices.deny", line,
                          "linux.resources.devices[" + std::to_string(i) + "]"));
  }
  return {};
}

Status v1_net_cls(const std::string& dir, uint32_t class_id) {
  return write_setting(dir, "net_cls.classid", std::to_string(class_id),
                       "linux.resources.network.classID");
}

Status v1_net_prio(const std::string& dir, const std::vector<spec::NetworkPriority>& prios) {
  for (size_t i = 0; i < prios.size(); ++i)
    MXC_TRY(write_setting(dir, "net_prio.ifpriomap",
                          prios[i].name + " " + std::to_string(prios[i].priority),
                          "linux.resources.network.priorities[" + std::to_string(i) + "]"));
  return {};
}

Status v1_freeze(const std::string& dir, bool freeze) {
  const std::string want = freeze ? "FROZEN" : "THAWED";
  const std::string what = "freezer.state of " + dir;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  auto delay = std::chrono::milliseconds(1);
  for (;;) {
    // Rewriting FROZEN retries the tasks that were busy (FREEZING) last time.
    MXC_TRY(write_setting(dir, "freezer.state", want, what));
    auto state = read_trimmed(dir, "freezer.state");
    if (!state) return make_error(what + ": cannot read");
    if (*state == want) return {};
    if (std::chrono::steady_clock::now() >= deadline) {
      if (freeze) (void)write_setting(dir, "freezer.state", "THAWED", what);
      return make_error(what + ": still " + *state + " after 5 s");
    }
    std::this_thread::sleep_for(delay);
    delay = std::min(delay * 2, std::chrono::milliseconds(50));
  }
}

Result<bool> v1_frozen(const std::string& dir) {
  auto state = read_trimmed(dir, "freezer.state");
  if (!state) return make_error(dir + "/freezer.state: cannot read");
  return *state == "FROZEN";
}

// ---- stats (runc's types.Stats) ----

void v1_cpu_stats(const std::optional<std::string>& cpu_dir,
                  const std::optional<std::string>& cpuacct_dir, nlohmann::json& out) {
  auto list = [](const std::string& dir, const char* file) {
    std::vector<uint64_t> v;
    if (auto s = read_trimmed(dir, file)) {
      std::istringstream in(*s);
      uint64_t x = 0;
      while (in >> x) v.push_back(x);
    }
    return v;
  };
  if (cpuacct_dir) {
    const std::string& d = *cpuacct_dir;
    auto& usage = out["usage"];
    usage["total"] = read_u64(d, "cpuacct.usage").value_or(0);
    usage["percpu"] = list(d, "cpuacct.usage_percpu");
    usage["percpu_kernel"] = list(d, "cpuacct.usage_percpu_sys");
    usage["percpu_user"] = list(d, "cpuacct.usage_percpu_user");
    // cpuacct.stat counts USER_HZ ticks; runc reports nanoseconds.
    auto stat = read_keyed(d, "cpuacct.stat");
    const uint64_t ns_per_tick = 1000000000ULL / static_cast<uint64_t>(::sysconf(_SC_CLK_TCK));
    usage["kernel"] = stat["system"] * ns_per_tick;
    usage["user"] = stat["user"] * ns_per_tick;
  }
  if (cpu_dir) {
    auto stat = read_keyed(*cpu_dir, "cpu.stat");
    out["throttling"] = {{"periods", stat["nr_periods"]},
                         {"throttledPeriods", stat["nr_throttled"]},
                         {"throttledTime", stat["throttled_time"]}};
  }
}

void v1_memory_stats(const std::string& dir, nlohmann::json& out) {
  auto entry = [&dir](const std::string& prefix) {
    uint64_t limit = read_u64(dir, prefix + "limit_in_bytes").value_or(0);
    return nlohmann::json{{"usage", read_u64(dir, prefix + "usage_in_bytes").value_or(0)},
                          {"max", read_u64(dir, prefix + "max_usage_in_bytes").value_or(0)},
                          {"limit", limit},
                          {"failcnt", read_u64(dir, prefix + "failcnt").value_or(0)}};
  };
  out["usage"] = entry("memory.");
  out["swap"] = entry("memory.memsw.");
  out["kernel"] = entry("memory.kmem.");
  out["kernelTCP"] = entry("memory.kmem.tcp.");
  auto raw = read_keyed(dir, "memory.stat");
  out["cache"] = raw.count("cache") != 0 ? raw["cache"] : 0;
  out["raw"] = raw;
}

void v1_blkio_stats(const std::string& dir, nlohmann::json& out) {
  // "8:0 Read 4096" lines ("Total N" skipped), into runc's BlkioEntry.
  auto entries = [&dir](const std::string& file) {
    nlohmann::json list = nlohmann::json::array();
    auto s = read_trimmed(dir, file);
    if (!s) return list;
    std::istringstream in(*s);
    std::string line;
    while (std::getline(in, line)) {
      std::istringstream l(line);
      std::string device, op;
      uint64_t value = 0;
      if (!(l >> device >> op >> value)) continue;
      unsigned major = 0, minor = 0;
      if (std::sscanf(device.c_str(), "%u:%u", &major, &minor) != 2) continue;
      list.push_back({{"major", major}, {"minor", minor}, {"op", op}, {"value", value}});
    }
    return list;
  };
  // CFQ files if present (pre-5.0), else BFQ's, else the throttle counters (as runc).
  std::string prefix = "blkio.throttle.";
  if (file_exists(dir + "/blkio.io_service_bytes_recursive"))
    prefix = "blkio.";
  else if (file_exists(dir + "/blkio.bfq.io_service_bytes_recursive"))
    prefix = "blkio.bfq.";
  out["ioServiceBytesRecursive"] = entries(prefix + "io_service_bytes_recursive");
  out["ioServicedRecursive"] = entries(prefix + "io_serviced_recursive");
}

void v1_hugetlb_stats(const std::string& dir, nlohmann::json& out) {
  static const std::regex re("hugetlb\\.([0-9]+[KMG]B)\\.limit_in_bytes");
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return;
  while (dirent* e = ::readdir(d)) {
    std::cmatch m;
    if (!std::regex_match(e->d_name, m, re)) continue;
    const std::string p = "hugetlb." + m[1].str() + ".";
    out[m[1].str()] = {{"usage", read_u64(dir, p + "usage_in_bytes").value_or(0)},
                       {"max", read_u64(dir, p + "max_usage_in_bytes").value_or(0)},
                       {"failcnt", read_u64(dir, p + "failcnt").value_or(0)}};
  }
  ::closedir(d);
}

}  // namespace mxc::sys::cgroup_internal
