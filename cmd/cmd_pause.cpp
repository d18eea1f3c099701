#include "command.hpp"

namespace mxc::cli {

Command make_pause_command() {
  return {{"pause",
           "<container-id>",
           "Freeze every process of a container (cgroup freezer).",
           {},
           1,
           1},
          [](const Invocation& inv) {
            auto st = runtime::pause_container(inv.ctx, inv.args.args[0]);
            return st ? 0 : fail(inv, st.error());
          }};
}

Command make_resume_command() {
  return {{"resume", "<container-id>", "Thaw a paused container.", {}, 1, 1},
          [](const Invocation& inv) {
            auto st = runtime::resume_container(inv.ctx, inv.args.args[0]);
            return st ? 0 : fail(inv, st.error());
          }};
}

}  // namespace mxc::cli
