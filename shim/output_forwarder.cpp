#include "output_forwarder.hpp"

#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>

namespace mxc::shim {

namespace {
constexpr size_t kChunk = 4096;  // PIPE_BUF: a pipe that polls writable takes it whole
constexpr auto kRetry = std::chrono::milliseconds(20);
}  // namespace

OutputForwarder::OutputForwarder(boost::asio::io_context& io, int fd, size_t max_buffer)
    : fd_(fd), retry_(io), max_buffer_(max_buffer) {}

void OutputForwarder::write(std::string_view data) {
  if (broken_) return;
  size_t room = max_buffer_ > pending_.size() ? max_buffer_ - pending_.size() : 0;
  if (data.size() > room) {
    dropped_ += data.size() - room;
    data = data.substr(0, room);
  }
  pending_.append(data);
  drain();
}

void OutputForwarder::drain() {
  while (!pending_.empty() && !broken_) {
    pollfd p{fd_.get(), POLLOUT, 0};
    if (::poll(&p, 1, 0) != 1 || !(p.revents & POLLOUT)) break;
    if (p.revents & (POLLERR | POLLHUP)) {
      broken_ = true;
      break;
    }
    ssize_t n = ::write(fd_.get(), pending_.data(), std::min(pending_.size(), kChunk));
    if (n < 0) {
      if (errno == EINTR || errno == EAGAIN) break;
      broken_ = true;  // EPIPE (SIGPIPE is ignored), EIO, ENOSPC...
      break;
    }
    pending_.erase(0, static_cast<size_t>(n));
  }
  if (broken_) {
    dropped_ += pending_.size();
    pending_.clear();
    return;
  }
  if (!pending_.empty()) schedule();
}

void OutputForwarder::schedule() {
  if (scheduled_) return;
  scheduled_ = true;
  retry_.expires_after(kRetry);
  retry_.async_wait([this](const boost::system::error_code& ec) {
    scheduled_ = false;
    if (!ec) drain();
  });
}

}  // namespace mxc::shim
