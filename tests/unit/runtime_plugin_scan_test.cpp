// PluginManager::scan: every *.so of every search directory, loaded or refused
// with a one-line reason, a bad file never stopping the others, and of two
// files claiming one backend the first in search order winning.
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <boost/test/unit_test.hpp>

#include "mxc/plugin.h"
#include "mxc/runtime/plugin_manager.hpp"

namespace fs = std::filesystem;

namespace {

using mxc::runtime::PluginInfo;
using mxc::runtime::PluginManager;
using mxc::runtime::PluginScan;

const fs::path kPluginDir = MXC_TEST_PLUGIN_DIR;
const fs::path kFixtureDir = MXC_TEST_FIXTURE_PLUGIN_DIR;
const fs::path kShadowDir = MXC_TEST_FIXTURE_SHADOW_DIR;

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

// The reason `file` was refused; "" when the scan does not report it.
std::string reason(const PluginScan& scan, const fs::path& file) {
  for (const auto& r : scan.rejected) {
    if (r.file == file) return r.reason;
  }
  return "";
}

const PluginInfo* loaded(const PluginScan& scan, const std::string& name) {
  for (const auto& p : scan.loaded) {
    if (p.name == name) return &p;
  }
  return nullptr;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(plugin_scan)

BOOST_AUTO_TEST_CASE(bad_files_are_reported_and_the_good_one_still_loads) {
  // The fixtures come first, so every broken file is met before the real plugin.
  PluginManager pm({kFixtureDir, kPluginDir}, nullptr);
  PluginScan scan = pm.scan();

  const PluginInfo* pc = loaded(scan, "processcontainer");
  BOOST_TEST_REQUIRE(pc != nullptr);
  BOOST_TEST(fs::equivalent(pc->file, kPluginDir / "libprocesscontainer.so"));
  BOOST_TEST(pc->abi_major == static_cast<uint32_t>(MXC_PLUGIN_ABI_MAJOR));
  BOOST_TEST(pc->tiers == std::vector<std::string>{"process"}, boost::test_tools::per_element());
  BOOST_TEST(pc->enforces == (std::vector<std::string>{
                                 "filesystem.allowRead", "filesystem.allowWrite",
                                 "filesystem.denyRead", "desktop.display", "network.default",
                                 "network.allowDomains", "network.egress"}),
             boost::test_tools::per_element());
  BOOST_TEST(pc->has_exec);
  BOOST_TEST(!pc->version.empty());
  // No broken fixture slipped through (the plugin directory may hold other backends).
  for (const auto& p : scan.loaded) BOOST_TEST(p.file.parent_path() != kFixtureDir, p.file);

  std::string r = reason(scan, kFixtureDir / "libnotelf.so");
  BOOST_TEST(contains(r, "not a shared library"), r);
  r = reason(scan, kFixtureDir / "libno_entry.so");
  BOOST_TEST(contains(r, "no entry point " MXC_PLUGIN_ENTRY_SYMBOL), r);
  r = reason(scan, kFixtureDir / "libwrong_abi.so");
  std::string runtime_abi =
      std::to_string(MXC_PLUGIN_ABI_MAJOR) + "." + std::to_string(MXC_PLUGIN_ABI_MINOR);
  BOOST_TEST(contains(r, "ABI " + std::to_string(MXC_PLUGIN_ABI_MAJOR + 1) + ".0"), r);
  BOOST_TEST(contains(r, runtime_abi), r);
  r = reason(scan, kFixtureDir / "libincomplete.so");
  BOOST_TEST(contains(r, "incomplete table (no create, wait)"), r);
  r = reason(scan, kFixtureDir / "libmisnamed.so");
  BOOST_TEST(contains(r, "calls itself \"someone-else\""), r);

  for (const auto& rej : scan.rejected) {
    BOOST_TEST(!rej.reason.empty(), rej.file);
    BOOST_TEST(rej.reason.find('\n') == std::string::npos, rej.reason);
    // The reason is about the file; the caller names it.
    BOOST_TEST(!contains(rej.reason, rej.file.string()), rej.reason);
  }
  // Every *.so of the fixture directory is accounted for, one way or the other.
  size_t fixtures = 0;
  for (const auto& e : fs::directory_iterator(kFixtureDir)) {
    if (e.path().extension() != ".so") continue;
    ++fixtures;
    BOOST_TEST(!reason(scan, e.path()).empty(), e.path() << " not reported");
  }
  BOOST_TEST(fixtures == 5u);
}

BOOST_AUTO_TEST_CASE(first_plugin_claiming_a_name_wins_the_other_is_shadowed) {
  {
    PluginManager pm({kPluginDir, kShadowDir}, nullptr);
    PluginScan scan = pm.scan();
    const PluginInfo* pc = loaded(scan, "processcontainer");
    BOOST_TEST_REQUIRE(pc != nullptr);
    BOOST_TEST(pc->file == kPluginDir / "libprocesscontainer.so");
    std::string r = reason(scan, kShadowDir / "libprocesscontainer.so");
    BOOST_TEST(r == "shadowed by " + (kPluginDir / "libprocesscontainer.so").string());
  }
  {
    // The other way round, the rival wins, and load() agrees with scan().
    PluginManager pm({kShadowDir, kPluginDir}, nullptr);
    PluginScan scan = pm.scan();
    const PluginInfo* pc = loaded(scan, "processcontainer");
    BOOST_TEST_REQUIRE(pc != nullptr);
    BOOST_TEST(pc->version == "0.0.0-dup");
    BOOST_TEST(pc->has_exec == false);
    std::string r = reason(scan, kPluginDir / "libprocesscontainer.so");
    BOOST_TEST(r == "shadowed by " + (kShadowDir / "libprocesscontainer.so").string());
    auto p = pm.load("processcontainer");
    BOOST_TEST_REQUIRE(p.ok());
    BOOST_TEST(std::string((*p)->table().version) == "0.0.0-dup");
  }
}

BOOST_AUTO_TEST_CASE(one_directory_listed_twice_is_not_its_own_rival) {
  // The install dir (= kPluginDir for the test binary) is searched last anyway.
  PluginManager pm({kPluginDir, kPluginDir}, kPluginDir.c_str());
  PluginScan scan = pm.scan();
  BOOST_TEST(scan.rejected.empty());
  BOOST_TEST(loaded(scan, "processcontainer") != nullptr);
}

BOOST_AUTO_TEST_CASE(missing_directories_are_skipped_and_listed) {
  PluginManager pm({"/nonexistent/mxc-plugins"}, nullptr);
  PluginScan scan = pm.scan();
  BOOST_TEST(scan.search_dirs.front() == fs::path("/nonexistent/mxc-plugins"));
  BOOST_TEST(scan.rejected.empty());
  BOOST_TEST(loaded(scan, "processcontainer") != nullptr);
}

BOOST_AUTO_TEST_CASE(other_files_and_bad_names_in_a_plugin_directory) {
  fs::path dir = fs::temp_directory_path() / ("mxc-scan-test-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  fs::copy_file(kFixtureDir / "libmisnamed.so", dir / "misnamed.so");  // no lib prefix
  fs::copy_file(kFixtureDir / "libmisnamed.so", dir / "libBad.Name.so");
  fs::create_directory(dir / "libadir.so");
  { std::ofstream(dir / "README") << "not a plugin, not a .so: ignored\n"; }
  PluginManager pm({dir}, nullptr);
  PluginScan scan = pm.scan();
  BOOST_TEST(contains(reason(scan, dir / "misnamed.so"), "lib<backend>.so"));
  BOOST_TEST(contains(reason(scan, dir / "libBad.Name.so"), "lib<backend>.so"));
  BOOST_TEST(reason(scan, dir / "libadir.so") == "not a regular file");
  BOOST_TEST(reason(scan, dir / "README").empty());
  BOOST_TEST(loaded(scan, "processcontainer") != nullptr);
  fs::remove_all(dir);
}

BOOST_AUTO_TEST_CASE(load_file_names_what_an_incomplete_table_lacks) {
  auto p = PluginManager::load_file(kFixtureDir / "libincomplete.so");
  BOOST_TEST_REQUIRE(!p.ok());
  const std::string& msg = p.error().message;
  BOOST_TEST(contains(msg, (kFixtureDir / "libincomplete.so").string()), msg);
  BOOST_TEST(contains(msg, "no create, wait"), msg);
}

BOOST_AUTO_TEST_SUITE_END()
