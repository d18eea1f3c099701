#include "command.hpp"

namespace mxc::cli {

Command make_delete_command() {
  return {{"delete",
           "<container-id>",
           "Delete a container and everything its create made.",
           {{"force", 'f', false, "", "kill the container first if it is running"}},
           1,
           1},
          [](const Invocation& inv) {
            auto st = runtime::delete_container(inv.ctx, inv.args.args[0], inv.args.flag("force"));
            return st ? 0 : fail(inv, st.error());
          }};
}

}  // namespace mxc::cli
