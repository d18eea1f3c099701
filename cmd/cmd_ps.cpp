#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <sstream>

#include "command.hpp"

namespace mxc::cli {

namespace {
// `ps -ef` (or the given ps options) limited to the container's processes, as runc does.
int print_ps_table(const std::vector<pid_t>& pids, const std::vector<std::string>& ps_args) {
  std::vector<std::string> argv{"ps"};
  if (ps_args.empty()) argv.push_back("-ef");
  argv.insert(argv.end(), ps_args.begin(), ps_args.end());
  int fds[2];
  if (::pipe(fds) != 0) return 1;
  pid_t child = ::fork();
  if (child < 0) return 1;
  if (child == 0) {
    ::dup2(fds[1], 1);
    ::close(fds[0]);
    ::close(fds[1]);
    std::vector<char*> cargv;
    for (auto& a : argv) cargv.push_back(a.data());
    cargv.push_back(nullptr);
    ::execvp("ps", cargv.data());
    ::_exit(127);
  }
  ::close(fds[1]);
  FILE* p = ::fdopen(fds[0], "r");
  char line[4096];
  int pid_column = -1;
  bool header = true;
  while (p != nullptr && std::fgets(line, sizeof line, p) != nullptr) {
    std::istringstream in(line);
    std::vector<std::string> fields;
    for (std::string f; in >> f;) fields.push_back(f);
    if (header) {
      for (size_t i = 0; i < fields.size(); ++i) {
        if (fields[i] == "PID") pid_column = static_cast<int>(i);
      }
      std::fputs(line, stdout);
      header = false;
      continue;
    }
    if (pid_column < 0 || static_cast<size_t>(pid_column) >= fields.size()) continue;
    pid_t pid = static_cast<pid_t>(std::atol(fields[pid_column].c_str()));
    if (std::find(pids.begin(), pids.end(), pid) != pids.end()) std::fputs(line, stdout);
  }
  if (p != nullptr) std::fclose(p);
  int status = 0;
  ::waitpid(child, &status, 0);
  bool ok = WIFEXITED(status) && WEXITSTATUS(status) == 0 && pid_column >= 0;
  if (!ok) std::fprintf(stderr, "mxc-runtime: ps: `ps` failed or printed no PID column\n");
  return ok ? 0 : 1;
}
}  // namespace

Command make_ps_command() {
  return {{"ps",
           "<container-id> [ps options]",
           "List the processes of a container.",
           {{"format", 'f', true, "table|json", "output format (default table)"}},
           1,
           -1},
          [](const Invocation& inv) {
            std::string format = inv.args.value("format", "table");
            if (format != "table" && format != "json") {
              return fail(inv,
                          make_error("ps: --format must be table or json, not \"" + format + "\""));
            }
            auto pids = runtime::container_pids(inv.ctx, inv.args.args[0]);
            if (!pids) return fail(inv, pids.error());
            if (format == "json") {
              std::printf("%s\n", nlohmann::json(*pids).dump().c_str());
              return 0;
            }
            std::vector<std::string> ps_args(inv.args.args.begin() + 1, inv.args.args.end());
            return print_ps_table(*pids, ps_args);
          }};
}

}  // namespace mxc::cli
