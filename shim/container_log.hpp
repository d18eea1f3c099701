// The container's stdout, stderr and console as JSON lines
// ({"time","stream","log"}), size-bounded: past `max_bytes` the file is
// rotated to <file>.1 (one generation kept). A failing write (full disk) drops
// the data and counts it: the shim keeps draining the container's pipes, so the
// container never blocks on its log.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "mxc/sys/unique_fd.hpp"

namespace mxc::shim {

class ContainerLog {
 public:
  ContainerLog(std::string path, uint64_t max_bytes);
  // Appends output of `stream`; complete lines are written, a trailing partial
  // line waits for its end (or flush()) up to a bound.
  void append(std::string_view stream, std::string_view data);
  // Writes what is pending of `stream` (at its end of file).
  void flush(std::string_view stream);
  [[nodiscard]] uint64_t dropped_bytes() const { return dropped_; }

 private:
  void write_record(std::string_view stream, std::string_view text, bool partial);
  void open_file();
  std::string& pending(std::string_view stream);

  std::string path_;
  uint64_t max_bytes_;
  sys::UniqueFd fd_;
  uint64_t size_ = 0;
  uint64_t dropped_ = 0;
  std::string pending_out_, pending_err_, pending_console_;
};

}  // namespace mxc::shim
