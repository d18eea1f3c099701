#include "proxy_service.hpp"

#include <fcntl.h>
#include <netinet/in.h>
#include <sched.h>
#include <sys/socket.h>
#include <unistd.h>

#include <thread>

#include "mxc/proxy/egress_proxy.hpp"
#include "mxc/sys/network.hpp"
#include "mxc/sys/unique_fd.hpp"

namespace mxc::shim {

namespace {

class ProxyService : public Service {
 public:
  explicit ProxyService(std::unique_ptr<proxy::EgressProxy> p) : proxy_(std::move(p)) {}
  void stop() override { proxy_->stop(); }

 private:
  std::unique_ptr<proxy::EgressProxy> proxy_;
};

// Runs on its own thread: the network namespace is per thread, and this one
// ends right after, so the shim's main thread never leaves the host's.
Result<sys::UniqueFd> listen_inside(int netns_fd, uint16_t port) {
  if (::setns(netns_fd, CLONE_NEWNET) != 0) return sys_error("setns into the container's netns");
  MXC_TRY(sys::bring_up_loopback());
  sys::UniqueFd s(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!s) return sys_error("socket");
  int one = 1;
  ::setsockopt(s.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(s.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0)
    return sys_error("bind 127.0.0.1:" + std::to_string(port) + " in the container");
  if (::listen(s.get(), 128) != 0) return sys_error("listen");
  return s;
}

}  // namespace

Result<std::unique_ptr<Service>> start_proxy_service(boost::asio::io_context& io,
                                                     const ShimConfig& config,
                                                     const runtime::AuditContext& audit) {
  nlohmann::json rules_json = config.proxy;
  uint16_t port = rules_json.value("port", uint16_t{3128});
  rules_json.erase("port");
  auto rules = proxy::parse_rules(rules_json);
  if (!rules) return rules.error().context("proxy rules");
  std::string ns = "/proc/" + std::to_string(config.pid) + "/ns/net";
  sys::UniqueFd netns(::open(ns.c_str(), O_RDONLY | O_CLOEXEC));
  if (!netns) return sys_error("open " + ns);
  Result<sys::UniqueFd> listener = make_error("proxy thread did not run");
  std::thread([&] { listener = listen_inside(netns.get(), port); }).join();
  if (!listener) return listener.error().context("egress proxy");
  auto p =
      proxy::EgressProxy::create(io, listener->release(), *rules, [audit](const proxy::Event& e) {
        runtime::audit(audit, "proxy",
                       {{"protocol", e.protocol},
                        {"host", e.host},
                        {"port", e.port},
                        {"allowed", e.allowed},
                        {"reason", e.reason},
                        {"bytesUp", e.bytes_up},
                        {"bytesDown", e.bytes_down}});
      });
  if (!p) return p.error().context("egress proxy");
  (*p)->start();
  return std::unique_ptr<Service>(std::make_unique<ProxyService>(std::move(*p)));
}

}  // namespace mxc::shim
