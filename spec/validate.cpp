// What `create` requires beyond the schema (config.md, config-linux.md), and
// the ociVersion range this runtime accepts.
#include <algorithm>
#include <charconv>
#include <set>

#include "json_reader.hpp"
#include "known_values.hpp"
#include "mxc/spec/config.hpp"

namespace mxc::spec {

namespace {

using detail::index_path;
using detail::quote;
using detail::Reader;

// Lowest accepted version is 1.0.0; the highest minor of major 1 is this.
constexpr unsigned kMaxMinor = 3;

bool parse_number(std::string_view s, unsigned& out) {
  if (s.empty() || (s.size() > 1 && s[0] == '0')) return false;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && ptr == s.data() + s.size();
}

bool is_absolute(const std::string& p) {
  return !p.empty() && p.front() == '/';
}

void check_absolute(Reader& r, const std::string& path, const std::string& value) {
  if (!is_absolute(value)) r.fail(path, "must be an absolute path, got " + quote(value));
}

void check_process(Reader& r, const Process& p) {
  if (p.args.empty()) r.fail("process.args", "must contain at least one element");
  check_absolute(r, "process.cwd", p.cwd);
  // config.md: "The runtime MUST generate an error for any duplicated type."
  std::set<std::string> seen;
  for (size_t i = 0; i < p.rlimits.size(); ++i) {
    if (!seen.insert(p.rlimits[i].type).second) {
      r.fail(index_path("process.rlimits", i) + ".type",
             "rlimit " + quote(p.rlimits[i].type) + " listed twice");
    }
  }
}

void check_hooks(Reader& r, const Hooks& hooks) {
  const std::pair<const char*, const std::vector<Hook>*> lists[] = {
      {"hooks.prestart", &hooks.prestart},
      {"hooks.createRuntime", &hooks.createRuntime},
      {"hooks.createContainer", &hooks.createContainer},
      {"hooks.startContainer", &hooks.startContainer},
      {"hooks.poststart", &hooks.poststart},
      {"hooks.poststop", &hooks.poststop}};
  for (const auto& [name, list] : lists) {
    for (size_t i = 0; i < list->size(); ++i) {
      check_absolute(r, index_path(name, i) + ".path", (*list)[i].path);
    }
  }
}

void check_linux(Reader& r, const Linux& l) {
  std::set<std::string> seen;
  bool user_ns = false;
  for (size_t i = 0; i < l.namespaces.size(); ++i) {
    const std::string path = index_path("linux.namespaces", i) + ".type";
    const std::string& type = l.namespaces[i].type;
    if (std::find(detail::kNamespaceTypes.begin(), detail::kNamespaceTypes.end(), type) ==
        detail::kNamespaceTypes.end()) {
      r.fail(path, "unknown namespace type " + quote(type));
    } else if (!seen.insert(type).second) {
      r.fail(path, "namespace " + quote(type) + " listed twice");
    }
    if (type == "user") user_ns = true;
  }
  if (!user_ns && !l.uidMappings.empty()) {
    r.fail("linux.uidMappings", "set but no user namespace is listed in linux.namespaces");
  }
  if (!user_ns && !l.gidMappings.empty()) {
    r.fail("linux.gidMappings", "set but no user namespace is listed in linux.namespaces");
  }
  for (size_t i = 0; i < l.devices.size(); ++i) {
    const Device& d = l.devices[i];
    const std::string path = index_path("linux.devices", i);
    check_absolute(r, path + ".path", d.path);
    // config-linux.md: major and minor are REQUIRED unless type is p.
    if (d.type != "p" && (!d.major || !d.minor)) {
      r.fail(path, "a device of type " + quote(d.type) + " needs major and minor");
    }
  }
}

}  // namespace

bool is_supported_oci_version(std::string_view version) {
  // MAJOR.MINOR.PATCH[-prerelease][+build]. A pre-release of the lowest or
  // highest minor (1.0.0-rc5, 1.3.0-rc.1) is accepted: documents written for
  // it use that minor's fields.
  const auto suffix = version.find_first_of("-+");
  const std::string_view core = version.substr(0, suffix);
  if (suffix != std::string_view::npos && suffix + 1 >= version.size()) return false;
  unsigned parts[3];
  size_t start = 0;
  for (int i = 0; i < 3; ++i) {
    const size_t dot = i < 2 ? core.find('.', start) : core.size();
    if (dot == std::string_view::npos) return false;
    if (!parse_number(core.substr(start, dot - start), parts[i])) return false;
    start = dot + 1;
  }
  return parts[0] == 1 && parts[1] <= kMaxMinor;
}

Status validate_for_create(const Config& config, std::string_view label) {
  Reader r(label);
  if (!is_supported_oci_version(config.ociVersion)) {
    r.fail("ociVersion", "unsupported version " + quote(config.ociVersion) +
                             "; this runtime accepts 1.0.0 up to (not including) 1.4.0");
  }
  if (!config.root) {
    r.fail("root", "required field is missing");
  } else if (config.root->path.empty()) {
    r.fail("root.path", "must not be empty");
  }
  if (!config.process) {
    r.fail("process", "required field is missing");
  } else {
    check_process(r, *config.process);
  }
  for (size_t i = 0; i < config.mounts.size(); ++i) {
    check_absolute(r, index_path("mounts", i) + ".destination", config.mounts[i].destination);
  }
  if (config.hooks) check_hooks(r, *config.hooks);
  if (config.linux_) check_linux(r, *config.linux_);
  if (!r.ok()) return r.error();
  return {};
}

}  // namespace mxc::spec
