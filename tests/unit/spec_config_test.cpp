// parse_config / validate_for_create / is_supported_oci_version.
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <map>
#include <string>

#include <boost/test/unit_test.hpp>

#include "mxc/spec/config.hpp"
#include "mxc/spec/text.hpp"
#include "spec_test_util.hpp"

namespace {

using mxc::spec::Config;
using mxc::spec::parse_config;
using mxc::spec::validate_for_create;
using nlohmann::json;

const json kMinimal = {{"ociVersion", "1.0.0"}, {"root", {{"path", "rootfs"}}}};

// kMinimal with `patch` merged in (RFC 7386).
std::string doc(const json& patch) {
  json d = kMinimal;
  d.merge_patch(patch);
  return d.dump();
}

// A config that passes validate_for_create, with `patch` merged in.
Config creatable(const json& patch = json::object()) {
  json d = {{"ociVersion", "1.2.0"},
            {"root", {{"path", "rootfs"}}},
            {"process", {{"cwd", "/"}, {"args", {"sh"}}}},
            {"linux", {{"namespaces", {{{"type", "pid"}}, {{"type", "mount"}}}}}}};
  d.merge_patch(patch);
  auto c = parse_config(d.dump());
  BOOST_TEST_REQUIRE(c.ok(), (c.ok() ? "" : c.error().message));
  return *c;
}

// The message of a parse error for `text` (the test fails when it parses).
std::string parse_error(const std::string& text) {
  auto c = parse_config(text);
  BOOST_TEST_REQUIRE(!c.ok(), "accepted: " << text);
  BOOST_TEST(c.error().message.find('\n') == std::string::npos);
  return c.error().message;
}

std::string create_error(const Config& c) {
  auto s = validate_for_create(c);
  BOOST_TEST_REQUIRE(!s.ok(), "validate_for_create accepted the config");
  return s.error().message;
}

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(spec_config)

BOOST_AUTO_TEST_CASE(good_documents_parse) {
  for (const auto& file : mxc::spec::test::test_documents("config", "good")) {
    BOOST_TEST_CONTEXT(file.filename().string()) {
      auto c = parse_config(mxc::spec::test::read_file(file));
      BOOST_TEST(c.ok(), (c.ok() ? "" : c.error().message));
    }
  }
}

BOOST_AUTO_TEST_CASE(bad_documents_are_refused_naming_the_path) {
  // What each bad document's error must mention; documents added to the
  // directory later must at least be refused.
  const std::map<std::string, std::string> expected = {
      {"freebsd-vnet-disable.json", "config.json: freebsd.jail.vnet: "},
      {"invalid-json.json", "config.json: invalid JSON at line 1 column 2: "},
      {"linux-hugepage.json",
       "config.json: linux.resources.hugepageLimits[0].pageSize: \"64kB\" does not match "
       "^[1-9][0-9]*[KMG]B$"},
      {"linux-netdevice.json", "config.json: linux.netDevices.eth0.name: must be a string"},
      {"linux-rdma.json", "config.json: linux.resources.rdma.mlx5_1.hcaHandles: must be a uint32"},
  };
  for (const auto& file : mxc::spec::test::test_documents("config", "bad")) {
    BOOST_TEST_CONTEXT(file.filename().string()) {
      const std::string msg = parse_error(mxc::spec::test::read_file(file));
      if (auto it = expected.find(file.filename().string()); it != expected.end()) {
        BOOST_TEST(contains(msg, it->second), msg);
      }
    }
  }
}

BOOST_AUTO_TEST_CASE(spec_example_fields) {
  auto c = parse_config(mxc::spec::test::read_file(mxc::spec::test::oci_schemas_dir() /
                                                   "test/config/good/spec-example.json"));
  BOOST_TEST_REQUIRE(c.ok(), (c.ok() ? "" : c.error().message));
  BOOST_TEST(c->process->user.uid == 1u);
  BOOST_TEST(c->process->user.additionalGids == (std::vector<uint32_t>{5, 6}));
  BOOST_TEST(c->process->rlimits.size() == 2u);
  BOOST_TEST(c->process->rlimits[1].type == "RLIMIT_NOFILE");
  BOOST_TEST(c->process->capabilities->ambient == std::vector<std::string>{"CAP_NET_BIND_SERVICE"});
  BOOST_TEST(c->root->readonly);
  BOOST_TEST(c->hostname == "slartibartfast");
  BOOST_TEST(c->mounts.at(1).options.at(2) == "mode=755");
  BOOST_TEST_REQUIRE(c->linux_.has_value());
  BOOST_TEST(!c->linux_->namespaces.empty());
  BOOST_TEST(c->linux_->timeOffsets.count("monotonic") == 1u);
  BOOST_TEST(c->mxc.is_null());
  BOOST_TEST(c->raw.at("hostname") == "slartibartfast");
}

BOOST_AUTO_TEST_CASE(linux_fields) {
  auto c = parse_config(doc(
      {{"linux",
        {{"namespaces", {{{"type", "user"}}, {{"type", "network"}, {"path", "/proc/1/ns/net"}}}},
         {"uidMappings", {{{"containerID", 0}, {"hostID", 1000}, {"size", 1}}}},
         {"devices",
          {{{"type", "c"},
            {"path", "/dev/fuse"},
            {"major", 10},
            {"minor", 229},
            {"fileMode", 438}}}},
         {"netDevices", {{"eth0", {{"name", "ctr0"}}}}},
         {"resources",
          {{"memory", {{"limit", -1}, {"swappiness", 0}}},
           {"cpu", {{"quota", -1}, {"idle", 1}}},
           {"pids", {{"limit", 100}}},
           {"hugepageLimits", {{{"pageSize", "2MB"}, {"limit", 1 << 20}}}},
           {"rdma", {{"mlx5_1", {{"hcaHandles", 3}}}}},
           {"unified", {{"memory.high", "1G"}}}}},
         {"seccomp",
          {{"defaultAction", "SCMP_ACT_ERRNO"},
           {"defaultErrnoRet", 1},
           {"architectures", {"SCMP_ARCH_X86_64"}},
           {"syscalls",
            {{{"names", {"read"}},
              {"action", "SCMP_ACT_ALLOW"},
              {"args", {{{"index", 0}, {"value", 1}, {"op", "SCMP_CMP_EQ"}}}}}}}}},
         {"rootfsPropagation", "rslave"}}}}));
  // rslave is not a rootfsPropagation value: only private shared slave unbindable.
  BOOST_TEST(!c.ok());
  c = parse_config(doc({{"linux",
                         {{"namespaces", {{{"type", "user"}}}},
                          {"uidMappings", {{{"containerID", 0}, {"hostID", 1000}, {"size", 1}}}},
                          {"devices",
                           {{{"type", "c"},
                             {"path", "/dev/fuse"},
                             {"major", 10},
                             {"minor", 229},
                             {"fileMode", 438}}}},
                          {"netDevices", {{"eth0", {{"name", "ctr0"}}}}},
                          {"resources",
                           {{"memory", {{"limit", -1}}},
                            {"cpu", {{"quota", -1}, {"idle", 1}}},
                            {"hugepageLimits", {{{"pageSize", "2MB"}, {"limit", 1048576}}}},
                            {"rdma", {{"mlx5_1", {{"hcaHandles", 3}}}}}}},
                          {"seccomp",
                           {{"defaultAction", "SCMP_ACT_ERRNO"},
                            {"syscalls",
                             {{{"names", {"read"}},
                               {"action", "SCMP_ACT_ALLOW"},
                               {"args", {{{"index", 0}, {"value", 1}, {"op", "SCMP_CMP_EQ"}}}}}}}}},
                          {"rootfsPropagation", "slave"}}}}));
  BOOST_TEST_REQUIRE(c.ok(), (c.ok() ? "" : c.error().message));
  const auto& l = *c->linux_;
  BOOST_TEST(l.uidMappings.at(0).hostID == 1000u);
  BOOST_TEST(l.devices.at(0).major.value() == 10);
  BOOST_TEST(l.devices.at(0).fileMode.value() == 438u);
  BOOST_TEST(l.netDevices.at("eth0").name.value() == "ctr0");
  BOOST_TEST(l.resources->memory->limit.value() == -1);
  BOOST_TEST(l.resources->cpu->idle.value());
  BOOST_TEST(l.resources->hugepageLimits.at(0).pageSize == "2MB");
  BOOST_TEST(l.resources->rdma.at("mlx5_1").hcaHandles.value() == 3u);
  BOOST_TEST(l.seccomp->syscalls.at(0).args.at(0).op == "SCMP_CMP_EQ");
  BOOST_TEST(l.rootfsPropagation.value() == "slave");
}

BOOST_AUTO_TEST_CASE(unknown_properties_are_ignored) {
  auto c = parse_config(
      doc({{"futureField", {{"x", 1}}},
           {"process", {{"cwd", "/"}, {"newThing", true}}},
           {"linux", {{"namespaces", {{{"type", "pid"}, {"extra", 1}}}}, {"futureSection", "x"}}},
           {"mxc", {{"policy", "strict"}}}}));
  BOOST_TEST_REQUIRE(c.ok(), (c.ok() ? "" : c.error().message));
  BOOST_TEST(c->mxc == (json{{"policy", "strict"}}));
  BOOST_TEST(c->raw.contains("futureField"));
}

BOOST_AUTO_TEST_CASE(null_counts_as_absent) {
  auto c = parse_config(doc({{"hostname", nullptr}}));
  BOOST_TEST(c.ok());
  c = parse_config(R"({"ociVersion":"1.0.0","mounts":null,"process":{"cwd":"/","args":null}})");
  BOOST_TEST_REQUIRE(c.ok(), (c.ok() ? "" : c.error().message));
  BOOST_TEST(c->process->args.empty());
}

BOOST_AUTO_TEST_CASE(wrong_types_and_values_name_the_path) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {R"([1,2])", "config.json: must be a JSON object, got array"},
      {R"({"root":{"path":"r"}})", "config.json: ociVersion: required field is missing"},
      {doc({{"ociVersion", 1}}), "config.json: ociVersion: must be a string, got number 1"},
      {doc({{"root", {{"path", 3}}}}), "root.path: must be a string"},
      {R"({"ociVersion":"1.0.0","root":{}})", "root.path: required field is missing"},
      {doc({{"hostname", true}}), "hostname: must be a string, got boolean true"},
      {doc({{"mounts", "x"}}), "mounts: must be an array, got string \"x\""},
      {doc({{"mounts", {{{"source", "x"}}}}}), "mounts[0].destination: required field is missing"},
      {doc({{"mounts", {{{"destination", "/a"}, {"options", {"ro", 1}}}}}}),
       "mounts[0].options[1]: must be a string"},
      {doc({{"annotations", {{"a", 1}}}}), "annotations.a: must be a string"},
      {doc({{"process", {{"args", {"sh"}}}}}), "process.cwd: required field is missing"},
      {doc({{"process", {{"cwd", "/"}, {"args", {1}}}}}),
       "process.args[0]: must be a string, got number 1"},
      {doc({{"process", {{"cwd", "/"}, {"terminal", "yes"}}}}),
       "process.terminal: must be a boolean"},
      {doc({{"process", {{"cwd", "/"}, {"user", {{"uid", -1}}}}}}),
       "process.user.uid: -1 is out of range for a uint32 (0 to 4294967295)"},
      {doc({{"process", {{"cwd", "/"}, {"user", {{"gid", 4294967296}}}}}}),
       "process.user.gid: 4294967296 is out of range for a uint32"},
      {doc({{"process", {{"cwd", "/"}, {"user", {{"uid", 1.5}}}}}}),
       "process.user.uid: must be a uint32 (0 to 4294967295), got number 1.5"},
      {doc({{"process", {{"cwd", "/"}, {"user", {{"additionalGids", {1, -2}}}}}}}),
       "process.user.additionalGids[1]: -2 is out of range"},
      {doc({{"process", {{"cwd", "/"}, {"consoleSize", {{"height", 1}}}}}}),
       "process.consoleSize.width: required field is missing"},
      {doc({{"process",
             {{"cwd", "/"}, {"rlimits", {{{"type", "NOFILE"}, {"soft", 1}, {"hard", 1}}}}}}}),
       "process.rlimits[0].type: \"NOFILE\" does not match ^RLIMIT_[A-Z]+$"},
      {doc({{"process",
             {{"cwd", "/"}, {"rlimits", {{{"type", "RLIMIT_CORE"}, {"soft", -1}, {"hard", 1}}}}}}}),
       "process.rlimits[0].soft: -1 is out of range for a uint64"},
      {doc({{"process", {{"cwd", "/"}, {"oomScoreAdj", "high"}}}}),
       "process.oomScoreAdj: must be a int32"},
      {doc({{"process", {{"cwd", "/"}, {"ioPriority", {{"class", "IOPRIO_CLASS_NONE"}}}}}}),
       "process.ioPriority.class: unknown I/O priority class \"IOPRIO_CLASS_NONE\""},
      {doc({{"process", {{"cwd", "/"}, {"scheduler", {{"policy", "SCHED_FAST"}}}}}}),
       "process.scheduler.policy: unknown scheduler policy \"SCHED_FAST\""},
      {doc({{"process",
             {{"cwd", "/"},
              {"scheduler", {{"policy", "SCHED_RR"}, {"flags", {"SCHED_FLAG_X"}}}}}}}),
       "process.scheduler.flags[0]: unknown scheduler flag"},
      {doc({{"process", {{"cwd", "/"}, {"execCPUAffinity", {{"initial", "0-3,a"}}}}}}),
       "process.execCPUAffinity.initial: \"0-3,a\" does not match ^[0-9, -]*$"},
      {doc({{"hooks", {{"prestart", {{{"args", {"x"}}}}}}}}),
       "hooks.prestart[0].path: required field is missing"},
      {doc({{"hooks", {{"poststop", {{{"path", "/bin/true"}, {"timeout", 0}}}}}}}),
       "hooks.poststop[0].timeout: 0 is out of range (1 to 2147483647)"},
      {doc({{"linux", "x"}}), "linux: must be an object, got string"},
      {doc({{"linux",
             {{"namespaces", {{{"type", "pid"}}, {{"type", "ipc"}}, {{"type", "foo"}}}}}}}),
       "config.json: linux.namespaces[2].type: unknown namespace type \"foo\""},
      {doc({{"linux", {{"namespaces", {{{"path", "/x"}}}}}}}),
       "linux.namespaces[0].type: required field is missing"},
      {doc({{"linux", {{"uidMappings", {{{"containerID", 0}, {"hostID", 0}}}}}}}),
       "linux.uidMappings[0].size: required field is missing"},
      {doc({{"linux", {{"devices", {{{"type", "x"}, {"path", "/dev/x"}}}}}}}),
       "linux.devices[0].type: unknown device type \"x\""},
      {doc({{"linux", {{"devices", {{{"type", "c"}, {"path", "/dev/x"}, {"fileMode", 512}}}}}}}),
       "linux.devices[0].fileMode: 512 is out of range (0 to 511)"},
      {doc({{"linux", {{"timeOffsets", {{"monotonic", {{"secs", "1"}}}}}}}}),
       "linux.timeOffsets.monotonic.secs: must be a int64"},
      {doc({{"linux", {{"rootfsPropagation", "rshared"}}}}),
       "linux.rootfsPropagation: unknown rootfs propagation \"rshared\""},
      {doc({{"linux", {{"personality", {{"domain", "LINUX64"}}}}}}),
       "linux.personality.domain: unknown personality domain \"LINUX64\""},
      {doc({{"linux", {{"memoryPolicy", {{"mode", "MPOL_X"}}}}}}),
       "linux.memoryPolicy.mode: unknown memory policy mode"},
      {doc({{"linux", {{"memoryPolicy", {{"mode", "MPOL_BIND"}, {"flags", {"MPOL_F_X"}}}}}}}),
       "linux.memoryPolicy.flags[0]: unknown memory policy flag"},
      {doc({{"linux", {{"intelRdt", {{"memBwSchema", "L3:0=f"}}}}}}),
       "linux.intelRdt.memBwSchema: \"L3:0=f\" does not match"},
      {doc({{"linux", {{"sysctl", {{"net.ipv4.ip_forward", 1}}}}}}),
       "linux.sysctl.net.ipv4.ip_forward: must be a string"},
      {doc({{"linux", {{"resources", {{"memory", {{"limit", "1G"}}}}}}}}),
       "linux.resources.memory.limit: must be a int64"},
      {doc({{"linux", {{"resources", {{"memory", {{"swappiness", -1}}}}}}}}),
       "linux.resources.memory.swappiness: -1 is out of range for a uint64"},
      {doc({{"linux", {{"resources", {{"cpu", {{"idle", 2}}}}}}}}),
       "linux.resources.cpu.idle: 2 is out of range (0 to 1)"},
      {doc({{"linux", {{"resources", {{"pids", json::object()}}}}}}),
       "linux.resources.pids.limit: required field is missing"},
      {doc({{"linux", {{"resources", {{"blockIO", {{"weight", 70000}}}}}}}}),
       "linux.resources.blockIO.weight: 70000 is out of range for a uint16"},
      {doc({{"linux",
             {{"resources", {{"blockIO", {{"throttleReadBpsDevice", {{{"major", 8}}}}}}}}}}}),
       "linux.resources.blockIO.throttleReadBpsDevice[0].minor: required field is missing"},
      {doc({{"linux", {{"resources", {{"devices", {{{"access", "rwm"}}}}}}}}}),
       "linux.resources.devices[0].allow: required field is missing"},
      {doc({{"linux", {{"resources", {{"devices", {{{"allow", true}, {"access", "rwx"}}}}}}}}}),
       "linux.resources.devices[0].access: \"rwx\" does not match ^[rwm]*$"},
      {doc({{"linux", {{"resources", {{"network", {{"priorities", {{{"name", "eth0"}}}}}}}}}}}),
       "linux.resources.network.priorities[0].priority: required field is missing"},
      {doc({{"linux", {{"resources", {{"rdma", {{"mlx5_1", {{"hcaObjects", -5}}}}}}}}}}),
       "linux.resources.rdma.mlx5_1.hcaObjects: -5 is out of range for a uint32"},
      {doc({{"linux", {{"seccomp", {{"architectures", {"SCMP_ARCH_X86"}}}}}}}),
       "linux.seccomp.defaultAction: required field is missing"},
      {doc({{"linux", {{"seccomp", {{"defaultAction", "SCMP_ACT_DENY"}}}}}}),
       "linux.seccomp.defaultAction: unknown seccomp action \"SCMP_ACT_DENY\""},
      {doc({{"linux",
             {{"seccomp",
               {{"defaultAction", "SCMP_ACT_ALLOW"}, {"architectures", {"SCMP_ARCH_Z80"}}}}}}}),
       "linux.seccomp.architectures[0]: unknown seccomp architecture"},
      {doc({{"linux", {{"seccomp", {{"defaultAction", "SCMP_ACT_ALLOW"}, {"flags", {"X"}}}}}}}),
       "linux.seccomp.flags[0]: unknown seccomp flag"},
      {doc({{"linux",
             {{"seccomp",
               {{"defaultAction", "SCMP_ACT_ALLOW"},
                {"syscalls", {{{"names", json::array()}, {"action", "SCMP_ACT_ERRNO"}}}}}}}}}),
       "linux.seccomp.syscalls[0].names: must contain at least one element"},
      {doc({{"linux",
             {{"seccomp",
               {{"defaultAction", "SCMP_ACT_ALLOW"},
                {"syscalls",
                 {{{"names", {"read"}},
                   {"action", "SCMP_ACT_ERRNO"},
                   {"args", {{{"index", 0}, {"value", 1}, {"op", "EQ"}}}}}}}}}}}}),
       "linux.seccomp.syscalls[0].args[0].op: unknown seccomp operator \"EQ\""},
      // Other platforms are validated too.
      {doc({{"windows", {{"servicing", true}}}}),
       "windows.layerFolders: required field is missing"},
      {doc({{"windows", {{"layerFolders", json::array()}}}}),
       "windows.layerFolders: must contain at least one element"},
      {doc({{"vm", {{"hypervisor", {{"path", "/qemu"}}}}}}),
       "vm.kernel: required field is missing"},
      {doc({{"vm",
             {{"kernel", {{"path", "/k"}}}, {"image", {{"path", "/i"}, {"format", "iso"}}}}}}),
       "vm.image.format: unknown image format \"iso\""},
      {doc({{"zos", {{"namespaces", {{{"type", "network"}}}}}}}),
       "zos.namespaces[0].type: unknown namespace type \"network\""},
      {doc({{"solaris", {{"anet", {{{"linkname", 1}}}}}}}),
       "solaris.anet[0].linkname: must be a string"},
      {doc({{"freebsd", {{"jail", {{"enforceStatfs", 300}}}}}}),
       "freebsd.jail.enforceStatfs: 300 is out of range for a uint8"},
  };
  for (const auto& [text, expected] : cases) {
    BOOST_TEST_CONTEXT(text) {
      const std::string msg = parse_error(text);
      BOOST_TEST(contains(msg, expected), msg);
    }
  }
}

BOOST_AUTO_TEST_CASE(invalid_json_is_one_line_with_position) {
  const std::string msg = parse_error("{\n  \"ociVersion\": \"1.0.0\",\n  \"root\": }\n");
  BOOST_TEST(contains(msg, "config.json: invalid JSON at line 3 column 11: "), msg);
  BOOST_TEST(contains(parse_error(""), "invalid JSON"));
  // A custom label names the file.
  auto c = parse_config("{", "/b/config.json");
  BOOST_TEST_REQUIRE(!c.ok());
  BOOST_TEST(c.error().message.rfind("/b/config.json: invalid JSON at line 1", 0) == 0u,
             c.error().message);
}

BOOST_AUTO_TEST_CASE(newlines_in_values_stay_out_of_messages) {
  const std::string msg = parse_error(doc({{"linux", {{"namespaces", {{{"type", "a\nb"}}}}}}}));
  BOOST_TEST(contains(msg, R"(unknown namespace type "a\nb")"), msg);
}

BOOST_AUTO_TEST_CASE(load_config_reads_the_file) {
  const auto dir =
      std::filesystem::temp_directory_path() / ("mxc-spec-test-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  { std::ofstream(dir / "config.json") << doc({{"hostname", "h"}}); }
  auto c = mxc::spec::load_config(dir / "config.json");
  BOOST_TEST_REQUIRE(c.ok(), (c.ok() ? "" : c.error().message));
  BOOST_TEST(c->hostname == "h");
  { std::ofstream(dir / "config.json") << R"({"ociVersion": 1})"; }
  c = mxc::spec::load_config(dir / "config.json");
  BOOST_TEST_REQUIRE(!c.ok());
  BOOST_TEST(c.error().message ==
             (dir / "config.json").string() + ": ociVersion: must be a string, got number 1");
  c = mxc::spec::load_config(dir / "missing.json");
  BOOST_TEST_REQUIRE(!c.ok());
  BOOST_TEST(c.error().sys_errno == ENOENT);
  BOOST_TEST(contains(c.error().message, "missing.json"));
  std::filesystem::remove_all(dir);
}

BOOST_AUTO_TEST_CASE(oci_versions) {
  for (const char* v : {"1.0.0", "1.0.2-dev", "1.1.0", "1.2.1", "1.3.0", "1.3.0-rc.1", "1.3.7",
                        "1.0.0+build.5", "1.2.0-rc.1+meta"}) {
    BOOST_TEST(mxc::spec::is_supported_oci_version(v), v);
  }
  for (const char* v : {"", "1", "1.0", "0.5.0-dev", "0.9.9", "1.4.0", "1.4.0-rc.1", "2.0.0",
                        "1.01.0", "1.0.0-", "v1.0.0", "1.0.0.0", "1.a.0", "1..0", "-1.0.0"}) {
    BOOST_TEST(!mxc::spec::is_supported_oci_version(v), v);
  }
}

BOOST_AUTO_TEST_CASE(create_accepts_a_complete_config) {
  auto s = validate_for_create(creatable());
  BOOST_TEST(s.ok(), (s.ok() ? "" : s.error().message));
  s = validate_for_create(
      creatable({{"ociVersion", "1.0.2-dev"},
                 {"linux",
                  {{"namespaces", {{{"type", "user"}}, {{"type", "pid"}}}},
                   {"uidMappings", {{{"containerID", 0}, {"hostID", 1000}, {"size", 1}}}},
                   {"gidMappings", {{{"containerID", 0}, {"hostID", 1000}, {"size", 1}}}}}}}));
  BOOST_TEST(s.ok(), (s.ok() ? "" : s.error().message));
}

BOOST_AUTO_TEST_CASE(create_refusals) {
  auto no_process = creatable();
  no_process.process.reset();
  BOOST_TEST(create_error(no_process) == "config.json: process: required field is missing");

  auto no_root = creatable();
  no_root.root.reset();
  BOOST_TEST(create_error(no_root) == "config.json: root: required field is missing");

  BOOST_TEST(create_error(creatable({{"root", {{"path", ""}}}})) ==
             "config.json: root.path: must not be empty");
  BOOST_TEST(create_error(creatable({{"process", {{"args", json::array()}}}})) ==
             "config.json: process.args: must contain at least one element");
  BOOST_TEST(create_error(creatable({{"process", {{"cwd", "work"}}}})) ==
             "config.json: process.cwd: must be an absolute path, got \"work\"");

  const std::string version = create_error(creatable({{"ociVersion", "2.0.0"}}));
  BOOST_TEST(contains(version, "config.json: ociVersion: unsupported version \"2.0.0\""), version);
  BOOST_TEST(contains(version, "1.0.0 up to (not including) 1.4.0"), version);

  BOOST_TEST(create_error(creatable(
                 {{"linux", {{"namespaces", {{{"type", "pid"}}, {{"type", "pid"}}}}}}})) ==
             "config.json: linux.namespaces[1].type: namespace \"pid\" listed twice");

  // A hand-built config can hold types the parser would refuse.
  auto unknown_ns = creatable();
  unknown_ns.linux_->namespaces.push_back({"foo", std::nullopt});
  BOOST_TEST(create_error(unknown_ns) ==
             "config.json: linux.namespaces[2].type: unknown namespace type \"foo\"");

  BOOST_TEST(contains(
      create_error(creatable(
          {{"linux", {{"uidMappings", {{{"containerID", 0}, {"hostID", 1000}, {"size", 1}}}}}}})),
      "config.json: linux.uidMappings: set but no user namespace"));
  BOOST_TEST(contains(
      create_error(creatable(
          {{"linux", {{"gidMappings", {{{"containerID", 0}, {"hostID", 1000}, {"size", 1}}}}}}})),
      "config.json: linux.gidMappings: set but no user namespace"));

  BOOST_TEST(create_error(
                 creatable({{"mounts", {{{"destination", "/proc"}}, {{"destination", "tmp"}}}}})) ==
             "config.json: mounts[1].destination: must be an absolute path, got \"tmp\"");
  BOOST_TEST(create_error(creatable({{"hooks", {{"poststart", {{{"path", "hook.sh"}}}}}}})) ==
             "config.json: hooks.poststart[0].path: must be an absolute path, got \"hook.sh\"");
  BOOST_TEST(contains(
      create_error(creatable({{"process",
                               {{"rlimits",
                                 {{{"type", "RLIMIT_NOFILE"}, {"soft", 1}, {"hard", 1}},
                                  {{"type", "RLIMIT_NOFILE"}, {"soft", 2}, {"hard", 2}}}}}}})),
      "process.rlimits[1].type: rlimit \"RLIMIT_NOFILE\" listed twice"));
  BOOST_TEST(contains(
      create_error(creatable({{"linux", {{"devices", {{{"type", "c"}, {"path", "/dev/x"}}}}}}})),
      "linux.devices[0]: a device of type \"c\" needs major and minor"));

  // The label is the caller's.
  auto s = validate_for_create(no_process, "/bundle/config.json");
  BOOST_TEST_REQUIRE(!s.ok());
  BOOST_TEST(s.error().message == "/bundle/config.json: process: required field is missing");
}

BOOST_AUTO_TEST_CASE(known_lists) {
  const auto& ns = mxc::spec::known_namespace_types();
  BOOST_TEST(ns.size() == 8u);
  const auto& opts = mxc::spec::known_mount_options();
  for (const char* o : {"defaults", "ro", "rw", "nosuid", "bind", "rbind", "rprivate", "rslave",
                        "nosymfollow", "tmpcopyup", "rro", "rnoexec", "idmap"}) {
    BOOST_TEST((std::find(opts.begin(), opts.end(), o) != opts.end()), o);
  }
  BOOST_TEST(mxc::spec::known_capabilities().size() == 41u);
  BOOST_TEST(mxc::spec::known_capabilities().back() == "CAP_CHECKPOINT_RESTORE");
}

BOOST_AUTO_TEST_CASE(split_nonempty_drops_empty_pieces) {
  using V = std::vector<std::string_view>;
  BOOST_TEST((mxc::spec::split_nonempty("a::b:", ':') == V{"a", "b"}));
  BOOST_TEST((mxc::spec::split_nonempty("/x/y//z", '/') == V{"x", "y", "z"}));
  BOOST_TEST((mxc::spec::split_nonempty("one\ntwo\n", '\n') == V{"one", "two"}));
  BOOST_TEST(mxc::spec::split_nonempty("", ':').empty());
  BOOST_TEST(mxc::spec::split_nonempty(":::", ':').empty());
}

BOOST_AUTO_TEST_SUITE_END()
