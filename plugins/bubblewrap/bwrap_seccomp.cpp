#include "bwrap_seccomp.hpp"

#include <seccomp.h>
#include <sys/mman.h>

#include <cctype>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

namespace mxc::bwrap {

namespace {

constexpr const char* kField = "linux.seccomp";

struct CtxDeleter {
  void operator()(void* ctx) const { seccomp_release(ctx); }
};
using Ctx = std::unique_ptr<void, CtxDeleter>;

uint32_t parse_action(const nlohmann::json& action, uint32_t errno_ret, const std::string& field) {
  if (!action.is_string()) fail(field + ": must be a string");
  auto a = action.get<std::string>();
  if (a == "SCMP_ACT_ALLOW") return SCMP_ACT_ALLOW;
  if (a == "SCMP_ACT_ERRNO") return SCMP_ACT_ERRNO(errno_ret);
  if (a == "SCMP_ACT_KILL" || a == "SCMP_ACT_KILL_THREAD") return SCMP_ACT_KILL_THREAD;
  if (a == "SCMP_ACT_KILL_PROCESS") return SCMP_ACT_KILL_PROCESS;
  if (a == "SCMP_ACT_TRAP") return SCMP_ACT_TRAP;
  if (a == "SCMP_ACT_TRACE") return SCMP_ACT_TRACE(errno_ret);
  if (a == "SCMP_ACT_LOG") return SCMP_ACT_LOG;
  if (a == "SCMP_ACT_NOTIFY") {
    // bwrap loads the filter itself and has no way to hand the listener out.
    fail(field + ": SCMP_ACT_NOTIFY is not supported by the bubblewrap backend");
  }
  fail(field + ": unknown action \"" + a + "\"");
}

scmp_compare parse_op(const nlohmann::json& op, const std::string& field) {
  static const std::map<std::string, scmp_compare> kOps{{"SCMP_CMP_NE", SCMP_CMP_NE},
                                                        {"SCMP_CMP_LT", SCMP_CMP_LT},
                                                        {"SCMP_CMP_LE", SCMP_CMP_LE},
                                                        {"SCMP_CMP_EQ", SCMP_CMP_EQ},
                                                        {"SCMP_CMP_GE", SCMP_CMP_GE},
                                                        {"SCMP_CMP_GT", SCMP_CMP_GT},
                                                        {"SCMP_CMP_MASKED_EQ", SCMP_CMP_MASKED_EQ}};
  auto it = op.is_string() ? kOps.find(op.get<std::string>()) : kOps.end();
  if (it == kOps.end()) fail(field + ": unknown operator " + op.dump());
  return it->second;
}

uint32_t parse_arch(const nlohmann::json& arch, const std::string& field) {
  std::string name = arch.is_string() ? arch.get<std::string>() : "";
  constexpr std::string_view kPrefix = "SCMP_ARCH_";
  if (name.rfind(kPrefix, 0) != 0) fail(field + ": unknown architecture " + arch.dump());
  std::string lower = name.substr(kPrefix.size());
  for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  uint32_t token = seccomp_arch_resolve_name(lower.c_str());
  if (token == 0) fail(field + ": unknown architecture " + arch.dump());
  return token;
}

uint32_t errno_of(const nlohmann::json& obj, const char* key, const std::string& field) {
  auto it = obj.find(key);
  if (it == obj.end()) return EPERM;
  if (!it->is_number_unsigned()) fail(field + "." + key + ": must be a non-negative number");
  return it->get<uint32_t>();
}

void add_rules(void* ctx, const nlohmann::json& rule, uint32_t default_action,
               const std::string& field) {
  uint32_t action = parse_action(rule.value("action", nlohmann::json()),
                                 errno_of(rule, "errnoRet", field), field + ".action");
  // libseccomp refuses a rule whose action is the default one; it is a no-op anyway.
  if (action == default_action) return;
  std::vector<scmp_arg_cmp> args;
  std::set<unsigned> indexes;
  bool repeated = false;
  auto jargs = rule.value("args", nlohmann::json::array());
  for (size_t j = 0; j < jargs.size(); ++j) {
    std::string af = field + ".args[" + std::to_string(j) + "]";
    const auto& a = jargs[j];
    if (!a.is_object() || !a.value("index", nlohmann::json()).is_number_unsigned())
      fail(af + ".index: must be a number");
    unsigned index = a["index"].get<unsigned>();
    if (index > 5) fail(af + ".index: must be 0..5");
    repeated |= !indexes.insert(index).second;
    args.push_back(scmp_arg_cmp{index, parse_op(a.value("op", nlohmann::json()), af + ".op"),
                                a.value("value", uint64_t{0}), a.value("valueTwo", uint64_t{0})});
  }
  auto names = rule.value("names", nlohmann::json::array());
  if (!names.is_array()) fail(field + ".names: must be an array");
  for (size_t k = 0; k < names.size(); ++k) {
    if (!names[k].is_string()) fail(field + ".names[" + std::to_string(k) + "]: must be a string");
    int nr = seccomp_syscall_resolve_name(names[k].get<std::string>().c_str());
    // Refused, as the default backend does: a typo must not silently allow.
    if (nr == __NR_SCMP_ERROR)
      fail(field + ".names[" + std::to_string(k) + "]: unknown syscall " + names[k].dump());
    int rc = 0;
    if (repeated) {
      // The same argument twice cannot be one AND-ed rule: one rule per
      // condition, as runc does.
      for (const auto& a : args) {
        rc = seccomp_rule_add_array(ctx, action, nr, 1, &a);
        if (rc != 0) break;
      }
    } else {
      rc = seccomp_rule_add_array(ctx, action, nr, static_cast<unsigned>(args.size()), args.data());
    }
    if (rc != 0) {
      fail(field + ": " + names[k].get<std::string>() + ": " + std::strerror(-rc));
    }
  }
}

}  // namespace

UniqueFd compile_seccomp(const nlohmann::json& seccomp) {
  if (!seccomp.is_object()) fail(std::string(kField) + ": must be an object");
  uint32_t default_action = parse_action(seccomp.value("defaultAction", nlohmann::json()),
                                         errno_of(seccomp, "defaultErrnoRet", kField),
                                         std::string(kField) + ".defaultAction");
  // bwrap loads the filter with prctl(PR_SET_SECCOMP): no flags, no listener.
  if (auto fl = seccomp.find("flags"); fl != seccomp.end() && !fl->is_null() && !fl->empty())
    fail(std::string(kField) + ".flags: " + fl->dump() +
         " cannot be applied by the bubblewrap backend");
  for (const char* key : {"listenerPath", "listenerMetadata"}) {
    if (auto v = seccomp.find(key); v != seccomp.end() && v->is_string() && !v->empty())
      fail(std::string(kField) + "." + key + ": not supported by the bubblewrap backend");
  }
  Ctx ctx(seccomp_init(default_action));
  if (!ctx) fail(std::string(kField) + ".defaultAction: libseccomp refused it");
  // bwrap sets no_new_privs itself; the filter need not.
  seccomp_attr_set(ctx.get(), SCMP_FLTATR_CTL_NNP, 0);
  auto arches = seccomp.value("architectures", nlohmann::json::array());
  for (size_t i = 0; i < arches.size(); ++i) {
    std::string f = std::string(kField) + ".architectures[" + std::to_string(i) + "]";
    int rc = seccomp_arch_add(ctx.get(), parse_arch(arches[i], f));
    if (rc != 0 && rc != -EEXIST) fail(f + ": " + std::strerror(-rc));
  }
  auto rules = seccomp.value("syscalls", nlohmann::json::array());
  for (size_t i = 0; i < rules.size(); ++i) {
    std::string f = std::string(kField) + ".syscalls[" + std::to_string(i) + "]";
    if (!rules[i].is_object()) fail(f + ": must be an object");
    add_rules(ctx.get(), rules[i], default_action, f);
  }
  UniqueFd fd(::memfd_create("mxc-seccomp", MFD_CLOEXEC));
  if (!fd) fail_errno(std::string(kField) + ": memfd_create");
  if (int rc = seccomp_export_bpf(ctx.get(), fd.get()); rc != 0)
    fail(std::string(kField) + ": seccomp_export_bpf: " + std::strerror(-rc));
  if (::lseek(fd.get(), 0, SEEK_SET) != 0) fail_errno(std::string(kField) + ": lseek");
  return fd;
}

}  // namespace mxc::bwrap
