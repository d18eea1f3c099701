#include <cstdio>

#include "command.hpp"

namespace mxc::cli {

Command make_list_command() {
  return {{"list",
           "",
           "List the containers under --root.",
           {{"format", 'f', true, "table|json", "output format (default table)"},
            {"quiet", 'q', false, "", "print only the ids"}},
           0,
           0},
          [](const Invocation& inv) {
            std::string format = inv.args.value("format", "table");
            if (format != "table" && format != "json") {
              return fail(
                  inv, make_error("list: --format must be table or json, not \"" + format + "\""));
            }
            auto all = runtime::list_containers(inv.ctx);
            if (inv.args.flag("quiet")) {
              for (const auto& c : all) std::printf("%s\n", c["id"].get<std::string>().c_str());
              return 0;
            }
            if (format == "json") {
              std::printf("%s\n", nlohmann::json(all).dump().c_str());
              return 0;
            }
            std::printf("%-20s %-8s %-10s %-40s %-32s %s\n", "ID", "PID", "STATUS", "BUNDLE",
                        "CREATED", "OWNER");
            for (const auto& c : all) {
              std::printf("%-20s %-8d %-10s %-40s %-32s %s\n", c["id"].get<std::string>().c_str(),
                          c.value("pid", 0), c["status"].get<std::string>().c_str(),
                          c["bundle"].get<std::string>().c_str(), c.value("created", "").c_str(),
                          c.value("owner", "").c_str());
            }
            return 0;
          }};
}

}  // namespace mxc::cli
