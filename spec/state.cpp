#include "mxc/spec/state.hpp"

#include <climits>

#include "json_reader.hpp"
#include "known_values.hpp"

namespace mxc::spec {

nlohmann::json to_json(const State& state) {
  nlohmann::json j = {{"ociVersion", state.ociVersion},
                      {"id", state.id},
                      {"status", state.status},
                      {"bundle", state.bundle}};
  if (state.status != "stopped" && state.pid > 0) j["pid"] = state.pid;
  if (!state.annotations.empty()) j["annotations"] = state.annotations;
  return j;
}

Result<State> parse_state(std::string_view text, std::string_view label) {
  auto doc = detail::parse_json(text, label);
  if (!doc.ok()) return doc.error();
  detail::Reader r(label);
  if (!doc->is_object()) {
    r.fail("", "must be a JSON object, got " + detail::describe(*doc));
    return r.error();
  }
  State state;
  detail::Object o(r, *doc, "");
  o.req("ociVersion", state.ociVersion);
  o.req("id", state.id);
  o.req("status", state.status, detail::OneOf{detail::kStateStatuses, "status"});
  o.opt("pid", state.pid, detail::Between{0, INT_MAX});
  o.req("bundle", state.bundle);
  o.opt("annotations", state.annotations);
  if (!r.ok()) return r.error();
  return state;
}

}  // namespace mxc::spec
