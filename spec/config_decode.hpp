// Decoders shared between the config.json translation units.
#pragma once

#include <string>

#include "json_reader.hpp"
#include "known_values.hpp"
#include "mxc/spec/config.hpp"

namespace mxc::spec {

using detail::json;

void decode(detail::Reader& r, const json& j, const std::string& path, IdMapping& out);
void decode(detail::Reader& r, const json& j, const std::string& path, Linux& out);

namespace detail {
// Validates solaris, windows, vm, zos and freebsd against their schemas; the
// runtime keeps them only as raw JSON.
void check_other_platforms(Object& config);
}  // namespace detail

}  // namespace mxc::spec
