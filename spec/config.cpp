// config.json decoding: the platform-neutral part of the runtime-spec schema
// (config-schema.json, defs.json). The `linux` section is in config_linux.cpp,
// the other platforms' sections in config_platforms.cpp.
#include <cstdint>
#include <cstdio>

#include "config_decode.hpp"
#include "json_reader.hpp"
#include "mxc/spec/config.hpp"

namespace mxc::spec {

using detail::Between;
using detail::Matches;
using detail::Object;
using detail::OneOf;
using detail::Reader;

void decode(Reader& r, const json& j, const std::string& path, IdMapping& out) {
  Object o(r, j, path);
  o.req("containerID", out.containerID);
  o.req("hostID", out.hostID);
  o.req("size", out.size);
}

static void decode(Reader& r, const json& j, const std::string& path, Root& out) {
  Object o(r, j, path);
  o.req("path", out.path);
  o.opt("readonly", out.readonly);
}

static void decode(Reader& r, const json& j, const std::string& path, Mount& out) {
  Object o(r, j, path);
  o.req("destination", out.destination);
  o.opt("source", out.source);
  o.opt("type", out.type);
  o.opt("options", out.options);
  o.opt("uidMappings", out.uidMappings);
  o.opt("gidMappings", out.gidMappings);
}

static void decode(Reader& r, const json& j, const std::string& path, Box& out) {
  Object o(r, j, path);
  o.req("height", out.height);
  o.req("width", out.width);
}

static void decode(Reader& r, const json& j, const std::string& path, User& out) {
  Object o(r, j, path);
  o.opt("uid", out.uid);
  o.opt("gid", out.gid);
  o.opt("umask", out.umask);
  o.opt("additionalGids", out.additionalGids);
  o.opt("username", out.username);
}

static void decode(Reader& r, const json& j, const std::string& path, Capabilities& out) {
  // Names are not checked here: the spec asks runtimes to warn about, not
  // refuse, capabilities the kernel does not know.
  Object o(r, j, path);
  o.opt("bounding", out.bounding);
  o.opt("effective", out.effective);
  o.opt("inheritable", out.inheritable);
  o.opt("permitted", out.permitted);
  o.opt("ambient", out.ambient);
}

static void decode(Reader& r, const json& j, const std::string& path, Rlimit& out) {
  Object o(r, j, path);
  o.req("type", out.type, Matches{detail::is_rlimit_type, "^RLIMIT_[A-Z]+$"});
  o.req("soft", out.soft);
  o.req("hard", out.hard);
}

static void decode(Reader& r, const json& j, const std::string& path, IoPriority& out) {
  Object o(r, j, path);
  o.req("class", out.class_, OneOf{detail::kIoPriorityClasses, "I/O priority class"});
  o.opt("priority", out.priority);
}

static void decode(Reader& r, const json& j, const std::string& path, Scheduler& out) {
  Object o(r, j, path);
  o.req("policy", out.policy, OneOf{detail::kSchedulerPolicies, "scheduler policy"});
  o.opt("nice", out.nice);
  o.opt("priority", out.priority);
  o.opt("flags", out.flags, detail::Each{OneOf{detail::kSchedulerFlags, "scheduler flag"}});
  o.opt("runtime", out.runtime);
  o.opt("deadline", out.deadline);
  o.opt("period", out.period);
}

static void decode(Reader& r, const json& j, const std::string& path, ExecCpuAffinity& out) {
  Object o(r, j, path);
  o.opt("initial", out.initial, Matches{detail::is_cpu_list, "^[0-9, -]*$"});
  o.opt("final", out.final, Matches{detail::is_cpu_list, "^[0-9, -]*$"});
}

static void decode(Reader& r, const json& j, const std::string& path, Process& out) {
  Object o(r, j, path);
  o.opt("terminal", out.terminal);
  o.opt("consoleSize", out.consoleSize);
  o.req("cwd", out.cwd);
  o.opt("env", out.env);
  o.opt("args", out.args);
  o.opt("commandLine", out.commandLine);
  o.opt("user", out.user);
  o.opt("capabilities", out.capabilities);
  o.opt("rlimits", out.rlimits);
  o.opt("noNewPrivileges", out.noNewPrivileges);
  o.opt("apparmorProfile", out.apparmorProfile);
  o.opt("oomScoreAdj", out.oomScoreAdj);
  o.opt("selinuxLabel", out.selinuxLabel);
  o.opt("ioPriority", out.ioPriority);
  o.opt("scheduler", out.scheduler);
  o.opt("execCPUAffinity", out.execCPUAffinity);
}

static void decode(Reader& r, const json& j, const std::string& path, Hook& out) {
  Object o(r, j, path);
  o.req("path", out.path);
  o.opt("args", out.args);
  o.opt("env", out.env);
  o.opt("timeout", out.timeout, Between{1, INT32_MAX});
}

static void decode(Reader& r, const json& j, const std::string& path, Hooks& out) {
  Object o(r, j, path);
  o.opt("prestart", out.prestart);
  o.opt("createRuntime", out.createRuntime);
  o.opt("createContainer", out.createContainer);
  o.opt("startContainer", out.startContainer);
  o.opt("poststart", out.poststart);
  o.opt("poststop", out.poststop);
}

static void decode_config(Reader& r, const json& j, Config& out) {
  Object o(r, j, "");
  o.req("ociVersion", out.ociVersion);
  o.opt("root", out.root);
  o.opt("process", out.process);
  o.opt("hostname", out.hostname);
  o.opt("domainname", out.domainname);
  o.opt("mounts", out.mounts);
  o.opt("hooks", out.hooks);
  o.opt("annotations", out.annotations);
  o.opt("linux", out.linux_);
  if (o.valid()) detail::check_other_platforms(o);
}

Result<Config> parse_config(std::string_view text, std::string_view label) {
  auto doc = detail::parse_json(text, label);
  if (!doc.ok()) return doc.error();
  Reader r(label);
  Config config;
  if (!doc->is_object()) {
    r.fail("", "must be a JSON object, got " + detail::describe(*doc));
    return r.error();
  }
  decode_config(r, *doc, config);
  if (!r.ok()) return r.error();
  if (auto it = doc->find("mxc"); it != doc->end()) config.mxc = *it;
  config.raw = std::move(*doc);
  return config;
}

Result<Config> load_config(const std::filesystem::path& config_file) {
  // stdio rather than iostreams: no locale machinery on the create path.
  std::FILE* f = std::fopen(config_file.c_str(), "rbe");
  if (f == nullptr) return sys_error(config_file.string());
  std::string text;
  char buf[16384];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) text.append(buf, n);
  bool failed = std::ferror(f) != 0;
  int err = errno;
  std::fclose(f);
  if (failed) return sys_error(config_file.string(), err);
  return parse_config(text, config_file.string());
}

}  // namespace mxc::spec
