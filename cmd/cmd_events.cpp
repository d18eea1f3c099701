#include <unistd.h>

#include <charconv>
#include <chrono>
#include <cstdio>
#include <thread>

#include "command.hpp"

namespace mxc::cli {

namespace {
// "5s", "500ms", "1m", "2" (seconds) -> milliseconds.
Result<long> parse_interval(const std::string& text) {
  long value = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  std::string unit(p, text.data() + text.size());
  long mult = unit.empty() || unit == "s" ? 1000 : unit == "ms" ? 1 : unit == "m" ? 60000 : 0;
  if (ec != std::errc() || value <= 0 || mult == 0)
    return make_error("--interval: invalid duration \"" + text + "\"");
  return value * mult;
}
}  // namespace

Command make_events_command() {
  return {{"events",
           "<container-id>",
           "Print container events as JSON lines: stats every interval, and oom kills.",
           {{"stats", '\0', false, "", "print the stats once and exit"},
            {"interval", '\0', true, "DURATION", "time between stats (default 5s)"}},
           1,
           1},
          [](const Invocation& inv) {
            const std::string& id = inv.args.args[0];
            if (inv.args.flag("stats")) {
              auto s = runtime::container_stats(inv.ctx, id);
              if (!s) return fail(inv, s.error());
              std::printf("%s\n", s->dump().c_str());
              return 0;
            }
            auto interval = parse_interval(inv.args.value("interval", "5s"));
            if (!interval) return fail(inv, interval.error());
            auto ooms = runtime::container_oom_kills(inv.ctx, id);
            if (!ooms) return fail(inv, ooms.error());
            uint64_t seen = *ooms;
            for (;;) {
              auto s = runtime::container_stats(inv.ctx, id);
              if (!s) return 0;  // stopped or deleted: the stream ends
              if (auto now = runtime::container_oom_kills(inv.ctx, id); now && *now > seen) {
                seen = *now;
                std::printf("%s\n", nlohmann::json{{"type", "oom"}, {"id", id}}.dump().c_str());
              }
              std::printf("%s\n", s->dump().c_str());
              std::fflush(stdout);
              std::this_thread::sleep_for(std::chrono::milliseconds(*interval));
            }
          }};
}

}  // namespace mxc::cli
