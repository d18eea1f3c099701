// Layout detection, linux.cgroupsPath resolution and the Cgroup class. Which
// hierarchy serves a controller is decided here; the files of each version are
// written by cgroup_v1.cpp and cgroup_v2.cpp.
#include "mxc/sys/cgroups.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <chrono>
#include <functional>
#include <set>
#include <sstream>
#include <thread>

#include "cgroup_internal.hpp"
#include "mxc/sys/file_util.hpp"
#include "mxc/sys/unique_fd.hpp"

namespace mxc::sys {

namespace ci = cgroup_internal;

// ---------------------------------------------------------------------------
// Shared file helpers (declared in cgroup_internal.hpp).

namespace cgroup_internal {

std::vector<std::string> split_words(std::string_view s) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) ++i;
    size_t start = i;
    while (i < s.size() && !std::isspace(static_cast<unsigned char>(s[i]))) ++i;
    if (i > start) out.emplace_back(s.substr(start, i - start));
  }
  return out;
}

std::optional<uint64_t> parse_u64(std::string_view s) {
  uint64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  return v;
}

bool file_exists(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0;
}

Status write_setting(const std::string& dir, const std::string& file, const std::string& value,
                     const std::string& field) {
  const std::string path = dir + "/" + file;
  // O_TRUNC only matters for the regular files of test trees; cgroupfs ignores it.
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CLOEXEC | O_TRUNC));
  if (!fd) {
    if (errno == ENOENT) return make_error(field + ": " + file + " is missing in " + dir);
    return sys_error(field + ": open " + path);
  }
  ssize_t n = ::write(fd.get(), value.data(), value.size());
  if (n < 0) return sys_error(field + ": write \"" + value + "\" to " + path);
  if (static_cast<size_t>(n) != value.size())
    return make_error(field + ": write " + path + ": short write");
  return {};
}

std::optional<std::string> read_trimmed(const std::string& dir, const std::string& file) {
  auto r = read_file(dir + "/" + file);
  if (!r) return std::nullopt;
  std::string s = std::move(*r);
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

std::optional<uint64_t> read_u64(const std::string& dir, const std::string& file) {
  auto s = read_trimmed(dir, file);
  if (!s) return std::nullopt;
  if (*s == "max") return kMax;
  try {
    size_t used = 0;
    // v1 files such as cpu.cfs_quota_us read "-1" for no limit.
    if (!s->empty() && (*s)[0] == '-') return static_cast<uint64_t>(std::stoll(*s, &used));
    uint64_t v = std::stoull(*s, &used);
    if (used != s->size()) return std::nullopt;
    return v;
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

std::map<std::string, uint64_t> read_keyed(const std::string& dir, const std::string& file) {
  std::map<std::string, uint64_t> out;
  auto s = read_trimmed(dir, file);
  if (!s) return out;
  // "key value" pairs; streams are avoided on the create path (locale set-up
  // costs start-up time and memory).
  auto w = ci::split_words(*s);
  for (size_t i = 0; i + 1 < w.size(); i += 2) {
    if (w[i + 1] == "max") {
      out[w[i]] = kMax;
    } else if (auto v = ci::parse_u64(w[i + 1])) {
      out[w[i]] = *v;
    }
  }
  return out;
}

Result<std::vector<DeviceRule>> parse_device_rules(const std::vector<spec::DeviceCgroup>& rules) {
  std::vector<DeviceRule> out;
  for (size_t i = 0; i < rules.size(); ++i) {
    const auto& d = rules[i];
    const std::string field = "linux.resources.devices[" + std::to_string(i) + "]";
    DeviceRule r;
    r.allow = d.allow;
    std::string type = d.type.value_or("a");
    if (type != "a" && type != "b" && type != "c")
      return make_error(field + ".type: \"" + type + "\" is not one of a, b, c");
    r.type = type[0];
    r.major = d.major.value_or(-1);
    r.minor = d.minor.value_or(-1);
    if (r.major < -1 || r.major > UINT32_MAX) return make_error(field + ".major: out of range");
    if (r.minor < -1 || r.minor > UINT32_MAX) return make_error(field + ".minor: out of range");
    std::string access = d.access.value_or("rwm");
    if (access.empty()) access = "rwm";
    for (char c : access) {
      if (c == 'r') {
        r.access |= 2;
      } else if (c == 'w') {
        r.access |= 4;
      } else if (c == 'm') {
        r.access |= 1;
      } else {
        return make_error(field + ".access: \"" + access + "\" has characters other than r, w, m");
      }
    }
    r.access_text = access;
    out.push_back(r);
  }
  return out;
}

Status write_pids(const std::string& dir, const spec::Pids& p) {
  if (!p.limit) return {};
  // As crun: zero or negative means no limit.
  std::string v = *p.limit > 0 ? std::to_string(*p.limit) : "max";
  return write_setting(dir, "pids.max", v, "linux.resources.pids.limit");
}

Status write_rdma(const std::string& dir, const std::map<std::string, spec::Rdma>& rdma) {
  for (const auto& [device, limit] : rdma) {
    const std::string field = "linux.resources.rdma[\"" + device + "\"]";
    if (device.empty() || device.find_first_of(" \n=") != std::string::npos)
      return make_error(field + ": not a device name");
    if (!limit.hcaHandles && !limit.hcaObjects) continue;
    std::string line = device;
    if (limit.hcaHandles) line += " hca_handle=" + std::to_string(*limit.hcaHandles);
    if (limit.hcaObjects) line += " hca_object=" + std::to_string(*limit.hcaObjects);
    MXC_TRY(write_setting(dir, "rdma.max", line, field));
  }
  return {};
}

void pids_stats(const std::string& dir, nlohmann::json& out) {
  out["current"] = read_u64(dir, "pids.current").value_or(0);
  uint64_t limit = read_u64(dir, "pids.max").value_or(0);
  out["limit"] = limit == kMax ? 0 : limit;  // runc reports "max" as 0
}

}  // namespace cgroup_internal

// ---------------------------------------------------------------------------
// Layout.

namespace {

const std::set<std::string, std::less<>>& known_v1_controllers() {
  static const std::set<std::string, std::less<>> k = {
      "blkio",   "cpu",      "cpuacct",    "cpuset", "devices", "freezer", "hugetlb", "memory",
      "net_cls", "net_prio", "perf_event", "pids",   "rdma",    "misc",    "debug"};
  return k;
}

// mountinfo escapes space, tab, newline and backslash as \ooo.
std::string unescape_mountinfo(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 3 < s.size() && s[i + 1] >= '0' && s[i + 1] <= '7' && s[i + 2] >= '0' &&
        s[i + 2] <= '7' && s[i + 3] >= '0' && s[i + 3] <= '7') {
      out += static_cast<char>((s[i + 1] - '0') * 64 + (s[i + 2] - '0') * 8 + (s[i + 3] - '0'));
      i += 3;
    } else {
      out += s[i];
    }
  }
  return out;
}

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  size_t start = 0;
  for (;;) {
    size_t end = s.find(sep, start);
    out.push_back(s.substr(start, end == std::string_view::npos ? end : end - start));
    if (end == std::string_view::npos) return out;
    start = end + 1;
  }
}

}  // namespace

std::vector<CgroupHierarchy> parse_cgroup_hierarchies(std::string_view mountinfo) {
  std::vector<CgroupHierarchy> out;
  std::vector<std::string> devices;  // major:minor of each entry of `out`
  for (std::string_view line : split(mountinfo, '\n')) {
    std::vector<std::string_view> f;
    for (auto w : split(line, ' '))
      if (!w.empty()) f.push_back(w);
    auto dash = std::find(f.begin(), f.end(), std::string_view("-"));
    if (dash == f.end() || f.end() - dash < 4 || dash - f.begin() < 6) continue;
    std::string_view fstype = dash[1];
    if (fstype != "cgroup" && fstype != "cgroup2") continue;
    CgroupHierarchy h;
    h.v2 = fstype == "cgroup2";
    h.root = unescape_mountinfo(f[3]);
    h.mountpoint = unescape_mountinfo(f[4]);
    if (!h.v2) {
      for (auto opt : split(dash[3], ',')) {
        if (known_v1_controllers().count(opt) != 0 || opt.substr(0, 5) == "name=")
          h.controllers.emplace_back(opt);
      }
      if (h.controllers.empty()) continue;  // nothing we could use
    }
    const std::string device(f[2]);
    auto same = std::find(devices.begin(), devices.end(), device);
    if (same != devices.end()) {
      auto& prev = out[static_cast<size_t>(same - devices.begin())];
      if (prev.root != "/" && h.root == "/") prev = h;
      continue;
    }
    devices.push_back(device);
    out.push_back(std::move(h));
  }
  return out;
}

std::vector<CgroupHierarchy> detect_cgroup_hierarchies() {
  auto text = read_file("/proc/self/mountinfo");
  if (!text) return {};
  auto hs = parse_cgroup_hierarchies(*text);
  for (auto& h : hs) {
    if (!h.v2) continue;
    if (auto c = ci::read_trimmed(h.mountpoint, "cgroup.controllers"))
      h.controllers = ci::split_words(*c);
  }
  return hs;
}

CgroupLayout cgroup_layout(const std::vector<CgroupHierarchy>& hierarchies) {
  bool v1 = false, v2 = false;
  for (const auto& h : hierarchies) (h.v2 ? v2 : v1) = true;
  if (v1 && v2) return CgroupLayout::kHybrid;
  if (v2) return CgroupLayout::kV2;
  return v1 ? CgroupLayout::kV1 : CgroupLayout::kNone;
}

// ---------------------------------------------------------------------------
// linux.cgroupsPath.

namespace {

Status check_components(std::string_view rel, const std::string& field) {
  if (rel.empty()) return make_error(field + ": names the root cgroup");
  for (auto c : split(rel, '/')) {
    if (c.empty()) return make_error(field + ": has an empty component");
    if (c == "." || c == "..")
      return make_error(field + ": has a \"" + std::string(c) + "\" component");
  }
  return {};
}

}  // namespace

Result<std::string> expand_systemd_cgroups_path(const std::string& spec) {
  const std::string field = "linux.cgroupsPath";
  auto parts = split(spec, ':');
  if (parts.size() != 3)
    return make_error(field + ": \"" + spec + "\" is not in the systemd form slice:prefix:name");
  std::string slice(parts[0].empty() ? "system.slice" : parts[0]);
  std::string_view prefix = parts[1], name = parts[2];
  if (name.empty()) return make_error(field + ": \"" + spec + "\" has an empty name");
  if (slice.size() < 7 || slice.substr(slice.size() - 6) != ".slice" ||
      slice.find('/') != std::string::npos)
    return make_error(field + ": \"" + slice + "\" is not a slice name (x.slice)");
  for (auto part : {prefix, name})
    if (part.find('/') != std::string_view::npos || part == "." || part == "..")
      return make_error(field + ": \"" + spec + "\" has a path in the prefix or name");
  // "a-b.slice" lives in "a.slice/a-b.slice" (systemd's slice nesting).
  std::string path;
  std::string base = slice.substr(0, slice.size() - 6);
  if (base != "-") {
    if (base.empty() || base.front() == '-' || base.back() == '-' ||
        base.find("--") != std::string::npos)
      return make_error(field + ": \"" + slice + "\" is not a valid slice name");
    size_t pos = 0;
    for (;;) {
      pos = base.find('-', pos);
      std::string prefix_slice = base.substr(0, pos) + ".slice";
      path += "/" + prefix_slice;
      if (pos == std::string::npos) break;
      ++pos;
    }
  }
  std::string unit(name);
  if (unit.size() < 7 || unit.substr(unit.size() - 6) != ".slice")
    unit = (prefix.empty() ? "" : std::string(prefix) + "-") + unit + ".scope";
  return path + "/" + unit;
}

Result<std::string> resolve_cgroups_path(const std::optional<std::string>& cgroups_path,
                                         const std::string& id, bool systemd) {
  const std::string field = "linux.cgroupsPath";
  if (cgroups_path && cgroups_path->find('\0') != std::string::npos)
    return make_error(field + ": contains a NUL byte");
  if (systemd) {
    std::string spec = cgroups_path.value_or("system.slice:mxc:" + id);
    auto expanded = expand_systemd_cgroups_path(spec);
    if (!expanded) return expanded.error();
    if (!ci::file_exists("/run/systemd/system"))
      return make_error("--systemd-cgroup: systemd is not running (no /run/systemd/system)");
    return expanded;
  }
  if (!cgroups_path) {
    MXC_TRY(check_components(id, "container id"));
    return "/mxc/" + id;
  }
  const std::string& p = *cgroups_path;
  if (!p.empty() && p[0] == '/') {
    MXC_TRY(check_components(std::string_view(p).substr(1), field));
    return p;
  }
  MXC_TRY(check_components(p, field));
  return "/mxc/" + p;
}

namespace {

// log2 and 2^x without libm: the formula below is the only floating point the
// runtime needs, and not mapping libm.so at every start keeps peak RSS down.
double log2_no_libm(double x) {  // x >= 1
  int whole = 0;
  while (x >= 2.0) {
    x /= 2.0;
    ++whole;
  }
  double frac = 0.0;
  double bit = 0.5;
  for (int i = 0; i < 60; ++i, bit /= 2.0) {  // one binary digit per squaring
    x *= x;
    if (x >= 2.0) {
      x /= 2.0;
      frac += bit;
    }
  }
  return whole + frac;
}

double exp2_no_libm(double t) {  // 0 <= t < 64
  int whole = static_cast<int>(t);
  double f = (t - whole) * 0.69314718055994530942;  // 2^frac = e^(frac ln 2)
  double term = 1.0;
  double sum = 1.0;
  for (int n = 1; n < 30; ++n) {
    term *= f / n;
    sum += term;
  }
  for (int i = 0; i < whole; ++i) sum *= 2.0;
  return sum;
}

}  // namespace

uint64_t cpu_shares_to_weight(uint64_t shares) {
  if (shares == 0) return 0;
  if (shares <= 2) return 1;
  if (shares >= 262144) return 10000;
  // crun's and runc's formula: 10^((l^2 + 125 l) / 612 - 7/34), l = log2(shares), rounded up.
  double l = log2_no_libm(static_cast<double>(shares));
  double exponent = (l * l + 125 * l) / 612.0 - 7.0 / 34.0;
  double w = exp2_no_libm(exponent * 3.32192809488736234787);  // 10^e = 2^(e log2 10)
  // Rounding up, but not past an integer that the last bits of error overshoot.
  auto floor_w = static_cast<uint64_t>(w);
  return (w - static_cast<double>(floor_w) > 1e-9) ? floor_w + 1 : floor_w;
}

uint64_t blkio_weight_to_io_weight(uint64_t weight) {
  if (weight == 0) return 0;
  return 1 + (weight - 10) * 9999 / 990;
}

// ---------------------------------------------------------------------------
// Cgroup.

namespace {

bool is_dir(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

bool has(const CgroupHierarchy& h, std::string_view controller) {
  return std::find(h.controllers.begin(), h.controllers.end(), controller) != h.controllers.end();
}

// Subdirectories of `dir` (child cgroups).
std::vector<std::string> child_dirs(const std::string& dir) {
  std::vector<std::string> out;
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return out;
  while (dirent* e = ::readdir(d)) {
    std::string name = e->d_name;
    if (name == "." || name == "..") continue;
    if (e->d_type == DT_DIR || (e->d_type == DT_UNKNOWN && is_dir(dir + "/" + name)))
      out.push_back(dir + "/" + name);
  }
  ::closedir(d);
  return out;
}

// Children first; a cgroup whose last task just exited stays busy briefly.
Status remove_tree(const std::string& dir, std::chrono::steady_clock::time_point deadline) {
  for (const auto& child : child_dirs(dir)) MXC_TRY(remove_tree(child, deadline));
  for (;;) {
    if (::rmdir(dir.c_str()) == 0 || errno == ENOENT) return {};
    if (errno != EBUSY || std::chrono::steady_clock::now() >= deadline)
      return sys_error("rmdir " + dir);
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

void collect_pids(const std::string& dir, std::set<pid_t>& out) {
  if (auto procs = ci::read_trimmed(dir, "cgroup.procs")) {
    for (const auto& w : ci::split_words(*procs)) {
      if (auto v = ci::parse_u64(w)) out.insert(static_cast<pid_t>(*v));
    }
  }
  for (const auto& child : child_dirs(dir)) collect_pids(child, out);
}

std::string join(const std::vector<std::string>& v, const std::string& sep) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : sep) + s;
  return out;
}

// Controllers the v2 `dir` may hand to its children: all it has (as runc).
// One write of all first; if the kernel refuses one, each alone, ignoring
// refusals: apply() reports a missing file by the field that needs it.
void enable_subtree_controllers(const std::string& dir) {
  auto available = ci::read_trimmed(dir, "cgroup.controllers");
  if (!available || available->empty()) return;
  std::vector<std::string> plus;
  for (const auto& c : ci::split_words(*available)) plus.push_back("+" + c);
  if (ci::write_setting(dir, "cgroup.subtree_control", join(plus, " "), "").ok()) return;
  for (const auto& p : plus) (void)ci::write_setting(dir, "cgroup.subtree_control", p, "");
}

}  // namespace

Result<Cgroup> Cgroup::create(const std::string& path) {
  return create(path, detect_cgroup_hierarchies());
}

Result<Cgroup> Cgroup::create(const std::string& path, std::vector<CgroupHierarchy> hierarchies) {
  if (path.empty() || path[0] != '/')
    return make_error("cgroup path \"" + path + "\" is not absolute");
  MXC_TRY(check_components(std::string_view(path).substr(1), "cgroup path \"" + path + "\""));
  if (hierarchies.empty())
    return make_error("no cgroup hierarchy is mounted (see /proc/self/mountinfo)");
  std::vector<std::string> made;
  auto undo = [&made] {
    for (auto it = made.rbegin(); it != made.rend(); ++it) ::rmdir(it->c_str());
  };
  for (const auto& h : hierarchies) {
    std::string cur = h.mountpoint;
    for (auto comp : split(std::string_view(path).substr(1), '/')) {
      std::string parent = cur;
      cur += "/" + std::string(comp);
      if (h.v2) enable_subtree_controllers(parent);
      if (::mkdir(cur.c_str(), 0755) == 0) {
        made.push_back(cur);
      } else if (errno != EEXIST) {
        Error e = sys_error("mkdir " + cur);
        undo();
        return e;
      }
      if (!h.v2 && has(h, "cpuset")) {
        auto st = ci::v1_cpuset_inherit(parent, cur);
        if (!st) {
          undo();
          return st.error();
        }
      }
    }
  }
  return Cgroup(path, std::move(hierarchies));
}

Result<Cgroup> Cgroup::open(const std::string& path) {
  return open(path, detect_cgroup_hierarchies());
}

Result<Cgroup> Cgroup::open(const std::string& path, std::vector<CgroupHierarchy> hierarchies) {
  if (path.empty() || path[0] != '/')
    return make_error("cgroup path \"" + path + "\" is not absolute");
  MXC_TRY(check_components(std::string_view(path).substr(1), "cgroup path \"" + path + "\""));
  std::vector<CgroupHierarchy> present;
  for (auto& h : hierarchies)
    if (is_dir(h.mountpoint + path)) present.push_back(std::move(h));
  if (present.empty()) return make_error("cgroup " + path + " does not exist in any hierarchy");
  return Cgroup(path, std::move(present));
}

const CgroupHierarchy* Cgroup::hierarchy_for(std::string_view controller) const {
  for (const auto& h : hierarchies_)
    if (!h.v2 && has(h, controller)) return &h;
  for (const auto& h : hierarchies_)
    if (h.v2 && has(h, controller)) return &h;
  return nullptr;
}

std::optional<std::string> Cgroup::controller_dir(std::string_view controller) const {
  if (const auto* h = hierarchy_for(controller)) return dir_in(*h);
  return std::nullopt;
}

std::optional<std::string> Cgroup::unified_dir() const {
  for (const auto& h : hierarchies_)
    if (h.v2) return dir_in(h);
  return std::nullopt;
}

std::vector<std::string> Cgroup::dirs() const {
  std::vector<std::string> out;
  for (const auto& h : hierarchies_) out.push_back(dir_in(h));
  return out;
}

namespace {

std::string first_set_memory_field(const spec::Memory& m) {
  const std::string p = "linux.resources.memory.";
  if (m.limit) return p + "limit";
  if (m.reservation) return p + "reservation";
  if (m.swap) return p + "swap";
  if (m.kernel) return p + "kernel";
  if (m.kernelTCP) return p + "kernelTCP";
  if (m.swappiness) return p + "swappiness";
  if (m.disableOOMKiller) return p + "disableOOMKiller";
  if (m.useHierarchy) return p + "useHierarchy";
  if (m.checkBeforeUpdate) return p + "checkBeforeUpdate";
  return "";
}

std::string first_set_cpu_field(const spec::Cpu& c) {
  const std::string p = "linux.resources.cpu.";
  if (c.shares) return p + "shares";
  if (c.quota) return p + "quota";
  if (c.period) return p + "period";
  if (c.burst) return p + "burst";
  if (c.realtimeRuntime) return p + "realtimeRuntime";
  if (c.realtimePeriod) return p + "realtimePeriod";
  if (c.idle) return p + "idle";
  return "";
}

bool block_io_set(const spec::BlockIo& b) {
  return b.weight || b.leafWeight || !b.weightDevice.empty() || !b.throttleReadBpsDevice.empty() ||
         !b.throttleWriteBpsDevice.empty() || !b.throttleReadIOPSDevice.empty() ||
         !b.throttleWriteIOPSDevice.empty();
}

}  // namespace

Status Cgroup::apply(const spec::Resources& r) const {
  // Pass 1: find the directory of every controller needed, so a missing
  // controller fails before anything is written. Pass 2 runs the writes in
  // runc's order (cpuset first: v1 refuses tasks in a cpuset without cpus).
  std::vector<std::function<Status()>> writes;
  auto need = [&](std::string_view controller,
                  const std::string& field) -> Result<const CgroupHierarchy*> {
    if (const auto* h = hierarchy_for(controller)) return h;
    return make_error(field + ": this host has no " + std::string(controller) +
                      " cgroup controller");
  };

  if (r.cpu && (r.cpu->cpus || r.cpu->mems)) {
    auto h = need("cpuset", r.cpu->cpus ? "linux.resources.cpu.cpus" : "linux.resources.cpu.mems");
    if (!h) return h.error();
    writes.push_back([this, h = *h, &c = *r.cpu] {
      return h->v2 ? ci::v2_cpuset(dir_in(*h), c) : ci::v1_cpuset(dir_in(*h), c);
    });
  }
  if (!r.devices.empty()) {
    if (const auto* h = hierarchy_for("devices"); h != nullptr && !h->v2) {
      writes.push_back([this, h, &d = r.devices] { return ci::v1_devices(dir_in(*h), d); });
    } else if (auto u = unified_dir()) {
      // v2 has no devices controller: a BPF program on the cgroup does its job.
      writes.push_back([u = *u, &d = r.devices] {
        auto st = attach_device_filter(u, d);
        if (!st) return Status(st.error().context("linux.resources.devices"));
        return Status();
      });
    } else {
      return make_error("linux.resources.devices: this host has no devices cgroup controller");
    }
  }
  if (r.memory) {
    if (std::string field = first_set_memory_field(*r.memory); !field.empty()) {
      auto h = need("memory", field);
      if (!h) return h.error();
      writes.push_back([this, h = *h, &m = *r.memory] {
        return h->v2 ? ci::v2_memory(dir_in(*h), m) : ci::v1_memory(dir_in(*h), m);
      });
    }
  }
  if (r.cpu) {
    if (std::string field = first_set_cpu_field(*r.cpu); !field.empty()) {
      auto h = need("cpu", field);
      if (!h) return h.error();
      writes.push_back([this, h = *h, &c = *r.cpu] {
        return h->v2 ? ci::v2_cpu(dir_in(*h), c) : ci::v1_cpu(dir_in(*h), c);
      });
    }
  }
  if (r.pids && r.pids->limit) {
    auto h = need("pids", "linux.resources.pids.limit");
    if (!h) return h.error();
    writes.push_back([this, h = *h, &p = *r.pids] { return ci::write_pids(dir_in(*h), p); });
  }
  if (r.blockIO && block_io_set(*r.blockIO)) {
    const CgroupHierarchy* h = hierarchy_for("blkio");
    if (h == nullptr || h->v2) h = hierarchy_for("io");
    if (h == nullptr)
      return make_error(
          "linux.resources.blockIO: this host has no blkio (v1) or io (v2) controller");
    writes.push_back([this, h, &b = *r.blockIO] {
      return h->v2 ? ci::v2_io(dir_in(*h), b) : ci::v1_blkio(dir_in(*h), b);
    });
  }
  if (!r.hugepageLimits.empty()) {
    auto h = need("hugetlb", "linux.resources.hugepageLimits");
    if (!h) return h.error();
    writes.push_back([this, h = *h, &l = r.hugepageLimits] {
      return h->v2 ? ci::v2_hugetlb(dir_in(*h), l) : ci::v1_hugetlb(dir_in(*h), l);
    });
  }
  if (r.network) {
    // net_cls/net_prio exist only in v1; v2 classifies with BPF instead.
    if (r.network->classID) {
      const auto* h = hierarchy_for("net_cls");
      if (h == nullptr || h->v2)
        return make_error(
            "linux.resources.network.classID: this host has no net_cls cgroup controller");
      writes.push_back(
          [this, h, id = *r.network->classID] { return ci::v1_net_cls(dir_in(*h), id); });
    }
    if (!r.network->priorities.empty()) {
      const auto* h = hierarchy_for("net_prio");
      if (h == nullptr || h->v2)
        return make_error(
            "linux.resources.network.priorities: this host has no net_prio cgroup controller");
      writes.push_back(
          [this, h, &p = r.network->priorities] { return ci::v1_net_prio(dir_in(*h), p); });
    }
  }
  if (!r.rdma.empty()) {
    auto h = need("rdma", "linux.resources.rdma");
    if (!h) return h.error();
    writes.push_back([this, h = *h, &m = r.rdma] { return ci::write_rdma(dir_in(*h), m); });
  }
  if (!r.unified.empty()) {
    auto u = unified_dir();
    if (!u) return make_error("linux.resources.unified: this host has no cgroup v2 hierarchy");
    // Last, so an explicit file value wins over the converted fields (as runc).
    writes.push_back([u = *u, &m = r.unified] { return ci::v2_unified(u, m); });
  }
  for (const auto& w : writes) MXC_TRY(w());
  return {};
}

Status Cgroup::add_process(pid_t pid) const {
  for (const auto& h : hierarchies_) {
    auto st = ci::write_setting(dir_in(h), "cgroup.procs", std::to_string(pid),
                                "pid " + std::to_string(pid));
    if (!st) return st;
  }
  return {};
}

std::vector<std::string> Cgroup::procs_files() const {
  std::vector<std::string> out;
  for (const auto& h : hierarchies_) out.push_back(dir_in(h) + "/cgroup.procs");
  return out;
}

Result<std::vector<pid_t>> Cgroup::pids() const {
  std::set<pid_t> all;
  bool any = false;
  for (const auto& h : hierarchies_) {
    const std::string dir = dir_in(h);
    if (!ci::file_exists(dir + "/cgroup.procs")) continue;
    any = true;
    collect_pids(dir, all);
  }
  if (!any) return make_error("cgroup " + path_ + ": no cgroup.procs in any hierarchy");
  return std::vector<pid_t>(all.begin(), all.end());
}

Status Cgroup::freeze() const {
  if (const auto* h = hierarchy_for("freezer"); h != nullptr && !h->v2)
    return ci::v1_freeze(dir_in(*h), true);
  if (auto u = unified_dir(); u && ci::file_exists(*u + "/cgroup.freeze"))
    return ci::v2_freeze(*u, true);
  return make_error("cgroup " + path_ +
                    ": this host has no freezer (no v1 freezer, no cgroup.freeze)");
}

Status Cgroup::thaw() const {
  if (const auto* h = hierarchy_for("freezer"); h != nullptr && !h->v2)
    return ci::v1_freeze(dir_in(*h), false);
  if (auto u = unified_dir(); u && ci::file_exists(*u + "/cgroup.freeze"))
    return ci::v2_freeze(*u, false);
  return make_error("cgroup " + path_ +
                    ": this host has no freezer (no v1 freezer, no cgroup.freeze)");
}

Result<bool> Cgroup::frozen() const {
  if (const auto* h = hierarchy_for("freezer"); h != nullptr && !h->v2)
    return ci::v1_frozen(dir_in(*h));
  if (auto u = unified_dir(); u && ci::file_exists(*u + "/cgroup.freeze")) return ci::v2_frozen(*u);
  return make_error("cgroup " + path_ +
                    ": this host has no freezer (no v1 freezer, no cgroup.freeze)");
}

Status Cgroup::kill_all(int signal) const {
  if (signal == SIGKILL) {
    if (auto u = unified_dir(); u && ci::file_exists(*u + "/cgroup.kill"))
      return ci::write_setting(*u, "cgroup.kill", "1", "cgroup " + path_);
  }
  // Frozen, nothing can fork a new process between listing and signalling.
  auto was_frozen = frozen();
  bool froze = false;
  if (was_frozen && !*was_frozen) froze = freeze().ok();
  auto list = pids();
  Status result;
  if (!list) {
    result = list.error();
  } else {
    for (pid_t pid : *list) {
      if (::kill(pid, signal) != 0 && errno != ESRCH && result.ok())
        result = sys_error("kill " + std::to_string(pid));
    }
  }
  // Thaw what we froze; a paused cgroup stays paused unless SIGKILL, which
  // frozen tasks could not act on.
  if (froze || (was_frozen && *was_frozen && signal == SIGKILL)) {
    auto st = thaw();
    if (!st && result.ok()) result = st;
  }
  return result;
}

Result<nlohmann::json> Cgroup::stats() const {
  nlohmann::json data = {{"cpu",
                          {{"usage", {{"total", 0}, {"kernel", 0}, {"user", 0}}},
                           {"throttling", nlohmann::json::object()}}},
                         {"memory", nlohmann::json::object()},
                         {"pids", nlohmann::json::object()},
                         {"blkio", nlohmann::json::object()},
                         {"hugetlb", nlohmann::json::object()}};
  const auto* cpu = hierarchy_for("cpu");
  const auto* cpuacct = hierarchy_for("cpuacct");
  if ((cpu != nullptr && !cpu->v2) || cpuacct != nullptr) {
    std::optional<std::string> cpu_dir, acct_dir;
    if (cpu != nullptr && !cpu->v2) cpu_dir = dir_in(*cpu);
    if (cpuacct != nullptr) acct_dir = dir_in(*cpuacct);
    ci::v1_cpu_stats(cpu_dir, acct_dir, data["cpu"]);
  } else if (auto u = unified_dir()) {
    ci::v2_cpu_stats(*u, data["cpu"]);  // cpu.stat exists without the cpu controller
  }
  if (const auto* h = hierarchy_for("memory"))
    h->v2 ? ci::v2_memory_stats(dir_in(*h), data["memory"])
          : ci::v1_memory_stats(dir_in(*h), data["memory"]);
  if (const auto* h = hierarchy_for("pids")) ci::pids_stats(dir_in(*h), data["pids"]);
  if (const auto* h = hierarchy_for("blkio"); h != nullptr && !h->v2)
    ci::v1_blkio_stats(dir_in(*h), data["blkio"]);
  else if (const auto* io = hierarchy_for("io"))
    ci::v2_io_stats(dir_in(*io), data["blkio"]);
  if (const auto* h = hierarchy_for("hugetlb"))
    h->v2 ? ci::v2_hugetlb_stats(dir_in(*h), data["hugetlb"])
          : ci::v1_hugetlb_stats(dir_in(*h), data["hugetlb"]);
  return data;
}

Result<uint64_t> Cgroup::oom_kill_count() const {
  const auto* h = hierarchy_for("memory");
  if (h == nullptr)
    return make_error("cgroup " + path_ + ": this host has no memory cgroup controller");
  const std::string dir = dir_in(*h);
  const char* file = h->v2 ? "memory.events" : "memory.oom_control";
  auto keyed = ci::read_keyed(dir, file);
  auto it = keyed.find("oom_kill");
  if (it == keyed.end()) return make_error(dir + "/" + file + ": no oom_kill count");
  return it->second;
}

void Cgroup::remove_if_empty() const {
  for (const auto& h : hierarchies_) ::rmdir(dir_in(h).c_str());
}

Status Cgroup::destroy() {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(1);
  Status result;
  for (const auto& h : hierarchies_) {
    auto st = remove_tree(dir_in(h), deadline);
    if (!st && result.ok()) result = st.error().context("cgroup " + path_);
  }
  return result;
}

}  // namespace mxc::sys
