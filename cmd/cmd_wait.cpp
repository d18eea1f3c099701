#include <cstdio>

#include "command.hpp"

namespace mxc::cli {

Command make_wait_command() {
  return {{"wait",
           "<container-id>",
           "Wait for a container to exit and print its exit code (its shim's record: "
           "with --json, also the signal and whether it timed out).",
           {{"json", '\0', false, "", "print the exit record as JSON"}},
           1,
           1},
          [](const Invocation& inv) {
            auto r = runtime::wait_container(inv.ctx, inv.args.args[0]);
            if (!r) return fail(inv, r.error());
            if (inv.args.flag("json")) {
              std::printf("%s\n", r->dump().c_str());
            } else if (auto code = r->find("exitCode"); code != r->end() && code->is_number()) {
              std::printf("%d\n", code->get<int>());
            } else {
              return fail(inv, make_error("container " + inv.args.args[0] +
                                          " exited; its parent, not mxc-shim, has the status"));
            }
            return 0;
          }};
}

}  // namespace mxc::cli
