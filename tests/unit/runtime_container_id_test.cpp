// validate_container_id and quote_untrusted: ids name directories under --root.
#include <string>

#include <boost/test/unit_test.hpp>

#include "mxc/runtime/container_id.hpp"

namespace {

// The error message of a failed result, "" for success (BOOST_TEST builds its
// message even when the check passes).
template <class R>
std::string why(const R& r) {
  return r.ok() ? std::string() : r.error().message;
}

using mxc::runtime::quote_untrusted;
using mxc::runtime::validate_container_id;

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

// The error of a refused id: one line that names the id (quoted, escaped).
std::string refusal(const std::string& id) {
  auto st = validate_container_id(id);
  BOOST_TEST_REQUIRE(!st.ok(), "id " << quote_untrusted(id) << " was accepted");
  const std::string& msg = st.error().message;
  BOOST_TEST(msg.find('\n') == std::string::npos, "message is not one line: " << msg);
  BOOST_TEST(msg.find('\r') == std::string::npos, "message is not one line: " << msg);
  BOOST_TEST(contains(msg, "container id"), msg);
  return msg;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(container_id)

BOOST_AUTO_TEST_CASE(accepts_typical_ids) {
  for (const std::string id :
       {"abc", "a-b_c.d+e", "A", "0", "..a", "a..", "my.container-1",
        "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"}) {
    auto st = validate_container_id(id);
    BOOST_TEST(st.ok(), id << ": " << why(st));
  }
  BOOST_TEST(validate_container_id(std::string(1024, 'x')).ok());
}

BOOST_AUTO_TEST_CASE(refuses_empty) {
  std::string msg = refusal("");
  BOOST_TEST(contains(msg, "empty"), msg);
}

BOOST_AUTO_TEST_CASE(refuses_slashes_and_dots) {
  for (const std::string id : {"/", "a/b", "/abc", "abc/", ".", ".."}) {
    std::string msg = refusal(id);
    BOOST_TEST(contains(msg, "\"" + id + "\""), "message does not name " << id << ": " << msg);
  }
}

BOOST_AUTO_TEST_CASE(refuses_other_characters) {
  for (const std::string id : {"a b", "a:b", "a*", "é", "a\"b", "a\\b"}) refusal(id);
}

BOOST_AUTO_TEST_CASE(refuses_control_characters_with_an_escaped_one_line_message) {
  std::string msg = refusal("a\nb");
  BOOST_TEST(contains(msg, "\"a\\x0ab\""), msg);

  msg = refusal("\x01");
  BOOST_TEST(contains(msg, "\"\\x01\""), msg);
  BOOST_TEST(msg.find('\x01') == std::string::npos, msg);

  msg = refusal("x\ry\x1b[2Jz\x7f");
  BOOST_TEST(msg.find('\x1b') == std::string::npos, msg);
  BOOST_TEST(msg.find('\x7f') == std::string::npos, msg);
  BOOST_TEST(contains(msg, "\\x0d"), msg);
}

BOOST_AUTO_TEST_CASE(refuses_over_long_ids) {
  std::string id(1025, 'a');
  std::string msg = refusal(id);
  BOOST_TEST(contains(msg, "too long"), msg);
  BOOST_TEST(contains(msg, "1025"), msg);
  // Named by its beginning; a kilobyte of id is not repeated in full.
  BOOST_TEST(contains(msg, "\"" + std::string(32, 'a')), msg);
  BOOST_TEST(msg.size() < 300u, msg);
}

BOOST_AUTO_TEST_CASE(quote_untrusted_escapes_quotes_and_backslashes) {
  BOOST_TEST(quote_untrusted("plain") == "\"plain\"");
  BOOST_TEST(quote_untrusted("a\"b") == "\"a\\x22b\"");
  BOOST_TEST(quote_untrusted("a\\b") == "\"a\\x5cb\"");
  BOOST_TEST(quote_untrusted("\t") == "\"\\x09\"");
}

BOOST_AUTO_TEST_SUITE_END()
