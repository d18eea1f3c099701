// Boost.Test module of mxc_runtime_tests (runtime_*_test.cpp hold the cases).
#define BOOST_TEST_MODULE mxc_runtime_tests
#include <boost/test/unit_test.hpp>
