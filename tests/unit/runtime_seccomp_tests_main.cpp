// Boost.Test module of mxc_runtime_seccomp_tests (runtime_seccomp_test.cpp).
#define BOOST_TEST_MODULE mxc_runtime_seccomp_tests
#include <boost/test/unit_test.hpp>
