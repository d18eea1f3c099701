// cgroup v2 resource files: one directory, files named <controller>.<knob>.
// Conversions from the v1-shaped spec fields follow runc's fs2 and crun.
#include <dirent.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <regex>
#include <sstream>
#include <thread>
#include <tuple>

#include "cgroup_internal.hpp"
#include "mxc/sys/cgroups.hpp"

namespace mxc::sys::cgroup_internal {

namespace {

const std::string kMem = "linux.resources.memory.";
const std::string kCpu = "linux.resources.cpu.";
const std::string kBlk = "linux.resources.blockIO.";

std::string max_or(int64_t v) {
  return v < 0 ? "max" : std::to_string(v);
}

std::string dev(int64_t major, int64_t minor) {
  return std::to_string(major) + ":" + std::to_string(minor);
}

// The spec's swap is memory+swap (v1 memsw); v2's memory.swap.max is swap
// alone. 0 means unset. Same rules as runc's ConvertMemorySwapToCgroupV2Value.
Result<int64_t> swap_to_v2(int64_t swap, int64_t limit) {
  if (limit == -1 && swap == 0) return -1;  // unlimited memory implies unlimited swap
  if (swap == -1 || swap == 0) return swap;
  if (limit == 0 || limit == -1)
    return make_error(kMem +
                      "swap: a swap limit needs a memory limit (linux.resources.memory.limit)");
  if (limit < 0) return make_error(kMem + "limit: " + std::to_string(limit) + " is invalid");
  if (swap < limit)
    return make_error(kMem + "swap: " + std::to_string(swap) +
                      " is below linux.resources.memory.limit " + std::to_string(limit) +
                      " (swap counts memory+swap)");
  return swap - limit;
}

}  // namespace

Status v2_memory(const std::string& dir, const spec::Memory& m) {
  const int64_t limit = m.limit.value_or(0);
  if (m.kernel)
    return make_error(kMem + "kernel: cgroup v2 has no kernel memory limit (deprecated in v1)");
  if (m.kernelTCP) return make_error(kMem + "kernelTCP: cgroup v2 has no kernel TCP memory limit");
  if (m.swappiness) return make_error(kMem + "swappiness: cgroup v2 has no per-cgroup swappiness");
  if (m.disableOOMKiller.value_or(false))
    return make_error(kMem + "disableOOMKiller: cgroup v2 cannot disable the OOM killer");
  if (!m.useHierarchy.value_or(true))
    return make_error(kMem + "useHierarchy: cgroup v2 is always hierarchical");
  if (m.checkBeforeUpdate.value_or(false) && limit > 0) {
    uint64_t usage = read_u64(dir, "memory.current").value_or(0);
    if (usage > static_cast<uint64_t>(limit))
      return make_error(kMem + "checkBeforeUpdate: the limit " + std::to_string(limit) +
                        " is below the current usage " + std::to_string(usage));
  }
  auto swap = swap_to_v2(m.swap.value_or(0), limit);
  if (!swap) return swap.error();
  if (*swap != 0) {
    // Unlimited is exactly what a host without swap accounting gives.
    if (file_exists(dir + "/memory.swap.max")) {
      MXC_TRY(write_setting(dir, "memory.swap.max", max_or(*swap), kMem + "swap"));
    } else if (*swap != -1) {
      return make_error(kMem +
                        "swap: this host has no swap accounting (memory.swap.max is missing)");
    }
  }
  // v2 does not tie memory.max to memory.swap.max, so the order is free.
  if (limit != 0) MXC_TRY(write_setting(dir, "memory.max", max_or(limit), kMem + "limit"));
  if (m.reservation)
    MXC_TRY(write_setting(dir, "memory.low", max_or(*m.reservation), kMem + "reservation"));
  return {};
}

Status v2_cpu(const std::string& dir, const spec::Cpu& c) {
  if (c.realtimeRuntime || c.realtimePeriod)
    return make_error(kCpu + (c.realtimeRuntime ? "realtimeRuntime" : "realtimePeriod") +
                      ": cgroup v2 has no realtime scheduling limits");
  if (c.shares) {
    if (*c.shares < 2 || *c.shares > 262144)
      return make_error(kCpu + "shares: " + std::to_string(*c.shares) + " is outside 2..262144");
    MXC_TRY(write_setting(dir, "cpu.weight", std::to_string(cpu_shares_to_weight(*c.shares)),
                          kCpu + "shares"));
  }
  bool burst_pending = false;
  if (c.burst)
    burst_pending =
        !write_setting(dir, "cpu.max.burst", std::to_string(*c.burst), kCpu + "burst").ok();
  if (c.quota || c.period) {
    // cpu.max is "<quota|max> <period>"; a lone period keeps the current quota.
    std::string quota;
    if (c.quota) {
      quota = max_or(*c.quota);
    } else {
      auto cur = read_trimmed(dir, "cpu.max");
      quota = cur ? cur->substr(0, cur->find(' ')) : "max";
    }
    std::string value = quota;
    if (c.period) value += " " + std::to_string(*c.period);
    MXC_TRY(write_setting(dir, "cpu.max", value, kCpu + (c.quota ? "quota" : "period")));
  }
  if (burst_pending)
    MXC_TRY(write_setting(dir, "cpu.max.burst", std::to_string(*c.burst), kCpu + "burst"));
  if (c.idle) MXC_TRY(write_setting(dir, "cpu.idle", *c.idle ? "1" : "0", kCpu + "idle"));
  return {};
}

Status v2_cpuset(const std::string& dir, const spec::Cpu& c) {
  if (c.cpus) MXC_TRY(write_setting(dir, "cpuset.cpus", *c.cpus, kCpu + "cpus"));
  if (c.mems) MXC_TRY(write_setting(dir, "cpuset.mems", *c.mems, kCpu + "mems"));
  return {};
}

Status v2_io(const std::string& dir, const spec::BlockIo& b) {
  if (b.leafWeight) return make_error(kBlk + "leafWeight: cgroup v2 has no leaf weight");
  // BFQ takes the v1 scale (1..1000) as is; io.weight needs conversion.
  const bool bfq = file_exists(dir + "/io.bfq.weight");
  if (b.weight) {
    if (bfq)
      MXC_TRY(write_setting(dir, "io.bfq.weight", std::to_string(*b.weight), kBlk + "weight"));
    else
      MXC_TRY(write_setting(dir, "io.weight", std::to_string(blkio_weight_to_io_weight(*b.weight)),
                            kBlk + "weight"));
  }
  for (size_t i = 0; i < b.weightDevice.size(); ++i) {
    const auto& wd = b.weightDevice[i];
    const std::string field = kBlk + "weightDevice[" + std::to_string(i) + "]";
    if (wd.leafWeight) return make_error(field + ".leafWeight: cgroup v2 has no leaf weight");
    if (!wd.weight) continue;
    if (bfq)
      MXC_TRY(write_setting(dir, "io.bfq.weight",
                            dev(wd.major, wd.minor) + " " + std::to_string(*wd.weight),
                            field + ".weight"));
    else
      MXC_TRY(write_setting(
          dir, "io.weight",
          dev(wd.major, wd.minor) + " " + std::to_string(blkio_weight_to_io_weight(*wd.weight)),
          field + ".weight"));
  }
  const std::tuple<const std::vector<spec::BlockIoDeviceThrottle>*, const char*, const char*>
      throttles[] = {{&b.throttleReadBpsDevice, "throttleReadBpsDevice", "rbps"},
                     {&b.throttleWriteBpsDevice, "throttleWriteBpsDevice", "wbps"},
                     {&b.throttleReadIOPSDevice, "throttleReadIOPSDevice", "riops"},
                     {&b.throttleWriteIOPSDevice, "throttleWriteIOPSDevice", "wiops"}};
  for (const auto& [list, name, key] : throttles) {
    for (size_t i = 0; i < list->size(); ++i) {
      const auto& t = (*list)[i];
      MXC_TRY(write_setting(dir, "io.max",
                            dev(t.major, t.minor) + " " + key + "=" + std::to_string(t.rate),
                            kBlk + name + "[" + std::to_string(i) + "]"));
    }
  }
  return {};
}

Status v2_hugetlb(const std::string& dir, const std::vector<spec::HugepageLimit>& limits) {
  static const std::regex size_re("[0-9]+[KMG]B");
  for (size_t i = 0; i < limits.size(); ++i) {
    const auto& l = limits[i];
    const std::string field = "linux.resources.hugepageLimits[" + std::to_string(i) + "]";
    if (!std::regex_match(l.pageSize, size_re))
      return make_error(field + ".pageSize: \"" + l.pageSize + "\" is not a size like 2MB");
    const std::string file = "hugetlb." + l.pageSize + ".max";
    if (!file_exists(dir + "/" + file))
      return make_error(field + ".pageSize: this host has no " + l.pageSize + " huge pages (" +
                        file + " is missing in " + dir + ")");
    MXC_TRY(write_setting(dir, file, std::to_string(l.limit), field + ".limit"));
    const std::string rsvd = "hugetlb." + l.pageSize + ".rsvd.max";
    if (file_exists(dir + "/" + rsvd))
      MXC_TRY(write_setting(dir, rsvd, std::to_string(l.limit), field + ".limit"));
  }
  return {};
}

Status v2_unified(const std::string& dir, const std::map<std::string, std::string>& unified) {
  for (const auto& [key, value] : unified) {
    const std::string field = "linux.resources.unified[\"" + key + "\"]";
    // A key is a file of this cgroup, never a path out of it.
    if (key.empty() || key.find('/') != std::string::npos || key[0] == '.' ||
        key.find('.') == std::string::npos)
      return make_error(field + ": not a cgroup file name");
    if (key.rfind("cgroup.", 0) == 0 && key != "cgroup.max.depth" &&
        key != "cgroup.max.descendants" && key != "cgroup.freeze" && key != "cgroup.type")
      return make_error(field + ": is not a resource setting");
    if (!file_exists(dir + "/" + key)) {
      std::string controller = key.substr(0, key.find('.'));
      return make_error(field + ": " + key + " is missing in " + dir + " (is the " + controller +
                        " controller enabled?)");
    }
    MXC_TRY(write_setting(dir, key, value, field));
  }
  return {};
}

Status v2_freeze(const std::string& dir, bool freeze) {
  const std::string what = "cgroup.freeze of " + dir;
  MXC_TRY(write_setting(dir, "cgroup.freeze", freeze ? "1" : "0", what));
  // The write only requests it; cgroup.events says when every task is there.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  auto delay = std::chrono::milliseconds(1);
  for (;;) {
    auto events = read_keyed(dir, "cgroup.events");
    auto it = events.find("frozen");
    if (it == events.end()) return make_error(dir + "/cgroup.events: no \"frozen\" entry");
    if ((it->second == 1) == freeze) return {};
    if (std::chrono::steady_clock::now() >= deadline) {
      if (freeze) (void)write_setting(dir, "cgroup.freeze", "0", what);
      return make_error(what + ": not " + (freeze ? "frozen" : "thawed") + " after 5 s");
    }
    std::this_thread::sleep_for(delay);
    delay = std::min(delay * 2, std::chrono::milliseconds(50));
  }
}

Result<bool> v2_frozen(const std::string& dir) {
  auto wanted = read_trimmed(dir, "cgroup.freeze");
  if (!wanted) return make_error(dir + "/cgroup.freeze: cannot read");
  if (*wanted != "1") return false;
  // Requested but some task not yet stopped: not frozen (yet).
  auto events = read_keyed(dir, "cgroup.events");
  return events.count("frozen") != 0 && events["frozen"] == 1;
}

// ---- stats (runc's types.Stats) ----

void v2_cpu_stats(const std::string& dir, nlohmann::json& out) {
  auto stat = read_keyed(dir, "cpu.stat");
  out["usage"]["total"] = stat["usage_usec"] * 1000;
  out["usage"]["kernel"] = stat["system_usec"] * 1000;
  out["usage"]["user"] = stat["user_usec"] * 1000;
  out["throttling"] = {{"periods", stat["nr_periods"]},
                       {"throttledPeriods", stat["nr_throttled"]},
                       {"throttledTime", stat["throttled_usec"] * 1000}};
}

void v2_memory_stats(const std::string& dir, nlohmann::json& out) {
  const uint64_t usage = read_u64(dir, "memory.current").value_or(0);
  const uint64_t limit = read_u64(dir, "memory.max").value_or(kMax);
  out["usage"] = {{"usage", usage},
                  {"max", read_u64(dir, "memory.peak").value_or(0)},
                  {"limit", limit},
                  {"failcnt", read_keyed(dir, "memory.events")["max"]}};
  // runc reports swap as memory+swap, the v1 meaning.
  if (auto swap = read_u64(dir, "memory.swap.current")) {
    uint64_t swap_max = read_u64(dir, "memory.swap.max").value_or(kMax);
    uint64_t swap_limit = (swap_max == kMax || limit == kMax) ? kMax : swap_max + limit;
    out["swap"] = {{"usage", *swap + usage},
                   {"max", 0},
                   {"limit", swap_limit},
                   {"failcnt", read_keyed(dir, "memory.swap.events")["max"]}};
  }
  auto raw = read_keyed(dir, "memory.stat");
  out["cache"] = raw.count("file") != 0 ? raw["file"] : 0;
  out["raw"] = raw;
}

void v2_io_stats(const std::string& dir, nlohmann::json& out) {
  // "8:0 rbytes=1 wbytes=2 rios=3 wios=4 dbytes=0 dios=0" per device.
  nlohmann::json bytes = nlohmann::json::array(), ios = nlohmann::json::array();
  if (auto s = read_trimmed(dir, "io.stat")) {
    std::istringstream in(*s);
    std::string line;
    while (std::getline(in, line)) {
      std::istringstream l(line);
      std::string device, kv;
      if (!(l >> device)) continue;
      unsigned major = 0, minor = 0;
      if (std::sscanf(device.c_str(), "%u:%u", &major, &minor) != 2) continue;
      while (l >> kv) {
        auto eq = kv.find('=');
        if (eq == std::string::npos) continue;
        std::string key = kv.substr(0, eq);
        uint64_t value = std::strtoull(kv.c_str() + eq + 1, nullptr, 10);
        auto entry = [&](const char* op) {
          return nlohmann::json{{"major", major}, {"minor", minor}, {"op", op}, {"value", value}};
        };
        if (key == "rbytes") bytes.push_back(entry("Read"));
        if (key == "wbytes") bytes.push_back(entry("Write"));
        if (key == "rios") ios.push_back(entry("Read"));
        if (key == "wios") ios.push_back(entry("Write"));
      }
    }
  }
  out["ioServiceBytesRecursive"] = bytes;
  out["ioServicedRecursive"] = ios;
}

void v2_hugetlb_stats(const std::string& dir, nlohmann::json& out) {
  static const std::regex re("hugetlb\\.([0-9]+[KMG]B)\\.max");
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return;
  while (dirent* e = ::readdir(d)) {
    std::cmatch m;
    if (!std::regex_match(e->d_name, m, re)) continue;
    const std::string p = "hugetlb." + m[1].str() + ".";
    out[m[1].str()] = {{"usage", read_u64(dir, p + "current").value_or(0)},
                       {"max", 0},
                       {"failcnt", read_keyed(dir, p + "events")["max"]}};
  }
  ::closedir(d);
}

}  // namespace mxc::sys::cgroup_internal
