#include <cctype>
#include <charconv>

#include "command.hpp"
#include "mxc/sys/file_util.hpp"

namespace mxc::cli {

namespace {

// "256m", "1G", "4096" -> bytes; "-1" stays -1 (unlimited).
Result<int64_t> parse_bytes(const std::string& flag, const std::string& text) {
  int64_t value = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || p == text.data())
    return make_error(flag + ": invalid size \"" + text + "\"");
  std::string unit(p, text.data() + text.size());
  for (auto& ch : unit) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  if (unit == "b") unit.clear();
  if (!unit.empty() && unit.back() == 'b') unit.pop_back();
  int64_t mult = unit.empty()  ? 1
                 : unit == "k" ? 1024
                 : unit == "m" ? 1024 * 1024
                 : unit == "g" ? 1024LL * 1024 * 1024
                               : 0;
  if (mult == 0) return make_error(flag + ": invalid size \"" + text + "\"");
  return value * mult;
}

Result<int64_t> parse_int(const std::string& flag, const std::string& text) {
  int64_t value = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || p != text.data() + text.size())
    return make_error(flag + ": invalid number \"" + text + "\"");
  return value;
}

// The flags, as a linux.resources object.
Result<nlohmann::json> resources_from_flags(const ParsedArgs& a) {
  nlohmann::json r = nlohmann::json::object();
  struct Bytes {
    const char* flag;
    const char* group;
    const char* key;
  };
  for (auto [flag, group, key] :
       {Bytes{"memory", "memory", "limit"}, Bytes{"memory-reservation", "memory", "reservation"},
        Bytes{"memory-swap", "memory", "swap"}}) {
    if (a.value(flag).empty()) continue;
    auto v = parse_bytes(std::string("--") + flag, a.value(flag));
    if (!v) return v.error();
    r[group][key] = *v;
  }
  struct Number {
    const char* flag;
    const char* group;
    const char* key;
  };
  for (auto [flag, group, key] :
       {Number{"cpu-shares", "cpu", "shares"}, Number{"cpu-period", "cpu", "period"},
        Number{"cpu-quota", "cpu", "quota"}, Number{"cpu-rt-period", "cpu", "realtimePeriod"},
        Number{"cpu-rt-runtime", "cpu", "realtimeRuntime"}, Number{"pids-limit", "pids", "limit"},
        Number{"blkio-weight", "blockIO", "weight"}}) {
    if (a.value(flag).empty()) continue;
    auto v = parse_int(std::string("--") + flag, a.value(flag));
    if (!v) return v.error();
    r[group][key] = *v;
  }
  if (!a.value("cpuset-cpus").empty()) r["cpu"]["cpus"] = a.value("cpuset-cpus");
  if (!a.value("cpuset-mems").empty()) r["cpu"]["mems"] = a.value("cpuset-mems");
  return r;
}

}  // namespace

Command make_update_command() {
  return {{"update",
           "<container-id>",
           "Change a container's cgroup limits.",
           {{"resources", 'r', true, "FILE", "linux.resources JSON (- for stdin)"},
            {"memory", '\0', true, "BYTES", "memory limit (k, m, g suffixes)"},
            {"memory-reservation", '\0', true, "BYTES", "memory soft limit"},
            {"memory-swap", '\0', true, "BYTES", "memory plus swap limit"},
            {"cpu-shares", '\0', true, "N", "CPU shares"},
            {"cpu-period", '\0', true, "US", "CPU CFS period"},
            {"cpu-quota", '\0', true, "US", "CPU CFS quota"},
            {"cpu-rt-period", '\0', true, "US", "realtime period"},
            {"cpu-rt-runtime", '\0', true, "US", "realtime runtime"},
            {"cpuset-cpus", '\0', true, "LIST", "CPUs allowed"},
            {"cpuset-mems", '\0', true, "LIST", "memory nodes allowed"},
            {"pids-limit", '\0', true, "N", "maximum number of processes"},
            {"blkio-weight", '\0', true, "N", "block IO weight (10-1000)"}},
           1,
           1},
          [](const Invocation& inv) {
            nlohmann::json resources;
            std::string file = inv.args.value("resources");
            if (!file.empty()) {
              auto text = sys::read_file(file == "-" ? "/dev/stdin" : file);
              if (!text) return fail(inv, text.error().context("--resources"));
              resources = nlohmann::json::parse(*text, nullptr, false);
              if (resources.is_discarded() || !resources.is_object()) {
                return fail(inv, make_error("--resources: not a JSON object"));
              }
            } else {
              auto r = resources_from_flags(inv.args);
              if (!r) return fail(inv, r.error());
              resources = *r;
            }
            // Validated by the config parser, so errors name the field.
            nlohmann::json doc{{"ociVersion", "1.0.2"},
                               {"root", {{"path", "/"}}},
                               {"linux", {{"resources", resources}}}};
            auto parsed = spec::parse_config(doc.dump(), "update");
            if (!parsed) return fail(inv, parsed.error());
            auto st =
                runtime::update_container(inv.ctx, inv.args.args[0], *parsed->linux_->resources);
            return st ? 0 : fail(inv, st.error());
          }};
}

}  // namespace mxc::cli
