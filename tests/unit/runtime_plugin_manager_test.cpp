// PluginManager: finding backends, loading them through the C ABI table, and
// refusing broken ones with messages that say which file and why. The broken
// ones are fixtures/plugin_*.c, built into MXC_TEST_FIXTURE_PLUGIN_DIR.
#include <filesystem>
#include <string>
#include <vector>

#include <boost/test/unit_test.hpp>

#include "mxc/plugin.h"
#include "mxc/runtime/plugin_manager.hpp"

namespace fs = std::filesystem;

namespace {

// The error message of a failed result, "" for success (BOOST_TEST builds its
// message even when the check passes).
template <class R>
std::string why(const R& r) {
  return r.ok() ? std::string() : r.error().message;
}

using mxc::runtime::PluginManager;
using mxc::runtime::validate_backend_name;

const fs::path kPluginDir = MXC_TEST_PLUGIN_DIR;
const fs::path kFixtureDir = MXC_TEST_FIXTURE_PLUGIN_DIR;

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

std::string abi_version(unsigned major, unsigned minor) {
  return std::to_string(major) + "." + std::to_string(minor);
}

// Loads `name` from the fixture directory only; returns the refusal.
std::string refusal(const std::string& name) {
  PluginManager pm({kFixtureDir}, nullptr);
  auto p = pm.load(name);
  BOOST_TEST_REQUIRE(!p.ok(), "backend " << name << " loaded");
  const std::string& msg = p.error().message;
  BOOST_TEST(msg.find('\n') == std::string::npos, "not one line: " << msg);
  BOOST_TEST(contains(msg, "\"" + name + "\""), "does not name the backend: " << msg);
  return msg;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(plugin_manager)

BOOST_AUTO_TEST_CASE(loads_the_processcontainer_plugin) {
  PluginManager pm({kPluginDir}, nullptr);
  auto p = pm.load("processcontainer");
  BOOST_TEST_REQUIRE(p.ok(), why(p));
  const mxc_plugin& t = (*p)->table();
  BOOST_TEST(std::string(t.name) == "processcontainer");
  BOOST_TEST(t.abi_major == static_cast<uint32_t>(MXC_PLUGIN_ABI_MAJOR));
  BOOST_TEST(t.version != nullptr);
  BOOST_TEST(t.create != nullptr);
  BOOST_TEST(t.destroy != nullptr);
  BOOST_TEST(fs::equivalent((*p)->file(), kPluginDir / "libprocesscontainer.so"));
}

BOOST_AUTO_TEST_CASE(first_directory_holding_the_plugin_wins) {
  // The fixture directory has no libprocesscontainer.so: the next one is used.
  PluginManager pm({kFixtureDir, kPluginDir}, nullptr);
  auto p = pm.load("processcontainer");
  BOOST_TEST_REQUIRE(p.ok(), why(p));
  BOOST_TEST((*p)->file().parent_path() == kPluginDir);
}

BOOST_AUTO_TEST_CASE(unknown_backend_names_backend_dirs_and_abi) {
  std::string env = "/nonexistent/env-dir";
  PluginManager pm({kFixtureDir}, env.c_str());
  auto p = pm.load("nosuchbackend");
  BOOST_TEST_REQUIRE(!p.ok());
  const std::string& msg = p.error().message;
  BOOST_TEST(msg.find('\n') == std::string::npos, msg);
  BOOST_TEST(contains(msg, "\"nosuchbackend\""), msg);
  BOOST_TEST(contains(msg, "libnosuchbackend.so"), msg);
  BOOST_TEST(contains(msg, kFixtureDir.string()), msg);
  BOOST_TEST(contains(msg, env), msg);
  BOOST_TEST(contains(msg, PluginManager::install_dir().string()), msg);
  BOOST_TEST(contains(msg, "ABI " + abi_version(MXC_PLUGIN_ABI_MAJOR, MXC_PLUGIN_ABI_MINOR)), msg);
}

BOOST_AUTO_TEST_CASE(wrong_abi_major_names_the_file_and_both_versions) {
  std::string msg = refusal("wrong_abi");
  BOOST_TEST(contains(msg, (kFixtureDir / "libwrong_abi.so").string()), msg);
  BOOST_TEST(contains(msg, abi_version(MXC_PLUGIN_ABI_MAJOR + 1, 0)), msg);
  BOOST_TEST(contains(msg, abi_version(MXC_PLUGIN_ABI_MAJOR, MXC_PLUGIN_ABI_MINOR)), msg);

  auto direct = PluginManager::load_file(kFixtureDir / "libwrong_abi.so");
  BOOST_TEST_REQUIRE(!direct.ok());
  BOOST_TEST(contains(direct.error().message, "incompatible"), direct.error().message);
}

BOOST_AUTO_TEST_CASE(missing_entry_point_names_the_file) {
  std::string msg = refusal("no_entry");
  BOOST_TEST(contains(msg, (kFixtureDir / "libno_entry.so").string()), msg);
  BOOST_TEST(contains(msg, "no entry point"), msg);
  BOOST_TEST(contains(msg, MXC_PLUGIN_ENTRY_SYMBOL), msg);
}

BOOST_AUTO_TEST_CASE(table_name_must_match_the_file_name) {
  std::string msg = refusal("misnamed");
  BOOST_TEST(contains(msg, (kFixtureDir / "libmisnamed.so").string()), msg);
  BOOST_TEST(contains(msg, "calls itself"), msg);
  BOOST_TEST(contains(msg, "\"someone-else\""), msg);

  // On its own the file is a valid plugin: only the name is wrong.
  auto direct = PluginManager::load_file(kFixtureDir / "libmisnamed.so");
  BOOST_TEST_REQUIRE(direct.ok(), why(direct));
  BOOST_TEST(std::string((*direct)->table().name) == "someone-else");
}

BOOST_AUTO_TEST_CASE(not_a_shared_library_names_the_file) {
  std::string msg = refusal("notelf");
  BOOST_TEST(contains(msg, (kFixtureDir / "libnotelf.so").string()), msg);
  BOOST_TEST(contains(msg, "cannot load"), msg);
}

BOOST_AUTO_TEST_CASE(backend_names_are_validated) {
  for (const std::string& name :
       std::vector<std::string>{"../x", "A", "", std::string(65, 'a'), "a/b", "a.b", "x y"}) {
    auto st = validate_backend_name(name);
    BOOST_TEST(!st.ok(), "accepted \"" << name << "\"");
  }
  for (const std::string& name :
       std::vector<std::string>{"processcontainer", "a", "micro-vm_2", std::string(64, 'z'), "0"}) {
    auto st = validate_backend_name(name);
    BOOST_TEST(st.ok(), name << ": " << why(st));
  }
  // load() validates before it searches: nothing is opened for "../x".
  PluginManager pm({kFixtureDir}, nullptr);
  auto p = pm.load("../" + kPluginDir.filename().string());
  BOOST_TEST(!p.ok());
}

BOOST_AUTO_TEST_CASE(search_order_flag_dirs_then_env_then_install_dir) {
  PluginManager pm({"/flag1", "/flag2"}, "a::b:");
  std::vector<fs::path> want{"/flag1", "/flag2", "a", "b", PluginManager::install_dir()};
  BOOST_TEST(pm.search_dirs() == want, boost::test_tools::per_element());

  PluginManager env_only({}, "a::b:");
  std::vector<fs::path> want_env{"a", "b", PluginManager::install_dir()};
  BOOST_TEST(env_only.search_dirs() == want_env, boost::test_tools::per_element());

  PluginManager none({}, nullptr);
  BOOST_TEST(none.search_dirs() == std::vector<fs::path>{PluginManager::install_dir()},
             boost::test_tools::per_element());
  PluginManager empty({}, "");
  BOOST_TEST(empty.search_dirs().size() == 1u);
  PluginManager colons({}, ":::");
  BOOST_TEST(colons.search_dirs().size() == 1u);
}

BOOST_AUTO_TEST_CASE(install_dir_is_relative_to_the_executable) {
  // The test binary lives in <build>/bin, like mxc-runtime: the install dir is
  // the build's plugin directory.
  fs::path dir = PluginManager::install_dir();
  BOOST_TEST(!dir.empty());
  BOOST_TEST(dir.is_absolute());
  BOOST_TEST(fs::equivalent(dir, kPluginDir), dir << " vs " << kPluginDir);

  PluginManager pm({}, nullptr);
  auto p = pm.load("processcontainer");
  BOOST_TEST(p.ok(), why(p));
}

BOOST_AUTO_TEST_SUITE_END()
