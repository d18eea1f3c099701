// libFuzzer target: policy documents in YAML or JSON (parse_policy_text),
// including the alias, nesting and size limits.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "mxc/spec/policy.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const mxc::spec::PolicyContext ctx{std::nullopt, "/home/agent"};
  auto doc = mxc::spec::policy_document_to_json(text, "policy.yaml");
  if (doc.ok()) {
    // The limits hold for whatever was accepted.
    size_t nodes = 0;
    auto count = [&](auto&& self, const nlohmann::json& j, size_t depth) -> void {
      if (depth > mxc::spec::kPolicyMaxDepth + 1) std::abort();
      ++nodes;
      if (j.is_structured()) {
        for (const auto& c : j) self(self, c, depth + 1);
      }
    };
    count(count, *doc, 0);
    if (nodes > 2 * mxc::spec::kPolicyMaxNodes) std::abort();
  } else if (doc.error().message.find('\n') != std::string::npos) {
    std::abort();
  }
  auto p = mxc::spec::parse_policy_text(text, ctx, "policy.yaml");
  if (!p.ok() && p.error().message.find('\n') != std::string::npos) std::abort();
  return 0;
}
