#include "container_log.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>

#include <nlohmann/json.hpp>

#include "mxc/runtime/shim_protocol.hpp"

namespace mxc::shim {

namespace {
// A line longer than this is written in pieces marked "partial".
constexpr size_t kMaxLine = 16 * 1024;
}  // namespace

ContainerLog::ContainerLog(std::string path, uint64_t max_bytes)
    : path_(std::move(path)), max_bytes_(max_bytes < 4096 ? 4096 : max_bytes) {
  open_file();
}

void ContainerLog::open_file() {
  fd_.reset(::open(path_.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600));
  struct stat sb {};
  size_ = fd_ && ::fstat(fd_.get(), &sb) == 0 ? static_cast<uint64_t>(sb.st_size) : 0;
}

std::string& ContainerLog::pending(std::string_view stream) {
  if (stream == "stdout") return pending_out_;
  if (stream == "stderr") return pending_err_;
  return pending_console_;
}

void ContainerLog::write_record(std::string_view stream, std::string_view text, bool partial) {
  nlohmann::json j{{"time", runtime::shim::now_rfc3339()}, {"stream", stream}, {"log", text}};
  if (partial) j["partial"] = true;
  // Container output need not be UTF-8: replace what is not, never throw.
  std::string line = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
  if (size_ + line.size() > max_bytes_) {
    std::string old = path_ + ".1";
    (void)::rename(path_.c_str(), old.c_str());
    open_file();
  }
  if (!fd_) {
    dropped_ += text.size();
    return;
  }
  ssize_t n = ::write(fd_.get(), line.data(), line.size());
  if (n != static_cast<ssize_t>(line.size())) {
    dropped_ += text.size();
    if (n > 0) size_ += static_cast<uint64_t>(n);
    return;
  }
  size_ += line.size();
}

void ContainerLog::append(std::string_view stream, std::string_view data) {
  std::string& buf = pending(stream);
  buf.append(data);
  size_t start = 0;
  for (;;) {
    size_t nl = buf.find('\n', start);
    if (nl == std::string::npos) break;
    write_record(stream, std::string_view(buf).substr(start, nl + 1 - start), false);
    start = nl + 1;
  }
  buf.erase(0, start);
  while (buf.size() >= kMaxLine) {
    write_record(stream, std::string_view(buf).substr(0, kMaxLine), true);
    buf.erase(0, kMaxLine);
  }
}

void ContainerLog::flush(std::string_view stream) {
  std::string& buf = pending(stream);
  if (!buf.empty()) write_record(stream, buf, true);
  buf.clear();
}

}  // namespace mxc::shim
