// Errors as values. An Error carries a one-line message that already names the
// file, field, id or syscall at fault; callers add context with `context()`.
#pragma once

#include <cerrno>
#include <cstring>
#include <string>
#include <utility>
#include <variant>

namespace mxc {

struct Error {
  std::string message;
  int sys_errno = 0;  // errno of the failing syscall, 0 when not a syscall failure

  // "what: message": prefixes context such as a file name or JSON path.
  [[nodiscard]] Error context(const std::string& what) const {
    return Error{what + ": " + message, sys_errno};
  }
};

inline Error make_error(std::string message) {
  return Error{std::move(message), 0};
}

// For a failed syscall: "what: strerror(errno)".
inline Error sys_error(const std::string& what, int err = errno) {
  return Error{what + ": " + std::strerror(err), err};
}

template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}      // NOLINT(google-explicit-constructor)
  Result(Error error) : v_(std::move(error)) {}  // NOLINT(google-explicit-constructor)

  [[nodiscard]] bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  [[nodiscard]] const Error& error() const { return std::get<1>(v_); }

 private:
  std::variant<T, Error> v_;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error) : err_(std::move(error)), failed_(true) {}  // NOLINT

  [[nodiscard]] bool ok() const { return !failed_; }
  explicit operator bool() const { return ok(); }
  [[nodiscard]] const Error& error() const { return err_; }

 private:
  Error err_;
  bool failed_ = false;
};

using Status = Result<void>;

}  // namespace mxc

// Propagates an error from a Result-returning expression.
#define MXC_TRY(expr)                                \
  do {                                               \
    auto mxc_try_r_ = (expr);                        \
    if (!mxc_try_r_.ok()) return mxc_try_r_.error(); \
  } while (0)
