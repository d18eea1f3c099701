#include "mxc/spec/features.hpp"

#include <vector>

#include "json_reader.hpp"
#include "known_values.hpp"
#include "mxc/spec/config.hpp"

namespace mxc::spec {

namespace {

using detail::Each;
using detail::Object;
using detail::OneOf;
using Strings = std::vector<std::string>;

// Validates the {"enabled": bool} objects of features-linux.json.
void check_enabled(Object& parent, std::string_view key) {
  if (const auto* j = parent.get(key)) {
    Object o(parent.reader(), *j, detail::child_path(parent.path(), key));
    o.check<bool>("enabled");
  }
}

void check_linux(Object& l) {
  l.check<Strings>("namespaces", Each{OneOf{detail::kNamespaceTypes, "namespace type"}});
  l.check<Strings>("capabilities",
                   Each{detail::Matches{detail::is_capability_name, "^CAP_[A-Z_]+$"}});
  if (const auto* j = l.get("cgroup")) {
    Object o(l.reader(), *j, detail::child_path(l.path(), "cgroup"));
    for (auto key : {"v1", "v2", "systemd", "systemdUser", "rdma"}) o.check<bool>(key);
  }
  if (const auto* j = l.get("seccomp")) {
    Object o(l.reader(), *j, detail::child_path(l.path(), "seccomp"));
    o.check<bool>("enabled");
    o.check<Strings>("actions", Each{OneOf{detail::kSeccompActions, "seccomp action"}});
    o.check<Strings>("operators", Each{OneOf{detail::kSeccompOperators, "seccomp operator"}});
    o.check<Strings>("archs", Each{OneOf{detail::kSeccompArchs, "seccomp architecture"}});
    o.check<Strings>("knownFlags", Each{OneOf{detail::kSeccompFlags, "seccomp flag"}});
    o.check<Strings>("supportedFlags", Each{OneOf{detail::kSeccompFlags, "seccomp flag"}});
  }
  for (auto key : {"apparmor", "selinux", "intelRdt", "netDevices"}) check_enabled(l, key);
  if (const auto* j = l.get("mountExtensions")) {
    Object o(l.reader(), *j, detail::child_path(l.path(), "mountExtensions"));
    check_enabled(o, "idmap");
  }
}

}  // namespace

nlohmann::json features_json() {
  // Only actions, operators and archs that libseccomp 2.5 (Debian 12) knows.
  static const Strings kArchs = {
      "SCMP_ARCH_X86",     "SCMP_ARCH_X86_64",   "SCMP_ARCH_X32",         "SCMP_ARCH_ARM",
      "SCMP_ARCH_AARCH64", "SCMP_ARCH_MIPS",     "SCMP_ARCH_MIPS64",      "SCMP_ARCH_MIPS64N32",
      "SCMP_ARCH_MIPSEL",  "SCMP_ARCH_MIPSEL64", "SCMP_ARCH_MIPSEL64N32", "SCMP_ARCH_PPC",
      "SCMP_ARCH_PPC64",   "SCMP_ARCH_PPC64LE",  "SCMP_ARCH_S390",        "SCMP_ARCH_S390X",
      "SCMP_ARCH_PARISC",  "SCMP_ARCH_PARISC64", "SCMP_ARCH_RISCV64"};
  // libseccomp 2.5 sets these through filter attributes; WAIT_KILLABLE_RECV
  // needs libseccomp 2.6.
  static const Strings kSupportedSeccompFlags = {
      "SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW"};
  nlohmann::json linux_features = {
      {"namespaces", known_namespace_types()},
      {"capabilities", known_capabilities()},
      {"cgroup", {{"v1", true}, {"v2", true}, {"systemd", false}, {"systemdUser", false}}},
      {"seccomp",
       {{"enabled", true},
        {"actions", known_seccomp_actions()},
        {"operators", known_seccomp_operators()},
        {"archs", kArchs},
        {"knownFlags", known_seccomp_flags()},
        {"supportedFlags", kSupportedSeccompFlags}}},
      {"apparmor", {{"enabled", false}}},
      {"selinux", {{"enabled", false}}},
      {"intelRdt", {{"enabled", false}}},
      {"mountExtensions", {{"idmap", {{"enabled", false}}}}}};
  return {
      {"ociVersionMin", "1.0.0"},
      {"ociVersionMax", "1.3.0"},
      {"hooks",
       {"prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop"}},
      {"mountOptions", known_mount_options()},
      {"linux", std::move(linux_features)},
      {"annotations", {{"io.github.mxc-runtime.version", MXC_VERSION}}},
  };
}

Result<nlohmann::json> parse_features(std::string_view text, std::string_view label) {
  auto doc = detail::parse_json(text, label);
  if (!doc.ok()) return doc.error();
  detail::Reader r(label);
  Object o(r, *doc, "");
  o.check_req<std::string>("ociVersionMin");
  o.check_req<std::string>("ociVersionMax");
  o.check<Strings>("hooks");
  o.check<Strings>("mountOptions");
  o.check<std::map<std::string, std::string>>("annotations");
  o.check<Strings>("potentiallyUnsafeConfigAnnotations");
  if (const auto* j = o.get("linux"); j != nullptr && r.ok()) {
    Object l(r, *j, "linux");
    if (l.valid()) check_linux(l);
  }
  if (!r.ok()) return r.error();
  return std::move(*doc);
}

}  // namespace mxc::spec
