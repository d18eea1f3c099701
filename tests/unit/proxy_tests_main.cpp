// Boost.Test module of mxc_proxy_tests (proxy_*_test.cpp hold the cases).
#define BOOST_TEST_MODULE mxc_proxy_tests
#include <csignal>

#include <boost/test/unit_test.hpp>

// splice(2) into a reset socket may raise SIGPIPE (the kernel sets no
// MSG_NOSIGNAL there): a process serving the proxy ignores it, as the shim must.
struct IgnoreSigpipe {
  IgnoreSigpipe() { std::signal(SIGPIPE, SIG_IGN); }
};
BOOST_TEST_GLOBAL_FIXTURE(IgnoreSigpipe);
