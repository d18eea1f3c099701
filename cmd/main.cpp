// mxc-runtime: parse, call the runtime, print. Nothing else lives here.
#include <unistd.h>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "command.hpp"
#include "mxc/plugin.h"
#include "mxc/spec/text.hpp"

namespace mxc::cli {

int fail(const Invocation& inv, const Error& e) {
  inv.ctx.log.error(e.message);
  return 1;
}

namespace {

const std::vector<OptionSpec>& global_options() {
  static const std::vector<OptionSpec> kGlobal{
      {"root", '\0', true, "DIR", "state directory (default /run/mxc-runtime)"},
      {"log", '\0', true, "FILE", "append the log to FILE"},
      {"log-format", '\0', true, "text|json", "log format (default text)"},
      {"debug", '\0', false, "", "log debug messages"},
      {"plugin-path", '\0', true, "DIRS", "colon-separated plugin directories, searched first"},
      {"cgroup-manager", '\0', true, "cgroupfs|systemd|disabled",
       "how cgroups are managed (default cgroupfs)"},
      {"systemd-cgroup", '\0', false, "", "same as --cgroup-manager systemd (runc's flag)"},
      {"shim", '\0', true, "auto|parent|monitor",
       "who supervises a created container: auto (default: mxc-shim is its parent unless the "
       "caller is a subreaper such as conmon or containerd's shim), parent, monitor"},
      {"version", 'v', false, "", "print the version"},
  };
  return kGlobal;
}

std::vector<Command> commands() {
  return {make_create_command(),  make_start_command(),   make_run_command(),
          make_exec_command(),    make_state_command(),   make_kill_command(),
          make_delete_command(),  make_list_command(),    make_ps_command(),
          make_pause_command(),   make_resume_command(),  make_update_command(),
          make_events_command(),  make_spec_command(),    make_features_command(),
          make_plugins_command(), make_wait_command(),    make_logs_command(),
          make_audit_command(),   make_mxc_exec_command()};
}

void print_main_usage(FILE* out, const std::vector<Command>& cmds) {
  std::fprintf(
      out,
      "Usage: mxc-runtime [global options] COMMAND [options] [arguments]\n\n"
      "An OCI runtime for running AI agents and other untrusted code under a declared policy.\n\n"
      "Commands:\n");
  for (const auto& c : cmds)
    std::fprintf(out, "  %-10s %s\n", c.spec.name.c_str(), c.spec.summary.c_str());
  std::fprintf(out, "\nGlobal options:\n");
  for (const auto& o : global_options()) {
    std::string left = "  --" + o.name + (o.takes_value ? " " + o.value_name : "");
    std::fprintf(out, "%-32s %s\n", left.c_str(), o.help.c_str());
  }
  std::fprintf(out, "  --help                         show this help\n");
}

void print_version() {
  std::printf("mxc-runtime version %s\nspec: 1.3.0\nplugin ABI: %d.%d\n", MXC_VERSION,
              MXC_PLUGIN_ABI_MAJOR, MXC_PLUGIN_ABI_MINOR);
}

std::vector<std::filesystem::path> split_dirs(const std::string& s) {
  std::vector<std::filesystem::path> out;
  for (auto dir : spec::split_nonempty(s, ':')) out.emplace_back(dir);
  return out;
}

int main_impl(int argc, char** argv) {
  std::vector<std::string> args(argv, argv + argc);
  auto cmds = commands();
  size_t next = 0;
  auto global = parse(global_options(), args, 1, true, &next);
  if (!global) {
    std::fprintf(stderr, "mxc-runtime: %s\n", global.error().message.c_str());
    print_main_usage(stderr, cmds);
    return 2;
  }
  if (global->flag("version")) {
    print_version();
    return 0;
  }
  if (next >= args.size()) {
    print_main_usage(global->help ? stdout : stderr, cmds);
    return global->help ? 0 : 2;
  }
  const std::string& name = args[next];
  const Command* cmd = nullptr;
  for (const auto& c : cmds) {
    if (c.spec.name == name) cmd = &c;
  }
  if (name == "help") {
    print_main_usage(stdout, cmds);
    return 0;
  }
  if (cmd == nullptr) {
    std::fprintf(stderr, "mxc-runtime: unknown command \"%s\"\n", name.c_str());
    print_main_usage(stderr, cmds);
    return 2;
  }
  size_t after = 0;
  auto parsed = parse(cmd->spec.options, args, next + 1, cmd->spec.flags_before_args_only, &after);
  if (parsed && cmd->spec.flags_before_args_only) {
    parsed->args.insert(parsed->args.end(), args.begin() + static_cast<long>(after), args.end());
  }
  if (!parsed) {
    std::fprintf(stderr, "mxc-runtime %s: %s\n%s", name.c_str(), parsed.error().message.c_str(),
                 usage("mxc-runtime", cmd->spec).c_str());
    return 2;
  }
  if (parsed->help) {
    std::printf("%s", usage("mxc-runtime", cmd->spec).c_str());
    return 0;
  }
  int n = static_cast<int>(parsed->args.size());
  if (n < cmd->spec.min_args || (cmd->spec.max_args >= 0 && n > cmd->spec.max_args)) {
    std::fprintf(stderr, "mxc-runtime %s: expected %s, got %d argument%s\n%s", name.c_str(),
                 cmd->spec.args_usage.empty() ? "no arguments" : cmd->spec.args_usage.c_str(), n,
                 n == 1 ? "" : "s", usage("mxc-runtime", cmd->spec).c_str());
    return 2;
  }

  std::string format = global->value("log-format", "text");
  if (format != "text" && format != "json") {
    std::fprintf(stderr, "mxc-runtime: --log-format must be text or json, not \"%s\"\n",
                 format.c_str());
    return 2;
  }
  runtime::Logger log;
  std::string log_path = global->value("log");
  if (!log.open(log_path, format == "json" ? runtime::LogFormat::kJson : runtime::LogFormat::kText,
                global->flag("debug"))) {
    std::fprintf(stderr, "mxc-runtime: --log %s: cannot open for appending\n", log_path.c_str());
    return 1;
  }
  std::string manager =
      global->value("cgroup-manager", global->flag("systemd-cgroup") ? "systemd" : "cgroupfs");
  runtime::CgroupManager cgroup_manager = runtime::CgroupManager::kCgroupfs;
  if (manager == "systemd") {
    cgroup_manager = runtime::CgroupManager::kSystemd;
  } else if (manager == "disabled") {
    cgroup_manager = runtime::CgroupManager::kDisabled;
  } else if (manager != "cgroupfs") {
    std::fprintf(
        stderr, "mxc-runtime: --cgroup-manager must be cgroupfs, systemd or disabled, not \"%s\"\n",
        manager.c_str());
    return 2;
  }
  auto shim_mode = runtime::parse_shim_mode(global->value("shim", "auto"));
  if (!shim_mode) {
    std::fprintf(stderr, "mxc-runtime: %s\n", shim_mode.error().message.c_str());
    return 2;
  }
  runtime::RuntimeContext ctx{runtime::StateStore(global->value("root", "/run/mxc-runtime")),
                              runtime::PluginManager(split_dirs(global->value("plugin-path")),
                                                     std::getenv("MXC_PLUGIN_PATH")),
                              log, cgroup_manager, *shim_mode};
  return cmd->run(Invocation{ctx, *parsed});
}

}  // namespace
}  // namespace mxc::cli

int main(int argc, char** argv) {
  int code = mxc::cli::main_impl(argc, argv);
  // Everything of ours is closed and written by now (main_impl's objects are
  // gone, the log writes through an fd): skip the static destructors of
  // libstdc++'s locales and of the plugins' own copies, a tenth of a
  // millisecond per command.
  std::fflush(nullptr);
  ::_exit(code);
}
