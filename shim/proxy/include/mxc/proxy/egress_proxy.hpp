// The egress proxy: one listening socket serving HTTP CONNECT, plain HTTP with
// absolute URIs and SOCKS5 (sniffed from the first byte), every destination
// checked against the network policy, every upstream connection made from the
// host side. Single-threaded: all work runs on the io_context given.
// The process must ignore SIGPIPE: splice(2) into a socket the peer reset
// raises it (the kernel passes no MSG_NOSIGNAL there).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include <boost/asio/io_context.hpp>

#include "mxc/proxy/domain_rules.hpp"
#include "mxc/spec/result.hpp"

namespace mxc::proxy {

// One per connection decision: denied (and malformed) ones when refused,
// allowed ones when the connection closes, with the bytes relayed.
struct Event {
  std::string protocol;  // "http-connect", "http", "socks5"
  std::string host;      // normalized name or address; empty if the request was unreadable
  uint16_t port = 0;
  bool allowed = false;
  std::string reason;       // the rule that allowed it, or why it was refused or failed
  uint64_t bytes_up = 0;    // client -> upstream (for plain HTTP, the rewritten head included)
  uint64_t bytes_down = 0;  // upstream -> client (proxy's own replies excluded)
};

struct ProxyOptions {
  size_t max_head_bytes = 16 * 1024;                    // HTTP request head; larger: 431
  std::chrono::milliseconds handshake_timeout{30'000};  // request head / SOCKS negotiation
  std::chrono::milliseconds connect_timeout{15'000};    // DNS and upstream connect
  std::chrono::milliseconds idle_timeout{600'000};      // tunnel with no byte either way
  // Tunnels move bytes with recv/send through a buffer per direction that
  // grows from 64 KiB to pipe_bytes while reads fill it, held only while bytes
  // are in flight. true: splice(2) through a pipe of pipe_bytes instead, which
  // copies less but costs more per byte on loopback (shim/proxy/README.md).
  bool splice = false;
  size_t pipe_bytes = 2 << 20;    // the most one direction holds (buffer or pipe)
  size_t max_connections = 1024;  // more are closed at accept
  // A tunnel to a near peer (round trip under about half a millisecond) gets
  // socket buffers of its bandwidth-delay product instead of autotuned MiBs,
  // so that its bytes stay in cache (see egress_proxy.cpp); false: autotuning.
  bool near_buffers = true;
};

// The socket buffer size (SO_SNDBUF, SO_RCVBUF) for a tunnel's peer with
// this smoothed round-trip time: its delay product at about 4 GB/s, at least
// 128 KiB; 0 for a far peer (2 MiB or more) or an unmeasured one: autotuning.
size_t near_socket_buffer(uint32_t rtt_us);

class EgressProxy {
 public:
  // Takes ownership of `listening_fd` (a listening TCP socket, IPv4 or IPv6),
  // closed by stop(). Fails if the rules do not compile or the fd is not a socket.
  static Result<std::unique_ptr<EgressProxy>> create(boost::asio::io_context& io, int listening_fd,
                                                     const Rules& rules,
                                                     std::function<void(const Event&)> on_event,
                                                     ProxyOptions options = {});
  ~EgressProxy();
  EgressProxy(const EgressProxy&) = delete;
  EgressProxy& operator=(const EgressProxy&) = delete;

  void start();  // begins accepting
  // Stops accepting and closes every connection (allowed ones report their
  // Event). Call it on the io_context's thread, or while it is not running.
  void stop();

  struct State;

 private:
  explicit EgressProxy(std::shared_ptr<State> state);
  std::shared_ptr<State> state_;
};

}  // namespace mxc::proxy
