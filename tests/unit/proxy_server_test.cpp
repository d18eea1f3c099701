// The egress proxy end to end: the proxy runs in-process on an io_context
// thread, clients and upstream servers use real loopback sockets.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/test/data/monomorphic.hpp>
#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <future>
#include <mutex>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "mxc/proxy/egress_proxy.hpp"

using namespace mxc::proxy;
using nlohmann::json;
using namespace std::chrono_literals;

namespace {

class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  Fd(Fd&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
  Fd& operator=(Fd&& o) noexcept {
    std::swap(fd_, o.fd_);
    return *this;
  }
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  [[nodiscard]] int get() const { return fd_; }
  int release() { return std::exchange(fd_, -1); }

 private:
  int fd_;
};

uint16_t port_of(int fd) {
  sockaddr_in a{};
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  return ntohs(a.sin_port);
}

Fd listen_loopback() {
  Fd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
      ::listen(fd.get(), 64) != 0) {
    throw std::runtime_error("listen on 127.0.0.1");
  }
  return fd;
}

Fd connect_to(uint16_t port) {
  Fd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  timeval tv{5, 0};  // a hung proxy fails the test instead of hanging it
  ::setsockopt(fd.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(port);
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    throw std::runtime_error("connect to 127.0.0.1:" + std::to_string(port));
  }
  return fd;
}

void send_all(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n <= 0) throw std::runtime_error("send failed");
    data.remove_prefix(static_cast<size_t>(n));
  }
}

// Reads exactly n bytes, or fewer at EOF / timeout.
std::string recv_n(int fd, size_t n) {
  std::string out;
  char buf[65536];
  while (out.size() < n) {
    ssize_t r = ::recv(fd, buf, std::min(sizeof buf, n - out.size()), 0);
    if (r <= 0) break;
    out.append(buf, static_cast<size_t>(r));
  }
  return out;
}

std::string recv_until_eof(int fd) {
  return recv_n(fd, SIZE_MAX);
}

std::string recv_until(int fd, std::string_view marker) {
  std::string out;
  char c;
  while (out.find(marker) == std::string::npos && ::recv(fd, &c, 1, 0) == 1) out.push_back(c);
  return out;
}

// The status line of an HTTP response.
std::string status_line(const std::string& response) {
  return response.substr(0, response.find("\r\n"));
}

std::string body_of(const std::string& response) {
  auto p = response.find("\r\n\r\n");
  return p == std::string::npos ? "" : response.substr(p + 4);
}

// A loopback server running `serve` for each accepted connection on its own thread.
class Server {
 public:
  template <class F>
  explicit Server(F serve) : listener_(listen_loopback()), port_(port_of(listener_.get())) {
    thread_ = std::thread([this, serve] {
      for (;;) {
        int c = ::accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC);
        if (c < 0 || stopping_) {
          if (c >= 0) ::close(c);
          return;
        }
        workers_.emplace_back([serve, c] {
          Fd conn(c);
          serve(conn.get());
        });
      }
    });
  }
  ~Server() {
    stopping_ = true;
    ::shutdown(listener_.get(), SHUT_RDWR);
    thread_.join();
    for (auto& w : workers_) w.join();
  }
  [[nodiscard]] uint16_t port() const { return port_; }

 private:
  Fd listener_;
  uint16_t port_;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
  std::vector<std::thread> workers_;
};

void echo(int fd) {
  char buf[65536];
  for (;;) {
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) return;
    send_all(fd, std::string_view(buf, static_cast<size_t>(n)));
  }
}

// Reads to EOF, then answers "got <n>" and closes.
void sink(int fd) {
  size_t total = 0;
  char buf[65536];
  ssize_t n;
  while ((n = ::recv(fd, buf, sizeof buf, 0)) > 0) total += static_cast<size_t>(n);
  send_all(fd, "got " + std::to_string(total));
}

// The proxy on its own io_context thread, collecting events.
class ProxyRig {
 public:
  explicit ProxyRig(const json& network, ProxyOptions opts = {}) {
    auto rules = parse_rules(network);
    if (!rules) throw std::runtime_error(rules.error().message);
    Fd listener = listen_loopback();
    port_ = port_of(listener.get());
    auto p = EgressProxy::create(
        io_, listener.release(), *rules,
        [this](const Event& e) {
          std::lock_guard lock(mu_);
          events_.push_back(e);
          cv_.notify_all();
        },
        opts);
    if (!p) throw std::runtime_error(p.error().message);
    proxy_ = std::move(*p);
    proxy_->start();
    thread_ = std::thread([this] { io_.run(); });
  }
  ~ProxyRig() {
    if (thread_.joinable()) stop();
  }
  void stop() {
    boost::asio::post(io_, [this] { proxy_->stop(); });
    thread_.join();  // run() returns once every connection is closed
  }
  [[nodiscard]] uint16_t port() const { return port_; }

  // Waits for the n-th event (1-based) and returns it.
  Event wait_event(size_t n) {
    std::unique_lock lock(mu_);
    if (!cv_.wait_for(lock, 5s, [&] { return events_.size() >= n; })) {
      throw std::runtime_error("no event #" + std::to_string(n) + " within 5 s");
    }
    return events_[n - 1];
  }
  size_t event_count() {
    std::lock_guard lock(mu_);
    return events_.size();
  }

 private:
  boost::asio::io_context io_;
  std::unique_ptr<EgressProxy> proxy_;
  uint16_t port_ = 0;
  std::thread thread_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Event> events_;
};

json rules_for(uint16_t /*unused*/ = 0) {
  return {
      {"allowDomains", {"echo.test", "*.wild.test", "localhost"}},
      {"hosts",
       {{"echo.test", "127.0.0.1"}, {"a.wild.test", "127.0.0.1"}, {"denied.test", "127.0.0.1"}}}};
}

std::string connect_head(const std::string& authority) {
  return "CONNECT " + authority + " HTTP/1.1\r\nHost: " + authority + "\r\n\r\n";
}

std::string socks_connect_domain(const std::string& host, uint16_t port) {
  std::string m{5, 1, 0, 3, static_cast<char>(host.size())};
  m += host;
  m += static_cast<char>(port >> 8);
  m += static_cast<char>(port & 0xff);
  return m;
}

std::string socks_connect_ipv4(uint32_t host_order_addr, uint16_t port) {
  std::string m{5, 1, 0, 1};
  for (int shift = 24; shift >= 0; shift -= 8) m += static_cast<char>(host_order_addr >> shift);
  m += static_cast<char>(port >> 8);
  m += static_cast<char>(port & 0xff);
  return m;
}

// Greeting and method selection; returns the connected client.
Fd socks_hello(uint16_t proxy_port) {
  Fd c = connect_to(proxy_port);
  send_all(c.get(), std::string("\x05\x01\x00", 3));
  BOOST_REQUIRE(recv_n(c.get(), 2) == std::string("\x05\x00", 2));
  return c;
}

// The tunnel modes the tests run in: 0 copy (the default), 1 splice(2),
// 2 copy with a buffer smaller than the first one and not a power of two.
ProxyOptions tunnel_mode(int mode) {
  ProxyOptions opts;
  opts.splice = mode == 1;
  if (mode == 2) opts.pipe_bytes = 3000;
  return opts;
}

// FNV-1a over a byte stream, to compare what arrived with what was sent.
struct Checksum {
  uint64_t h = 14695981039346656037ull;
  void add(std::string_view d) {
    for (unsigned char c : d) h = (h ^ c) * 1099511628211ull;
  }
};

// `n` pseudo-random bytes from `seed` (xorshift), the same on both sides.
std::string pattern(size_t n, uint64_t seed) {
  std::string out(n, '\0');
  for (size_t i = 0; i < n; ++i) {
    seed ^= seed << 13;
    seed ^= seed >> 7;
    seed ^= seed << 17;
    out[i] = static_cast<char>(seed);
  }
  return out;
}

size_t open_fds() {
  size_t n = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator("/proc/self/fd")) ++n;
  return n;
}

// Sends without throwing (for server threads, where a peer may reset).
bool send_quiet(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n <= 0) return false;
    data.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

const std::string kEstablished = "HTTP/1.1 200 Connection established\r\n\r\n";

// CONNECT through the proxy; fails the test unless it answers 200.
Fd open_tunnel(uint16_t proxy_port, uint16_t target_port) {
  Fd c = connect_to(proxy_port);
  send_all(c.get(), connect_head("echo.test:" + std::to_string(target_port)));
  BOOST_REQUIRE(recv_n(c.get(), kEstablished.size()) == kEstablished);
  return c;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(proxy_server)

BOOST_AUTO_TEST_CASE(connect_allowed_tunnels_and_counts_bytes) {
  Server up(echo);
  ProxyRig rig(rules_for());
  Fd c = connect_to(rig.port());
  send_all(c.get(), connect_head("echo.test:" + std::to_string(up.port())));
  BOOST_TEST(recv_n(c.get(), 39) == "HTTP/1.1 200 Connection established\r\n\r\n");
  send_all(c.get(), "ping");
  BOOST_TEST(recv_n(c.get(), 4) == "ping");
  send_all(c.get(), "hello!");
  BOOST_TEST(recv_n(c.get(), 6) == "hello!");
  ::shutdown(c.get(), SHUT_WR);
  BOOST_TEST(recv_until_eof(c.get()).empty());
  auto e = rig.wait_event(1);
  BOOST_TEST(e.protocol == "http-connect");
  BOOST_TEST(e.host == "echo.test");
  BOOST_TEST(e.port == up.port());
  BOOST_TEST(e.allowed);
  BOOST_TEST(e.reason == "network.allowDomains: echo.test");
  BOOST_TEST(e.bytes_up == 10u);
  BOOST_TEST(e.bytes_down == 10u);
}

BOOST_AUTO_TEST_CASE(connect_early_data_is_forwarded) {
  Server up(echo);
  ProxyRig rig(rules_for());
  Fd c = connect_to(rig.port());
  send_all(c.get(), connect_head("a.wild.test:" + std::to_string(up.port())) + "early");
  BOOST_TEST(recv_n(c.get(), 39 + 5) == "HTTP/1.1 200 Connection established\r\n\r\nearly");
}

BOOST_AUTO_TEST_CASE(connect_denied_is_403_naming_host_and_rule) {
  ProxyRig rig(rules_for());
  Fd c = connect_to(rig.port());
  send_all(c.get(), connect_head("API.Evil.com:443"));
  auto resp = recv_until_eof(c.get());
  BOOST_TEST(status_line(resp) == "HTTP/1.1 403 Forbidden");
  BOOST_TEST(body_of(resp) == "mxc-proxy: api.evil.com is not in network.allowDomains\n");
  auto e = rig.wait_event(1);
  BOOST_TEST(!e.allowed);
  BOOST_TEST(e.host == "api.evil.com");
  BOOST_TEST(e.port == 443);
  BOOST_TEST(e.protocol == "http-connect");
  // In the hosts map but not allowed: the hosts map does not allow anything.
  Fd c2 = connect_to(rig.port());
  send_all(c2.get(), connect_head("denied.test:80"));
  BOOST_TEST(status_line(recv_until_eof(c2.get())) == "HTTP/1.1 403 Forbidden");
  // The bare domain does not match its wildcard.
  Fd c3 = connect_to(rig.port());
  send_all(c3.get(), connect_head("wild.test:80"));
  BOOST_TEST(status_line(recv_until_eof(c3.get())) == "HTTP/1.1 403 Forbidden");
}

BOOST_AUTO_TEST_CASE(ip_literal_refused_unless_cidr) {
  Server up(echo);
  const std::string target = "127.0.0.1:" + std::to_string(up.port());
  {
    ProxyRig rig(rules_for());
    Fd c = connect_to(rig.port());
    send_all(c.get(), connect_head(target));
    auto resp = recv_until_eof(c.get());
    BOOST_TEST(status_line(resp) == "HTTP/1.1 403 Forbidden");
    BOOST_TEST(body_of(resp) ==
               "mxc-proxy: 127.0.0.1 is an IP address not in network.allowCidrs\n");
    Fd s = socks_hello(rig.port());
    send_all(s.get(), socks_connect_ipv4(INADDR_LOOPBACK, up.port()));
    BOOST_TEST(recv_until_eof(s.get()) == std::string("\x05\x02\x00\x01\0\0\0\0\0\0", 10));
    Fd h = connect_to(rig.port());
    send_all(h.get(), "GET http://[::1]:" + std::to_string(up.port()) + "/ HTTP/1.1\r\n\r\n");
    BOOST_TEST(status_line(recv_until_eof(h.get())) == "HTTP/1.1 403 Forbidden");
  }
  {
    ProxyRig rig(json{{"allowCidrs", {"127.0.0.0/8"}}});
    {
      Fd c = connect_to(rig.port());
      send_all(c.get(), connect_head(target));
      BOOST_TEST(recv_n(c.get(), 39) == "HTTP/1.1 200 Connection established\r\n\r\n");
      Fd s = socks_hello(rig.port());
      send_all(s.get(), socks_connect_ipv4(INADDR_LOOPBACK, up.port()));
      auto r = recv_n(s.get(), 10);
      BOOST_REQUIRE(r.size() == 10u);
      BOOST_TEST(r.substr(0, 4) == std::string("\x05\x00\x00\x01", 4));
      BOOST_TEST(r.substr(4, 4) == std::string("\x7f\x00\x00\x01", 4));  // bound address
      send_all(s.get(), "x");
      BOOST_TEST(recv_n(s.get(), 1) == "x");
    }  // closing reports the allowed connections
    BOOST_TEST(rig.wait_event(1).reason == "network.allowCidrs: 127.0.0.0/8");
  }
}

BOOST_AUTO_TEST_CASE(absolute_uri_get_is_rewritten_and_forwarded) {
  std::mutex mu;
  std::string seen;
  Server web([&](int fd) {
    std::string head = recv_until(fd, "\r\n\r\n");
    {
      std::lock_guard lock(mu);
      seen = head;
    }
    send_all(fd, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello");
  });
  ProxyRig rig(rules_for());
  Fd c = connect_to(rig.port());
  const std::string authority = "echo.test:" + std::to_string(web.port());
  send_all(c.get(), "GET http://" + authority + "/path?q=1 HTTP/1.1\r\nHost: " + authority +
                        "\r\nProxy-Authorization: Basic eDp5\r\nProxy-Connection: keep-alive\r\n"
                        "User-Agent: t\r\n\r\n");
  auto resp = recv_until_eof(c.get());
  BOOST_TEST(resp == "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello");
  {
    std::lock_guard lock(mu);
    BOOST_TEST(seen == "GET /path?q=1 HTTP/1.1\r\nHost: " + authority +
                           "\r\nUser-Agent: t\r\nConnection: close\r\n\r\n");
  }
  auto e = rig.wait_event(1);
  BOOST_TEST(e.protocol == "http");
  BOOST_TEST(e.allowed);
  BOOST_TEST(e.bytes_down == resp.size());
  BOOST_TEST(e.bytes_up == seen.size());
}

BOOST_AUTO_TEST_CASE(post_body_follows_the_head) {
  Server web([](int fd) {
    std::string head = recv_until(fd, "\r\n\r\n");
    std::string body = recv_n(fd, 11);
    send_all(fd, "HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\n" + body);
  });
  ProxyRig rig(rules_for());
  Fd c = connect_to(rig.port());
  send_all(c.get(), "POST http://echo.test:" + std::to_string(web.port()) +
                        "/ HTTP/1.1\r\nContent-Length: 11\r\n\r\nhello");
  std::this_thread::sleep_for(20ms);
  send_all(c.get(), " world");
  BOOST_TEST(body_of(recv_until_eof(c.get())) == "hello world");
}

BOOST_AUTO_TEST_CASE(socks5_domain_allowed_and_denied) {
  Server up(echo);
  ProxyRig rig(rules_for());
  {
    Fd c = socks_hello(rig.port());
    send_all(c.get(), socks_connect_domain("echo.test", up.port()));
    auto r = recv_n(c.get(), 10);
    BOOST_REQUIRE(r.size() == 10u);
    BOOST_TEST(r.substr(0, 4) == std::string("\x05\x00\x00\x01", 4));
    send_all(c.get(), "abc");
    BOOST_TEST(recv_n(c.get(), 3) == "abc");
  }
  {
    Fd c = socks_hello(rig.port());
    send_all(c.get(), socks_connect_domain("evil.com", 443));
    BOOST_TEST(recv_until_eof(c.get()) == std::string("\x05\x02\x00\x01\0\0\0\0\0\0", 10));
  }
  {
    Fd c = socks_hello(rig.port());
    std::string bind = socks_connect_domain("echo.test", up.port());
    bind[1] = 2;  // BIND
    send_all(c.get(), bind);
    BOOST_TEST(recv_until_eof(c.get()) == std::string("\x05\x07\x00\x01\0\0\0\0\0\0", 10));
  }
  {
    Fd c = socks_hello(rig.port());
    std::string udp = socks_connect_domain("echo.test", up.port());
    udp[1] = 3;  // UDP ASSOCIATE
    send_all(c.get(), udp);
    BOOST_TEST(recv_until_eof(c.get())[1] == '\x07');
  }
  {
    Fd c = socks_hello(rig.port());
    send_all(c.get(), std::string("\x05\x01\x00\x09\0\0", 6));  // unknown ATYP
    BOOST_TEST(recv_until_eof(c.get())[1] == '\x08');
  }
  {
    Fd c = socks_hello(rig.port());
    send_all(c.get(), socks_connect_domain("bad host!", 80));
    BOOST_TEST(recv_until_eof(c.get())[1] == '\x01');
  }
  {
    Fd c = connect_to(rig.port());
    send_all(c.get(), std::string("\x05\x01\x02", 3));  // username/password only
    BOOST_TEST(recv_until_eof(c.get()) == std::string("\x05\xff", 2));
  }
  auto e = rig.wait_event(2);  // the order: evil.com is refused before the echo closes
  BOOST_TEST(e.protocol == "socks5");
  BOOST_TEST(rig.wait_event(1).protocol == "socks5");
}

BOOST_AUTO_TEST_CASE(hosts_map_replaces_dns_and_dns_still_works) {
  Server up(echo);
  // "echo.test" exists only in the hosts map: DNS could not resolve it.
  ProxyRig rig(rules_for());
  Fd c = connect_to(rig.port());
  send_all(c.get(), connect_head("echo.test:" + std::to_string(up.port())));
  BOOST_TEST(recv_n(c.get(), 39) == "HTTP/1.1 200 Connection established\r\n\r\n");
  // "localhost" is not in the map: the asynchronous resolver answers (/etc/hosts).
  Fd d = connect_to(rig.port());
  send_all(d.get(), connect_head("localhost:" + std::to_string(up.port())));
  BOOST_TEST(recv_n(d.get(), 39) == "HTTP/1.1 200 Connection established\r\n\r\n");
  send_all(d.get(), "dns");
  BOOST_TEST(recv_n(d.get(), 3) == "dns");
}

BOOST_AUTO_TEST_CASE(upstream_refused_is_502_and_socks_05) {
  uint16_t dead;
  {
    Fd l = listen_loopback();
    dead = port_of(l.get());
  }  // closed: connecting is refused
  ProxyRig rig(rules_for());
  Fd c = connect_to(rig.port());
  send_all(c.get(), connect_head("echo.test:" + std::to_string(dead)));
  auto resp = recv_until_eof(c.get());
  BOOST_TEST(status_line(resp) == "HTTP/1.1 502 Bad Gateway");
  BOOST_TEST(body_of(resp) == "mxc-proxy: cannot connect to echo.test:" + std::to_string(dead) +
                                  ": Connection refused\n");
  Fd s = socks_hello(rig.port());
  send_all(s.get(), socks_connect_domain("echo.test", dead));
  BOOST_TEST(recv_until_eof(s.get()) == std::string("\x05\x05\x00\x01\0\0\0\0\0\0", 10));
  auto e = rig.wait_event(1);
  BOOST_TEST(e.allowed);
  BOOST_TEST(e.reason.find("Connection refused") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(malformed_and_oversize_requests) {
  ProxyOptions opts;
  opts.max_head_bytes = 16 * 1024;
  ProxyRig rig(rules_for(), opts);
  auto ask = [&](const std::string& req) {
    Fd c = connect_to(rig.port());
    send_all(c.get(), req);
    return recv_until_eof(c.get());
  };
  BOOST_TEST(status_line(ask("garbage\r\n\r\n")) == "HTTP/1.1 400 Bad Request");
  BOOST_TEST(status_line(ask("GET /local HTTP/1.1\r\nHost: echo.test\r\n\r\n")) ==
             "HTTP/1.1 400 Bad Request");
  BOOST_TEST(status_line(ask("CONNECT echo.test HTTP/1.1\r\n\r\n")) == "HTTP/1.1 400 Bad Request");
  BOOST_TEST(status_line(ask("CONNECT bad_host!:80 HTTP/1.1\r\n\r\n")) ==
             "HTTP/1.1 400 Bad Request");
  std::string big = "GET http://echo.test/ HTTP/1.1\r\nX-Big: " + std::string(20000, 'a');
  auto resp = ask(big + "\r\n\r\n");
  BOOST_TEST(status_line(resp) == "HTTP/1.1 431 Request Header Fields Too Large");
  BOOST_TEST(body_of(resp) == "mxc-proxy: request head larger than 16384 bytes\n");
  // A head that is complete but over the limit in the same read is refused too.
  std::string just_over = "GET http://echo.test/ HTTP/1.1\r\nX-Big: " + std::string(16400, 'a');
  BOOST_TEST(status_line(ask(just_over + "\r\n\r\n")) ==
             "HTTP/1.1 431 Request Header Fields Too Large");
}

BOOST_DATA_TEST_CASE(bytes_counted_both_ways_with_half_close,
                     boost::unit_test::data::make({true, false}), use_splice) {
  Server up(sink);
  ProxyOptions opts;
  opts.splice = use_splice;
  ProxyRig rig(rules_for(), opts);
  Fd c = connect_to(rig.port());
  send_all(c.get(), connect_head("echo.test:" + std::to_string(up.port())));
  BOOST_REQUIRE(recv_n(c.get(), 39) == "HTTP/1.1 200 Connection established\r\n\r\n");
  const size_t total = 8u << 20;
  std::string chunk(1 << 16, 'z');
  for (size_t sent = 0; sent < total; sent += chunk.size()) send_all(c.get(), chunk);
  ::shutdown(c.get(), SHUT_WR);
  std::string answer = recv_until_eof(c.get());
  BOOST_TEST(answer == "got " + std::to_string(total));
  auto e = rig.wait_event(1);
  BOOST_TEST(e.bytes_up == total);
  BOOST_TEST(e.bytes_down == answer.size());
}

BOOST_DATA_TEST_CASE(upstream_reset_mid_tunnel_closes_and_reports,
                     boost::unit_test::data::make({true, false}), use_splice) {
  Server up([](int fd) {
    char b;
    ::recv(fd, &b, 1, 0);
    linger lg{1, 0};  // close with RST
    ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
  });
  ProxyOptions opts;
  opts.splice = use_splice;
  ProxyRig rig(rules_for(), opts);
  Fd c = connect_to(rig.port());
  send_all(c.get(), connect_head("echo.test:" + std::to_string(up.port())));
  BOOST_REQUIRE(recv_n(c.get(), 39) == "HTTP/1.1 200 Connection established\r\n\r\n");
  std::string chunk(1 << 16, 'r');
  for (int i = 0; i < 256; ++i) {
    if (::send(c.get(), chunk.data(), chunk.size(), MSG_NOSIGNAL) < 0) break;
  }
  auto e = rig.wait_event(1);
  BOOST_TEST(e.allowed);
  BOOST_TEST((e.reason.find("write to peer") != std::string::npos ||
              e.reason.find("read from peer") != std::string::npos),
             e.reason);
}

BOOST_DATA_TEST_CASE(tunnel_64mib_each_way_intact, boost::unit_test::data::make({0, 1, 2}), mode) {
  Server up(echo);
  ProxyRig rig(rules_for(), tunnel_mode(mode));
  Fd c = open_tunnel(rig.port(), up.port());
  const size_t total = 64u << 20;
  const std::string chunk = pattern(1 << 20, 42);
  Checksum sent, got;
  for (size_t i = 0; i < total; i += chunk.size()) sent.add(chunk);
  std::thread writer([fd = c.get(), &chunk, total] {
    for (size_t i = 0; i < total; i += chunk.size()) send_all(fd, chunk);
    ::shutdown(fd, SHUT_WR);
  });
  size_t received = 0;
  char buf[1 << 16];
  ssize_t n;
  while ((n = ::recv(c.get(), buf, sizeof buf, 0)) > 0) {
    got.add(std::string_view(buf, static_cast<size_t>(n)));
    received += static_cast<size_t>(n);
  }
  writer.join();
  BOOST_TEST(received == total);
  BOOST_TEST(got.h == sent.h);
  auto e = rig.wait_event(1);
  BOOST_TEST(e.bytes_up == total);
  BOOST_TEST(e.bytes_down == total);
  BOOST_TEST(e.reason == "network.allowDomains: echo.test");
}

// The client half-closes while megabytes are still on their way to a server
// that reads late; the server's answer after that EOF still arrives whole.
BOOST_DATA_TEST_CASE(client_half_close_with_bytes_in_flight, boost::unit_test::data::make({0, 1}),
                     mode) {
  const std::string tail = pattern(1 << 20, 7);
  Server up([&tail](int fd) {
    std::this_thread::sleep_for(300ms);
    Checksum sum;
    size_t total = 0;
    char buf[65536];
    ssize_t n;
    while ((n = ::recv(fd, buf, sizeof buf, 0)) > 0) {
      sum.add(std::string_view(buf, static_cast<size_t>(n)));
      total += static_cast<size_t>(n);
    }
    send_quiet(fd, std::to_string(total) + " " + std::to_string(sum.h) + "\n" + tail);
  });
  ProxyRig rig(rules_for(), tunnel_mode(mode));
  Fd c = open_tunnel(rig.port(), up.port());
  const std::string data = pattern(8u << 20, 99);
  send_all(c.get(), data);
  ::shutdown(c.get(), SHUT_WR);
  Checksum sent;
  sent.add(data);
  std::string answer = recv_until_eof(c.get());
  std::string head = std::to_string(data.size()) + " " + std::to_string(sent.h) + "\n";
  BOOST_TEST(answer.substr(0, head.size()) == head);
  BOOST_TEST((answer.substr(std::min(head.size(), answer.size())) == tail));
  auto e = rig.wait_event(1);
  BOOST_TEST(e.bytes_up == data.size());
  BOOST_TEST(e.bytes_down == answer.size());
  BOOST_TEST(e.reason == "network.allowDomains: echo.test");
}

// The server half-closes first, with megabytes not yet read by the client;
// the client's bytes sent after that EOF still reach the server.
BOOST_DATA_TEST_CASE(server_half_close_with_bytes_in_flight, boost::unit_test::data::make({0, 1}),
                     mode) {
  const std::string data = pattern(8u << 20, 5);
  std::promise<std::string> heard;
  Server up([&](int fd) {
    send_quiet(fd, data);
    ::shutdown(fd, SHUT_WR);
    std::string in;
    char buf[256];
    ssize_t n;
    while ((n = ::recv(fd, buf, sizeof buf, 0)) > 0) in.append(buf, static_cast<size_t>(n));
    heard.set_value(in);
  });
  ProxyRig rig(rules_for(), tunnel_mode(mode));
  Fd c = open_tunnel(rig.port(), up.port());
  std::this_thread::sleep_for(300ms);
  std::string down = recv_until_eof(c.get());
  BOOST_TEST(down.size() == data.size());
  BOOST_TEST((down == data));
  send_all(c.get(), "done after EOF");
  ::shutdown(c.get(), SHUT_WR);
  auto f = heard.get_future();
  BOOST_REQUIRE(f.wait_for(5s) == std::future_status::ready);
  BOOST_TEST(f.get() == "done after EOF");
  auto e = rig.wait_event(1);
  BOOST_TEST(e.bytes_up == 14u);
  BOOST_TEST(e.bytes_down == data.size());
}

// A server that speaks first (SMTP, SSH): its banner follows the proxy's reply.
BOOST_DATA_TEST_CASE(server_first_banner_is_relayed, boost::unit_test::data::make({0, 1}), mode) {
  Server up([](int fd) {
    if (send_quiet(fd, "220 banner\r\n")) echo(fd);
  });
  ProxyRig rig(rules_for(), tunnel_mode(mode));
  Fd c = open_tunnel(rig.port(), up.port());
  BOOST_TEST(recv_n(c.get(), 12) == "220 banner\r\n");
  send_all(c.get(), "EHLO");
  BOOST_TEST(recv_n(c.get(), 4) == "EHLO");

  Fd s = socks_hello(rig.port());
  send_all(s.get(), socks_connect_domain("echo.test", up.port()));
  std::string reply = recv_n(s.get(), 10);
  BOOST_TEST(reply.substr(0, 2) == std::string("\x05\x00", 2));
  BOOST_TEST(recv_n(s.get(), 12) == "220 banner\r\n");
  send_all(s.get(), "HELO");
  BOOST_TEST(recv_n(s.get(), 4) == "HELO");
}

// Bytes sent right behind the CONNECT head / SOCKS request, in the same
// segment as it, are relayed in order before the rest.
BOOST_DATA_TEST_CASE(early_data_pipelined_after_the_request, boost::unit_test::data::make({0, 1}),
                     mode) {
  Server up(echo);
  ProxyRig rig(rules_for(), tunnel_mode(mode));
  const std::string early = pattern(100000, 3);
  Fd c = connect_to(rig.port());
  send_all(c.get(), connect_head("echo.test:" + std::to_string(up.port())) + early);
  send_all(c.get(), "and then");
  BOOST_TEST((recv_n(c.get(), kEstablished.size() + early.size() + 8) ==
              kEstablished + early + "and then"));

  Fd s = connect_to(rig.port());
  send_all(s.get(),
           std::string("\x05\x01\x00", 3) + socks_connect_domain("echo.test", up.port()) + "early");
  BOOST_TEST(recv_n(s.get(), 2) == std::string("\x05\x00", 2));
  BOOST_TEST(recv_n(s.get(), 10).substr(0, 2) == std::string("\x05\x00", 2));
  BOOST_TEST(recv_n(s.get(), 5) == "early");
  ::shutdown(c.get(), SHUT_WR);
  ::shutdown(s.get(), SHUT_WR);
  auto e1 = rig.wait_event(1), e2 = rig.wait_event(2);
  uint64_t up_total = e1.bytes_up + e2.bytes_up;
  BOOST_TEST(up_total == early.size() + 8 + 5);
}

// The client resets the tunnel: the upstream connection is closed too, and
// the event says why.
BOOST_DATA_TEST_CASE(client_reset_closes_upstream, boost::unit_test::data::make({0, 1}), mode) {
  std::promise<void> ended;
  Server up([&](int fd) {
    char buf[65536];
    while (::recv(fd, buf, sizeof buf, 0) > 0) {
      send_quiet(fd, "k");
    }
    ended.set_value();
  });
  ProxyRig rig(rules_for(), tunnel_mode(mode));
  Fd c = open_tunnel(rig.port(), up.port());
  send_all(c.get(), "a");
  BOOST_TEST(recv_n(c.get(), 1) == "k");
  send_all(c.get(), "b");  // its answer stays unread: close() then resets
  std::this_thread::sleep_for(50ms);
  linger lg{1, 0};
  ::setsockopt(c.get(), SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
  c = Fd();
  auto f = ended.get_future();
  BOOST_TEST((f.wait_for(5s) == std::future_status::ready));
  auto e = rig.wait_event(1);
  BOOST_TEST(e.allowed);
  BOOST_TEST(e.bytes_up == 2u);
  BOOST_TEST((e.reason.find("reset") != std::string::npos), e.reason);
}

// Many short tunnels: each reports its event, and every socket, pipe and
// buffer is released (the proxy runs in this process: its fds are ours).
BOOST_DATA_TEST_CASE(many_short_tunnels_leave_nothing_open, boost::unit_test::data::make({0, 1}),
                     mode) {
  Server up(echo);
  ProxyRig rig(rules_for(), tunnel_mode(mode));
  const size_t before = open_fds();
  const int n = 200;
  for (int i = 0; i < n; ++i) {
    Fd c = open_tunnel(rig.port(), up.port());
    send_all(c.get(), "x");
    BOOST_REQUIRE(recv_n(c.get(), 1) == "x");
  }
  auto last = rig.wait_event(n);
  BOOST_TEST(last.bytes_up == 1u);
  auto deadline = std::chrono::steady_clock::now() + 5s;
  while (open_fds() > before && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(10ms);
  }
  BOOST_TEST(open_fds() == before);
}

BOOST_AUTO_TEST_CASE(idle_and_handshake_timeouts_close) {
  Server up(echo);
  ProxyOptions opts;
  opts.handshake_timeout = 300ms;
  opts.idle_timeout = 300ms;
  ProxyRig rig(rules_for(), opts);
  auto t0 = std::chrono::steady_clock::now();
  Fd quiet = connect_to(rig.port());
  BOOST_TEST(recv_until_eof(quiet.get()).empty());
  BOOST_TEST((std::chrono::steady_clock::now() - t0 < 3s));
  Fd c = connect_to(rig.port());
  send_all(c.get(), connect_head("echo.test:" + std::to_string(up.port())));
  BOOST_REQUIRE(recv_n(c.get(), 39) == "HTTP/1.1 200 Connection established\r\n\r\n");
  send_all(c.get(), "a");
  BOOST_TEST(recv_n(c.get(), 1) == "a");
  t0 = std::chrono::steady_clock::now();
  BOOST_TEST(recv_until_eof(c.get()).empty());  // closed by the proxy, not by SO_RCVTIMEO
  auto waited = std::chrono::steady_clock::now() - t0;
  BOOST_TEST((waited >= 200ms && waited < 3s));
  auto e = rig.wait_event(1);
  BOOST_TEST(e.reason == "network.allowDomains: echo.test; idle timeout");
}

BOOST_AUTO_TEST_CASE(stop_closes_tunnels_and_reports_them) {
  Server up(echo);
  ProxyRig rig(rules_for());
  Fd c = connect_to(rig.port());
  send_all(c.get(), connect_head("echo.test:" + std::to_string(up.port())));
  BOOST_REQUIRE(recv_n(c.get(), 39) == "HTTP/1.1 200 Connection established\r\n\r\n");
  send_all(c.get(), "12345");
  BOOST_TEST(recv_n(c.get(), 5) == "12345");
  rig.stop();
  BOOST_TEST(recv_until_eof(c.get()).empty());
  BOOST_REQUIRE(rig.event_count() == 1u);
  BOOST_TEST(rig.wait_event(1).bytes_up == 5u);
  // The listening socket is closed too.
  BOOST_CHECK_THROW(connect_to(rig.port()), std::runtime_error);
}

BOOST_AUTO_TEST_CASE(near_peers_get_delay_product_socket_buffers_far_ones_autotuning) {
  using mxc::proxy::near_socket_buffer;
  BOOST_TEST(near_socket_buffer(0) == 0u);           // not measured: autotuning
  BOOST_TEST(near_socket_buffer(5) == 128u * 1024);  // loopback: the floor
  BOOST_TEST(near_socket_buffer(100) == 100u * 4096);
  BOOST_TEST(near_socket_buffer(400) == 400u * 4096);
  BOOST_TEST(near_socket_buffer(512) == 0u);     // 2 MiB: far enough for autotuning
  BOOST_TEST(near_socket_buffer(80'000) == 0u);  // an ocean away
}

BOOST_AUTO_TEST_SUITE_END()
