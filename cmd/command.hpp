// One Command per subcommand, each in cmd_<name>.cpp: its usage and its body.
#pragma once

#include <string>

#include "cli_parser.hpp"
#include "mxc/runtime/container_ops.hpp"

namespace mxc::cli {

struct Invocation {
  const runtime::RuntimeContext& ctx;
  const ParsedArgs& args;
};

struct Command {
  CommandSpec spec;
  // Returns the process exit code; errors are reported through ctx.log.error.
  int (*run)(const Invocation& inv) = nullptr;
};

// Reports `e` as one line and returns 1.
int fail(const Invocation& inv, const Error& e);

Command make_create_command();
Command make_start_command();
Command make_run_command();
Command make_state_command();
Command make_kill_command();
Command make_delete_command();
Command make_list_command();
Command make_spec_command();
Command make_features_command();
Command make_exec_command();
Command make_pause_command();
Command make_resume_command();
Command make_ps_command();
Command make_update_command();
Command make_events_command();
Command make_plugins_command();
Command make_wait_command();
Command make_logs_command();
Command make_audit_command();
Command make_mxc_exec_command();

// Options shared by create and run.
std::vector<OptionSpec> create_options();
runtime::CreateOptions create_options_from(const ParsedArgs& args);

}  // namespace mxc::cli
