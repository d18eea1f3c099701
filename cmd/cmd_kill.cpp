#include <signal.h>

#include "command.hpp"

namespace mxc::cli {

Command make_kill_command() {
  return {{"kill",
           "<container-id> [signal]",
           "Send a signal (default SIGTERM; a name such as KILL or SIGKILL, or a number) to a "
           "container.",
           {{"all", 'a', false, "", "send the signal to every process of the container"}},
           1,
           2},
          [](const Invocation& inv) {
            int sig = SIGTERM;
            if (inv.args.args.size() > 1) {
              auto parsed = runtime::parse_signal(inv.args.args[1]);
              if (!parsed) return fail(inv, parsed.error());
              sig = *parsed;
            }
            auto st = runtime::kill_container(inv.ctx, inv.args.args[0], sig, inv.args.flag("all"));
            return st ? 0 : fail(inv, st.error());
          }};
}

}  // namespace mxc::cli
