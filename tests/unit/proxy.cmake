# ---- shim/proxy: the egress proxy, in-process, against real loopback sockets ----
mxc_add_unit_test(mxc_proxy_tests
  SOURCES proxy_tests_main.cpp proxy_rules_test.cpp proxy_server_test.cpp
  LIBS mxc_proxy Threads::Threads)
add_test(NAME proxy_unit COMMAND mxc_proxy_tests)
set_tests_properties(proxy_unit PROPERTIES TIMEOUT 120)
