// libFuzzer target: the `mxc` object of config.json (JSON text -> parse_policy).
#include <cstdint>
#include <cstdlib>
#include <string>

#include <nlohmann/json.hpp>

#include "mxc/spec/policy.hpp"

namespace {

// What a successful parse promises: patterns absolute, normalised, without `..`.
void check(const mxc::spec::Policy& p) {
  if (!p.filesystem) return;
  for (const auto* list :
       {&p.filesystem->allowRead, &p.filesystem->allowWrite, &p.filesystem->denyRead}) {
    for (const auto& pat : *list) {
      if (pat.path.empty() || pat.path[0] != '/') std::abort();
      if (pat.path.find("/../") != std::string::npos || pat.path.find("//") != std::string::npos)
        std::abort();
      if (pat.path.find('\0') != std::string::npos) std::abort();
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  auto j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return 0;
  const mxc::spec::PolicyContext ctx{"/workspace", "/home/agent"};
  auto p = mxc::spec::parse_policy(j, ctx, "config.json", "mxc");
  if (p.ok()) {
    check(*p);
  } else if (p.error().message.find('\n') != std::string::npos) {
    std::abort();  // errors are one line
  }
  return 0;
}
