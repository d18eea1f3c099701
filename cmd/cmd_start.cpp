#include "command.hpp"

namespace mxc::cli {

Command make_start_command() {
  return {{"start", "<container-id>", "Start the process of a created container.", {}, 1, 1},
          [](const Invocation& inv) {
            auto st = runtime::start_container(inv.ctx, inv.args.args[0]);
            return st ? 0 : fail(inv, st.error());
          }};
}

}  // namespace mxc::cli
