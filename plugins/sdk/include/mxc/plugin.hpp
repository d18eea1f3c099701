// C++ conveniences over mxc/plugin.h for plugin authors. Header-only, so that
// nothing C++ crosses the ABI boundary.
#pragma once

#include <cstring>
#include <exception>
#include <string_view>

#include "mxc/plugin.h"

namespace mxc::sdk {

// Copies `msg` into the runtime's error buffer (truncated, NUL-terminated).
inline void set_error(char* err, size_t err_len, std::string_view msg) {
  if (err == nullptr || err_len == 0) return;
  size_t n = msg.size() < err_len - 1 ? msg.size() : err_len - 1;
  std::memcpy(err, msg.data(), n);
  err[n] = '\0';
}

// Runs `fn` (returning 0 or -1) and turns any escaping exception into -1 with
// its message: exceptions must never unwind into the runtime.
template <class Fn>
int guard(char* err, size_t err_len, Fn&& fn) noexcept {
  try {
    return fn();
  } catch (const std::exception& e) {
    set_error(err, err_len, e.what());
  } catch (...) {
    set_error(err, err_len, "unknown exception in plugin");
  }
  return -1;
}

}  // namespace mxc::sdk
