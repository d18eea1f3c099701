// What the container operations share (container_ops.cpp owns them): an opened,
// locked container with its record, backend and status, and plugin call helpers.
#pragma once

#include <memory>
#include <string>

#include "mxc/plugin.h"
#include "mxc/runtime/container_ops.hpp"
#include "mxc/runtime/plugin_manager.hpp"
#include "mxc/runtime/state_store.hpp"
#include "mxc/spec/config.hpp"

namespace mxc::runtime::detail {

inline constexpr size_t kErrLen = 4096;  // plugins' error buffers

struct Opened {
  ContainerDir dir;
  ContainerRecord record;
  std::unique_ptr<Plugin> plugin;  // null for a create that died before choosing one
  std::string status;
};

// Opens (and with `lock`, locks) a container, loads its backend, computes its status.
Result<Opened> open_container(const RuntimeContext& ctx, const std::string& id, bool lock = true);

mxc_container_ref make_ref(const ContainerRecord& r, const std::string& state_dir);
Error plugin_error(const char* what, const std::string& backend, const char* err);

// Docker and containerd write 0 for "not set"; 0 means unset here, as in runc.
spec::Resources without_zero_values(spec::Resources r);

}  // namespace mxc::runtime::detail
