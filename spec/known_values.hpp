// The enumerations of the runtime-spec JSON schemas (config-linux, defs-*),
// shared by the parsers (to refuse unknown values) and features.json.
#pragma once

#include <array>
#include <string_view>

namespace mxc::spec::detail {

using namespace std::string_view_literals;

inline constexpr std::array kNamespaceTypes{"pid"sv, "network"sv, "mount"sv,  "ipc"sv,
                                            "uts"sv, "user"sv,    "cgroup"sv, "time"sv};

inline constexpr std::array kDeviceTypes{"c"sv, "b"sv, "u"sv, "p"sv};
// linux.resources.devices[].type; "" is accepted as "all" like runc does.
inline constexpr std::array kDeviceCgroupTypes{"a"sv, "c"sv, "b"sv, ""sv};

inline constexpr std::array kRootfsPropagation{"private"sv, "shared"sv, "slave"sv, "unbindable"sv};

inline constexpr std::array kPersonalityDomains{"LINUX"sv, "LINUX32"sv};

inline constexpr std::array kIoPriorityClasses{"IOPRIO_CLASS_RT"sv, "IOPRIO_CLASS_BE"sv,
                                               "IOPRIO_CLASS_IDLE"sv};

inline constexpr std::array kSchedulerPolicies{"SCHED_OTHER"sv,   "SCHED_FIFO"sv, "SCHED_RR"sv,
                                               "SCHED_BATCH"sv,   "SCHED_ISO"sv,  "SCHED_IDLE"sv,
                                               "SCHED_DEADLINE"sv};

inline constexpr std::array kSchedulerFlags{
    "SCHED_FLAG_RESET_ON_FORK"sv, "SCHED_FLAG_RECLAIM"sv,     "SCHED_FLAG_DL_OVERRUN"sv,
    "SCHED_FLAG_KEEP_POLICY"sv,   "SCHED_FLAG_KEEP_PARAMS"sv, "SCHED_FLAG_UTIL_CLAMP_MIN"sv,
    "SCHED_FLAG_UTIL_CLAMP_MAX"sv};

inline constexpr std::array kMemoryPolicyModes{
    "MPOL_DEFAULT"sv,   "MPOL_BIND"sv,           "MPOL_INTERLEAVE"sv, "MPOL_WEIGHTED_INTERLEAVE"sv,
    "MPOL_PREFERRED"sv, "MPOL_PREFERRED_MANY"sv, "MPOL_LOCAL"sv};

inline constexpr std::array kMemoryPolicyFlags{"MPOL_F_NUMA_BALANCING"sv, "MPOL_F_RELATIVE_NODES"sv,
                                               "MPOL_F_STATIC_NODES"sv};

inline constexpr std::array kSeccompActions{
    "SCMP_ACT_KILL"sv,  "SCMP_ACT_KILL_PROCESS"sv, "SCMP_ACT_KILL_THREAD"sv,
    "SCMP_ACT_TRAP"sv,  "SCMP_ACT_ERRNO"sv,        "SCMP_ACT_TRACE"sv,
    "SCMP_ACT_ALLOW"sv, "SCMP_ACT_LOG"sv,          "SCMP_ACT_NOTIFY"sv};

inline constexpr std::array kSeccompOperators{
    "SCMP_CMP_NE"sv, "SCMP_CMP_LT"sv, "SCMP_CMP_LE"sv,       "SCMP_CMP_EQ"sv,
    "SCMP_CMP_GE"sv, "SCMP_CMP_GT"sv, "SCMP_CMP_MASKED_EQ"sv};

inline constexpr std::array kSeccompArchs{
    "SCMP_ARCH_X86"sv,         "SCMP_ARCH_X86_64"sv,  "SCMP_ARCH_X32"sv,
    "SCMP_ARCH_ARM"sv,         "SCMP_ARCH_AARCH64"sv, "SCMP_ARCH_LOONGARCH64"sv,
    "SCMP_ARCH_M68K"sv,        "SCMP_ARCH_MIPS"sv,    "SCMP_ARCH_MIPS64"sv,
    "SCMP_ARCH_MIPS64N32"sv,   "SCMP_ARCH_MIPSEL"sv,  "SCMP_ARCH_MIPSEL64"sv,
    "SCMP_ARCH_MIPSEL64N32"sv, "SCMP_ARCH_PPC"sv,     "SCMP_ARCH_PPC64"sv,
    "SCMP_ARCH_PPC64LE"sv,     "SCMP_ARCH_S390"sv,    "SCMP_ARCH_S390X"sv,
    "SCMP_ARCH_SH"sv,          "SCMP_ARCH_SHEB"sv,    "SCMP_ARCH_PARISC"sv,
    "SCMP_ARCH_PARISC64"sv,    "SCMP_ARCH_RISCV64"sv};

inline constexpr std::array kSeccompFlags{
    "SECCOMP_FILTER_FLAG_TSYNC"sv, "SECCOMP_FILTER_FLAG_LOG"sv, "SECCOMP_FILTER_FLAG_SPEC_ALLOW"sv,
    "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"sv};

// Other platforms.
inline constexpr std::array kZosNamespaceTypes{"mount"sv, "pid"sv, "uts"sv, "ipc"sv};
inline constexpr std::array kFreebsdSharingModes{"disable"sv, "new"sv, "inherit"sv};
inline constexpr std::array kFreebsdSharingModesNoDisable{"new"sv, "inherit"sv};
inline constexpr std::array kWindowsDeviceIdTypes{"class"sv};
inline constexpr std::array kVmImageFormats{"raw"sv, "qcow2"sv, "vdi"sv, "vmdk"sv, "vhd"sv};

// state.json status values; "paused" is not in the schema but runc reports it.
inline constexpr std::array kStateStatuses{"creating"sv, "created"sv, "running"sv, "stopped"sv,
                                           "paused"sv};

}  // namespace mxc::spec::detail
