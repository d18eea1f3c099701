#include <cstdio>

#include "command.hpp"

namespace mxc::cli {

Command make_state_command() {
  return {{"state", "<container-id>", "Print the state of a container as JSON.", {}, 1, 1},
          [](const Invocation& inv) {
            auto s = runtime::container_state(inv.ctx, inv.args.args[0]);
            if (!s) return fail(inv, s.error());
            std::printf("%s\n", s->dump(2).c_str());
            return 0;
          }};
}

}  // namespace mxc::cli
