#include "command.hpp"

namespace mxc::cli {

Command make_run_command() {
  auto options = create_options();
  options.push_back({"detach", 'd', false, "", "return once the container runs"});
  return {{"run", "<container-id>",
           "Create and start a container. In the foreground, exit with its exit status.", options,
           1, 1},
          [](const Invocation& inv) {
            auto code = runtime::run_container(inv.ctx, create_options_from(inv.args),
                                               inv.args.flag("detach"));
            return code ? *code : fail(inv, code.error());
          }};
}

}  // namespace mxc::cli
