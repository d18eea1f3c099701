#pragma once

#include <string_view>

#include "mxc/spec/result.hpp"

namespace mxc::runtime {

// Ids name directories under --root, so they are checked strictly: 1..1024
// characters of [A-Za-z0-9_+.-], not "." or "..". The error quotes the id
// with control characters escaped.
Status validate_container_id(std::string_view id);

// A printable rendering of untrusted text for one-line messages.
std::string quote_untrusted(std::string_view s);

}  // namespace mxc::runtime
