// OCI runtime-spec state (runtime.md "State", state-schema.json): what
// `mxc state <id>` prints and what the runtime passes to hooks on stdin.
#pragma once

#include <map>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "mxc/spec/result.hpp"

namespace mxc::spec {

struct State {
  std::string ociVersion;
  std::string id;
  std::string status;  // creating | created | running | stopped (| paused)
  int pid = 0;
  std::string bundle;
  std::map<std::string, std::string> annotations;
};

// Omits pid when the container is stopped or has no process (pid <= 0), and
// annotations when empty, as runtime.md allows.
nlohmann::json to_json(const State& state);

// Parses and validates a state document (e.g. a hook's stdin). Errors read
// "<label>: <json.path>: <what is wrong>".
Result<State> parse_state(std::string_view text, std::string_view label = "state.json");

}  // namespace mxc::spec
