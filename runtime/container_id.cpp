#include "mxc/runtime/container_id.hpp"

#include <cstdio>
#include <string>

namespace mxc::runtime {

std::string quote_untrusted(std::string_view s) {
  std::string out = "\"";
  size_t shown = 0;
  for (unsigned char c : s) {
    if (++shown > 64) {
      out += "...";
      break;
    }
    if (c < 0x20 || c == 0x7f || c == '"' || c == '\\') {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out + "\"";
}

Status validate_container_id(std::string_view id) {
  if (id.empty()) return make_error("container id must not be empty");
  if (id.size() > 1024) {
    return make_error("container id " + quote_untrusted(id) + " is too long (" +
                      std::to_string(id.size()) + " characters; at most 1024)");
  }
  if (id == "." || id == "..")
    return make_error("container id " + quote_untrusted(id) + " is not allowed");
  for (unsigned char c : id) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-' || c == '.' || c == '+';
    if (!ok) {
      return make_error("container id " + quote_untrusted(id) +
                        " is invalid: only letters, digits, '_', '-', '.' and '+' are allowed");
    }
  }
  return {};
}

}  // namespace mxc::runtime
