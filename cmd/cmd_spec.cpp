#include <sys/stat.h>

#include <cstdio>

#include "command.hpp"
#include "mxc/spec/default_spec.hpp"
#include "mxc/sys/file_util.hpp"

namespace mxc::cli {

Command make_spec_command() {
  return {{"spec",
           "",
           "Write a starting config.json into the bundle directory.",
           {{"bundle", 'b', true, "DIR", "bundle directory (default: current directory)"},
            {"rootless", '\0', false, "",
             "a configuration for a container run by an unprivileged user"}},
           0,
           0},
          [](const Invocation& inv) {
            std::string path = inv.args.value("bundle", ".") + "/config.json";
            struct stat sb {};
            if (::lstat(path.c_str(), &sb) == 0) {
              return fail(inv, make_error("spec: " + path + " exists; remove it first"));
            }
            auto doc = spec::default_spec(inv.args.flag("rootless"));
            auto st = sys::write_file_atomic(path, doc.dump(2) + "\n", 0644);
            return st ? 0 : fail(inv, st.error().context("spec"));
          }};
}

}  // namespace mxc::cli
