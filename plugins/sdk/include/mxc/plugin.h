/* mxc/plugin.h: the C ABI between mxc-runtime and its backend plugins.
 *
 * A plugin is a shared library exporting one function, `mxc_plugin_entry`,
 * that returns a pointer to a static `mxc_plugin` table. Plain C types only, so
 * that plugins built by other compilers and other releases keep loading.
 *
 * Versioning: the runtime refuses a plugin whose `abi_major` differs from its
 * own. Minor versions only append: new fields at the end of the request structs
 * (whose `struct_size` tells the plugin how much the runtime filled in) and new
 * function pointers at the end of the table (which the runtime reads only when
 * the plugin's `abi_minor` says they exist).
 *
 * Errors: every function returns 0 on success and -1 on failure, with a one-line
 * message written into `err` (NUL-terminated, at most `err_len` bytes). Calls
 * come from one thread at a time, per container, under the runtime's lock.
 */
#ifndef MXC_PLUGIN_H
#define MXC_PLUGIN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define MXC_PLUGIN_ABI_MAJOR 1
#define MXC_PLUGIN_ABI_MINOR 2
#define MXC_PLUGIN_ENTRY_SYMBOL "mxc_plugin_entry"

/* Flags for mxc_create_request.flags. */
#define MXC_CREATE_NO_PIVOT 0x1u   /* use MS_MOVE + chroot instead of pivot_root */
#define MXC_CREATE_FOREGROUND 0x2u /* the caller will wait() for the container */
/* ABI 1.1: the container's init should die (SIGKILL) when the process that
 * called create() exits: that process becomes mxc-shim, its supervisor (e.g.
 * PR_SET_PDEATHSIG, re-armed after a uid change; bwrap --die-with-parent).
 * Plugins built for ABI 1.0 do not know the flag: their containers outlive a
 * killed shim. */
#define MXC_CREATE_DIE_WITH_PARENT 0x4u
/* ABI 1.2: start() follows create() at once and nothing looks at the created
 * container in between (a foreground `run` without hooks or shim services).
 * create() may return before the container's setup is complete, or even run
 * the process at once (start() then succeeds doing nothing, also if the
 * process has exited since); a setup failure may surface as the process's
 * exit status instead of an error from create(). Only ever set together with
 * MXC_CREATE_FOREGROUND; a plugin may ignore it. */
#define MXC_CREATE_START_FOLLOWS 0x8u

typedef struct mxc_create_request {
  uint32_t struct_size;       /* sizeof(mxc_create_request) as the runtime knows it */
  const char* id;             /* validated container id */
  const char* bundle;         /* absolute bundle directory */
  const char* state_dir;      /* the container's private directory (mode 0700) */
  const char* config_json;    /* validated config.json; root.path is absolute */
  const char* policy_json;    /* compiled agent policy, "{}" when there is none */
  const char* console_socket; /* unix socket for the pty master, or NULL */
  uint32_t flags;             /* MXC_CREATE_* */
  int console_fd;             /* a connected socket for the pty master, or -1 (takes precedence) */
  const char* cgroup_procs;   /* newline-separated cgroup.procs files to join, or NULL */
  uint32_t preserve_fds;      /* fds 3 .. 3+N-1 of the caller pass to the process */
} mxc_create_request;

/* How to run an extra process in a running container (`exec`). */
typedef struct mxc_exec_request {
  uint32_t struct_size;
  const char* config_json;    /* the container's config.json, as create() got it */
  const char* process_json;   /* an OCI `process` object, validated */
  const char* console_socket; /* as in create */
  int console_fd;
  const char* cgroup_procs; /* as in create */
  uint32_t flags;           /* MXC_CREATE_FOREGROUND when the caller waits */
  uint32_t preserve_fds;    /* as in create */
} mxc_exec_request;

typedef struct mxc_create_result {
  uint32_t struct_size;
  int32_t pid; /* the container's init, as seen from the runtime's pid namespace */
} mxc_create_result;

/* Names a container that create() made. */
typedef struct mxc_container_ref {
  uint32_t struct_size;
  const char* id;
  const char* state_dir;
  int32_t pid;
} mxc_container_ref;

typedef struct mxc_plugin {
  uint32_t abi_major;
  uint32_t abi_minor;
  const char* name;     /* backend name, as bundles select it */
  const char* version;  /* the plugin's own version */
  const char* tiers;    /* comma-separated: "process", "session", "micro-vm" */
  const char* enforces; /* JSON array of the policy fields it enforces */

  /* Prepares the container and leaves its process blocked until start(). */
  int (*create)(const mxc_create_request* req, mxc_create_result* out, char* err, size_t err_len);
  /* Releases the process that create() left blocked. */
  int (*start)(const mxc_container_ref* ref, char* err, size_t err_len);
  /* Sends `signal` to the init process, or with `all` to every process of the container. */
  int (*kill)(const mxc_container_ref* ref, int signal, int all, char* err, size_t err_len);
  /* Writes "created", "running" or "stopped" into `status`. */
  int (*status)(const mxc_container_ref* ref, char* status, size_t status_len, char* err,
                size_t err_len);
  /* Waits for the init to exit (foreground run): its exit code, or 128+signal. */
  int (*wait)(const mxc_container_ref* ref, int* exit_code, char* err, size_t err_len);
  /* Removes what create() made. The container's processes are already gone. */
  int (*destroy)(const mxc_container_ref* ref, char* err, size_t err_len);
  /* Starts another process in the running container; its pid goes in out->pid.
   * wait() with a ref whose pid is that pid waits for it. */
  int (*exec)(const mxc_container_ref* ref, const mxc_exec_request* req, mxc_create_result* out,
              char* err, size_t err_len);
} mxc_plugin;

typedef const mxc_plugin* (*mxc_plugin_entry_fn)(void);

#ifdef __cplusplus
}
#endif

#endif /* MXC_PLUGIN_H */
