// libFuzzer target: MXC wire configurations (parse_mxc_wire, wire_to_policy)
// and the base64 form of --config-base64.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "mxc/spec/mxc_wire.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto w = mxc::spec::parse_mxc_wire(text, "config.json");
  if (w.ok()) {
    auto p = mxc::spec::wire_to_policy(*w, "config.json");
    if (!p.ok() && p.error().message.find('\n') != std::string::npos) std::abort();
  } else if (w.error().message.find('\n') != std::string::npos) {
    std::abort();
  }
  auto decoded = mxc::spec::decode_base64(text, "--config-base64");
  if (decoded.ok() && decoded->size() > size) std::abort();
  return 0;
}
