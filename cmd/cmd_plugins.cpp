// `plugins`: which backends this runtime can load, and which files it cannot, with why.
#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>

#include "command.hpp"
#include "mxc/plugin.h"
#include "mxc/runtime/container_id.hpp"

namespace mxc::cli {

namespace {

std::string join(const std::vector<std::string>& items, const char* sep) {
  std::string out;
  for (const auto& s : items) out += (out.empty() ? "" : sep) + s;
  return out;
}

std::string abi(const runtime::PluginInfo& p) {
  return std::to_string(p.abi_major) + "." + std::to_string(p.abi_minor);
}

nlohmann::json to_json(const runtime::PluginInfo& p) {
  return {{"name", p.name},          {"version", p.version}, {"abi", abi(p)},
          {"file", p.file.string()}, {"tiers", p.tiers},     {"enforces", p.enforces},
          {"exec", p.has_exec}};
}

int list(const Invocation& inv, const runtime::PluginScan& scan, bool json) {
  if (json) {
    nlohmann::json dirs = nlohmann::json::array();
    for (const auto& d : scan.search_dirs) dirs.push_back(d.string());
    nlohmann::json loaded = nlohmann::json::array();
    for (const auto& p : scan.loaded) loaded.push_back(to_json(p));
    nlohmann::json rejected = nlohmann::json::array();
    for (const auto& r : scan.rejected)
      rejected.push_back({{"file", r.file.string()}, {"reason", r.reason}});
    nlohmann::json doc{
        {"abi", std::to_string(MXC_PLUGIN_ABI_MAJOR) + "." + std::to_string(MXC_PLUGIN_ABI_MINOR)},
        {"searchPath", dirs},
        {"plugins", loaded},
        {"notLoaded", rejected}};
    std::printf("%s\n", doc.dump(2).c_str());
    return 0;
  }
  (void)inv;
  std::printf("%-20s %-10s %-5s %-20s %-24s %s\n", "NAME", "VERSION", "ABI", "TIERS", "ENFORCES",
              "FILE");
  for (const auto& p : scan.loaded) {
    std::string enforces = p.enforces.empty() ? "-" : join(p.enforces, ",");
    std::printf("%-20s %-10s %-5s %-20s %-24s %s\n", p.name.c_str(), p.version.c_str(),
                abi(p).c_str(), join(p.tiers, ",").c_str(), enforces.c_str(),
                p.file.string().c_str());
  }
  // One line per file, so that a broken plugin is easy to grep for.
  if (!scan.rejected.empty()) std::printf("\nNot loaded:\n");
  for (const auto& r : scan.rejected)
    std::printf("  %s: %s\n", r.file.string().c_str(), r.reason.c_str());
  return 0;
}

int inspect(const Invocation& inv, const runtime::PluginScan& scan, const std::string& name,
            bool json) {
  const runtime::PluginInfo* found = nullptr;
  for (const auto& p : scan.loaded) {
    if (p.name == name) found = &p;
  }
  if (found == nullptr) {
    // A file was there but refused: say why rather than "not found".
    for (const auto& r : scan.rejected) {
      if (r.file.filename() == "lib" + name + ".so")
        return fail(inv,
                    make_error("backend \"" + name + "\": " + r.file.string() + ": " + r.reason));
    }
    auto p = inv.ctx.plugins.load(name);
    return fail(inv, p ? make_error("backend \"" + name + "\": not found") : p.error());
  }
  if (json) {
    std::printf("%s\n", to_json(*found).dump(2).c_str());
    return 0;
  }
  std::vector<std::string> shadowed;
  for (const auto& r : scan.rejected) {
    if (r.reason == "shadowed by " + found->file.string()) shadowed.push_back(r.file.string());
  }
  std::printf("name:      %s\n", found->name.c_str());
  std::printf("version:   %s\n", found->version.c_str());
  std::printf("abi:       %s (runtime %d.%d)\n", abi(*found).c_str(), MXC_PLUGIN_ABI_MAJOR,
              MXC_PLUGIN_ABI_MINOR);
  std::printf("file:      %s\n", found->file.string().c_str());
  std::printf("tiers:     %s\n", join(found->tiers, ", ").c_str());
  std::printf("enforces:  %s\n",
              found->enforces.empty() ? "(nothing)" : join(found->enforces, ", ").c_str());
  std::printf("exec:      %s\n", found->has_exec ? "supported" : "not supported");
  if (!shadowed.empty()) std::printf("shadows:   %s\n", join(shadowed, ", ").c_str());
  return 0;
}

}  // namespace

Command make_plugins_command() {
  return {{"plugins",
           "[inspect <backend>]",
           "List the backend plugins found, or inspect one.",
           {{"format", 'f', true, "table|json", "output format (default table)"}},
           0,
           2},
          [](const Invocation& inv) {
            std::string format = inv.args.value("format", "table");
            if (format != "table" && format != "json") {
              return fail(inv, make_error("plugins: --format must be table or json, not \"" +
                                          format + "\""));
            }
            const auto& args = inv.args.args;
            bool json = format == "json";
            if (args.empty()) return list(inv, inv.ctx.plugins.scan(), json);
            if (args[0] != "inspect") {
              return fail(inv, make_error("plugins: unknown sub-command " +
                                          runtime::quote_untrusted(args[0]) + " (try inspect)"));
            }
            if (args.size() != 2)
              return fail(inv, make_error("plugins inspect: expected one backend name"));
            if (auto st = runtime::validate_backend_name(args[1]); !st)
              return fail(inv, st.error());
            return inspect(inv, inv.ctx.plugins.scan(), args[1], json);
          }};
}

}  // namespace mxc::cli
