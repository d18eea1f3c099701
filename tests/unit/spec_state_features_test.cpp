// state.json, features.json and the default config (`mxc spec`).
// Schema conformance of the generated documents is checked by the
// spec_schema ctest (check_spec_schemas.py); these tests check content.
#include <unistd.h>

#include <algorithm>
#include <string>

#include <boost/test/unit_test.hpp>

#include "mxc/spec/config.hpp"
#include "mxc/spec/default_spec.hpp"
#include "mxc/spec/features.hpp"
#include "mxc/spec/state.hpp"
#include "spec_test_util.hpp"

namespace {

using mxc::spec::State;
using nlohmann::json;

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

// `runc spec` (runc 1.1.5) output.
const char* const kRuncSpec = R"({
  "ociVersion": "1.0.2-dev",
  "process": {
    "terminal": true, "user": {"uid": 0, "gid": 0}, "args": ["sh"],
    "env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm"],
    "cwd": "/",
    "capabilities": {
      "bounding": ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"],
      "effective": ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"],
      "permitted": ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"],
      "ambient": ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"]
    },
    "rlimits": [{"type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024}],
    "noNewPrivileges": true
  },
  "root": {"path": "rootfs", "readonly": true},
  "hostname": "runc",
  "mounts": [
    {"destination": "/proc", "type": "proc", "source": "proc"},
    {"destination": "/dev", "type": "tmpfs", "source": "tmpfs",
     "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]},
    {"destination": "/dev/pts", "type": "devpts", "source": "devpts",
     "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"]},
    {"destination": "/dev/shm", "type": "tmpfs", "source": "shm",
     "options": ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"]},
    {"destination": "/dev/mqueue", "type": "mqueue", "source": "mqueue",
     "options": ["nosuid", "noexec", "nodev"]},
    {"destination": "/sys", "type": "sysfs", "source": "sysfs",
     "options": ["nosuid", "noexec", "nodev", "ro"]},
    {"destination": "/sys/fs/cgroup", "type": "cgroup", "source": "cgroup",
     "options": ["nosuid", "noexec", "nodev", "relatime", "ro"]}
  ],
  "linux": {
    "resources": {"devices": [{"allow": false, "access": "rwm"}]},
    "namespaces": [{"type": "pid"}, {"type": "network"}, {"type": "ipc"}, {"type": "uts"},
                   {"type": "mount"}],
    "maskedPaths": ["/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys",
                    "/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats",
                    "/proc/sched_debug", "/sys/firmware", "/proc/scsi"],
    "readonlyPaths": ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"]
  }
})";

}  // namespace

BOOST_AUTO_TEST_SUITE(spec_state)

BOOST_AUTO_TEST_CASE(to_json_running) {
  State s{"1.3.0", "c1", "running", 42, "/b", {{"k", "v"}}};
  const json j = mxc::spec::to_json(s);
  BOOST_TEST(j == json::parse(R"({"ociVersion":"1.3.0","id":"c1","status":"running","pid":42,
                                  "bundle":"/b","annotations":{"k":"v"}})"));
}

BOOST_AUTO_TEST_CASE(to_json_omits_pid_and_empty_annotations) {
  State s{"1.3.0", "c1", "stopped", 42, "/b", {}};
  json j = mxc::spec::to_json(s);
  BOOST_TEST(!j.contains("pid"));
  BOOST_TEST(!j.contains("annotations"));
  s.status = "creating";
  s.pid = 0;
  BOOST_TEST(!mxc::spec::to_json(s).contains("pid"));
}

BOOST_AUTO_TEST_CASE(round_trip) {
  State s{"1.2.0", "web", "created", 7, "/var/b", {{"a", "1"}}};
  auto back = mxc::spec::parse_state(mxc::spec::to_json(s).dump());
  BOOST_TEST_REQUIRE(back.ok(), (back.ok() ? "" : back.error().message));
  BOOST_TEST(back->id == "web");
  BOOST_TEST(back->status == "created");
  BOOST_TEST(back->pid == 7);
  BOOST_TEST(back->bundle == "/var/b");
  BOOST_TEST(back->annotations.at("a") == "1");
}

BOOST_AUTO_TEST_CASE(good_documents_parse) {
  for (const auto& file : mxc::spec::test::test_documents("state", "good")) {
    BOOST_TEST_CONTEXT(file.filename().string()) {
      auto s = mxc::spec::parse_state(mxc::spec::test::read_file(file));
      BOOST_TEST(s.ok(), (s.ok() ? "" : s.error().message));
    }
  }
  auto s = mxc::spec::parse_state(mxc::spec::test::read_file(mxc::spec::test::oci_schemas_dir() /
                                                             "test/state/good/spec-example.json"));
  BOOST_TEST_REQUIRE(s.ok());
  BOOST_TEST(s->pid == 4422);
  BOOST_TEST(s->annotations.at("myKey") == "myValue");
}

BOOST_AUTO_TEST_CASE(bad_documents_are_refused) {
  for (const auto& file : mxc::spec::test::test_documents("state", "bad")) {
    BOOST_TEST_CONTEXT(file.filename().string()) {
      auto s = mxc::spec::parse_state(mxc::spec::test::read_file(file));
      BOOST_TEST_REQUIRE(!s.ok());
      if (file.filename() == "invalid-json.json") {
        BOOST_TEST(contains(s.error().message, "state.json: invalid JSON at line 1"),
                   s.error().message);
      }
    }
  }
}

BOOST_AUTO_TEST_CASE(field_errors) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {R"({"id":"a","status":"running","bundle":"/b"})",
       "state.json: ociVersion: required field is missing"},
      {R"({"ociVersion":"1.0.0","id":"a","status":"sleeping","bundle":"/b"})",
       "state.json: status: unknown status \"sleeping\""},
      {R"({"ociVersion":"1.0.0","id":"a","status":"running","bundle":"/b","pid":-1})",
       "state.json: pid: -1 is out of range"},
      {R"({"ociVersion":"1.0.0","id":"a","status":"running"})",
       "state.json: bundle: required field is missing"},
      {R"({"ociVersion":"1.0.0","id":"a","status":"running","bundle":"/b","annotations":[]})",
       "state.json: annotations: must be an object"},
  };
  for (const auto& [text, expected] : cases) {
    BOOST_TEST_CONTEXT(text) {
      auto s = mxc::spec::parse_state(text);
      BOOST_TEST_REQUIRE(!s.ok());
      BOOST_TEST(contains(s.error().message, expected), s.error().message);
    }
  }
  BOOST_TEST(mxc::spec::parse_state(
                 R"({"ociVersion":"1.0.0","id":"a","status":"paused","bundle":"/b","pid":3})")
                 .ok());
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(spec_features)

BOOST_AUTO_TEST_CASE(content) {
  const json f = mxc::spec::features_json();
  BOOST_TEST(f.at("ociVersionMin") == "1.0.0");
  BOOST_TEST(f.at("ociVersionMax") == "1.3.0");
  BOOST_TEST(f.at("hooks").size() == 6u);
  BOOST_TEST(f.at("mountOptions") == json(mxc::spec::known_mount_options()));
  const json& l = f.at("linux");
  BOOST_TEST(l.at("namespaces") == json(mxc::spec::known_namespace_types()));
  BOOST_TEST(l.at("capabilities").size() == 41u);
  BOOST_TEST(l.at("cgroup") ==
             json::parse(R"({"v1":true,"v2":true,"systemd":false,"systemdUser":false})"));
  BOOST_TEST(l.at("seccomp").at("enabled") == true);
  BOOST_TEST(l.at("apparmor").at("enabled") == false);
  BOOST_TEST(l.at("selinux").at("enabled") == false);
  BOOST_TEST(l.at("intelRdt").at("enabled") == false);
  BOOST_TEST(l.at("mountExtensions").at("idmap").at("enabled") == false);
  BOOST_TEST(f.at("annotations").contains("io.github.mxc-runtime.version"));
  // supportedFlags is a subset of knownFlags.
  for (const auto& flag : l.at("seccomp").at("supportedFlags")) {
    const auto& known = l.at("seccomp").at("knownFlags");
    BOOST_TEST((std::find(known.begin(), known.end(), flag) != known.end()), flag.dump());
  }
  // Every version this runtime claims is one it accepts.
  BOOST_TEST(mxc::spec::is_supported_oci_version(f.at("ociVersionMin").get<std::string>()));
  BOOST_TEST(mxc::spec::is_supported_oci_version(f.at("ociVersionMax").get<std::string>()));
}

BOOST_AUTO_TEST_CASE(own_output_parses) {
  auto f = mxc::spec::parse_features(mxc::spec::features_json().dump());
  BOOST_TEST(f.ok(), (f.ok() ? "" : f.error().message));
}

BOOST_AUTO_TEST_CASE(schema_test_documents) {
  for (const auto& file : mxc::spec::test::test_documents("features", "good")) {
    BOOST_TEST_CONTEXT(file.filename().string()) {
      auto f = mxc::spec::parse_features(mxc::spec::test::read_file(file));
      BOOST_TEST(f.ok(), (f.ok() ? "" : f.error().message));
    }
  }
  for (const auto& file : mxc::spec::test::test_documents("features", "bad")) {
    BOOST_TEST_CONTEXT(file.filename().string()) {
      auto f = mxc::spec::parse_features(mxc::spec::test::read_file(file));
      BOOST_TEST_REQUIRE(!f.ok());
      if (file.filename() == "missing-ociVersionMax.json") {
        BOOST_TEST(f.error().message == "features.json: ociVersionMax: required field is missing");
      }
    }
  }
  auto f = mxc::spec::parse_features(
      R"({"ociVersionMin":"1.0.0","ociVersionMax":"1.1.0","linux":{"namespaces":["pid","vm"]}})");
  BOOST_TEST_REQUIRE(!f.ok());
  BOOST_TEST(contains(f.error().message, "linux.namespaces[1]: unknown namespace type \"vm\""),
             f.error().message);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(spec_default)

BOOST_AUTO_TEST_CASE(matches_runc_spec) {
  BOOST_TEST(mxc::spec::default_spec(false) == json::parse(kRuncSpec));
}

BOOST_AUTO_TEST_CASE(rootless_matches_runc_spec_rootless) {
  json expected = json::parse(kRuncSpec);
  auto& mounts = expected["mounts"];
  mounts[2]["options"].erase(mounts[2]["options"].size() - 1);  // no gid=5
  mounts[5] = json::parse(R"({"destination": "/sys", "type": "none", "source": "/sys",
                              "options": ["rbind", "nosuid", "noexec", "nodev", "ro"]})");
  auto& l = expected["linux"];
  l.erase("resources");
  l["namespaces"] = json::parse(
      R"([{"type": "pid"}, {"type": "ipc"}, {"type": "uts"}, {"type": "mount"}, {"type": "user"}])");
  l["uidMappings"] = json::parse(R"([{"containerID": 0, "hostID": 1234, "size": 1}])");
  l["gidMappings"] = json::parse(R"([{"containerID": 0, "hostID": 99, "size": 1}])");
  BOOST_TEST(mxc::spec::default_spec(true, 1234, 99) == expected);

  const json own = mxc::spec::default_spec(true);
  BOOST_TEST(own.at("linux").at("uidMappings").at(0).at("hostID") == ::geteuid());
  BOOST_TEST(own.at("linux").at("gidMappings").at(0).at("hostID") == ::getegid());
}

BOOST_AUTO_TEST_CASE(default_specs_are_creatable) {
  for (bool rootless : {false, true}) {
    BOOST_TEST_CONTEXT("rootless=" << rootless) {
      auto c = mxc::spec::parse_config(mxc::spec::default_spec(rootless).dump());
      BOOST_TEST_REQUIRE(c.ok(), (c.ok() ? "" : c.error().message));
      auto s = mxc::spec::validate_for_create(*c);
      BOOST_TEST(s.ok(), (s.ok() ? "" : s.error().message));
    }
  }
}

BOOST_AUTO_TEST_SUITE_END()
