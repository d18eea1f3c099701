// Passes the container's output on to where the caller's stdout/stderr
// pointed when it ran `create` (as runc's pass-through does), without ever
// blocking the shim: a write happens only when poll says the fd can take it,
// at most PIPE_BUF bytes at a time (which a pipe then takes whole); the rest
// waits in a bounded buffer and what does not fit is dropped and counted.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include "mxc/sys/unique_fd.hpp"

namespace mxc::shim {

class OutputForwarder {
 public:
  OutputForwarder(boost::asio::io_context& io, int fd, size_t max_buffer = 1 << 20);
  void write(std::string_view data);
  [[nodiscard]] uint64_t dropped_bytes() const { return dropped_; }

 private:
  void drain();
  void schedule();

  sys::UniqueFd fd_;
  boost::asio::steady_timer retry_;
  std::string pending_;
  size_t max_buffer_;
  uint64_t dropped_ = 0;
  bool scheduled_ = false;
  bool broken_ = false;  // the reader went away (EPIPE): stop trying
};

}  // namespace mxc::shim
