// mxc-proxy-bench: the egress proxy against a direct loopback connection.
//   throughput: BYTES through a CONNECT tunnel vs straight to the same sink
//   latency:    N x (connect, [CONNECT + 200], 1 byte out, 1 byte back) vs direct
// The proxy runs in-process on its own io_context thread, as in the shim.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "mxc/proxy/egress_proxy.hpp"

namespace {

using Clock = std::chrono::steady_clock;

class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  Fd(Fd&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
  Fd& operator=(Fd&&) = delete;
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  [[nodiscard]] int get() const { return fd_; }
  int release() { return std::exchange(fd_, -1); }

 private:
  int fd_;
};

[[noreturn]] void die(const std::string& what) {
  std::fprintf(stderr, "mxc-proxy-bench: %s: %s\n", what.c_str(), std::strerror(errno));
  std::exit(1);
}

sockaddr_in loopback(uint16_t port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(port);
  return a;
}

Fd listen_loopback(uint16_t& port) {
  Fd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  auto a = loopback(0);
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) die("bind");
  if (::listen(fd.get(), 512) != 0) die("listen");
  socklen_t len = sizeof a;
  ::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&a), &len);
  port = ntohs(a.sin_port);
  return fd;
}

Fd connect_to(uint16_t port) {
  Fd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  int one = 1;
  ::setsockopt(fd.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  auto a = loopback(port);
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) die("connect");
  return fd;
}

void send_all(int fd, const char* p, size_t n) {
  while (n > 0) {
    ssize_t w = ::send(fd, p, n, MSG_NOSIGNAL);
    if (w <= 0) die("send");
    p += w;
    n -= static_cast<size_t>(w);
  }
}

void recv_exact(int fd, char* p, size_t n) {
  while (n > 0) {
    ssize_t r = ::recv(fd, p, n, 0);
    if (r <= 0) die("recv");
    p += r;
    n -= static_cast<size_t>(r);
  }
}

// Upstream servers, one connection at a time (the bench is sequential).
// sink: read to EOF, answer the byte count (8 bytes), close.
// ping: read 1 byte, answer 1 byte, wait for EOF, close.
class Server {
 public:
  explicit Server(bool sink) : listener_(listen_loopback(port_)) {
    thread_ = std::thread([this, sink] {
      std::vector<char> buf(256 << 10);
      for (;;) {
        Fd c(::accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC));
        if (c.get() < 0 || stop_) return;
        int one = 1;
        ::setsockopt(c.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        if (sink) {
          uint64_t total = 0;
          ssize_t r;
          while ((r = ::recv(c.get(), buf.data(), buf.size(), 0)) > 0) total += uint64_t(r);
          send_all(c.get(), reinterpret_cast<const char*>(&total), sizeof total);
        } else {
          char b;
          if (::recv(c.get(), &b, 1, 0) == 1) send_all(c.get(), &b, 1);
          while (::recv(c.get(), buf.data(), buf.size(), 0) > 0) {
          }
        }
      }
    });
  }
  ~Server() {
    stop_ = true;
    ::shutdown(listener_.get(), SHUT_RDWR);
    thread_.join();
  }
  [[nodiscard]] uint16_t port() const { return port_; }

 private:
  uint16_t port_ = 0;
  Fd listener_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

// CONNECT through the proxy; returns the tunnel.
Fd tunnel(uint16_t proxy_port, uint16_t target_port) {
  Fd c = connect_to(proxy_port);
  std::string req = "CONNECT sink.bench:" + std::to_string(target_port) + " HTTP/1.1\r\n\r\n";
  send_all(c.get(), req.data(), req.size());
  static const std::string ok = "HTTP/1.1 200 Connection established\r\n\r\n";
  std::string got(ok.size(), '\0');
  recv_exact(c.get(), got.data(), got.size());
  if (got != ok) {
    std::fprintf(stderr, "mxc-proxy-bench: proxy answered: %s\n", got.c_str());
    std::exit(1);
  }
  return c;
}

// Sends `bytes` then half-closes; returns seconds until the sink confirmed them all.
double transfer(Fd c, uint64_t bytes, const Clock::time_point t0) {
  static std::vector<char> chunk(256 << 10, 'x');
  for (uint64_t left = bytes; left > 0;) {
    size_t n = static_cast<size_t>(std::min<uint64_t>(left, chunk.size()));
    send_all(c.get(), chunk.data(), n);
    left -= n;
  }
  ::shutdown(c.get(), SHUT_WR);
  uint64_t confirmed = 0;
  recv_exact(c.get(), reinterpret_cast<char*>(&confirmed), sizeof confirmed);
  double s = std::chrono::duration<double>(Clock::now() - t0).count();
  if (confirmed != bytes) {
    std::fprintf(stderr, "mxc-proxy-bench: sink got %llu of %llu bytes\n",
                 static_cast<unsigned long long>(confirmed),
                 static_cast<unsigned long long>(bytes));
    std::exit(1);
  }
  return s;
}

// CPU seconds of the whole process (client, proxy and sink threads).
double cpu_seconds() {
  rusage ru{};
  ::getrusage(RUSAGE_SELF, &ru);
  auto sec = [](const timeval& tv) { return double(tv.tv_sec) + double(tv.tv_usec) / 1e6; };
  return sec(ru.ru_utime) + sec(ru.ru_stime);
}

double percentile(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  size_t i = static_cast<size_t>(p * double(v.size() - 1) + 0.5);
  return v[i];
}

}  // namespace

int main(int argc, char** argv) {
  std::signal(SIGPIPE, SIG_IGN);  // splice(2) into a reset socket raises it (--splice)
  uint64_t bytes = 1ull << 30;
  int connects = 1000;
  int rounds = 3;
  bool json = false;
  mxc::proxy::ProxyOptions opts;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "mxc-proxy-bench: %s needs a value\n", a.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--bytes") {
      bytes = std::stoull(next());
    } else if (a == "--connects") {
      connects = std::stoi(next());
    } else if (a == "--rounds") {
      rounds = std::stoi(next());
    } else if (a == "--copy") {
      opts.splice = false;
    } else if (a == "--splice") {
      opts.splice = true;
    } else if (a == "--autotuned-buffers") {
      opts.near_buffers = false;
    } else if (a == "--pipe-bytes") {
      opts.pipe_bytes = std::stoull(next());
    } else if (a == "--json") {
      json = true;
    } else {
      std::fprintf(stderr,
                   "usage: mxc-proxy-bench [--bytes N] [--connects N] [--rounds N] [--copy | "
                   "--splice] [--autotuned-buffers]"
                   " [--pipe-bytes N] [--json]\n");
      return 2;
    }
  }

  Server sink(true), ping(false);
  mxc::proxy::Rules rules;
  rules.allow_domains = {"sink.bench"};
  rules.hosts["sink.bench"] = {"127.0.0.1"};
  std::mutex mu;
  uint64_t relayed_up = 0;
  uint16_t proxy_port = 0;
  Fd listener = listen_loopback(proxy_port);
  boost::asio::io_context io;
  auto proxy = mxc::proxy::EgressProxy::create(
      io, listener.release(), rules,
      [&](const mxc::proxy::Event& e) {
        std::lock_guard lock(mu);
        relayed_up += e.bytes_up;
      },
      opts);
  if (!proxy) {
    std::fprintf(stderr, "mxc-proxy-bench: %s\n", proxy.error().message.c_str());
    return 1;
  }
  (*proxy)->start();
  std::thread io_thread([&] { io.run(); });

  // Throughput: alternate direct and proxied rounds. Where the client and
  // the sink threads land (one core or two) moves a loopback transfer by a
  // factor of two here, so each side's median round is compared, and every
  // round is printed. CPU time is reported too: on a loaded machine wall time
  // mostly says how many cores were free, CPU seconds per GiB say what each
  // path costs.
  std::vector<double> direct_s, proxy_s;
  double cpu_direct = 0, cpu_proxy = 0;
  for (int r = 0; r < rounds; ++r) {
    double c0 = cpu_seconds();
    auto t0 = Clock::now();
    direct_s.push_back(transfer(connect_to(sink.port()), bytes, t0));
    double c1 = cpu_seconds();
    t0 = Clock::now();
    proxy_s.push_back(transfer(tunnel(proxy_port, sink.port()), bytes, t0));
    cpu_direct += c1 - c0;
    cpu_proxy += cpu_seconds() - c1;
  }
  double gib_total = double(bytes) * rounds / double(1ull << 30);
  cpu_direct /= gib_total;
  cpu_proxy /= gib_total;

  // Latency: connect + first byte back, alternating direct and proxied.
  std::vector<double> direct_us, proxy_us;
  for (int i = 0; i < connects; ++i) {
    for (bool via_proxy : {false, true}) {
      char b = 'p';
      auto t0 = Clock::now();
      Fd c = via_proxy ? tunnel(proxy_port, ping.port()) : connect_to(ping.port());
      send_all(c.get(), &b, 1);
      recv_exact(c.get(), &b, 1);
      double us = std::chrono::duration<double, std::micro>(Clock::now() - t0).count();
      (via_proxy ? proxy_us : direct_us).push_back(us);
    }
  }

  boost::asio::post(io, [&] { (*proxy)->stop(); });
  io_thread.join();
  {
    std::lock_guard lock(mu);
    // Every proxied byte was relayed by the proxy (its events say so).
    uint64_t expected = bytes * uint64_t(rounds) + uint64_t(connects);
    if (relayed_up != expected) {
      std::fprintf(stderr, "mxc-proxy-bench: proxy reported %llu bytes up, expected %llu\n",
                   static_cast<unsigned long long>(relayed_up),
                   static_cast<unsigned long long>(expected));
      return 1;
    }
  }

  double mib = double(bytes) / double(1 << 20);
  double direct_mibs = mib / percentile(direct_s, 0.5), proxy_mibs = mib / percentile(proxy_s, 0.5);
  auto rates = [&](const std::vector<double>& secs) {
    std::string out;
    for (double sec : secs) out += (out.empty() ? "" : ",") + std::to_string(int(mib / sec));
    return out;
  };
  double dm = percentile(direct_us, 0.5), d90 = percentile(direct_us, 0.9);
  double pm = percentile(proxy_us, 0.5), p90 = percentile(proxy_us, 0.9);
  if (json) {
    std::printf(
        "{\"bytes\":%llu,\"rounds\":%d,\"direct_mib_s\":%.1f,\"proxy_mib_s\":%.1f,"
        "\"direct_rounds_mib_s\":[%s],\"proxy_rounds_mib_s\":[%s],"
        "\"throughput_ratio\":%.3f,\"direct_cpu_s_per_gib\":%.3f,\"proxy_cpu_s_per_gib\":%.3f,"
        "\"connects\":%d,\"direct_us\":{\"median\":%.1f,\"p90\":%.1f},"
        "\"proxy_us\":{\"median\":%.1f,\"p90\":%.1f},\"added_median_us\":%.1f}\n",
        static_cast<unsigned long long>(bytes), rounds, direct_mibs, proxy_mibs,
        rates(direct_s).c_str(), rates(proxy_s).c_str(), proxy_mibs / direct_mibs, cpu_direct,
        cpu_proxy, connects, dm, d90, pm, p90, pm - dm);
  } else {
    std::printf(
        "throughput (%.0f MiB, median of %d): direct %.0f MiB/s, proxy %.0f MiB/s, ratio %.2f\n"
        "  rounds, MiB/s: direct %s; proxy %s\n",
        mib, rounds, direct_mibs, proxy_mibs, proxy_mibs / direct_mibs, rates(direct_s).c_str(),
        rates(proxy_s).c_str());
    std::printf("cpu per GiB (all threads): direct %.2f s, proxy %.2f s\n", cpu_direct, cpu_proxy);
    std::printf(
        "connect + first byte (N=%d): direct median %.0f us p90 %.0f us; "
        "proxy median %.0f us p90 %.0f us; added median %.0f us\n",
        connects, dm, d90, pm, p90, pm - dm);
  }
  return 0;
}
