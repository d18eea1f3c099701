// OCI runtime-spec config.json (1.0.0 up to 1.3.x) as C++ types.
// Member names are the JSON property names; `linux_` because ISO C++ reserves
// nothing but compilers in GNU mode define `linux`. Optional JSON objects are
// std::optional; absent arrays and maps are empty.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "mxc/spec/result.hpp"

namespace mxc::spec {

struct IdMapping {
  uint32_t containerID = 0;
  uint32_t hostID = 0;
  uint32_t size = 0;
};

struct Root {
  std::string path;
  bool readonly = false;
};

struct Mount {
  std::string destination;
  std::optional<std::string> source;
  std::optional<std::string> type;
  std::vector<std::string> options;
  std::vector<IdMapping> uidMappings;
  std::vector<IdMapping> gidMappings;
};

struct Box {
  uint32_t height = 0;
  uint32_t width = 0;
};

struct User {
  uint32_t uid = 0;
  uint32_t gid = 0;
  std::optional<uint32_t> umask;
  std::vector<uint32_t> additionalGids;
  std::optional<std::string> username;  // Windows only
};

struct Capabilities {
  std::vector<std::string> bounding;
  std::vector<std::string> effective;
  std::vector<std::string> inheritable;
  std::vector<std::string> permitted;
  std::vector<std::string> ambient;
};

struct Rlimit {
  std::string type;  // RLIMIT_*
  uint64_t hard = 0;
  uint64_t soft = 0;
};

struct IoPriority {
  std::string class_;  // JSON "class": IOPRIO_CLASS_RT | _BE | _IDLE
  int32_t priority = 0;
};

struct Scheduler {
  std::string policy;  // SCHED_*
  std::optional<int32_t> nice;
  std::optional<int32_t> priority;
  std::vector<std::string> flags;
  std::optional<uint64_t> runtime;
  std::optional<uint64_t> deadline;
  std::optional<uint64_t> period;
};

struct ExecCpuAffinity {
  std::optional<std::string> initial;
  std::optional<std::string> final;
};

struct Process {
  bool terminal = false;
  std::optional<Box> consoleSize;
  std::string cwd;
  std::vector<std::string> env;
  std::vector<std::string> args;
  std::optional<std::string> commandLine;  // Windows only
  User user;
  std::optional<Capabilities> capabilities;
  std::vector<Rlimit> rlimits;
  bool noNewPrivileges = false;
  std::optional<std::string> apparmorProfile;
  std::optional<int32_t> oomScoreAdj;
  std::optional<std::string> selinuxLabel;
  std::optional<IoPriority> ioPriority;
  std::optional<Scheduler> scheduler;
  std::optional<ExecCpuAffinity> execCPUAffinity;
};

struct Hook {
  std::string path;
  std::vector<std::string> args;
  std::vector<std::string> env;
  std::optional<int32_t> timeout;  // seconds, > 0
};

struct Hooks {
  std::vector<Hook> prestart;
  std::vector<Hook> createRuntime;
  std::vector<Hook> createContainer;
  std::vector<Hook> startContainer;
  std::vector<Hook> poststart;
  std::vector<Hook> poststop;
};

// ---- linux ----

struct Namespace {
  std::string type;  // pid network mount ipc uts user cgroup time
  std::optional<std::string> path;
};

struct Device {
  std::string type;  // c b u p
  std::string path;
  std::optional<int64_t> major;
  std::optional<int64_t> minor;
  std::optional<uint32_t> fileMode;
  std::optional<uint32_t> uid;
  std::optional<uint32_t> gid;
};

struct NetDevice {
  std::optional<std::string> name;
};

struct DeviceCgroup {
  bool allow = false;
  std::optional<std::string> type;  // a c b
  std::optional<int64_t> major;
  std::optional<int64_t> minor;
  std::optional<std::string> access;  // rwm
};

struct Memory {
  std::optional<int64_t> limit;
  std::optional<int64_t> reservation;
  std::optional<int64_t> swap;
  std::optional<int64_t> kernel;
  std::optional<int64_t> kernelTCP;
  std::optional<uint64_t> swappiness;
  std::optional<bool> disableOOMKiller;
  std::optional<bool> useHierarchy;
  std::optional<bool> checkBeforeUpdate;
};

struct Cpu {
  std::optional<uint64_t> shares;
  std::optional<int64_t> quota;
  std::optional<uint64_t> burst;
  std::optional<uint64_t> period;
  std::optional<int64_t> realtimeRuntime;
  std::optional<uint64_t> realtimePeriod;
  std::optional<std::string> cpus;
  std::optional<std::string> mems;
  std::optional<bool> idle;
};

struct Pids {
  std::optional<int64_t> limit;
};

struct BlockIoDeviceWeight {
  int64_t major = 0;
  int64_t minor = 0;
  std::optional<uint16_t> weight;
  std::optional<uint16_t> leafWeight;
};

struct BlockIoDeviceThrottle {
  int64_t major = 0;
  int64_t minor = 0;
  uint64_t rate = 0;
};

struct BlockIo {
  std::optional<uint16_t> weight;
  std::optional<uint16_t> leafWeight;
  std::vector<BlockIoDeviceWeight> weightDevice;
  std::vector<BlockIoDeviceThrottle> throttleReadBpsDevice;
  std::vector<BlockIoDeviceThrottle> throttleWriteBpsDevice;
  std::vector<BlockIoDeviceThrottle> throttleReadIOPSDevice;
  std::vector<BlockIoDeviceThrottle> throttleWriteIOPSDevice;
};

struct HugepageLimit {
  std::string pageSize;  // e.g. "2MB"
  uint64_t limit = 0;
};

struct NetworkPriority {
  std::string name;
  uint32_t priority = 0;
};

struct Network {
  std::optional<uint32_t> classID;
  std::vector<NetworkPriority> priorities;
};

struct Rdma {
  std::optional<uint32_t> hcaHandles;
  std::optional<uint32_t> hcaObjects;
};

struct Resources {
  std::vector<DeviceCgroup> devices;
  std::optional<Memory> memory;
  std::optional<Cpu> cpu;
  std::optional<Pids> pids;
  std::optional<BlockIo> blockIO;
  std::vector<HugepageLimit> hugepageLimits;
  std::optional<Network> network;
  std::map<std::string, Rdma> rdma;
  std::map<std::string, std::string> unified;
};

struct SeccompArg {
  uint32_t index = 0;
  uint64_t value = 0;
  std::optional<uint64_t> valueTwo;
  std::string op;  // SCMP_CMP_*
};

struct SeccompSyscall {
  std::vector<std::string> names;
  std::string action;  // SCMP_ACT_*
  std::optional<uint32_t> errnoRet;
  std::vector<SeccompArg> args;
};

struct Seccomp {
  std::string defaultAction;
  std::optional<uint32_t> defaultErrnoRet;
  std::vector<std::string> architectures;
  std::vector<std::string> flags;
  std::optional<std::string> listenerPath;
  std::optional<std::string> listenerMetadata;
  std::vector<SeccompSyscall> syscalls;
};

struct IntelRdt {
  std::optional<std::string> closID;
  std::optional<std::string> l3CacheSchema;
  std::optional<std::string> memBwSchema;
  std::vector<std::string> schemata;
  std::optional<bool> enableMonitoring;
};

struct MemoryPolicy {
  std::string mode;  // MPOL_*
  std::optional<std::string> nodes;
  std::vector<std::string> flags;
};

struct TimeOffset {
  int64_t secs = 0;
  uint32_t nanosecs = 0;
};

struct Personality {
  std::string domain;  // LINUX | LINUX32
  std::vector<std::string> flags;
};

struct Linux {
  std::vector<Namespace> namespaces;
  std::vector<IdMapping> uidMappings;
  std::vector<IdMapping> gidMappings;
  std::map<std::string, TimeOffset> timeOffsets;  // "monotonic", "boottime"
  std::vector<Device> devices;
  std::map<std::string, NetDevice> netDevices;
  std::optional<std::string> cgroupsPath;
  std::optional<Resources> resources;
  std::optional<std::string> rootfsPropagation;
  std::optional<Seccomp> seccomp;
  std::map<std::string, std::string> sysctl;
  std::vector<std::string> maskedPaths;
  std::vector<std::string> readonlyPaths;
  std::optional<std::string> mountLabel;
  std::optional<IntelRdt> intelRdt;
  std::optional<MemoryPolicy> memoryPolicy;
  std::optional<Personality> personality;
};

struct Config {
  std::string ociVersion;
  std::optional<Root> root;
  std::optional<Process> process;
  std::string hostname;
  std::string domainname;
  std::vector<Mount> mounts;
  std::optional<Hooks> hooks;
  std::map<std::string, std::string> annotations;
  std::optional<Linux> linux_;
  // Other platforms' sections are validated but kept only as JSON.
  nlohmann::json mxc;  // the MXC agent section, null when absent (validated by the policy code)
  nlohmann::json raw;  // the whole document as parsed
};

// Parses and validates a config.json document against the runtime-spec schema
// (types, enums, required fields, patterns). Unknown properties are ignored.
// Errors read "<label>: <json.path>: <what is wrong>".
Result<Config> parse_config(std::string_view text, std::string_view label = "config.json");

// Reads and parses <bundle>/config.json.
Result<Config> load_config(const std::filesystem::path& config_file);

// What `create` needs beyond the schema: a root, a process with at least one
// arg and an absolute cwd, an ociVersion this runtime accepts, Linux namespace
// types known and not repeated, ... Errors use the same "<label>: <path>:" form.
Status validate_for_create(const Config& config, std::string_view label = "config.json");

// ociVersion values accepted: 1.0.0 up to 1.3.x, with pre-release suffixes
// such as "1.0.2-dev" and "1.3.0-rc.1".
bool is_supported_oci_version(std::string_view version);

// The pre-defined values this runtime knows (shared by validation and features).
const std::vector<std::string>& known_namespace_types();
const std::vector<std::string>& known_mount_options();
// CAP_CHOWN .. CAP_CHECKPOINT_RESTORE, in kernel number order.
const std::vector<std::string>& known_capabilities();
// The values the schema allows for linux.seccomp (actions, args[].op,
// architectures, flags).
const std::vector<std::string>& known_seccomp_actions();
const std::vector<std::string>& known_seccomp_operators();
const std::vector<std::string>& known_seccomp_archs();
const std::vector<std::string>& known_seccomp_flags();

}  // namespace mxc::spec
