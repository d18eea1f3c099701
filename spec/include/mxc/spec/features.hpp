// OCI runtime-spec features.json (features.md, features-schema.json): what
// `mxc features` prints.
#pragma once

#include <string_view>

#include <nlohmann/json.hpp>

#include "mxc/spec/result.hpp"

namespace mxc::spec {

// This runtime's features document.
nlohmann::json features_json();

// Validates a features document against features-schema.json (types, enums,
// required ociVersionMin/Max) and returns it. Errors read
// "<label>: <json.path>: <what is wrong>".
Result<nlohmann::json> parse_features(std::string_view text,
                                      std::string_view label = "features.json");

}  // namespace mxc::spec
