#include "mxc/runtime/logger.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <ctime>

#include <nlohmann/json.hpp>

namespace mxc::runtime {

namespace {
std::string now_rfc3339() {
  using namespace std::chrono;
  auto now = system_clock::now();
  std::time_t t = system_clock::to_time_t(now);
  auto ns = duration_cast<nanoseconds>(now.time_since_epoch()).count() % 1000000000;
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  char out[96];
  std::snprintf(out, sizeof out, "%s.%09lldZ", buf, static_cast<long long>(ns));
  return out;
}
}  // namespace

bool Logger::open(const std::string& path, LogFormat format, bool debug) {
  format_ = format;
  debug_ = debug;
  if (path.empty()) return true;
  fd_.reset(::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640));
  return fd_.valid();
}

namespace {
// Messages can carry untrusted text; a log line and an error stay one line.
std::string one_line(const std::string& msg) {
  std::string out;
  for (unsigned char c : msg) {
    if (c < 0x20 || c == 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}
}  // namespace

void Logger::write(const char* level, const std::string& raw) const {
  if (!fd_) return;
  std::string msg = format_ == LogFormat::kJson ? raw : one_line(raw);
  std::string line;
  if (format_ == LogFormat::kJson) {
    line = nlohmann::json{{"level", level}, {"msg", msg}, {"time", now_rfc3339()}}.dump(
               -1, ' ', false, nlohmann::json::error_handler_t::replace) +
           "\n";
  } else {
    line = now_rfc3339() + " " + level + ": " + msg + "\n";
  }
  (void)!::write(fd_.get(), line.data(), line.size());
}

void Logger::debug(const std::string& msg) const {
  if (!debug_) return;
  write("debug", msg);
  if (!fd_) std::fprintf(stderr, "mxc-runtime: debug: %s\n", one_line(msg).c_str());
}

void Logger::warn(const std::string& msg) const {
  write("warning", msg);
}

void Logger::error(const std::string& msg) const {
  write("error", msg);
  std::fprintf(stderr, "mxc-runtime: %s\n", one_line(msg).c_str());
}

}  // namespace mxc::runtime
