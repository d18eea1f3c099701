// Boost.Test module of mxc_policy_tests (policy_*_test.cpp hold the cases).
#define BOOST_TEST_MODULE mxc_policy_tests
#include <boost/test/unit_test.hpp>
