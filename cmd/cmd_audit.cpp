#include <cstdio>

#include "command.hpp"

namespace mxc::cli {

Command make_audit_command() {
  return {{"audit",
           "[container-id]",
           "Print the agent audit log (JSON lines: time, id, agent, identity, event, detail) of "
           "one container or of all; it outlives `delete`.",
           {},
           0,
           1},
          [](const Invocation& inv) {
            auto lines =
                runtime::audit_lines(inv.ctx, inv.args.args.empty() ? "" : inv.args.args[0]);
            if (!lines) return fail(inv, lines.error());
            for (const auto& l : *lines) std::printf("%s\n", l.c_str());
            return 0;
          }};
}

}  // namespace mxc::cli
