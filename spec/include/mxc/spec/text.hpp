// Small text helpers shared by the parsers, the runtime and the command line.
#pragma once

#include <string_view>
#include <vector>

namespace mxc::spec {

// The pieces of `text` between `sep`s, empty pieces dropped ("a::b:" -> a, b):
// PATH-style lists, path components, lines.
std::vector<std::string_view> split_nonempty(std::string_view text, char sep);

}  // namespace mxc::spec
