// Helpers shared by the spec/ unit tests.
#pragma once

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <boost/test/unit_test.hpp>

namespace mxc::spec::test {

// <shared>/schemas/oci-runtime-spec; fails the calling test when missing so a
// checkout without shared/ can never pass silently.
inline std::filesystem::path oci_schemas_dir() {
  const std::filesystem::path dir = std::filesystem::path(MXC_SCHEMAS_DIR) / "oci-runtime-spec";
  BOOST_TEST_REQUIRE(
      std::filesystem::is_directory(dir),
      "OCI schemas directory " << dir << " is missing (configure with -DMXC_SCHEMAS_DIR=)");
  return dir;
}

// The *.json files of <oci_schemas_dir>/test/<kind>/<good|bad>, sorted; at
// least one must exist.
inline std::vector<std::filesystem::path> test_documents(const std::string& kind,
                                                         const std::string& verdict) {
  const auto dir = oci_schemas_dir() / "test" / kind / verdict;
  std::vector<std::filesystem::path> files;
  if (std::filesystem::is_directory(dir)) {
    for (const auto& e : std::filesystem::directory_iterator(dir)) {
      if (e.path().extension() == ".json") files.push_back(e.path());
    }
  }
  std::sort(files.begin(), files.end());
  BOOST_TEST_REQUIRE(!files.empty(), "no test documents in " << dir);
  return files;
}

inline std::string read_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  BOOST_TEST_REQUIRE(static_cast<bool>(in), "cannot read " << p);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace mxc::spec::test
