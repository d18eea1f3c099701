// cgroups: mountinfo parsing (v1, v2, hybrid), linux.cgroupsPath resolution,
// the resource writers against fake cgroup trees (regular files, so every
// layout is checked on any host), and a real cgroup on this host.
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include <boost/test/unit_test.hpp>

#include "mxc/sys/cgroups.hpp"
#include "mxc/sys/file_util.hpp"

namespace fs = std::filesystem;
using mxc::sys::Cgroup;
using mxc::sys::CgroupHierarchy;

namespace {

template <class R>
std::string why(const R& r) {
  return r.ok() ? std::string() : r.error().message;
}

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

std::string slurp(const std::string& path) {
  auto r = mxc::sys::read_file(path);
  if (!r) return "<unreadable " + path + ">";
  std::string s = *r;
  while (!s.empty() && s.back() == '\n') s.pop_back();
  return s;
}

// ---- canned /proc/self/mountinfo ----

// CentOS 7 style: combined cpu,cpuacct, a named hierarchy, an escaped mount
// point, and the memory hierarchy bind-mounted a second time from deeper.
const char* const kMountinfoV1 =
    "18 41 0:17 / /sys rw,nosuid,nodev,noexec,relatime shared:6 - sysfs sysfs rw\n"
    "25 18 0:22 / /sys/fs/cgroup ro,nosuid,nodev,noexec shared:9 - tmpfs tmpfs ro,mode=755\n"
    "26 25 0:23 / /sys/fs/cgroup/systemd rw,nosuid,nodev,noexec,relatime shared:10 - cgroup "
    "cgroup rw,xattr,release_agent=/usr/lib/systemd/systemd-cgroups-agent,name=systemd\n"
    "29 25 0:26 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid,nodev,noexec,relatime shared:13 - cgroup "
    "cgroup rw,cpu,cpuacct\n"
    "30 25 0:27 / /sys/fs/cgroup/net_cls,net_prio rw,relatime shared:14 - cgroup cgroup "
    "rw,net_cls,net_prio\n"
    "31 25 0:28 / /sys/fs/cgroup/memory rw,relatime shared:15 - cgroup cgroup rw,memory\n"
    "32 25 0:29 / /sys/fs/cgroup/my\\040cpuset rw,relatime - cgroup cgroup "
    "rw,cpuset,clone_children\n"
    "90 41 0:28 /docker/abc /mnt/memory-bind rw,relatime - cgroup cgroup rw,memory\n"
    "41 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw\n";

const char* const kMountinfoV2 =
    "22 1 0:21 / /proc rw,nosuid,nodev,noexec,relatime shared:12 - proc proc rw\n"
    "24 30 0:22 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 "
    "rw,nsdelegate,memory_recursiveprot\n"
    "30 1 259:2 / / rw,relatime shared:1 - ext4 /dev/nvme0n1p2 rw,errors=remount-ro\n";

// This host's shape: v1 controllers, a unified mount, and a deeper bind
// mount of hugetlb listed before the real one (the root "/" one must win).
const char* const kMountinfoHybrid =
    "31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
    "32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu\n"
    "33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct\n"
    "35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n"
    "39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids\n"
    "40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd\n"
    "41 31 0:38 / /sys/fs/cgroup/unified rw,relatime shared:5 - cgroup2 cgroup2 rw,nsdelegate\n"
    "43 31 0:39 /sub /tmp/hugetlb-sub rw,relatime - cgroup cgroup rw,hugetlb\n"
    "44 31 0:39 / /sys/fs/cgroup/hugetlb rw,relatime - cgroup cgroup rw,hugetlb\n";

// ---- fake cgroup trees ----

// A temporary directory standing for hierarchy mount points; cgroup files
// are regular files created with the content a test needs.
struct FakeTree {
  fs::path root;
  FakeTree() {
    char tmpl[] = "/tmp/mxc-cgroup-test-XXXXXX";
    BOOST_TEST_REQUIRE(::mkdtemp(tmpl) != nullptr);
    root = tmpl;
  }
  ~FakeTree() {
    std::error_code ec;
    fs::remove_all(root, ec);
  }
  FakeTree(const FakeTree&) = delete;
  FakeTree& operator=(const FakeTree&) = delete;

  // A hierarchy at <root>/<name> with the cgroup "/c" made and `files` in it.
  CgroupHierarchy hierarchy(const std::string& name, std::vector<std::string> controllers, bool v2,
                            const std::vector<std::pair<std::string, std::string>>& files) {
    fs::create_directories(root / name / "c");
    for (const auto& [file, content] : files) std::ofstream(root / name / "c" / file) << content;
    return CgroupHierarchy{(root / name).string(), std::move(controllers), v2, "/"};
  }
  std::string file(const std::string& name, const std::string& f) const {
    return slurp((root / name / "c" / f).string());
  }
};

mxc::sys::CgroupHierarchy fake_v2(FakeTree& t) {
  return t.hierarchy("unified", {"cpuset", "cpu", "io", "memory", "hugetlb", "pids"}, true,
                     {{"cpu.weight", "100"},
                      {"cpu.max", "max 100000"},
                      {"cpu.max.burst", "0"},
                      {"cpuset.cpus", ""},
                      {"memory.max", "max"},
                      {"memory.swap.max", "max"},
                      {"memory.low", "0"},
                      {"memory.high", "max"},
                      {"memory.current", "4096"},
                      {"pids.max", "max"},
                      {"io.max", ""},
                      {"io.weight", "default 100"},
                      {"hugetlb.2MB.max", "max"},
                      {"cgroup.procs", ""},
                      {"cgroup.freeze", "0"}});
}

}  // namespace

BOOST_AUTO_TEST_SUITE(cgroup_layout)

BOOST_AUTO_TEST_CASE(parses_v1_mountinfo) {
  auto hs = mxc::sys::parse_cgroup_hierarchies(kMountinfoV1);
  BOOST_TEST_REQUIRE(hs.size() == 5u);
  BOOST_TEST(hs[0].mountpoint == "/sys/fs/cgroup/systemd");
  BOOST_TEST((hs[0].controllers == std::vector<std::string>{"name=systemd"}));
  BOOST_TEST(hs[1].mountpoint == "/sys/fs/cgroup/cpu,cpuacct");
  BOOST_TEST((hs[1].controllers == std::vector<std::string>{"cpu", "cpuacct"}));
  BOOST_TEST((hs[2].controllers == std::vector<std::string>{"net_cls", "net_prio"}));
  BOOST_TEST(hs[3].mountpoint == "/sys/fs/cgroup/memory");  // the bind mount is dropped
  BOOST_TEST(hs[4].mountpoint == "/sys/fs/cgroup/my cpuset");
  BOOST_TEST((hs[4].controllers == std::vector<std::string>{"cpuset"}));
  for (const auto& h : hs) BOOST_TEST(!h.v2);
  BOOST_TEST((mxc::sys::cgroup_layout(hs) == mxc::sys::CgroupLayout::kV1));
}

BOOST_AUTO_TEST_CASE(parses_v2_mountinfo) {
  auto hs = mxc::sys::parse_cgroup_hierarchies(kMountinfoV2);
  BOOST_TEST_REQUIRE(hs.size() == 1u);
  BOOST_TEST(hs[0].mountpoint == "/sys/fs/cgroup");
  BOOST_TEST(hs[0].v2);
  BOOST_TEST(hs[0].controllers.empty());  // read from cgroup.controllers by detect only
  BOOST_TEST((mxc::sys::cgroup_layout(hs) == mxc::sys::CgroupLayout::kV2));
}

BOOST_AUTO_TEST_CASE(parses_hybrid_mountinfo) {
  auto hs = mxc::sys::parse_cgroup_hierarchies(kMountinfoHybrid);
  BOOST_TEST_REQUIRE(hs.size() == 7u);
  BOOST_TEST(hs[5].mountpoint == "/sys/fs/cgroup/unified");
  BOOST_TEST(hs[5].v2);
  BOOST_TEST(hs[6].mountpoint == "/sys/fs/cgroup/hugetlb");  // root "/" replaced "/sub"
  BOOST_TEST(hs[6].root == "/");
  BOOST_TEST((mxc::sys::cgroup_layout(hs) == mxc::sys::CgroupLayout::kHybrid));
  BOOST_TEST((mxc::sys::cgroup_layout({}) == mxc::sys::CgroupLayout::kNone));
}

BOOST_AUTO_TEST_CASE(detects_this_host) {
  auto hs = mxc::sys::detect_cgroup_hierarchies();
  BOOST_TEST_REQUIRE(!hs.empty(), "no cgroup mount in /proc/self/mountinfo");
  for (const auto& h : hs) {
    BOOST_TEST(fs::exists(h.mountpoint + "/cgroup.procs"), h.mountpoint);
    if (h.v2) {
      std::string listed = slurp(h.mountpoint + "/cgroup.controllers");
      for (const auto& c : h.controllers) BOOST_TEST(contains(listed, c));
    }
  }
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(cgroups_path)

BOOST_AUTO_TEST_CASE(resolves_absent_absolute_relative) {
  auto absent = mxc::sys::resolve_cgroups_path(std::nullopt, "c1", false);
  BOOST_TEST_REQUIRE(absent.ok(), why(absent));
  BOOST_TEST(*absent == "/mxc/c1");
  auto abs = mxc::sys::resolve_cgroups_path(std::string("/a/b"), "c1", false);
  BOOST_TEST_REQUIRE(abs.ok(), why(abs));
  BOOST_TEST(*abs == "/a/b");
  auto rel = mxc::sys::resolve_cgroups_path(std::string("a/b"), "c1", false);
  BOOST_TEST_REQUIRE(rel.ok(), why(rel));
  BOOST_TEST(*rel == "/mxc/a/b");
}

BOOST_AUTO_TEST_CASE(refuses_bad_paths) {
  for (std::string bad : std::vector<std::string>{"/a/../b", "..", "a/..", "/a//b", "a/", "/", "",
                                                  "/a/./b", std::string("/a\0b", 4)}) {
    auto r = mxc::sys::resolve_cgroups_path(bad, "c1", false);
    BOOST_TEST(!r.ok(), "accepted \"" << bad << "\"");
    if (!r.ok()) BOOST_TEST(contains(r.error().message, "linux.cgroupsPath"), r.error().message);
  }
}

BOOST_AUTO_TEST_CASE(systemd_form) {
  auto plain = mxc::sys::resolve_cgroups_path(std::string("/a/b"), "c1", true);
  BOOST_TEST_REQUIRE(!plain.ok());
  BOOST_TEST(contains(plain.error().message, "linux.cgroupsPath"));
  BOOST_TEST(contains(plain.error().message, "slice:prefix:name"));

  auto expanded = mxc::sys::expand_systemd_cgroups_path("machine-foo.slice:docker:abc");
  BOOST_TEST_REQUIRE(expanded.ok(), why(expanded));
  BOOST_TEST(*expanded == "/machine.slice/machine-foo.slice/docker-abc.scope");
  auto defaulted = mxc::sys::expand_systemd_cgroups_path(":mxc:abc");
  BOOST_TEST_REQUIRE(defaulted.ok(), why(defaulted));
  BOOST_TEST(*defaulted == "/system.slice/mxc-abc.scope");
  BOOST_TEST(!mxc::sys::expand_systemd_cgroups_path("bad:mxc:abc").ok());
  BOOST_TEST(!mxc::sys::expand_systemd_cgroups_path("a--b.slice:mxc:abc").ok());

  auto good = mxc::sys::resolve_cgroups_path(std::string("system.slice:mxc:abc"), "c1", true);
  if (fs::exists("/run/systemd/system")) {
    BOOST_TEST_MESSAGE("systemd runs here: the not-running error is not checked");
    BOOST_TEST(good.ok(), why(good));
  } else {
    BOOST_TEST_REQUIRE(!good.ok());
    BOOST_TEST(good.error().message ==
               "--systemd-cgroup: systemd is not running (no /run/systemd/system)");
  }
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(cgroup_writers)

BOOST_AUTO_TEST_CASE(conversions_match_runc) {
  BOOST_TEST(mxc::sys::cpu_shares_to_weight(0) == 0u);
  BOOST_TEST(mxc::sys::cpu_shares_to_weight(2) == 1u);
  BOOST_TEST(mxc::sys::cpu_shares_to_weight(512) == 59u);
  BOOST_TEST(mxc::sys::cpu_shares_to_weight(1024) == 100u);
  // Values of the libm formula (Python's math.log2/pow with ceil), which the
  // libm-free implementation must reproduce.
  BOOST_TEST(mxc::sys::cpu_shares_to_weight(3) == 2u);
  BOOST_TEST(mxc::sys::cpu_shares_to_weight(100) == 17u);
  BOOST_TEST(mxc::sys::cpu_shares_to_weight(1000) == 99u);
  BOOST_TEST(mxc::sys::cpu_shares_to_weight(2048) == 174u);
  BOOST_TEST(mxc::sys::cpu_shares_to_weight(5000) == 356u);
  BOOST_TEST(mxc::sys::cpu_shares_to_weight(100000) == 4340u);
  BOOST_TEST(mxc::sys::cpu_shares_to_weight(262144) == 10000u);
  BOOST_TEST(mxc::sys::blkio_weight_to_io_weight(10) == 1u);
  BOOST_TEST(mxc::sys::blkio_weight_to_io_weight(1000) == 10000u);
}

BOOST_AUTO_TEST_CASE(v1_swap_without_accounting_names_the_field) {
  FakeTree t;
  auto mem = t.hierarchy("memory", {"memory"}, false,
                         {{"memory.limit_in_bytes", "9223372036854771712"},
                          {"memory.usage_in_bytes", "0"},
                          {"memory.soft_limit_in_bytes", "0"}});
  auto cg = Cgroup::open("/c", {mem});
  BOOST_TEST_REQUIRE(cg.ok(), why(cg));
  mxc::spec::Resources r;
  r.memory = mxc::spec::Memory{};
  r.memory->limit = 64 << 20;
  r.memory->swap = 128 << 20;
  auto st = cg->apply(r);
  BOOST_TEST_REQUIRE(!st.ok());
  BOOST_TEST(st.error().message ==
             "linux.resources.memory.swap: this host has no swap accounting "
             "(memory.memsw.limit_in_bytes is missing)");
  BOOST_TEST(t.file("memory", "memory.limit_in_bytes") == "9223372036854771712");  // untouched

  r.memory->swap.reset();
  st = cg->apply(r);
  BOOST_TEST_REQUIRE(st.ok(), why(st));
  BOOST_TEST(t.file("memory", "memory.limit_in_bytes") == "67108864");
}

BOOST_AUTO_TEST_CASE(v1_missing_controllers_and_unified_are_errors) {
  FakeTree t;
  auto mem = t.hierarchy("memory", {"memory"}, false, {{"memory.limit_in_bytes", "0"}});
  auto cg = Cgroup::open("/c", {mem});
  BOOST_TEST_REQUIRE(cg.ok(), why(cg));
  mxc::spec::Resources r;
  r.pids = mxc::spec::Pids{50};
  auto st = cg->apply(r);
  BOOST_TEST_REQUIRE(!st.ok());
  BOOST_TEST(st.error().message ==
             "linux.resources.pids.limit: this host has no pids cgroup controller");

  mxc::spec::Resources u;
  u.unified["memory.high"] = "1000";
  st = cg->apply(u);
  BOOST_TEST_REQUIRE(!st.ok());
  BOOST_TEST(contains(st.error().message, "linux.resources.unified"));

  mxc::spec::Resources k;
  k.memory = mxc::spec::Memory{};
  k.memory->kernel = 1 << 20;  // the file is missing in this tree
  st = cg->apply(k);
  BOOST_TEST_REQUIRE(!st.ok());
  BOOST_TEST(contains(st.error().message, "linux.resources.memory.kernel"));
}

BOOST_AUTO_TEST_CASE(v2_writes_converted_values) {
  FakeTree t;
  auto cg = Cgroup::open("/c", {fake_v2(t)});
  BOOST_TEST_REQUIRE(cg.ok(), why(cg));
  mxc::spec::Resources r;
  r.memory = mxc::spec::Memory{};
  r.memory->limit = 64 << 20;
  r.memory->swap = 128 << 20;
  r.memory->reservation = 32 << 20;
  r.cpu = mxc::spec::Cpu{};
  r.cpu->shares = 1024;
  r.cpu->quota = 50000;
  r.cpu->period = 100000;
  r.cpu->burst = 1000;
  r.cpu->cpus = "0";
  r.pids = mxc::spec::Pids{-1};
  r.blockIO = mxc::spec::BlockIo{};
  r.blockIO->throttleReadBpsDevice.push_back({8, 0, 1048576});
  r.hugepageLimits.push_back({"2MB", 4 << 20});
  r.unified["memory.high"] = "100000000";
  auto st = cg->apply(r);
  BOOST_TEST_REQUIRE(st.ok(), why(st));
  BOOST_TEST(t.file("unified", "memory.max") == "67108864");
  BOOST_TEST(t.file("unified", "memory.swap.max") == "67108864");  // swap alone, not mem+swap
  BOOST_TEST(t.file("unified", "memory.low") == "33554432");
  BOOST_TEST(t.file("unified", "cpu.weight") == "100");
  BOOST_TEST(t.file("unified", "cpu.max") == "50000 100000");
  BOOST_TEST(t.file("unified", "cpu.max.burst") == "1000");
  BOOST_TEST(t.file("unified", "cpuset.cpus") == "0");
  BOOST_TEST(t.file("unified", "pids.max") == "max");
  BOOST_TEST(t.file("unified", "io.max") == "8:0 rbps=1048576");
  BOOST_TEST(t.file("unified", "hugetlb.2MB.max") == "4194304");
  BOOST_TEST(t.file("unified", "memory.high") == "100000000");

  // A lone period keeps the quota in force.
  mxc::spec::Resources p;
  p.cpu = mxc::spec::Cpu{};
  p.cpu->period = 200000;
  st = cg->apply(p);
  BOOST_TEST_REQUIRE(st.ok(), why(st));
  BOOST_TEST(t.file("unified", "cpu.max") == "50000 200000");
}

BOOST_AUTO_TEST_CASE(v2_refuses_what_it_has_no_file_for) {
  FakeTree t;
  auto cg = Cgroup::open("/c", {fake_v2(t)});
  BOOST_TEST_REQUIRE(cg.ok(), why(cg));
  auto fails_naming = [&](const mxc::spec::Resources& r, const std::string& field) {
    auto st = cg->apply(r);
    BOOST_TEST(!st.ok(), "accepted " << field);
    if (!st.ok()) BOOST_TEST(contains(st.error().message, field), st.error().message);
  };
  mxc::spec::Resources kernel;
  kernel.memory = mxc::spec::Memory{};
  kernel.memory->kernel = 1 << 20;
  fails_naming(kernel, "linux.resources.memory.kernel");
  mxc::spec::Resources swappiness;
  swappiness.memory = mxc::spec::Memory{};
  swappiness.memory->swappiness = 10;
  fails_naming(swappiness, "linux.resources.memory.swappiness");
  mxc::spec::Resources rt;
  rt.cpu = mxc::spec::Cpu{};
  rt.cpu->realtimeRuntime = 1000;
  fails_naming(rt, "linux.resources.cpu.realtimeRuntime");
  mxc::spec::Resources net;
  net.network = mxc::spec::Network{};
  net.network->classID = 0x100001;
  fails_naming(net, "linux.resources.network.classID");
  mxc::spec::Resources huge;
  huge.hugepageLimits.push_back({"1GB", 1 << 30});
  fails_naming(huge, "linux.resources.hugepageLimits[0].pageSize");
  mxc::spec::Resources escape;
  escape.unified["../memory.max"] = "1";
  fails_naming(escape, "linux.resources.unified[\"../memory.max\"]");
  mxc::spec::Resources absent;
  absent.unified["memory.oom.group"] = "1";
  fails_naming(absent, "linux.resources.unified[\"memory.oom.group\"]");
  mxc::spec::Resources small_swap;
  small_swap.memory = mxc::spec::Memory{};
  small_swap.memory->limit = 64 << 20;
  small_swap.memory->swap = 32 << 20;
  fails_naming(small_swap, "linux.resources.memory.swap");
  mxc::spec::Resources device;
  device.devices.push_back({true, std::string("x"), {}, {}, std::string("rwm")});
  fails_naming(device, "linux.resources.devices[0].type");

  // No swap accounting: memory.swap.max absent.
  fs::remove(fs::path(cg->unified_dir().value()) / "memory.swap.max");
  mxc::spec::Resources swap;
  swap.memory = mxc::spec::Memory{};
  swap.memory->limit = 64 << 20;
  swap.memory->swap = 128 << 20;
  auto st = cg->apply(swap);
  BOOST_TEST_REQUIRE(!st.ok());
  BOOST_TEST(st.error().message ==
             "linux.resources.memory.swap: this host has no swap accounting "
             "(memory.swap.max is missing)");
}

BOOST_AUTO_TEST_CASE(hybrid_routes_each_controller_to_its_hierarchy) {
  // hugetlb in the unified mount, memory in v1: as on this host's brief.
  FakeTree t;
  auto mem = t.hierarchy("memory", {"memory"}, false,
                         {{"memory.limit_in_bytes", "0"}, {"memory.usage_in_bytes", "0"}});
  auto uni = t.hierarchy("unified", {"hugetlb"}, true,
                         {{"hugetlb.2MB.max", "max"}, {"memory.max", "max"}});
  auto cg = Cgroup::open("/c", {mem, uni});
  BOOST_TEST_REQUIRE(cg.ok(), why(cg));
  mxc::spec::Resources r;
  r.memory = mxc::spec::Memory{};
  r.memory->limit = 64 << 20;
  r.hugepageLimits.push_back({"2MB", 2 << 20});
  auto st = cg->apply(r);
  BOOST_TEST_REQUIRE(st.ok(), why(st));
  BOOST_TEST(t.file("memory", "memory.limit_in_bytes") == "67108864");
  BOOST_TEST(t.file("unified", "memory.max") == "max");  // v1 serves memory
  BOOST_TEST(t.file("unified", "hugetlb.2MB.max") == "2097152");
  BOOST_TEST(cg->controller_dir("hugetlb").value() == (t.root / "unified" / "c").string());
}

BOOST_AUTO_TEST_SUITE_END()

// ---- a real cgroup on this host ----

namespace {

bool live_cgroups_usable() {
  if (::geteuid() != 0) {
    BOOST_TEST_MESSAGE("not root: the live cgroup tests are skipped");
    return false;
  }
  return true;
}

void remove_tree(const fs::path& p) {
  std::error_code ec;
  if (!fs::is_directory(p, ec)) return;
  for (const auto& e : fs::directory_iterator(p, ec))
    if (e.is_directory(ec)) remove_tree(e.path());
  ::rmdir(p.c_str());
}

// Owns the cgroup "/mxc-unit-<pid>-<tag>" and the children put in it: on any
// exit it thaws, kills and reaps them and removes the directories, whether or
// not the code under test works.
struct LiveCgroup {
  std::string path;
  std::optional<Cgroup> cg;
  std::vector<pid_t> children;

  explicit LiveCgroup(const std::string& tag)
      : path("/mxc-unit-" + std::to_string(::getpid()) + "-" + tag) {}
  ~LiveCgroup() {
    if (cg) (void)cg->thaw();
    for (pid_t c : children) {
      ::kill(c, SIGKILL);
      ::waitpid(c, nullptr, 0);
    }
    if (cg) (void)cg->destroy();
    for (const auto& h : mxc::sys::detect_cgroup_hierarchies()) remove_tree(h.mountpoint + path);
  }
  LiveCgroup(const LiveCgroup&) = delete;
  LiveCgroup& operator=(const LiveCgroup&) = delete;

  // A child that waits for signals; reaped by the destructor.
  pid_t spawn_sleeper() {
    pid_t pid = ::fork();
    if (pid == 0) {
      for (;;) ::pause();
    }
    BOOST_TEST_REQUIRE(pid > 0);
    children.push_back(pid);
    return pid;
  }
  int reap(pid_t pid) {
    int status = 0;
    BOOST_TEST_REQUIRE(::waitpid(pid, &status, 0) == pid);
    children.erase(std::remove(children.begin(), children.end(), pid), children.end());
    return status;
  }
};

bool has_pid(const std::vector<pid_t>& v, pid_t p) {
  return std::find(v.begin(), v.end(), p) != v.end();
}

}  // namespace

BOOST_AUTO_TEST_SUITE(live_cgroup)

BOOST_AUTO_TEST_CASE(create_apply_process_freeze_kill_destroy) {
  if (!live_cgroups_usable()) return;
  LiveCgroup live("main");
  auto created = Cgroup::create(live.path);
  BOOST_TEST_REQUIRE(created.ok(), why(created));
  live.cg.emplace(std::move(*created));
  Cgroup& cg = *live.cg;
  const auto dirs = cg.dirs();
  BOOST_TEST_REQUIRE(dirs.size() == mxc::sys::detect_cgroup_hierarchies().size());
  for (const auto& d : dirs) BOOST_TEST(fs::is_directory(d), d);
  BOOST_TEST(cg.procs_files().size() == dirs.size());

  auto reopened = Cgroup::open(live.path);
  BOOST_TEST_REQUIRE(reopened.ok(), why(reopened));
  BOOST_TEST(reopened->dirs() == dirs);

  // Resources, read back from the files.
  mxc::spec::Resources r;
  r.memory = mxc::spec::Memory{};
  r.memory->limit = 64 << 20;
  r.pids = mxc::spec::Pids{50};
  r.cpu = mxc::spec::Cpu{};
  r.cpu->shares = 512;
  r.cpu->quota = 50000;
  r.cpu->period = 100000;
  auto st = cg.apply(r);
  BOOST_TEST_REQUIRE(st.ok(), why(st));
  auto mem = cg.controller_dir("memory");
  auto pids = cg.controller_dir("pids");
  auto cpu = cg.controller_dir("cpu");
  BOOST_TEST_REQUIRE((mem && pids && cpu));
  const bool mem_v2 = *mem == cg.unified_dir();
  const bool cpu_v2 = *cpu == cg.unified_dir();
  BOOST_TEST(slurp(*mem + (mem_v2 ? "/memory.max" : "/memory.limit_in_bytes")) == "67108864");
  BOOST_TEST(slurp(*pids + "/pids.max") == "50");
  if (cpu_v2) {
    BOOST_TEST(slurp(*cpu + "/cpu.weight") == "59");
    BOOST_TEST(slurp(*cpu + "/cpu.max") == "50000 100000");
  } else {
    BOOST_TEST(slurp(*cpu + "/cpu.shares") == "512");
    BOOST_TEST(slurp(*cpu + "/cpu.cfs_quota_us") == "50000");
    BOOST_TEST(slurp(*cpu + "/cpu.cfs_period_us") == "100000");
  }
  if (auto cpuset = cg.controller_dir("cpuset"); cpuset && *cpuset != cg.unified_dir())
    BOOST_TEST(!slurp(*cpuset + "/cpuset.cpus").empty(), "cpuset.cpus not copied from the parent");

  // Swap: v1 needs memsw >= limit at every step; raising (32M -> 256M) needs
  // swap first, lowering (256M -> 32M) limit first.
  const bool swap_accounting =
      fs::exists(*mem + (mem_v2 ? "/memory.swap.max" : "/memory.memsw.limit_in_bytes"));
  for (int64_t limit : {32 << 20, 256 << 20, 32 << 20}) {
    mxc::spec::Resources s;
    s.memory = mxc::spec::Memory{};
    s.memory->limit = limit;
    s.memory->swap = 2 * limit;
    st = cg.apply(s);
    if (!swap_accounting) {
      BOOST_TEST_REQUIRE(!st.ok());
      BOOST_TEST(contains(st.error().message, "linux.resources.memory.swap"), st.error().message);
      BOOST_TEST(contains(st.error().message, "no swap accounting"), st.error().message);
      break;
    }
    BOOST_TEST_REQUIRE(st.ok(), why(st));
    if (!mem_v2)
      BOOST_TEST(slurp(*mem + "/memory.memsw.limit_in_bytes") == std::to_string(2 * limit));
    else
      BOOST_TEST(slurp(*mem + "/memory.swap.max") == std::to_string(limit));
  }
  if (swap_accounting)
    BOOST_TEST_MESSAGE(
        "this host has swap accounting: the missing-memsw error is checked on a "
        "fake tree only");

  // A process in every hierarchy.
  pid_t child = live.spawn_sleeper();
  st = cg.add_process(child);
  BOOST_TEST_REQUIRE(st.ok(), why(st));
  for (const auto& f : cg.procs_files()) BOOST_TEST(slurp(f) == std::to_string(child), f);
  auto listed = cg.pids();
  BOOST_TEST_REQUIRE(listed.ok(), why(listed));
  BOOST_TEST(has_pid(*listed, child));

  auto stats = cg.stats();
  BOOST_TEST_REQUIRE(stats.ok(), why(stats));
  BOOST_TEST((*stats)["memory"]["usage"].contains("usage"));
  BOOST_TEST((*stats)["memory"]["usage"]["limit"].get<uint64_t>() == (swap_accounting ? 32u : 64u)
                                                                         << 20);
  BOOST_TEST((*stats)["pids"]["current"].get<uint64_t>() == 1u);
  BOOST_TEST((*stats)["pids"]["limit"].get<uint64_t>() == 50u);
  BOOST_TEST((*stats)["cpu"]["usage"].contains("total"));
  auto ooms = cg.oom_kill_count();
  BOOST_TEST_REQUIRE(ooms.ok(), why(ooms));
  BOOST_TEST(*ooms == 0u);

  // Freeze: the kernel's own state says frozen.
  st = cg.freeze();
  BOOST_TEST_REQUIRE(st.ok(), why(st));
  auto frozen = cg.frozen();
  BOOST_TEST_REQUIRE(frozen.ok(), why(frozen));
  BOOST_TEST(*frozen);
  auto freezer = cg.controller_dir("freezer");
  if (freezer && *freezer != cg.unified_dir()) {
    BOOST_TEST(slurp(*freezer + "/freezer.state") == "FROZEN");
  } else {
    BOOST_TEST(slurp(*cg.unified_dir() + "/cgroup.freeze") == "1");
    BOOST_TEST(contains(slurp(*cg.unified_dir() + "/cgroup.events"), "frozen 1"));
  }
  st = cg.thaw();
  BOOST_TEST_REQUIRE(st.ok(), why(st));
  frozen = cg.frozen();
  BOOST_TEST_REQUIRE(frozen.ok(), why(frozen));
  BOOST_TEST(!*frozen);
  if (freezer && *freezer != cg.unified_dir())
    BOOST_TEST(slurp(*freezer + "/freezer.state") == "THAWED");

  // kill_all with a catchable signal (freeze, signal, thaw) then SIGKILL.
  st = cg.kill_all(SIGTERM);
  BOOST_TEST_REQUIRE(st.ok(), why(st));
  int status = live.reap(child);
  BOOST_TEST((WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM));
  pid_t second = live.spawn_sleeper();
  BOOST_TEST_REQUIRE(cg.add_process(second).ok());
  st = cg.kill_all(SIGKILL);
  BOOST_TEST_REQUIRE(st.ok(), why(st));
  status = live.reap(second);
  BOOST_TEST((WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL));
  frozen = cg.frozen();
  BOOST_TEST((frozen.ok() && !*frozen), "kill_all left the cgroup frozen");

  listed = cg.pids();
  BOOST_TEST_REQUIRE(listed.ok(), why(listed));
  BOOST_TEST(listed->empty());

  st = cg.destroy();
  BOOST_TEST_REQUIRE(st.ok(), why(st));
  for (const auto& d : dirs) BOOST_TEST(!fs::exists(d), d);
  st = cg.destroy();  // already gone is fine
  BOOST_TEST(st.ok(), why(st));
  BOOST_TEST(!Cgroup::open(live.path).ok());
}

BOOST_AUTO_TEST_CASE(create_failure_removes_what_it_made) {
  if (!live_cgroups_usable()) return;
  LiveCgroup live("undo");
  auto hs = mxc::sys::detect_cgroup_hierarchies();
  BOOST_TEST_REQUIRE(!hs.empty());
  // A last "hierarchy" where mkdir fails: the real ones must be cleaned up.
  hs.push_back(CgroupHierarchy{"/proc/self/mxc-no-such-hierarchy", {"memory"}, false, "/"});
  auto created = Cgroup::create(live.path + "/inner", hs);
  BOOST_TEST_REQUIRE(!created.ok());
  BOOST_TEST(contains(created.error().message, "mkdir"), created.error().message);
  for (const auto& h : mxc::sys::detect_cgroup_hierarchies())
    BOOST_TEST(!fs::exists(h.mountpoint + live.path), h.mountpoint + live.path);
}

BOOST_AUTO_TEST_CASE(bpf_device_filter_allows_and_denies) {
  if (!live_cgroups_usable()) return;
  LiveCgroup live("bpf");
  auto created = Cgroup::create(live.path);
  BOOST_TEST_REQUIRE(created.ok(), why(created));
  live.cg.emplace(std::move(*created));
  Cgroup& cg = *live.cg;
  auto unified = cg.unified_dir();
  if (!unified) {
    BOOST_TEST_MESSAGE("no cgroup v2 mount here: the BPF device filter is not checked");
    return;
  }
  using mxc::spec::DeviceCgroup;
  // Deny everything, allow /dev/null (1:3) fully and /dev/zero (1:5) for
  // reading, then take write back from /dev/null: later rules win.
  std::vector<DeviceCgroup> rules = {
      {false, std::nullopt, std::nullopt, std::nullopt, std::string("rwm")},
      {true, std::string("c"), 1, 3, std::string("rwm")},
      {true, std::string("c"), 1, 5, std::string("r")},
      {false, std::string("c"), 1, 3, std::string("w")},
  };
  auto st = mxc::sys::attach_device_filter(*unified, rules);
  BOOST_TEST_REQUIRE(st.ok(), why(st));

  // Each probe runs in a child placed in the cgroup; bit i of its exit code
  // says whether open i succeeded.
  auto probe = [&]() -> int {
    int sync[2];
    BOOST_TEST_REQUIRE(::pipe2(sync, O_CLOEXEC) == 0);
    pid_t pid = ::fork();
    if (pid == 0) {
      char c;
      ::close(sync[1]);
      if (::read(sync[0], &c, 1) != 1) ::_exit(255);
      const std::pair<const char*, int> opens[] = {{"/dev/null", O_RDONLY},
                                                   {"/dev/null", O_WRONLY},
                                                   {"/dev/zero", O_RDONLY},
                                                   {"/dev/zero", O_WRONLY},
                                                   {"/dev/full", O_RDONLY}};
      int bits = 0;
      for (int i = 0; i < 5; ++i) {
        int fd = ::open(opens[i].first, opens[i].second | O_CLOEXEC);
        if (fd >= 0) {
          bits |= 1 << i;
          ::close(fd);
        }
      }
      ::_exit(bits);
    }
    BOOST_TEST_REQUIRE(pid > 0);
    live.children.push_back(pid);
    ::close(sync[0]);
    auto added = cg.add_process(pid);
    (void)!::write(sync[1], "x", 1);
    ::close(sync[1]);
    BOOST_TEST_REQUIRE(added.ok(), why(added));
    int status = live.reap(pid);
    BOOST_TEST_REQUIRE(WIFEXITED(status));
    return WEXITSTATUS(status);
  };
  BOOST_TEST(probe() == 0b00101);  // null r, zero r; not null w, zero w, full

  // Replacing the program: the old one must be detached, or /dev/full stays denied.
  st = mxc::sys::attach_device_filter(
      *unified, {{true, std::nullopt, std::nullopt, std::nullopt, std::string("rwm")}});
  BOOST_TEST_REQUIRE(st.ok(), why(st));
  BOOST_TEST(probe() == 0b11111);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(live_cgroup_v2)

// Only this host's v2 mount, as a pure v2 host would be: freezing through
// cgroup.freeze, SIGKILL through cgroup.kill, devices through apply()'s BPF.
BOOST_AUTO_TEST_CASE(v2_mount_alone) {
  if (!live_cgroups_usable()) return;
  std::vector<CgroupHierarchy> v2;
  for (auto& h : mxc::sys::detect_cgroup_hierarchies())
    if (h.v2) v2.push_back(h);
  if (v2.empty()) {
    BOOST_TEST_MESSAGE("no cgroup v2 mount here: the v2 paths are not checked live");
    return;
  }
  LiveCgroup live("v2");
  auto created = Cgroup::create(live.path, v2);
  BOOST_TEST_REQUIRE(created.ok(), why(created));
  live.cg.emplace(std::move(*created));
  Cgroup& cg = *live.cg;
  const std::string dir = cg.unified_dir().value();
  BOOST_TEST(cg.dirs() == std::vector<std::string>{dir});

  mxc::spec::Resources r;
  r.devices = {{false, std::nullopt, std::nullopt, std::nullopt, std::string("rwm")},
               {true, std::string("c"), 1, 3, std::string("rw")}};
  auto st = cg.apply(r);
  BOOST_TEST_REQUIRE(st.ok(), why(st));

  pid_t child = live.spawn_sleeper();
  BOOST_TEST_REQUIRE(cg.add_process(child).ok());
  BOOST_TEST(slurp(dir + "/cgroup.procs") == std::to_string(child));

  st = cg.freeze();
  BOOST_TEST_REQUIRE(st.ok(), why(st));
  BOOST_TEST(slurp(dir + "/cgroup.freeze") == "1");
  BOOST_TEST(contains(slurp(dir + "/cgroup.events"), "frozen 1"));
  auto frozen = cg.frozen();
  BOOST_TEST_REQUIRE(frozen.ok(), why(frozen));
  BOOST_TEST(*frozen);
  st = cg.thaw();
  BOOST_TEST_REQUIRE(st.ok(), why(st));
  BOOST_TEST(contains(slurp(dir + "/cgroup.events"), "frozen 0"));

  st = cg.kill_all(SIGTERM);
  BOOST_TEST_REQUIRE(st.ok(), why(st));
  int status = live.reap(child);
  BOOST_TEST((WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM));
  BOOST_TEST(slurp(dir + "/cgroup.freeze") == "0");

  pid_t second = live.spawn_sleeper();
  BOOST_TEST_REQUIRE(cg.add_process(second).ok());
  st = cg.kill_all(SIGKILL);
  BOOST_TEST_REQUIRE(st.ok(), why(st));
  status = live.reap(second);
  BOOST_TEST((WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL));

  auto stats = cg.stats();
  BOOST_TEST_REQUIRE(stats.ok(), why(stats));
  BOOST_TEST((*stats)["cpu"]["usage"].contains("total"));

  st = cg.destroy();
  BOOST_TEST_REQUIRE(st.ok(), why(st));
  BOOST_TEST(!fs::exists(dir));
}

BOOST_AUTO_TEST_SUITE_END()
