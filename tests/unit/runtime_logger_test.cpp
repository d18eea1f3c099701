// Logger: the --log file in JSON (`level`, `msg`, `time`) and text formats.
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <string>
#include <vector>

#include <boost/test/unit_test.hpp>
#include <nlohmann/json.hpp>

#include "mxc/runtime/logger.hpp"

namespace fs = std::filesystem;

namespace {

using mxc::runtime::LogFormat;
using mxc::runtime::Logger;

struct TempDir {
  fs::path path;
  TempDir() {
    char tmpl[] = "/tmp/mxc-runtime-test-XXXXXX";
    BOOST_TEST_REQUIRE(::mkdtemp(tmpl) != nullptr);
    path = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
};

std::vector<std::string> lines_of(const fs::path& p) {
  std::ifstream in(p);
  std::vector<std::string> out;
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

// RFC 3339 date-time: full-date "T" full-time, with a zone.
const std::regex kRfc3339(
    R"(^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])T([01]\d|2[0-3]):[0-5]\d:([0-5]\d|60)(\.\d+)?(Z|[+-]\d{2}:\d{2})$)");

std::vector<nlohmann::json> json_lines(const fs::path& p) {
  std::vector<nlohmann::json> out;
  for (const auto& line : lines_of(p)) {
    auto j = nlohmann::json::parse(line, nullptr, false);
    BOOST_TEST_REQUIRE(!j.is_discarded(), "not JSON: " << line);
    BOOST_TEST_REQUIRE(j.is_object(), line);
    BOOST_TEST(j.contains("level"), line);
    BOOST_TEST(j.contains("msg"), line);
    BOOST_TEST_REQUIRE(j.contains("time"), line);
    BOOST_TEST(j["time"].is_string(), line);
    if (j["time"].is_string()) {
      std::string t = j["time"];
      BOOST_TEST(std::regex_match(t, kRfc3339), "not RFC 3339: " << t);
    }
    out.push_back(std::move(j));
  }
  return out;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(logger)

BOOST_AUTO_TEST_CASE(json_lines_with_level_msg_and_time) {
  TempDir tmp;
  fs::path log = tmp.path / "log.json";
  {
    Logger l;
    BOOST_TEST_REQUIRE(l.open(log.string(), LogFormat::kJson, true));
    l.debug("first");
    l.warn("second \"quoted\"");
    l.error("third\nwith a newline");
  }
  auto entries = json_lines(log);
  BOOST_TEST_REQUIRE(entries.size() == 3u);
  BOOST_TEST(entries[0]["level"] == "debug");
  BOOST_TEST(entries[0]["msg"] == "first");
  BOOST_TEST(entries[1]["level"] == "warning");
  BOOST_TEST(entries[1]["msg"] == "second \"quoted\"");
  BOOST_TEST(entries[2]["level"] == "error");
  BOOST_TEST(entries[2]["msg"] == "third\nwith a newline");
}

BOOST_AUTO_TEST_CASE(debug_lines_only_with_debug) {
  TempDir tmp;
  fs::path log = tmp.path / "log.json";
  {
    Logger l;
    BOOST_TEST_REQUIRE(l.open(log.string(), LogFormat::kJson, false));
    l.debug("hidden");
    l.warn("shown");
  }
  auto entries = json_lines(log);
  BOOST_TEST_REQUIRE(entries.size() == 1u);
  BOOST_TEST(entries[0]["level"] == "warning");
  BOOST_TEST(entries[0]["msg"] == "shown");
}

BOOST_AUTO_TEST_CASE(invalid_utf8_still_gives_json) {
  TempDir tmp;
  fs::path log = tmp.path / "log.json";
  {
    Logger l;
    BOOST_TEST_REQUIRE(l.open(log.string(), LogFormat::kJson, false));
    l.warn("bad \xff\xfe bytes");
  }
  auto entries = json_lines(log);
  BOOST_TEST_REQUIRE(entries.size() == 1u);
  std::string msg = entries[0]["msg"];
  BOOST_TEST(msg.rfind("bad ", 0) == 0u, msg);
}

BOOST_AUTO_TEST_CASE(appends_to_an_existing_log) {
  TempDir tmp;
  fs::path log = tmp.path / "log.json";
  for (const char* msg : {"one", "two"}) {
    Logger l;
    BOOST_TEST_REQUIRE(l.open(log.string(), LogFormat::kJson, false));
    l.warn(msg);
  }
  auto entries = json_lines(log);
  BOOST_TEST_REQUIRE(entries.size() == 2u);
  BOOST_TEST(entries[0]["msg"] == "one");
  BOOST_TEST(entries[1]["msg"] == "two");
}

BOOST_AUTO_TEST_CASE(text_format_is_not_json) {
  TempDir tmp;
  fs::path log = tmp.path / "log.txt";
  {
    Logger l;
    BOOST_TEST_REQUIRE(l.open(log.string(), LogFormat::kText, true));
    l.debug("plain words");
  }
  auto lines = lines_of(log);
  BOOST_TEST_REQUIRE(lines.size() == 1u);
  BOOST_TEST(lines[0].find("debug") != std::string::npos, lines[0]);
  BOOST_TEST(lines[0].find("plain words") != std::string::npos, lines[0]);
  BOOST_TEST(nlohmann::json::parse(lines[0], nullptr, false).is_discarded(), lines[0]);
}

BOOST_AUTO_TEST_CASE(open_fails_for_an_unwritable_path) {
  TempDir tmp;
  Logger l;
  BOOST_TEST(!l.open((tmp.path / "no" / "such" / "dir" / "log").string(), LogFormat::kJson, true));
  Logger none;
  BOOST_TEST(none.open("", LogFormat::kJson, false));
}

BOOST_AUTO_TEST_SUITE_END()
