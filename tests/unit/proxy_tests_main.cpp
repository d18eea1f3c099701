// Boost.Test module of mxc_proxy_tests (proxy_*_test.cpp hold the cases).
#define BOOST_TEST_MODULE mxc_proxy_tests
#include <boost/test/unit_test.hpp>
