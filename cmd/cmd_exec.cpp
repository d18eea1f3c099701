#include <cstdlib>

#include "command.hpp"

namespace mxc::cli {

namespace {
// Repeatable flags (-e, --cap) arrive joined by '\n' from the parser.
std::vector<std::string> all_values(const ParsedArgs& args, const std::string& name) {
  std::vector<std::string> out;
  std::string v = args.value(name);
  size_t start = 0;
  while (!v.empty() && start <= v.size()) {
    size_t nl = v.find('\n', start);
    if (nl == std::string::npos) nl = v.size();
    out.push_back(v.substr(start, nl - start));
    start = nl + 1;
  }
  return out;
}
}  // namespace

Command make_exec_command() {
  return {{"exec",
           "<container-id> [command [args...]]",
           "Run another process in a running container.",
           {{"process", 'p', true, "FILE", "a JSON process object to run (- for stdin)"},
            {"tty", 't', false, "", "allocate a pseudo-terminal"},
            {"detach", 'd', false, "", "do not wait for the process"},
            {"pid-file", '\0', true, "FILE", "write the process's pid to FILE"},
            {"console-socket", '\0', true, "PATH", "unix socket to receive the pty master"},
            {"cwd", '\0', true, "DIR", "working directory in the container"},
            {"env", 'e', true, "KEY=VALUE", "set an environment variable (repeatable)", true},
            {"user", 'u', true, "UID[:GID]", "run as this user"},
            {"cap", 'c', true, "CAP", "add a capability (repeatable)", true},
            {"no-new-privs", '\0', false, "", "set no_new_privs"},
            {"preserve-fds", '\0', true, "N", "pass the caller's fds 3 .. 3+N-1 to the process"}},
           1,
           -1,
           true},
          [](const Invocation& inv) {
            runtime::ExecOptions o;
            o.id = inv.args.args[0];
            o.args.assign(inv.args.args.begin() + 1, inv.args.args.end());
            o.process_file = inv.args.value("process");
            o.tty = inv.args.flag("tty");
            o.detach = inv.args.flag("detach");
            o.pid_file = inv.args.value("pid-file");
            o.console_socket = inv.args.value("console-socket");
            o.cwd = inv.args.value("cwd");
            o.env = all_values(inv.args, "env");
            o.user = inv.args.value("user");
            o.caps = all_values(inv.args, "cap");
            o.no_new_privs = inv.args.flag("no-new-privs");
            o.preserve_fds = static_cast<unsigned>(
                std::strtoul(inv.args.value("preserve-fds", "0").c_str(), nullptr, 10));
            auto code = runtime::exec_container(inv.ctx, o);
            return code ? *code : fail(inv, code.error());
          }};
}

}  // namespace mxc::cli
