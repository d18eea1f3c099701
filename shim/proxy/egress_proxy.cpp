#include "mxc/proxy/egress_proxy.hpp"

#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <cerrno>
#include <cstring>
#include <map>
#include <unordered_map>
#include <vector>

#include "mxc/proxy/http_request.hpp"
#include "mxc/proxy/socks5.hpp"

namespace mxc::proxy {

namespace net = boost::asio;
using tcp = net::ip::tcp;
using boost::system::error_code;

// Socket buffers for a near peer (the container's loopback, a service on this
// host or the next rack): the bandwidth-delay product at about 4 GB/s, at
// least 128 KiB. Autotuning grows loopback buffers to MiBs, and then every
// copy through the proxy misses the cache. Farther peers (a delay product of
// 2 MiB or more) keep the kernel's autotuning.
size_t near_socket_buffer(uint32_t rtt_us) {
  constexpr uint64_t kMin = 128 * 1024, kBytesPerUs = 4096, kMax = 2 << 20;
  if (rtt_us == 0) return 0;  // not measured
  uint64_t bytes = std::max(kMin, uint64_t{rtt_us} * kBytesPerUs);
  return bytes < kMax ? static_cast<size_t>(bytes) : 0;
}

namespace {

class Session;

// Reads and writes per turn before yielding to other connections on the io_context.
constexpr int kPumpTurns = 16;
// Copy mode: a direction's buffer starts at this size and doubles (up to
// ProxyOptions::pipe_bytes) while recv(2) fills it whole.
constexpr size_t kMinBuffer = 64 * 1024;
// Free buffers kept per size for the next tunnel that reads.
constexpr size_t kPoolKeep = 2;
constexpr size_t kReadChunk = 4096;
constexpr auto kLingerTime = std::chrono::seconds(2);

// The buffer size for the peer of `fd` from its smoothed round-trip time, or
// 0: far (or unknown), leave it to the kernel.
int near_buffer_bytes(int fd) {
  tcp_info ti{};
  socklen_t len = sizeof ti;
  if (::getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) != 0) return 0;
  return static_cast<int>(near_socket_buffer(ti.tcpi_rtt));
}

class Pipe {
 public:
  Pipe() = default;
  Pipe(const Pipe&) = delete;
  Pipe& operator=(const Pipe&) = delete;
  ~Pipe() {
    if (fds_[0] >= 0) ::close(fds_[0]);
    if (fds_[1] >= 0) ::close(fds_[1]);
  }
  Status open(size_t size) {
    if (::pipe2(fds_, O_CLOEXEC | O_NONBLOCK) != 0) return sys_error("pipe2");
    // Best effort: a bigger pipe means fewer splice calls per byte.
    ::fcntl(fds_[1], F_SETPIPE_SZ, static_cast<int>(size));
    return {};
  }
  [[nodiscard]] int read_end() const { return fds_[0]; }
  [[nodiscard]] int write_end() const { return fds_[1]; }

 private:
  int fds_[2] = {-1, -1};
};

// Copy-mode buffers, by power-of-two size. A direction holds one only while it
// has bytes in flight, so idle and interactive tunnels hold none, and a bulk
// transfer does not pay for malloc and page faults on every read.
class BufferPool {
 public:
  struct Buffer {
    std::unique_ptr<char[]> data;
    size_t size = 0;
  };
  Buffer acquire(size_t size) {
    auto& free = free_[size];
    if (!free.empty()) {
      Buffer b = std::move(free.back());
      free.pop_back();
      return b;
    }
    return Buffer{std::make_unique_for_overwrite<char[]>(size), size};
  }
  void release(Buffer& b) {
    if (!b.data) return;
    auto& free = free_[b.size];
    if (free.size() < kPoolKeep) free.push_back(std::move(b));
    b = Buffer{};
  }

 private:
  std::map<size_t, std::vector<Buffer>> free_;
};

// Connection refused / unreachable / other, for the SOCKS5 reply.
socks5::Reply socks_reply_for(const error_code& ec) {
  if (ec == net::error::connection_refused) return socks5::kConnectionRefused;
  if (ec == net::error::network_unreachable) return socks5::kNetworkUnreachable;
  if (ec == net::error::host_unreachable || ec == net::error::timed_out ||
      ec == net::error::host_not_found || ec == net::error::host_not_found_try_again ||
      ec == net::error::no_data || ec == net::error::operation_aborted) {
    return socks5::kHostUnreachable;
  }
  return socks5::kGeneralFailure;
}

}  // namespace

struct EgressProxy::State {
  State(net::io_context& io, DomainRules r, std::function<void(const Event&)> cb, ProxyOptions o)
      : acceptor(io), retry_timer(io), rules(std::move(r)), on_event(std::move(cb)), opts(o) {}
  tcp::acceptor acceptor;
  net::steady_timer retry_timer;  // after accept errors such as EMFILE
  DomainRules rules;
  std::function<void(const Event&)> on_event;
  ProxyOptions opts;
  BufferPool buffers;
  std::unordered_map<uint64_t, std::weak_ptr<Session>> sessions;
  uint64_t next_id = 0;
  bool stopped = false;

  void accept_next(const std::shared_ptr<State>& self);
};

namespace {

class Session : public std::enable_shared_from_this<Session> {
 public:
  using State = EgressProxy::State;
  Session(std::shared_ptr<State> st, uint64_t id, tcp::socket client)
      : st_(std::move(st)),
        id_(id),
        client_(std::move(client)),
        upstream_(client_.get_executor()),
        resolver_(client_.get_executor()),
        timer_(client_.get_executor()),
        up_(client_, upstream_, event_.bytes_up),
        down_(upstream_, client_, event_.bytes_down) {}
  ~Session() {
    st_->buffers.release(up_.buf);
    st_->buffers.release(down_.buf);
    st_->sessions.erase(id_);
  }

  void start() {
    error_code ec;
    client_.set_option(tcp::no_delay(true), ec);
    arm_timer(st_->opts.handshake_timeout, "handshake timed out");
    read_more([](Session& s) { s.sniff(); });
  }

  // Closes both sides; an allowed connection reports its Event now.
  void close() {
    if (closed_) return;
    closed_ = true;
    error_code ec;
    client_.close(ec);
    upstream_.close(ec);
    resolver_.cancel();
    timer_.cancel();
    if (decided_ && event_.allowed) emit();
  }

 private:
  // One direction of the tunnel: `prefix` is written first (bytes the proxy
  // already read), then recv/send through a buffer (or splice(2) through a
  // pipe) moves the rest.
  struct Pump {
    Pump(tcp::socket& source, tcp::socket& sink, uint64_t& counter)
        : from(source), to(sink), bytes(counter) {}
    tcp::socket& from;
    tcp::socket& to;
    uint64_t& bytes;
    Pipe pipe;                    // splice mode: bytes in flight live here
    bool prefix_counted = false;  // the prefix's bytes are in `bytes` already
    BufferPool::Buffer buf;       // copy mode: or here, from buf.data[off]
    size_t off = 0;
    size_t want = kMinBuffer;  // copy mode: the next buffer's size
    std::string prefix;
    size_t in_pipe = 0;  // bytes read from `from`, not yet written to `to`
    bool eof = false;
    bool done = false;
  };

  void arm_timer(std::chrono::milliseconds after, const char* why) {
    timer_.expires_after(after);
    timer_.async_wait([self = shared_from_this(), why](const error_code& ec) {
      if (ec || self->closed_) return;
      self->fail(why);
    });
  }

  void emit() {
    if (emitted_) return;
    emitted_ = true;
    if (st_->on_event) st_->on_event(event_);
  }

  void fail(const std::string& why) {
    if (decided_ && event_.allowed && !replying_) {
      event_.reason += "; " + why;
    }
    close();
  }

  // Reads what the client sent so far into buf_, then calls `next`.
  template <class Next>
  void read_more(Next next) {
    size_t old = buf_.size();
    buf_.resize(old + kReadChunk);
    client_.async_read_some(
        net::buffer(buf_.data() + old, kReadChunk),
        [self = shared_from_this(), old, next](const error_code& ec, size_t n) {
          self->buf_.resize(old + n);
          if (self->closed_) return;
          if (ec) return self->close();  // client gone before deciding: nothing to report
          next(*self);
        });
  }

  void sniff() {
    if (static_cast<uint8_t>(buf_[0]) == socks5::kVersion) {
      event_.protocol = "socks5";
      socks_greeting();
    } else {
      event_.protocol = "http";
      http_head();
    }
  }

  // ---- HTTP ----

  void http_head() {
    size_t end = find_head_end(buf_);
    if (end == 0) {
      if (buf_.size() >= st_->opts.max_head_bytes) {
        return refuse_http(
            431, "Request Header Fields Too Large",
            "request head larger than " + std::to_string(st_->opts.max_head_bytes) + " bytes");
      }
      return read_more([](Session& s) { s.http_head(); });
    }
    if (end > st_->opts.max_head_bytes) {
      return refuse_http(
          431, "Request Header Fields Too Large",
          "request head larger than " + std::to_string(st_->opts.max_head_bytes) + " bytes");
    }
    auto req = parse_request_head(std::string_view(buf_).substr(0, end));
    if (!req) return refuse_http(400, "Bad Request", "bad request: " + req.error().message);
    std::string rest = buf_.substr(end);
    buf_.clear();
    if (req->method == "CONNECT") {
      event_.protocol = "http-connect";
      auto dest = parse_authority(req->target, 0);
      if (!dest) return refuse_http(400, "Bad Request", "bad request: " + dest.error().message);
      up_.prefix = std::move(rest);  // early data, e.g. a TLS ClientHello
      return decide(dest->host, dest->port);
    }
    auto uri = parse_absolute_uri(req->target);
    if (!uri) return refuse_http(400, "Bad Request", "bad request: " + uri.error().message);
    up_.prefix = origin_request_head(*req, *uri) + rest;
    decide(uri->dest.host, uri->dest.port);
  }

  // Writes an error response and closes; refusals and bad requests are reported.
  void refuse_http(int status, const char* reason_phrase, const std::string& why) {
    if (!decided_) {
      decided_ = true;
      event_.allowed = false;
      event_.reason = why;
      emit();
    }
    reply_and_close(http_response(status, reason_phrase, "mxc-proxy: " + why));
  }

  // ---- SOCKS5 ----

  void socks_greeting() {
    size_t used = 0;
    bool no_auth = false;
    switch (socks5::parse_greeting(buf_, used, no_auth)) {
      case socks5::Parse::incomplete:
        if (buf_.size() > 258) return close();
        return read_more([](Session& s) { s.socks_greeting(); });
      case socks5::Parse::bad:
        return close();  // not SOCKS5 after all: nothing sensible to answer
      case socks5::Parse::ok:
        break;
    }
    buf_.erase(0, used);
    if (!no_auth) {
      decided_ = true;
      event_.reason = "SOCKS5 client offers no \"no authentication\" method";
      emit();
      return reply_and_close(
          std::string{char(socks5::kVersion), char(socks5::kNoAcceptableMethod)});
    }
    out_ = std::string{char(socks5::kVersion), char(socks5::kNoAuth)};
    net::async_write(client_, net::buffer(out_),
                     [self = shared_from_this()](const error_code& ec, size_t) {
                       if (self->closed_) return;
                       if (ec) return self->close();
                       self->socks_request();
                     });
  }

  void socks_request() {
    size_t used = 0;
    socks5::Request req;
    socks5::Reply code{};
    switch (socks5::parse_request(buf_, used, req, code)) {
      case socks5::Parse::incomplete:
        if (buf_.size() > 262) return refuse_socks(socks5::kGeneralFailure, "malformed request");
        return read_more([](Session& s) { s.socks_request(); });
      case socks5::Parse::bad:
        return refuse_socks(code, code == socks5::kAddressTypeNotSupported
                                      ? "unsupported address type"
                                      : "malformed request");
      case socks5::Parse::ok:
        break;
    }
    event_.host = req.host;
    event_.port = req.port;
    if (req.command != socks5::kConnect) {
      return refuse_socks(socks5::kCommandNotSupported,
                          "SOCKS5 command " + std::to_string(req.command) + " not supported");
    }
    up_.prefix = buf_.substr(used);
    buf_.clear();
    decide(req.host, req.port);
  }

  void refuse_socks(socks5::Reply code, const std::string& why) {
    if (!decided_) {
      decided_ = true;
      event_.allowed = false;
      event_.reason = why;
      emit();
    }
    reply_and_close(socks5::reply(code));
  }

  // ---- decision and upstream connection ----

  void decide(const std::string& host, uint16_t port) {
    Verdict v = st_->rules.check(host);
    event_.host = v.host;
    event_.port = port;
    bool socks = event_.protocol == "socks5";
    if (v.kind == Verdict::Kind::malformed) {
      return socks ? refuse_socks(socks5::kGeneralFailure, v.reason)
                   : refuse_http(400, "Bad Request", "bad request: " + v.reason);
    }
    if (!v.allowed()) {
      return socks ? refuse_socks(socks5::kNotAllowed, v.reason)
                   : refuse_http(403, "Forbidden", v.reason);
    }
    decided_ = true;
    event_.allowed = true;
    event_.reason = v.reason;
    arm_timer(st_->opts.connect_timeout, "connect timed out");

    std::vector<tcp::endpoint> eps;
    auto add = [&](const IpAddress& a) {
      if (a.v6) {
        net::ip::address_v6::bytes_type b;
        std::copy(a.bytes.begin(), a.bytes.end(), b.begin());
        eps.emplace_back(net::ip::address_v6(b), port);
      } else {
        net::ip::address_v4::bytes_type b;
        std::copy(a.bytes.begin(), a.bytes.begin() + 4, b.begin());
        eps.emplace_back(net::ip::address_v4(b), port);
      }
    };
    if (v.address) {
      add(*v.address);
    } else if (const auto* entry = st_->rules.hosts_entry(v.host)) {
      for (const auto& a : *entry) add(a);
    }
    if (!eps.empty()) return connect(std::move(eps));
    resolver_.async_resolve(
        v.host, std::to_string(port),
        [self = shared_from_this()](const error_code& ec, tcp::resolver::results_type results) {
          if (self->closed_) return;
          if (ec) return self->connect_failed(ec, "cannot resolve " + self->event_.host);
          std::vector<tcp::endpoint> found;
          for (const auto& r : results) found.push_back(r.endpoint());
          self->connect(std::move(found));
        });
  }

  void connect(std::vector<tcp::endpoint> eps) {
    net::async_connect(
        upstream_, eps, [self = shared_from_this()](const error_code& ec, const tcp::endpoint&) {
          if (self->closed_) return;
          if (ec) {
            return self->connect_failed(ec, "cannot connect to " + self->event_.host + ":" +
                                                std::to_string(self->event_.port));
          }
          self->connected();
        });
  }

  void connect_failed(const error_code& ec, const std::string& what) {
    std::string why = what + ": " + ec.message();
    event_.reason += "; " + why;
    timer_.cancel();
    if (event_.protocol == "socks5") return reply_and_close(socks5::reply(socks_reply_for(ec)));
    reply_and_close(http_response(502, "Bad Gateway", "mxc-proxy: " + why));
  }

  void connected() {
    error_code ec;
    upstream_.set_option(tcp::no_delay(true), ec);
    if (event_.protocol == "socks5") {
      auto local = upstream_.local_endpoint(ec);
      auto bound = parse_ip(local.address().to_string());
      out_ = socks5::reply(socks5::kSucceeded, bound ? &*bound : nullptr, local.port());
    } else if (event_.protocol == "http-connect") {
      out_ = "HTTP/1.1 200 Connection established\r\n\r\n";
    } else {
      out_.clear();  // plain HTTP: the origin answers
    }
    net::async_write(client_, net::buffer(out_),
                     [self = shared_from_this()](const error_code& wec, size_t) {
                       if (self->closed_) return;
                       if (wec) return self->close();
                       self->tunnel();
                     });
  }

  // ---- tunnel ----

  void tunnel() {
    error_code ec;
    client_.native_non_blocking(true, ec);
    if (!ec) upstream_.native_non_blocking(true, ec);
    if (ec) return fail("cannot make sockets non-blocking: " + ec.message());
    if (st_->opts.near_buffers) {
      for (tcp::socket* sock : {&client_, &upstream_}) {
        int fd = sock->native_handle();
        if (int bytes = near_buffer_bytes(fd); bytes > 0) {
          ::setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &bytes, sizeof bytes);
          ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bytes, sizeof bytes);
        }
      }
    }
    for (Pump* p : {&up_, &down_}) {
      if (!st_->opts.splice) break;
      if (auto s = p->pipe.open(st_->opts.pipe_bytes); !s) return fail(s.error().message);
    }
    for (Pump* p : {&up_, &down_}) p->want = std::min(kMinBuffer, st_->opts.pipe_bytes);
    last_activity_ = std::chrono::steady_clock::now();
    watch_idle();
    for (Pump* p : {&up_, &down_}) {
      if (p->prefix.empty()) {
        pump(*p);
        continue;
      }
      net::async_write(p->to, net::buffer(p->prefix),
                       [self = shared_from_this(), p](const error_code& wec, size_t n) {
                         if (self->closed_) return;
                         if (wec) return self->fail("write: " + wec.message());
                         if (!p->prefix_counted) p->bytes += n;  // linger() may have
                         p->prefix.clear();
                         self->pump(*p);
                       });
    }
  }

  void watch_idle() {
    timer_.expires_at(last_activity_ + st_->opts.idle_timeout);
    timer_.async_wait([self = shared_from_this()](const error_code& ec) {
      if (ec || self->closed_) return;
      if (std::chrono::steady_clock::now() - self->last_activity_ >= self->st_->opts.idle_timeout) {
        return self->fail("idle timeout");
      }
      self->watch_idle();
    });
  }

  // Reads from p.from into the pipe (or buffer); the result as read(2)'s.
  ssize_t fill(Pump& p) {
    if (st_->opts.splice) {
      return ::splice(p.from.native_handle(), nullptr, p.pipe.write_end(), nullptr,
                      st_->opts.pipe_bytes, SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
    }
    // Called with nothing in flight: a buffer of the size wanted now.
    if (p.buf.size != p.want) {
      st_->buffers.release(p.buf);
      p.buf = st_->buffers.acquire(p.want);
    }
    p.off = 0;
    ssize_t n = ::recv(p.from.native_handle(), p.buf.data.get(), p.buf.size, 0);
    if (n == static_cast<ssize_t>(p.buf.size) && p.want < st_->opts.pipe_bytes) {
      p.want = std::min(p.want * 2, st_->opts.pipe_bytes);
    }
    return n;
  }

  // Writes what fill() read to p.to; the result as write(2)'s.
  ssize_t flush(Pump& p) {
    if (st_->opts.splice) {
      return ::splice(p.pipe.read_end(), nullptr, p.to.native_handle(), nullptr, p.in_pipe,
                      SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
    }
    ssize_t n = ::send(p.to.native_handle(), p.buf.data.get() + p.off, p.in_pipe, MSG_NOSIGNAL);
    if (n > 0) p.off += static_cast<size_t>(n);
    return n;
  }

  // Moves bytes from p.from to p.to until either would block, then waits for readiness.
  void pump(Pump& p) {
    if (closed_ || p.done) return;
    for (int turn = 0; turn < kPumpTurns; ++turn) {
      if (p.in_pipe > 0) {
        ssize_t n = flush(p);
        if (n > 0) {
          p.in_pipe -= static_cast<size_t>(n);
          p.bytes += static_cast<uint64_t>(n);
          last_activity_ = std::chrono::steady_clock::now();
          continue;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && errno == EAGAIN) return wait(p, p.to, tcp::socket::wait_write);
        return fail(std::string("write to peer: ") + std::strerror(n < 0 ? errno : EPIPE));
      }
      if (p.eof) {
        p.done = true;
        st_->buffers.release(p.buf);
        error_code ec;
        p.to.shutdown(tcp::socket::shutdown_send, ec);
        if (up_.done && down_.done) return close();
        // Plain HTTP is one request per connection: the response is complete.
        // Drain rather than close, so that unread client bytes cannot reset it.
        if (&p == &down_ && event_.protocol == "http") linger();
        return;
      }
      ssize_t n = fill(p);
      if (n > 0) {
        p.in_pipe += static_cast<size_t>(n);
        continue;
      }
      if (n == 0) {
        p.eof = true;
        continue;
      }
      if (errno == EINTR) continue;
      if (errno == EAGAIN) {
        st_->buffers.release(p.buf);  // nothing in flight: hold no memory while waiting
        return wait(p, p.from, tcp::socket::wait_read);
      }
      return fail(std::string("read from peer: ") + std::strerror(errno));
    }
    net::post(client_.get_executor(), [self = shared_from_this(), &p] { self->pump(p); });
  }

  void wait(Pump& p, tcp::socket& s, tcp::socket::wait_type what) {
    s.async_wait(what, [self = shared_from_this(), &p](const error_code& ec) {
      if (self->closed_) return;
      if (ec) return self->fail("wait: " + ec.message());
      self->pump(p);
    });
  }

  // ---- closing with a reply ----

  // Writes `reply`, half-closes, and drains what the client still sends so that
  // closing does not reset the connection before the client read the reply.
  void reply_and_close(std::string reply) {
    out_ = std::move(reply);
    replying_ = true;
    if (decided_) emit();
    error_code ec;
    upstream_.close(ec);
    arm_timer(std::chrono::duration_cast<std::chrono::milliseconds>(kLingerTime), "linger");
    net::async_write(client_, net::buffer(out_),
                     [self = shared_from_this()](const error_code& wec, size_t) {
                       if (self->closed_) return;
                       if (wec) return self->close();
                       error_code sec;
                       self->client_.shutdown(tcp::socket::shutdown_send, sec);
                       self->drain();
                     });
  }

  // The client has its last byte: wait (bounded) for it to close.
  void linger() {
    replying_ = true;
    up_.done = true;  // the drain below owns the client's read side now
    // The origin answered, so it has the whole request head, even if the
    // write's completion has not run yet: count it now.
    if (!up_.prefix.empty() && !up_.prefix_counted) {
      up_.bytes += up_.prefix.size();
      up_.prefix_counted = true;
    }
    emit();  // the bytes are final
    error_code ec;
    upstream_.close(ec);
    arm_timer(std::chrono::duration_cast<std::chrono::milliseconds>(kLingerTime), "linger");
    drain();
  }

  void drain() {
    buf_.resize(kReadChunk);
    client_.async_read_some(net::buffer(buf_),
                            [self = shared_from_this()](const error_code& ec, size_t) {
                              if (self->closed_) return;
                              if (ec) return self->close();
                              self->drain();
                            });
  }

  std::shared_ptr<State> st_;
  uint64_t id_;
  tcp::socket client_;
  tcp::socket upstream_;
  tcp::resolver resolver_;
  net::steady_timer timer_;
  std::string buf_;  // read from the client, not yet consumed
  std::string out_;  // the proxy's own reply being written to the client
  Event event_;
  bool decided_ = false;
  bool emitted_ = false;
  bool closed_ = false;
  bool replying_ = false;  // the proxy's last reply is on its way; only closing is left
  std::chrono::steady_clock::time_point last_activity_;
  Pump up_;
  Pump down_;
};

}  // namespace

void EgressProxy::State::accept_next(const std::shared_ptr<State>& self) {
  if (stopped) return;
  acceptor.async_accept([self](const error_code& ec, tcp::socket sock) {
    if (self->stopped) return;
    if (ec) {
      if (ec == net::error::operation_aborted) return;
      // EMFILE and friends: back off instead of spinning on the same error.
      self->retry_timer.expires_after(std::chrono::milliseconds(100));
      self->retry_timer.async_wait([self](const error_code& tec) {
        if (!tec) self->accept_next(self);
      });
      return;
    }
    if (self->sessions.size() < self->opts.max_connections) {
      uint64_t id = self->next_id++;
      auto s = std::make_shared<Session>(self, id, std::move(sock));
      self->sessions.emplace(id, s);
      s->start();
    }
    self->accept_next(self);
  });
}

Result<std::unique_ptr<EgressProxy>> EgressProxy::create(net::io_context& io, int listening_fd,
                                                         const Rules& rules,
                                                         std::function<void(const Event&)> on_event,
                                                         ProxyOptions options) {
  auto compiled = DomainRules::compile(rules);
  if (!compiled) {
    ::close(listening_fd);
    return compiled.error();
  }
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  if (::getsockname(listening_fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0) {
    auto err =
        sys_error("egress proxy: getsockname of listening fd " + std::to_string(listening_fd));
    ::close(listening_fd);
    return err;
  }
  if (ss.ss_family != AF_INET && ss.ss_family != AF_INET6) {
    ::close(listening_fd);
    return make_error("egress proxy: listening fd " + std::to_string(listening_fd) +
                      " is not a TCP/IP socket");
  }
  auto state =
      std::make_shared<State>(io, std::move(*compiled), std::move(on_event), std::move(options));
  error_code ec;
  state->acceptor.assign(ss.ss_family == AF_INET ? tcp::v4() : tcp::v6(), listening_fd, ec);
  if (ec) {
    ::close(listening_fd);
    return make_error("egress proxy: cannot use listening fd " + std::to_string(listening_fd) +
                      ": " + ec.message());
  }
  return std::unique_ptr<EgressProxy>(new EgressProxy(std::move(state)));
}

EgressProxy::EgressProxy(std::shared_ptr<State> state) : state_(std::move(state)) {}

EgressProxy::~EgressProxy() {
  stop();
}

void EgressProxy::start() {
  state_->accept_next(state_);
}

void EgressProxy::stop() {
  if (state_->stopped) return;
  state_->stopped = true;
  error_code ec;
  state_->acceptor.close(ec);
  state_->retry_timer.cancel();
  // close() may drop the last reference to a session, which unregisters it.
  std::vector<std::shared_ptr<Session>> live;
  for (auto& [id, weak] : state_->sessions) {
    if (auto s = weak.lock()) live.push_back(std::move(s));
  }
  for (auto& s : live) s->close();
}

}  // namespace mxc::proxy
