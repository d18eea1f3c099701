#include "supervisor.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstdio>

#include <boost/asio/read_until.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>

#include "mxc/sys/cgroups.hpp"
#include "mxc/sys/file_util.hpp"

namespace mxc::shim {

namespace asio = boost::asio;
using runtime::shim::ExitRecord;

namespace {

// How long the log keeps draining after the init exited: children of the init
// outside a pid namespace may still hold the pipes.
constexpr auto kLinger = std::chrono::milliseconds(500);
constexpr size_t kMaxRequest = 4096;

ExitRecord exit_record_from(int code, int status_kind) {
  ExitRecord r;
  r.time = runtime::shim::now_rfc3339();
  if (status_kind == CLD_EXITED) {
    r.exit_code = code;
  } else {
    r.signal = code;
    r.exit_code = 128 + code;
  }
  return r;
}

}  // namespace

class Supervisor::Connection : public std::enable_shared_from_this<Connection> {
 public:
  explicit Connection(asio::local::stream_protocol::socket s)
      : socket(std::move(s)), buffer(kMaxRequest) {}
  void reply(const nlohmann::json& j) {
    auto text = std::make_shared<std::string>(j.dump() + "\n");
    auto self = shared_from_this();
    asio::async_write(socket, asio::buffer(*text),
                      [self, text](const boost::system::error_code&, size_t) {
                        boost::system::error_code ignored;
                        self->socket.close(ignored);
                      });
  }
  asio::local::stream_protocol::socket socket;
  asio::streambuf buffer;
};

Supervisor::Supervisor(asio::io_context& io, ShimConfig config)
    : io_(io),
      cfg_(std::move(config)),
      log_(cfg_.state_dir + "/" + runtime::shim::kLogFile, cfg_.log_max_bytes),
      acceptor_(io),
      signals_(io),
      timeout_(io),
      linger_(io) {
  audit_.container_id = cfg_.id;
  audit_.agent = cfg_.agent;
  audit_.files = cfg_.audit_files;
}

Status Supervisor::setup() {
  dir_.reset(::open(cfg_.state_dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!dir_) return sys_error("open " + cfg_.state_dir);
  // The control socket: ids make paths too long for sun_path, so bind through the dir fd.
  sys::UniqueFd sock(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!sock) return sys_error("socket");
  ::unlinkat(dir_.get(), runtime::shim::kSocketFile, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::snprintf(addr.sun_path, sizeof addr.sun_path, "/proc/self/fd/%d/%s", dir_.get(),
                runtime::shim::kSocketFile);
  mode_t old = ::umask(0177);  // the socket is created 0600
  int rc = ::bind(sock.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  ::umask(old);
  if (rc != 0) return sys_error("bind " + cfg_.state_dir + "/" + runtime::shim::kSocketFile);
  if (::listen(sock.get(), 16) != 0) return sys_error("listen");
  acceptor_.assign(asio::local::stream_protocol(), sock.release());
  accept();

  if (cfg_.forward_stdout_fd >= 0) forward_out_.emplace(io_, cfg_.forward_stdout_fd);
  if (cfg_.forward_stderr_fd >= 0) forward_err_.emplace(io_, cfg_.forward_stderr_fd);
  for (auto [fd, name] :
       std::array<std::pair<int, const char*>, 3>{{{cfg_.stdout_fd, "stdout"},
                                                   {cfg_.stderr_fd, "stderr"},
                                                   {cfg_.console_fd, "console"}}}) {
    if (fd < 0) continue;
    ::fcntl(fd, F_SETFD, FD_CLOEXEC);
    ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
    ++open_streams_;
    read_stream(std::make_shared<asio::posix::stream_descriptor>(io_, fd), name);
  }

  // A pidfd in both modes: a backend's init need not be our child even when we
  // are the parent (bwrap's sandboxed process is bwrap's child).
  int fd = static_cast<int>(::syscall(SYS_pidfd_open, cfg_.pid, 0));
  if (fd < 0) return sys_error("pidfd_open " + std::to_string(cfg_.pid));
  pidfd_.emplace(io_, fd);
  watch_pidfd();
  if (cfg_.mode == Mode::kParent) {
    signals_.add(SIGCHLD);
    watch_children();
  }
  return {};
}

void Supervisor::watch_children() {
  // Reap first (a SIGCHLD may have come before the handler existed), then wait.
  for (;;) {
    siginfo_t info{};
    // WNOWAIT first: the exit record is written while the init is still a
    // zombie, so whoever sees it stopped also finds its status. Every child is
    // reaped: the init, and orphans re-parented to us (we are a subreaper).
    if (::waitid(P_ALL, 0, &info, WEXITED | WNOHANG | WNOWAIT) != 0 || info.si_pid == 0) break;
    if (info.si_pid == cfg_.pid && !exit_) {
      container_exited(exit_record_from(info.si_status, info.si_code));
    }
    ::waitpid(info.si_pid, nullptr, 0);
  }
  if (done_) return;
  signals_.async_wait([this](const boost::system::error_code& ec, int) {
    if (!ec) watch_children();
  });
}

void Supervisor::watch_pidfd() {
  pidfd_->async_wait(
      asio::posix::descriptor_base::wait_read, [this](const boost::system::error_code& ec) {
        if (ec || exit_) return;
        siginfo_t info{};
        if (cfg_.mode == Mode::kParent &&
            ::waitid(P_PID, static_cast<id_t>(cfg_.pid), &info, WEXITED | WNOHANG | WNOWAIT) == 0 &&
            info.si_pid == cfg_.pid) {
          container_exited(exit_record_from(info.si_status, info.si_code));
          return;
        }
        // Not our child: the status belongs to its parent.
        ExitRecord r;
        r.time = runtime::shim::now_rfc3339();
        container_exited(r);
      });
}

void Supervisor::read_stream(std::shared_ptr<asio::posix::stream_descriptor> d, std::string name) {
  auto buf = std::make_shared<std::array<char, 65536>>();
  d->async_read_some(asio::buffer(*buf),
                     [this, d, name, buf](const boost::system::error_code& ec, size_t n) {
                       if (n > 0) {
                         std::string_view data(buf->data(), n);
                         log_.append(name, data);
                         if (name == "stdout" && forward_out_) forward_out_->write(data);
                         if (name == "stderr" && forward_err_) forward_err_->write(data);
                       }
                       if (ec) {  // EOF, or EIO from a pty master whose slave side is gone
                         log_.flush(name);
                         --open_streams_;
                         maybe_finish();
                         return;
                       }
                       read_stream(d, name);
                     });
}

void Supervisor::accept() {
  acceptor_.async_accept([this](const boost::system::error_code& ec,
                                asio::local::stream_protocol::socket s) {
    if (ec) return;  // closed at the end
    auto c = std::make_shared<Connection>(std::move(s));
    asio::async_read_until(
        c->socket, c->buffer, '\n', [this, c](const boost::system::error_code& rec, size_t n) {
          if (rec) return;
          std::string line(asio::buffers_begin(c->buffer.data()),
                           asio::buffers_begin(c->buffer.data()) + static_cast<std::ptrdiff_t>(n));
          handle(c, line);
        });
    accept();
  });
}

nlohmann::json Supervisor::status_json() const {
  nlohmann::json j{{"id", cfg_.id},
                   {"pid", cfg_.pid},
                   {"mode", cfg_.mode == Mode::kParent ? "parent" : "monitor"},
                   {"running", !exit_},
                   {"timeoutStarted", timer_started_},
                   {"logDroppedBytes", log_.dropped_bytes()}};
  if (exit_) j["exit"] = runtime::shim::to_json(*exit_);
  return j;
}

void Supervisor::handle(std::shared_ptr<Connection> c, const std::string& line) {
  auto req = nlohmann::json::parse(line, nullptr, false);
  std::string op = req.is_object() && req.contains("op") && req["op"].is_string()
                       ? req["op"].get<std::string>()
                       : "";
  if (op == "status") {
    c->reply(status_json());
  } else if (op == "wait") {
    if (exit_) {
      c->reply(runtime::shim::to_json(*exit_));
    } else {
      waiters_.push_back(c);
    }
  } else if (op == "started") {
    start_timeout();
    c->reply({{"ok", true}});
  } else {
    c->reply({{"error", "unknown request (ops: status, wait, started)"}});
  }
}

void Supervisor::start_timeout() {
  if (timer_started_ || !cfg_.timeout_ms || exit_) return;
  timer_started_ = true;
  timeout_.expires_after(std::chrono::milliseconds(*cfg_.timeout_ms));
  timeout_.async_wait([this](const boost::system::error_code& ec) {
    if (ec || exit_) return;
    timed_out_ = true;
    runtime::audit(audit_, "timeout", {{"timeoutMs", *cfg_.timeout_ms}});
    // Every process of the container, then the init itself (pidfd: no reuse race).
    if (!cfg_.cgroup.empty()) {
      if (auto cg = sys::Cgroup::open(cfg_.cgroup)) {
        (void)cg->thaw();
        (void)cg->kill_all(SIGKILL);
      }
    }
    ::syscall(SYS_pidfd_send_signal, pidfd_->native_handle(), SIGKILL, nullptr, 0);
  });
}

void Supervisor::container_exited(ExitRecord record) {
  record.timed_out = timed_out_;
  exit_ = record;
  timeout_.cancel();
  // The services first: connections still open report (audit) their last
  // bytes now, so that `exit` is the container's last audit line (also when
  // the runtime writes it, which waits for the exit record below).
  for (auto& s : services_) s->stop();
  (void)sys::write_file_atomic(cfg_.state_dir + "/" + runtime::shim::kExitFile,
                               runtime::shim::to_json(record).dump());
  nlohmann::json detail = runtime::shim::to_json(record);
  if (log_.dropped_bytes() > 0) detail["logDroppedBytes"] = log_.dropped_bytes();
  if (cfg_.audit_exit) runtime::audit(audit_, "exit", detail);
  for (auto& w : waiters_) w->reply(runtime::shim::to_json(record));
  waiters_.clear();
  linger_.expires_after(kLinger);
  linger_.async_wait([this](const boost::system::error_code& ec) {
    if (ec) return;
    open_streams_ = 0;
    maybe_finish();
  });
  maybe_finish();
}

void Supervisor::maybe_finish() {
  if (!exit_ || open_streams_ > 0 || done_) return;
  done_ = true;
  log_.flush("stdout");
  log_.flush("stderr");
  log_.flush("console");
  boost::system::error_code ignored;
  acceptor_.close(ignored);
  ::unlinkat(dir_.get(), runtime::shim::kSocketFile, 0);
  io_.stop();
}

}  // namespace mxc::shim
