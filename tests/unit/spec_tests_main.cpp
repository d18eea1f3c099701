// Boost.Test module of mxc_spec_tests (spec_*_test.cpp hold the cases).
#define BOOST_TEST_MODULE mxc_spec_tests
#include <boost/test/unit_test.hpp>
