#include "mxc/runtime/shim_protocol.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>

#include "mxc/sys/file_util.hpp"
#include "mxc/sys/unique_fd.hpp"

namespace mxc::runtime::shim {

std::string now_rfc3339() {
  timespec ts{};
  ::clock_gettime(CLOCK_REALTIME, &ts);
  std::tm tm{};
  ::gmtime_r(&ts.tv_sec, &tm);
  char buf[40];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  char out[64];
  std::snprintf(out, sizeof out, "%s.%09ldZ", buf, ts.tv_nsec);
  return out;
}

nlohmann::json to_json(const ExitRecord& r) {
  nlohmann::json j{{"signal", r.signal}, {"timedOut", r.timed_out}, {"time", r.time}};
  j["exitCode"] = r.exit_code ? nlohmann::json(*r.exit_code) : nlohmann::json(nullptr);
  return j;
}

Result<ExitRecord> parse_exit_record(const std::string& text) {
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (!j.is_object()) return make_error("exit record: not a JSON object");
  ExitRecord r;
  auto code = j.find("exitCode");
  if (code != j.end() && code->is_number_integer()) r.exit_code = code->get<int>();
  auto num = [&](const char* key) {
    auto it = j.find(key);
    return it != j.end() && it->is_number_integer() ? it->get<int>() : 0;
  };
  r.signal = num("signal");
  auto to = j.find("timedOut");
  r.timed_out = to != j.end() && to->is_boolean() && to->get<bool>();
  auto t = j.find("time");
  if (t != j.end() && t->is_string()) r.time = t->get<std::string>();
  return r;
}

std::optional<ExitRecord> read_exit_record(const std::string& state_dir) {
  auto text = sys::read_file(state_dir + "/" + kExitFile);
  if (!text) return std::nullopt;
  auto r = parse_exit_record(*text);
  if (!r) return std::nullopt;
  return *r;
}

namespace {

// Waits for `events` on fd; false on timeout.
Result<bool> wait_fd(int fd, short events, int timeout_ms) {
  pollfd p{fd, events, 0};
  for (;;) {
    int n = ::poll(&p, 1, timeout_ms);
    if (n > 0) return true;
    if (n == 0) return false;
    if (errno != EINTR) return sys_error("poll");
  }
}

}  // namespace

Result<nlohmann::json> request(const std::string& state_dir, const nlohmann::json& req,
                               int timeout_ms) {
  // Ids may be 1024 bytes long, beyond sun_path: connect through a directory fd.
  sys::UniqueFd dir(::open(state_dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!dir) return sys_error("shim: open " + state_dir);
  sys::UniqueFd sock(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!sock) return sys_error("shim: socket");
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::snprintf(addr.sun_path, sizeof addr.sun_path, "/proc/self/fd/%d/%s", dir.get(), kSocketFile);
  if (::connect(sock.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    return sys_error("shim: connect " + state_dir + "/" + kSocketFile);
  }
  std::string line = req.dump() + "\n";
  if (::send(sock.get(), line.data(), line.size(), MSG_NOSIGNAL) !=
      static_cast<ssize_t>(line.size())) {
    return sys_error("shim: send");
  }
  std::string reply;
  char buf[4096];
  while (reply.find('\n') == std::string::npos) {
    auto ready = wait_fd(sock.get(), POLLIN, timeout_ms);
    if (!ready) return ready.error();
    if (!*ready) return make_error("shim: no reply within " + std::to_string(timeout_ms) + " ms");
    ssize_t n = ::read(sock.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return sys_error("shim: read");
    if (n == 0) return make_error("shim: closed the connection without a reply");
    reply.append(buf, static_cast<size_t>(n));
    if (reply.size() > 65536) return make_error("shim: reply too long");
  }
  auto j = nlohmann::json::parse(reply.substr(0, reply.find('\n')), nullptr, false);
  if (!j.is_object()) return make_error("shim: reply is not a JSON object");
  if (auto e = j.find("error"); e != j.end() && e->is_string())
    return make_error("shim: " + e->get<std::string>());
  return j;
}

}  // namespace mxc::runtime::shim
