// mxc-shim: supervises one container (see supervisor.hpp). Started by
// mxc-runtime, never by hand: `mxc-shim STATE_DIR --pid N ...`.
#include <signal.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <string>

#include <boost/asio/io_context.hpp>

#include "mxc/sys/sync_channel.hpp"
#include "proxy_service.hpp"
#include "shim_config.hpp"
#include "supervisor.hpp"

namespace {

int ready_fd_of(int argc, char** argv) {
  for (int i = 1; i + 1 < argc; ++i) {
    if (std::strcmp(argv[i], "--ready-fd") == 0) return std::atoi(argv[i + 1]);
  }
  return -1;
}

int fail(int ready_fd, const std::string& message) {
  if (ready_fd >= 0) {
    (void)mxc::sys::send_message(ready_fd, "Emxc-shim: " + message);
  } else {
    std::fprintf(stderr, "mxc-shim: %s\n", message.c_str());
  }
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  ::signal(SIGPIPE, SIG_IGN);
  ::signal(SIGHUP, SIG_IGN);
  // Hold no directory of the caller's busy (a mount point, a test's temp dir).
  if (::chdir("/") != 0) return fail(ready_fd_of(argc, argv), "chdir /");
  int ready_fd = ready_fd_of(argc, argv);
  auto config = mxc::shim::load_shim_config(argc, argv);
  if (!config) return fail(ready_fd, config.error().message);
  boost::asio::io_context io(1);
  mxc::shim::Supervisor supervisor(io, *config);
  if (auto st = supervisor.setup(); !st) return fail(ready_fd, st.error().message);
  if (!config->proxy.is_null()) {
    auto proxy = mxc::shim::start_proxy_service(io, *config, supervisor.audit());
    if (!proxy) return fail(ready_fd, proxy.error().message);
    supervisor.add_service(std::move(*proxy));
  }
  // mxc-runtime set a parent-death signal so that a create killed half-way
  // takes us with it. From "ready" on we outlive it: clear the signal first
  // (it would race with the runtime's exit), then make sure the runtime is
  // still there to hear us.
  pid_t runtime = ::getppid();
  ::prctl(PR_SET_PDEATHSIG, 0);
  if (ready_fd >= 0) {
    if (config->mode == mxc::shim::Mode::kParent && ::getppid() != runtime) return 1;
    (void)mxc::sys::send_message(ready_fd, "R");
    ::close(ready_fd);
  }
  if (!supervisor.done()) io.run();
  return 0;
}
