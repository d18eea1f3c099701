// One container's supervision: its exit (as parent and reaper, or as a
// monitor through a pidfd), its output log, its control socket, its process
// timeout and its audit lines. Single-threaded on one io_context.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>

#include "container_log.hpp"
#include "mxc/runtime/audit_log.hpp"
#include "mxc/runtime/shim_protocol.hpp"
#include "mxc/sys/unique_fd.hpp"
#include "output_forwarder.hpp"
#include "shim_config.hpp"

namespace mxc::shim {

// A per-container service the shim runs until the container exits (the egress
// proxy is one). Constructed before the shim reports ready.
class Service {
 public:
  virtual ~Service() = default;
  virtual void stop() = 0;
};

class Supervisor {
 public:
  Supervisor(boost::asio::io_context& io, ShimConfig config);
  // Everything that must hold before mxc-runtime returns: the control socket,
  // the watchers. Errors go back to the runtime through the ready fd.
  Status setup();
  void add_service(std::unique_ptr<Service> service) { services_.push_back(std::move(service)); }
  [[nodiscard]] const runtime::AuditContext& audit() const { return audit_; }
  // True once the container has exited and everything is written.
  [[nodiscard]] bool done() const { return done_; }

 private:
  class Connection;
  void watch_children();
  void watch_pidfd();
  void read_stream(std::shared_ptr<boost::asio::posix::stream_descriptor> d, std::string name);
  void accept();
  void handle(std::shared_ptr<Connection> c, const std::string& line);
  void start_timeout();
  void container_exited(runtime::shim::ExitRecord record);
  void maybe_finish();
  nlohmann::json status_json() const;

  boost::asio::io_context& io_;
  ShimConfig cfg_;
  ContainerLog log_;
  std::optional<OutputForwarder> forward_out_, forward_err_;
  runtime::AuditContext audit_;
  sys::UniqueFd dir_;
  boost::asio::local::stream_protocol::acceptor acceptor_;
  boost::asio::signal_set signals_;
  std::optional<boost::asio::posix::stream_descriptor> pidfd_;
  boost::asio::steady_timer timeout_;
  boost::asio::steady_timer linger_;
  bool timer_started_ = false;
  bool timed_out_ = false;
  int open_streams_ = 0;
  bool done_ = false;
  std::optional<runtime::shim::ExitRecord> exit_;
  std::vector<std::shared_ptr<Connection>> waiters_;
  std::vector<std::unique_ptr<Service>> services_;
};

}  // namespace mxc::shim
