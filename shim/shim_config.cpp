#include "shim_config.hpp"

#include <charconv>
#include <cstring>

#include "mxc/runtime/shim_protocol.hpp"
#include "mxc/sys/file_util.hpp"

namespace mxc::shim {

namespace {

Result<long> parse_number(const char* flag, const char* text) {
  long v = 0;
  const char* end = text + std::strlen(text);
  auto [p, ec] = std::from_chars(text, end, v);
  if (ec != std::errc() || p != end || v < -1) {
    return make_error(std::string(flag) + ": not a number: " + text);
  }
  return v;
}

}  // namespace

Result<ShimConfig> load_shim_config(int argc, char** argv) {
  ShimConfig c;
  if (argc < 2 || argv[1][0] == '-') {
    return make_error(
        "usage: mxc-shim STATE_DIR --pid N [--ready-fd N] [--stdout-fd N] "
        "[--stderr-fd N] [--console-fd N] (started by mxc-runtime)");
  }
  c.state_dir = argv[1];
  for (int i = 2; i < argc; i += 2) {
    if (i + 1 >= argc) return make_error(std::string(argv[i]) + ": missing value");
    auto v = parse_number(argv[i], argv[i + 1]);
    if (!v) return v.error();
    std::string flag = argv[i];
    if (flag == "--pid") {
      c.pid = static_cast<pid_t>(*v);
    } else if (flag == "--ready-fd") {
      c.ready_fd = static_cast<int>(*v);
    } else if (flag == "--stdout-fd") {
      c.stdout_fd = static_cast<int>(*v);
    } else if (flag == "--stderr-fd") {
      c.stderr_fd = static_cast<int>(*v);
    } else if (flag == "--forward-stdout-fd") {
      c.forward_stdout_fd = static_cast<int>(*v);
    } else if (flag == "--forward-stderr-fd") {
      c.forward_stderr_fd = static_cast<int>(*v);
    } else if (flag == "--console-fd") {
      c.console_fd = static_cast<int>(*v);
    } else {
      return make_error("unknown option " + flag);
    }
  }
  if (c.pid <= 0) return make_error("--pid is required");
  std::string path = c.state_dir + "/" + runtime::shim::kConfigFile;
  auto text = sys::read_file(path);
  if (!text) return text.error();
  auto j = nlohmann::json::parse(*text, nullptr, false);
  if (!j.is_object()) return make_error(path + ": not a JSON object");
  try {
    c.id = j.at("id").get<std::string>();
    std::string mode = j.value("mode", "parent");
    if (mode == "parent") {
      c.mode = Mode::kParent;
    } else if (mode == "monitor") {
      c.mode = Mode::kMonitor;
    } else {
      return make_error(path + ": mode: unknown \"" + mode + "\"");
    }
    c.cgroup = j.value("cgroup", "");
    c.log_max_bytes = j.value("logMaxBytes", c.log_max_bytes);
    if (auto t = j.find("timeoutMs"); t != j.end() && !t->is_null())
      c.timeout_ms = t->get<uint64_t>();
    if (auto a = j.find("agent"); a != j.end()) c.agent = *a;
    c.audit_files = j.value("auditFiles", std::vector<std::string>{});
    c.audit_exit = j.value("auditExit", true);
    if (auto p = j.find("proxy"); p != j.end()) c.proxy = *p;
  } catch (const nlohmann::json::exception& e) {
    return make_error(path + ": " + e.what());
  }
  return c;
}

}  // namespace mxc::shim
