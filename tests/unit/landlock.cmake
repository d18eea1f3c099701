# Landlock: rulesets built on temporary trees and enforced in forked children.
mxc_add_unit_test(mxc_runtime_landlock_tests
  SOURCES runtime_landlock_test.cpp
  LIBS mxc_sys)
add_test(NAME runtime_landlock_unit COMMAND mxc_runtime_landlock_tests)
