#include "mxc/spec/default_spec.hpp"

#include <unistd.h>

namespace mxc::spec {

namespace {

using nlohmann::json;

json mount(const char* destination, const char* type, const char* source,
           std::initializer_list<const char*> options) {
  json m = {{"destination", destination}, {"type", type}, {"source", source}};
  if (options.size() > 0) m["options"] = json::array();
  for (const char* o : options) m["options"].push_back(o);
  return m;
}

}  // namespace

nlohmann::json default_spec(bool rootless) {
  // geteuid/getegid cannot fail; they are the only system calls here.
  return default_spec(rootless, geteuid(), getegid());
}

nlohmann::json default_spec(bool rootless, uint32_t host_uid, uint32_t host_gid) {
  const json caps = {"CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"};
  json process = {
      {"terminal", true},
      {"user", {{"uid", 0}, {"gid", 0}}},
      {"args", {"sh"}},
      {"env", {"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm"}},
      {"cwd", "/"},
      {"capabilities",
       {{"bounding", caps}, {"effective", caps}, {"permitted", caps}, {"ambient", caps}}},
      {"rlimits", {{{"type", "RLIMIT_NOFILE"}, {"hard", 1024}, {"soft", 1024}}}},
      {"noNewPrivileges", true}};

  // Without a mapped gid 5 (tty) in a rootless user namespace, gid=5 fails.
  json devpts =
      rootless ? mount("/dev/pts", "devpts", "devpts",
                       {"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"})
               : mount("/dev/pts", "devpts", "devpts",
                       {"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"});
  // A user namespace that does not own the network namespace cannot mount sysfs.
  json sys = rootless ? mount("/sys", "none", "/sys", {"rbind", "nosuid", "noexec", "nodev", "ro"})
                      : mount("/sys", "sysfs", "sysfs", {"nosuid", "noexec", "nodev", "ro"});
  json mounts = {
      mount("/proc", "proc", "proc", {}),
      mount("/dev", "tmpfs", "tmpfs", {"nosuid", "strictatime", "mode=755", "size=65536k"}),
      std::move(devpts),
      mount("/dev/shm", "tmpfs", "shm", {"nosuid", "noexec", "nodev", "mode=1777", "size=65536k"}),
      mount("/dev/mqueue", "mqueue", "mqueue", {"nosuid", "noexec", "nodev"}),
      std::move(sys),
      mount("/sys/fs/cgroup", "cgroup", "cgroup", {"nosuid", "noexec", "nodev", "relatime", "ro"})};

  json namespaces = json::array();
  for (const char* type : {"pid", "network", "ipc", "uts", "mount"}) {
    if (rootless && std::string_view(type) == "network") continue;
    namespaces.push_back({{"type", type}});
  }
  json linux_section = {
      {"namespaces", std::move(namespaces)},
      {"maskedPaths",
       {"/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
        "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/sys/firmware",
        "/proc/scsi"}},
      {"readonlyPaths",
       {"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"}}};
  if (rootless) {
    linux_section["namespaces"].push_back({{"type", "user"}});
    linux_section["uidMappings"] = {{{"containerID", 0}, {"hostID", host_uid}, {"size", 1}}};
    linux_section["gidMappings"] = {{{"containerID", 0}, {"hostID", host_gid}, {"size", 1}}};
  } else {
    linux_section["resources"] = {{"devices", {{{"allow", false}, {"access", "rwm"}}}}};
  }

  return {{"ociVersion", "1.0.2-dev"},
          {"process", std::move(process)},
          {"root", {{"path", "rootfs"}, {"readonly", true}}},
          {"hostname", "runc"},
          {"mounts", std::move(mounts)},
          {"linux", std::move(linux_section)}};
}

}  // namespace mxc::spec
