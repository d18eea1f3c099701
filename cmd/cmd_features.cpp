#include <cstdio>

#include "command.hpp"
#include "mxc/spec/features.hpp"

namespace mxc::cli {

Command make_features_command() {
  return {
      {"features", "", "Print the features this runtime supports (OCI features.json).", {}, 0, 0},
      [](const Invocation&) {
        std::printf("%s\n", spec::features_json().dump(2).c_str());
        return 0;
      }};
}

}  // namespace mxc::cli
