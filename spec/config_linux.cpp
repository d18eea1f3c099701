// config.json `linux` section (config-linux.json, defs-linux.json).
#include <cstdint>

#include "config_decode.hpp"

namespace mxc::spec {

using detail::Between;
using detail::Each;
using detail::Matches;
using detail::NonEmpty;
using detail::Object;
using detail::OneOf;
using detail::Reader;

static void decode(Reader& r, const json& j, const std::string& path, Namespace& out) {
  Object o(r, j, path);
  o.req("type", out.type, OneOf{detail::kNamespaceTypes, "namespace type"});
  o.opt("path", out.path);
}

static void decode(Reader& r, const json& j, const std::string& path, Device& out) {
  Object o(r, j, path);
  o.req("type", out.type, OneOf{detail::kDeviceTypes, "device type"});
  o.req("path", out.path);
  o.opt("major", out.major);
  o.opt("minor", out.minor);
  o.opt("fileMode", out.fileMode, Between{0, 0777});
  o.opt("uid", out.uid);
  o.opt("gid", out.gid);
}

static void decode(Reader& r, const json& j, const std::string& path, NetDevice& out) {
  Object o(r, j, path);
  o.opt("name", out.name);
}

static void decode(Reader& r, const json& j, const std::string& path, TimeOffset& out) {
  Object o(r, j, path);
  o.opt("secs", out.secs);
  o.opt("nanosecs", out.nanosecs);
}

static void decode(Reader& r, const json& j, const std::string& path, DeviceCgroup& out) {
  Object o(r, j, path);
  o.req("allow", out.allow);
  o.opt("type", out.type, OneOf{detail::kDeviceCgroupTypes, "device cgroup type"});
  o.opt("major", out.major);
  o.opt("minor", out.minor);
  o.opt("access", out.access, Matches{detail::is_device_access, "^[rwm]*$"});
}

static void decode(Reader& r, const json& j, const std::string& path, Memory& out) {
  Object o(r, j, path);
  o.opt("limit", out.limit);
  o.opt("reservation", out.reservation);
  o.opt("swap", out.swap);
  o.opt("kernel", out.kernel);
  o.opt("kernelTCP", out.kernelTCP);
  o.opt("swappiness", out.swappiness);
  o.opt("disableOOMKiller", out.disableOOMKiller);
  o.opt("useHierarchy", out.useHierarchy);
  o.opt("checkBeforeUpdate", out.checkBeforeUpdate);
}

static void decode(Reader& r, const json& j, const std::string& path, Cpu& out) {
  Object o(r, j, path);
  o.opt("shares", out.shares);
  o.opt("quota", out.quota);
  o.opt("burst", out.burst);
  o.opt("period", out.period);
  o.opt("realtimeRuntime", out.realtimeRuntime);
  o.opt("realtimePeriod", out.realtimePeriod);
  o.opt("cpus", out.cpus);
  o.opt("mems", out.mems);
  // The schema says int64, cgroup v2 cpu.idle takes 0 or 1, and some
  // generators write a boolean: accept both forms.
  if (const json* idle = o.get("idle"); idle != nullptr && idle->is_boolean()) {
    out.idle = idle->get<bool>();
  } else {
    std::optional<int64_t> v;
    o.opt("idle", v, Between{0, 1});
    if (v) out.idle = *v != 0;
  }
}

static void decode(Reader& r, const json& j, const std::string& path, Pids& out) {
  Object o(r, j, path);
  o.req("limit", out.limit);
}

static void decode(Reader& r, const json& j, const std::string& path, BlockIoDeviceWeight& out) {
  Object o(r, j, path);
  o.req("major", out.major);
  o.req("minor", out.minor);
  o.opt("weight", out.weight);
  o.opt("leafWeight", out.leafWeight);
}

static void decode(Reader& r, const json& j, const std::string& path, BlockIoDeviceThrottle& out) {
  Object o(r, j, path);
  o.req("major", out.major);
  o.req("minor", out.minor);
  o.opt("rate", out.rate);
}

static void decode(Reader& r, const json& j, const std::string& path, BlockIo& out) {
  Object o(r, j, path);
  o.opt("weight", out.weight);
  o.opt("leafWeight", out.leafWeight);
  o.opt("weightDevice", out.weightDevice);
  o.opt("throttleReadBpsDevice", out.throttleReadBpsDevice);
  o.opt("throttleWriteBpsDevice", out.throttleWriteBpsDevice);
  o.opt("throttleReadIOPSDevice", out.throttleReadIOPSDevice);
  o.opt("throttleWriteIOPSDevice", out.throttleWriteIOPSDevice);
}

static void decode(Reader& r, const json& j, const std::string& path, HugepageLimit& out) {
  Object o(r, j, path);
  o.req("pageSize", out.pageSize, Matches{detail::is_hugepage_size, "^[1-9][0-9]*[KMG]B$"});
  o.req("limit", out.limit);
}

static void decode(Reader& r, const json& j, const std::string& path, NetworkPriority& out) {
  Object o(r, j, path);
  o.req("name", out.name);
  o.req("priority", out.priority);
}

static void decode(Reader& r, const json& j, const std::string& path, Network& out) {
  Object o(r, j, path);
  o.opt("classID", out.classID);
  o.opt("priorities", out.priorities);
}

static void decode(Reader& r, const json& j, const std::string& path, Rdma& out) {
  Object o(r, j, path);
  o.opt("hcaHandles", out.hcaHandles);
  o.opt("hcaObjects", out.hcaObjects);
}

static void decode(Reader& r, const json& j, const std::string& path, Resources& out) {
  Object o(r, j, path);
  o.opt("devices", out.devices);
  o.opt("memory", out.memory);
  o.opt("cpu", out.cpu);
  o.opt("pids", out.pids);
  o.opt("blockIO", out.blockIO);
  o.opt("hugepageLimits", out.hugepageLimits);
  o.opt("network", out.network);
  o.opt("rdma", out.rdma);
  o.opt("unified", out.unified);
}

static void decode(Reader& r, const json& j, const std::string& path, SeccompArg& out) {
  Object o(r, j, path);
  o.req("index", out.index);
  o.req("value", out.value);
  o.opt("valueTwo", out.valueTwo);
  o.req("op", out.op, OneOf{detail::kSeccompOperators, "seccomp operator"});
}

static void decode(Reader& r, const json& j, const std::string& path, SeccompSyscall& out) {
  Object o(r, j, path);
  o.req("names", out.names, NonEmpty{});
  o.req("action", out.action, OneOf{detail::kSeccompActions, "seccomp action"});
  o.opt("errnoRet", out.errnoRet);
  o.opt("args", out.args);
}

static void decode(Reader& r, const json& j, const std::string& path, Seccomp& out) {
  Object o(r, j, path);
  o.req("defaultAction", out.defaultAction, OneOf{detail::kSeccompActions, "seccomp action"});
  o.opt("defaultErrnoRet", out.defaultErrnoRet);
  o.opt("architectures", out.architectures,
        Each{OneOf{detail::kSeccompArchs, "seccomp architecture"}});
  o.opt("flags", out.flags, Each{OneOf{detail::kSeccompFlags, "seccomp flag"}});
  o.opt("listenerPath", out.listenerPath);
  o.opt("listenerMetadata", out.listenerMetadata);
  o.opt("syscalls", out.syscalls);
}

static void decode(Reader& r, const json& j, const std::string& path, IntelRdt& out) {
  Object o(r, j, path);
  o.opt("closID", out.closID);
  o.opt("l3CacheSchema", out.l3CacheSchema);
  o.opt("memBwSchema", out.memBwSchema, Matches{detail::is_mem_bw_schema, "^MB:[^\\n]*$"});
  o.opt("schemata", out.schemata);
  o.opt("enableMonitoring", out.enableMonitoring);
}

static void decode(Reader& r, const json& j, const std::string& path, MemoryPolicy& out) {
  // The schema leaves `mode` optional but config-linux.md requires it, and a
  // policy without a mode means nothing to set_mempolicy(2).
  Object o(r, j, path);
  o.req("mode", out.mode, OneOf{detail::kMemoryPolicyModes, "memory policy mode"});
  o.opt("nodes", out.nodes);
  o.opt("flags", out.flags, Each{OneOf{detail::kMemoryPolicyFlags, "memory policy flag"}});
}

static void decode(Reader& r, const json& j, const std::string& path, Personality& out) {
  Object o(r, j, path);
  o.opt("domain", out.domain, OneOf{detail::kPersonalityDomains, "personality domain"});
  o.opt("flags", out.flags);
}

void decode(Reader& r, const json& j, const std::string& path, Linux& out) {
  Object o(r, j, path);
  o.opt("namespaces", out.namespaces);
  o.opt("uidMappings", out.uidMappings);
  o.opt("gidMappings", out.gidMappings);
  if (const json* offsets = o.get("timeOffsets")) {
    // Only these two clocks exist; other keys are ignored like any unknown property.
    Object t(r, *offsets, detail::child_path(path, "timeOffsets"));
    for (const char* clock : {"boottime", "monotonic"}) {
      std::optional<TimeOffset> offset;
      t.opt(clock, offset);
      if (offset) out.timeOffsets.emplace(clock, *offset);
    }
  }
  o.opt("devices", out.devices);
  o.opt("netDevices", out.netDevices);
  o.opt("cgroupsPath", out.cgroupsPath);
  o.opt("resources", out.resources);
  o.opt("rootfsPropagation", out.rootfsPropagation,
        OneOf{detail::kRootfsPropagation, "rootfs propagation"});
  o.opt("seccomp", out.seccomp);
  o.opt("sysctl", out.sysctl);
  o.opt("maskedPaths", out.maskedPaths);
  o.opt("readonlyPaths", out.readonlyPaths);
  o.opt("mountLabel", out.mountLabel);
  o.opt("intelRdt", out.intelRdt);
  o.opt("memoryPolicy", out.memoryPolicy);
  o.opt("personality", out.personality);
}

}  // namespace mxc::spec
