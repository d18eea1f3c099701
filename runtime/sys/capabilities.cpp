#include "mxc/sys/capabilities.hpp"

#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdlib>

#include "mxc/sys/file_util.hpp"

namespace mxc::sys {

namespace {

int last_cap() {
  auto text = read_file("/proc/sys/kernel/cap_last_cap");
  return text ? std::atoi(text->c_str()) : CAP_LAST_CAP;
}

Status parse_set(const std::vector<std::string>& names, const char* set, int last, uint64_t* mask) {
  // known_capabilities() lists the names in kernel order: index == number.
  const auto& known = spec::known_capabilities();
  for (size_t i = 0; i < names.size(); ++i) {
    int number = -1;
    for (size_t k = 0; k < known.size(); ++k) {
      if (known[k] == names[i]) number = static_cast<int>(k);
    }
    if (number < 0) {
      return make_error(std::string("process.capabilities.") + set + "[" + std::to_string(i) +
                        "]: unknown capability \"" + names[i] + "\"");
    }
    if (number <= last) *mask |= uint64_t{1} << number;
  }
  return {};
}

}  // namespace

Result<CapabilitySets> parse_capabilities(const spec::Capabilities& caps) {
  CapabilitySets s;
  int last = last_cap();
  MXC_TRY(parse_set(caps.bounding, "bounding", last, &s.bounding));
  MXC_TRY(parse_set(caps.effective, "effective", last, &s.effective));
  MXC_TRY(parse_set(caps.permitted, "permitted", last, &s.permitted));
  MXC_TRY(parse_set(caps.inheritable, "inheritable", last, &s.inheritable));
  MXC_TRY(parse_set(caps.ambient, "ambient", last, &s.ambient));
  return s;
}

Status prepare_capabilities(const CapabilitySets& sets) {
  int last = last_cap();
  for (int c = 0; c <= last; ++c) {
    if ((sets.bounding >> c) & 1) continue;
    if (::prctl(PR_CAPBSET_DROP, c, 0, 0, 0) != 0 && errno != EINVAL) {
      return sys_error("process.capabilities.bounding: drop " + spec::known_capabilities()[c]);
    }
  }
  if (::prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) != 0) return sys_error("prctl PR_SET_KEEPCAPS");
  return {};
}

Status apply_capabilities(const CapabilitySets& sets) {
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[2]{};
  for (int i = 0; i < 2; ++i) {
    data[i].effective = static_cast<uint32_t>(sets.effective >> (32 * i));
    data[i].permitted = static_cast<uint32_t>(sets.permitted >> (32 * i));
    data[i].inheritable = static_cast<uint32_t>(sets.inheritable >> (32 * i));
  }
  if (::syscall(SYS_capset, &header, data) != 0) return sys_error("process.capabilities: capset");
  if (::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0 && errno != EINVAL) {
    return sys_error("process.capabilities.ambient: clear");
  }
  // The kernel raises an ambient capability only if it is permitted and
  // inheritable; like runc, leave out the others rather than fail.
  uint64_t ambient = sets.ambient & sets.permitted & sets.inheritable;
  for (int c = 0; c < 64; ++c) {
    if (((ambient >> c) & 1) && ::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, c, 0, 0) != 0) {
      return sys_error("process.capabilities.ambient: raise " + spec::known_capabilities()[c]);
    }
  }
  ::prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0);
  return {};
}

}  // namespace mxc::sys
