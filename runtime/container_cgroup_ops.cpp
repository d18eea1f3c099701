// The operations that act on a container through its cgroup: pause, resume,
// ps, update, events.
#include <sys/socket.h>
#include <unistd.h>

#include <charconv>

#include "container_internal.hpp"
#include "mxc/runtime/container_id.hpp"
#include "mxc/runtime/container_ops.hpp"
#include "mxc/runtime/foreground.hpp"
#include "mxc/sys/cgroups.hpp"
#include "mxc/sys/console.hpp"
#include "mxc/sys/file_util.hpp"
#include "mxc/sys/proc_info.hpp"

namespace mxc::runtime {

using namespace detail;

namespace {

Result<sys::Cgroup> open_cgroup(const Opened& c) {
  if (c.record.cgroup.empty()) {
    return make_error("container " + quote_untrusted(c.record.id) +
                      " has no cgroup (--cgroup-manager disabled)");
  }
  return sys::Cgroup::open(c.record.cgroup);
}

}  // namespace

Status pause_container(const RuntimeContext& ctx, const std::string& id) {
  auto c = open_container(ctx, id);
  if (!c) return c.error();
  if (c->status != "running" && c->status != "created") {
    return make_error("cannot pause container " + quote_untrusted(id) + ": it is " + c->status);
  }
  auto cg = open_cgroup(*c);
  if (!cg) return cg.error();
  return cg->freeze();
}

Status resume_container(const RuntimeContext& ctx, const std::string& id) {
  auto c = open_container(ctx, id);
  if (!c) return c.error();
  if (c->status != "paused") {
    return make_error("cannot resume container " + quote_untrusted(id) + ": it is " + c->status +
                      ", not paused");
  }
  auto cg = open_cgroup(*c);
  if (!cg) return cg.error();
  return cg->thaw();
}

Result<std::vector<pid_t>> container_pids(const RuntimeContext& ctx, const std::string& id) {
  auto c = open_container(ctx, id);
  if (!c) return c.error();
  if (c->status == "stopped") return std::vector<pid_t>{};
  if (c->record.cgroup.empty()) return sys::process_tree(c->record.pid);
  auto cg = open_cgroup(*c);
  if (!cg) return cg.error();
  return cg->pids();
}

Status update_container(const RuntimeContext& ctx, const std::string& id,
                        const spec::Resources& r) {
  auto c = open_container(ctx, id);
  if (!c) return c.error();
  if (c->status == "stopped")
    return make_error("cannot update container " + quote_untrusted(id) + ": it is stopped");
  auto cg = open_cgroup(*c);
  if (!cg) return cg.error();
  return cg->apply(without_zero_values(r));
}

Result<nlohmann::json> container_stats(const RuntimeContext& ctx, const std::string& id) {
  auto c = open_container(ctx, id);
  if (!c) return c.error();
  if (c->status == "stopped") return make_error("container " + quote_untrusted(id) + " is stopped");
  auto cg = open_cgroup(*c);
  if (!cg) return cg.error();
  auto stats = cg->stats();
  if (!stats) return stats.error();
  return nlohmann::json{{"type", "stats"}, {"id", id}, {"data", *stats}};
}

Result<uint64_t> container_oom_kills(const RuntimeContext& ctx, const std::string& id) {
  auto c = open_container(ctx, id);
  if (!c) return c.error();
  auto cg = open_cgroup(*c);
  if (!cg) return cg.error();
  return cg->oom_kill_count();
}

}  // namespace mxc::runtime
