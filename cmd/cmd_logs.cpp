#include <cstdio>
#include <string>

#include <nlohmann/json.hpp>

#include "command.hpp"
#include "mxc/spec/text.hpp"
#include "mxc/sys/file_util.hpp"

namespace mxc::cli {

Command make_logs_command() {
  return {{"logs",
           "<container-id>",
           "Print a container's output as its shim logged it (stdout to stdout, stderr and "
           "console to their streams).",
           {{"json", '\0', false, "", "print the JSON lines as they are stored"}},
           1,
           1},
          [](const Invocation& inv) {
            auto path = runtime::container_log_path(inv.ctx, inv.args.args[0]);
            if (!path) return fail(inv, path.error());
            bool json = inv.args.flag("json");
            // The rotated generation first, then the current file.
            for (const std::string& file : {*path + ".1", *path}) {
              auto text_all = sys::read_file(file);
              if (!text_all) continue;
              for (auto line_view : spec::split_nonempty(*text_all, '\n')) {
                std::string line(line_view);
                if (json) {
                  std::printf("%s\n", line.c_str());
                  continue;
                }
                auto j = nlohmann::json::parse(line, nullptr, false);
                if (!j.is_object() || !j.contains("log") || !j["log"].is_string()) continue;
                std::string text = j["log"].get<std::string>();
                std::FILE* out = j.value("stream", "") == "stderr" ? stderr : stdout;
                std::fwrite(text.data(), 1, text.size(), out);
              }
            }
            return 0;
          }};
}

}  // namespace mxc::cli
