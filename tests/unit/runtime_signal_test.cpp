// parse_signal: the `kill` command's signal argument.
#include <csignal>
#include <string>

#include <boost/test/unit_test.hpp>

#include "mxc/runtime/container_ops.hpp"

namespace {

// The error message of a failed result, "" for success (BOOST_TEST builds its
// message even when the check passes).
template <class R>
std::string why(const R& r) {
  return r.ok() ? std::string() : r.error().message;
}

using mxc::runtime::parse_signal;

int parsed(const std::string& text) {
  auto r = parse_signal(text);
  BOOST_TEST_REQUIRE(r.ok(), text << ": " << why(r));
  return *r;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(signals)

BOOST_AUTO_TEST_CASE(names_with_and_without_sig_prefix_in_any_case) {
  BOOST_TEST(parsed("KILL") == SIGKILL);
  BOOST_TEST(parsed("SIGKILL") == SIGKILL);
  BOOST_TEST(parsed("kill") == SIGKILL);
  BOOST_TEST(parsed("sigkill") == SIGKILL);
  BOOST_TEST(parsed("TERM") == SIGTERM);
  BOOST_TEST(parsed("SIGTERM") == SIGTERM);
  BOOST_TEST(parsed("HUP") == SIGHUP);
  BOOST_TEST(parsed("USR1") == SIGUSR1);
  BOOST_TEST(parsed("SIGWINCH") == SIGWINCH);
}

BOOST_AUTO_TEST_CASE(numbers) {
  BOOST_TEST(parsed("9") == 9);
  BOOST_TEST(parsed("15") == 15);
  BOOST_TEST(parsed("1") == 1);
  BOOST_TEST(parsed(std::to_string(SIGRTMAX)) == SIGRTMAX);
}

BOOST_AUTO_TEST_CASE(realtime_signals) {
  BOOST_TEST(parsed("SIGRTMIN+1") == SIGRTMIN + 1);
  BOOST_TEST(parsed("RTMIN+2") == SIGRTMIN + 2);
  BOOST_TEST(parsed("rtmin+0") == SIGRTMIN);
  BOOST_TEST(parsed("SIGRTMAX-1") == SIGRTMAX - 1);
  BOOST_TEST(parsed("RTMAX-0") == SIGRTMAX);
}

BOOST_AUTO_TEST_CASE(refuses_invalid_signals) {
  for (const std::string text : {"", "0", "65", "1000", "99999999999999999999", "FOO", "SIGFOO",
                                 "-1", "+9", " 9", "SIG", "RTMIN+99", "RTMAX-99"}) {
    auto r = parse_signal(text);
    BOOST_TEST(!r.ok(), "\"" << text << "\" was accepted as " << (r.ok() ? *r : 0));
    if (!r.ok()) {
      BOOST_TEST(r.error().message.find('\n') == std::string::npos);
      BOOST_TEST(!r.error().message.empty());
    }
  }
}

BOOST_AUTO_TEST_CASE(refusal_names_the_text) {
  auto r = parse_signal("FOO");
  BOOST_TEST_REQUIRE(!r.ok());
  BOOST_TEST(r.error().message.find("FOO") != std::string::npos, r.error().message);
  r = parse_signal("65");
  BOOST_TEST_REQUIRE(!r.ok());
  BOOST_TEST(r.error().message.find("65") != std::string::npos, r.error().message);
}

BOOST_AUTO_TEST_SUITE_END()
