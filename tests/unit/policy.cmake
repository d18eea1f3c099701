# Agent policy: spec/policy (parser, YAML limits), spec/mxc_wire, runtime/policy_compile.
mxc_add_unit_test(mxc_policy_tests
  SOURCES policy_tests_main.cpp policy_parse_test.cpp policy_compile_test.cpp
          policy_wire_test.cpp
  LIBS mxc_runtime)
target_compile_definitions(mxc_policy_tests PRIVATE MXC_SOURCE_DIR="${CMAKE_SOURCE_DIR}")
add_test(NAME policy_unit COMMAND mxc_policy_tests)

# network.egress as cgroup BPF programs, run with BPF_PROG_TEST_RUN (needs root).
mxc_add_unit_test(mxc_egress_bpf_tests
  SOURCES runtime_egress_bpf_test.cpp
  LIBS mxc_sys)
add_test(NAME egress_bpf_unit COMMAND mxc_egress_bpf_tests)
