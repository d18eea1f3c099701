#include <cstdlib>

#include "command.hpp"

namespace mxc::cli {

std::vector<OptionSpec> create_options() {
  return {
      {"bundle", 'b', true, "DIR", "path to the bundle directory (default: current directory)"},
      {"pid-file", '\0', true, "FILE", "write the container's pid to FILE"},
      {"console-socket", '\0', true, "PATH",
       "unix socket to receive the pty master (process.terminal)"},
      {"no-pivot", '\0', false, "", "do not use pivot_root (for roots on ramfs)"},
      {"no-new-keyring", '\0', false, "",
       "accepted for runc compatibility; no session keyring is made"},
      {"preserve-fds", '\0', true, "N",
       "pass the caller's fds 3 .. 3+N-1 to the container process"},
      {"policy", '\0', true, "FILE",
       "agent policy (JSON or YAML); the bundle must not carry another one"},
      {"workspace", '\0', true, "DIR", "the agent's workspace: ${WORKSPACE} in the policy"},
  };
}

runtime::CreateOptions create_options_from(const ParsedArgs& args) {
  runtime::CreateOptions o;
  o.id = args.args.at(0);
  o.bundle = args.value("bundle", ".");
  o.pid_file = args.value("pid-file");
  o.console_socket = args.value("console-socket");
  o.no_pivot = args.flag("no-pivot");
  o.policy_file = args.value("policy");
  o.workspace = args.value("workspace");
  o.preserve_fds =
      static_cast<unsigned>(std::strtoul(args.value("preserve-fds", "0").c_str(), nullptr, 10));
  return o;
}

Command make_create_command() {
  return {{"create", "<container-id>",
           "Create a container from a bundle; its process waits until `start`.", create_options(),
           1, 1},
          [](const Invocation& inv) {
            auto pid = runtime::create_container(inv.ctx, create_options_from(inv.args));
            return pid ? 0 : fail(inv, pid.error());
          }};
}

}  // namespace mxc::cli
