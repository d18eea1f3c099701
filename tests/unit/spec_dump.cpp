// Prints one of the documents spec/ generates, for schema checks outside C++:
//   mxc_spec_dump features | state-running | state-stopped | spec | spec-rootless
#include <iostream>
#include <string_view>

#include "mxc/spec/default_spec.hpp"
#include "mxc/spec/features.hpp"
#include "mxc/spec/state.hpp"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: mxc_spec_dump features|state-running|state-stopped|spec|spec-rootless\n";
    return 2;
  }
  const std::string_view what = argv[1];
  mxc::spec::State state{"1.3.0", "c1", "running", 4422, "/containers/c1", {{"k", "v"}}};
  nlohmann::json out;
  if (what == "features") {
    out = mxc::spec::features_json();
  } else if (what == "state-running") {
    out = mxc::spec::to_json(state);
  } else if (what == "state-stopped") {
    state.status = "stopped";
    state.annotations.clear();
    out = mxc::spec::to_json(state);
  } else if (what == "spec") {
    out = mxc::spec::default_spec(false);
  } else if (what == "spec-rootless") {
    out = mxc::spec::default_spec(true, 1000, 1000);
  } else {
    std::cerr << "mxc_spec_dump: unknown document " << what << "\n";
    return 2;
  }
  std::cout << out.dump(2) << "\n";
  return 0;
}
