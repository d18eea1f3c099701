// The runtime's log: text or JSON lines (`level`, `msg`, `time`) as containerd
// and podman read them from --log. Owned by the command, passed by reference.
#pragma once

#include <string>

#include "mxc/sys/unique_fd.hpp"

namespace mxc::runtime {

enum class LogFormat { kText, kJson };

class Logger {
 public:
  Logger() = default;
  // Opens `path` for appending; an empty path logs nowhere but stderr for errors.
  bool open(const std::string& path, LogFormat format, bool debug);

  void debug(const std::string& msg) const;
  void warn(const std::string& msg) const;
  // Logs the error to the log file and prints it on stderr as one line.
  void error(const std::string& msg) const;

 private:
  void write(const char* level, const std::string& msg) const;
  sys::UniqueFd fd_;
  LogFormat format_ = LogFormat::kText;
  bool debug_ = false;
};

}  // namespace mxc::runtime
