// Path-tracking JSON decoding shared by the config, state and features parsers.
//
// A Reader keeps the first error met ("<label>: <path>: <what>") and decoding
// carries on harmlessly after it, so decoders read as a flat list of fields
// instead of one early return per field. Every accessor checks the JSON type
// before touching the value: nothing here throws.
#pragma once

#include <concepts>
#include <cstdint>
#include <initializer_list>
#include <limits>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "mxc/spec/result.hpp"

namespace mxc::spec::detail {

using nlohmann::json;

class Reader {
 public:
  explicit Reader(std::string_view label) : label_(label) {}

  // Records an error at `path` unless one is already recorded.
  void fail(const std::string& path, const std::string& what);
  [[nodiscard]] bool ok() const { return !error_.has_value(); }
  [[nodiscard]] const Error& error() const { return *error_; }

 private:
  std::string label_;
  std::optional<Error> error_;
};

// Parses `text`; invalid JSON gives "<label>: invalid JSON at line L column C: ...".
Result<json> parse_json(std::string_view text, std::string_view label);

std::string child_path(const std::string& path, std::string_view key);
std::string index_path(const std::string& path, size_t index);
// A JSON-quoted, single-line rendering of a string for messages.
std::string quote(std::string_view s);
// "string \"x\"", "number 1.5", "object", ... for "got ..." messages.
std::string describe(const json& j);

// JSON-schema additionalProperties: false: names the first member of object `j`
// not in `known` ("<path>.<key>: unknown field").
void reject_unknown(Reader& r, const json& j, const std::string& path,
                    std::initializer_list<std::string_view> known);

// ---- leaf decoders ----

void decode(Reader& r, const json& j, const std::string& path, bool& out);
void decode(Reader& r, const json& j, const std::string& path, std::string& out);
// Opaque sub-documents (e.g. windows.credentialSpec) only need to be objects.
void decode(Reader& r, const json& j, const std::string& path, json& out);

template <class T>
concept Integer = std::integral<T> && !std::same_as<T, bool>;

template <Integer T>
constexpr std::string_view integer_name() {
  if constexpr (std::is_signed_v<T>) {
    if constexpr (sizeof(T) == 1) return "int8";
    if constexpr (sizeof(T) == 2) return "int16";
    if constexpr (sizeof(T) == 4) return "int32";
    if constexpr (sizeof(T) == 8) return "int64";
  } else {
    if constexpr (sizeof(T) == 1) return "uint8";
    if constexpr (sizeof(T) == 2) return "uint16";
    if constexpr (sizeof(T) == 4) return "uint32";
    if constexpr (sizeof(T) == 8) return "uint64";
  }
}

template <Integer T>
std::string integer_range() {
  return std::string(integer_name<T>()) + " (" + std::to_string(std::numeric_limits<T>::min()) +
         " to " + std::to_string(std::numeric_limits<T>::max()) + ")";
}

template <Integer T>
void decode(Reader& r, const json& j, const std::string& path, T& out) {
  if (!j.is_number_integer()) {
    r.fail(path, "must be a " + integer_range<T>() + ", got " + describe(j));
    return;
  }
  // nlohmann stores non-negative integers as unsigned and negative ones as signed.
  if (j.is_number_unsigned()) {
    const auto v = j.get<uint64_t>();
    if (!std::in_range<T>(v)) {
      r.fail(path, std::to_string(v) + " is out of range for a " + integer_range<T>());
      return;
    }
    out = static_cast<T>(v);
  } else {
    const auto v = j.get<int64_t>();
    if (!std::in_range<T>(v)) {
      r.fail(path, std::to_string(v) + " is out of range for a " + integer_range<T>());
      return;
    }
    out = static_cast<T>(v);
  }
}

// ---- containers ----

template <class T>
void decode(Reader& r, const json& j, const std::string& path, std::vector<T>& out) {
  if (!j.is_array()) {
    r.fail(path, "must be an array, got " + describe(j));
    return;
  }
  out.clear();
  out.reserve(j.size());
  for (size_t i = 0; i < j.size() && r.ok(); ++i) {
    T item{};
    decode(r, j[i], index_path(path, i), item);
    out.push_back(std::move(item));
  }
}

template <class T>
void decode(Reader& r, const json& j, const std::string& path, std::map<std::string, T>& out) {
  if (!j.is_object()) {
    r.fail(path, "must be an object, got " + describe(j));
    return;
  }
  out.clear();
  for (auto it = j.begin(); it != j.end() && r.ok(); ++it) {
    T item{};
    decode(r, it.value(), child_path(path, it.key()), item);
    out.emplace(it.key(), std::move(item));
  }
}

// ---- checks applied after decoding a field ----

// The value must be one of `allowed`: "unknown <noun> "x"; expected one of a, b".
struct OneOf {
  std::span<const std::string_view> allowed;
  std::string_view noun;
  void operator()(Reader& r, const std::string& path, const std::string& v) const;
};

// Predicates for the schema patterns used by config.json and features.json.
bool is_rlimit_type(std::string_view s);      // ^RLIMIT_[A-Z]+$
bool is_cpu_list(std::string_view s);         // ^[0-9, -]*$
bool is_device_access(std::string_view s);    // ^[rwm]*$
bool is_hugepage_size(std::string_view s);    // ^[1-9][0-9]*[KMG]B$
bool is_mem_bw_schema(std::string_view s);    // ^MB:[^\n]*$
bool is_capability_name(std::string_view s);  // ^CAP_[A-Z_]+$

// The whole string must satisfy `pred`, a hand-written check of the schema's
// `pattern` (quoted as `text`). Not std::regex: it would double the runtime's
// start-up memory for six trivial patterns.
struct Matches {
  bool (*pred)(std::string_view);
  std::string_view text;
  void operator()(Reader& r, const std::string& path, const std::string& v) const;
};

// Integer bounds narrower than the C++ type (FileMode, hook timeout, ...).
struct Between {
  int64_t min;
  int64_t max;
  template <Integer T>
  void operator()(Reader& r, const std::string& path, T v) const {
    if (!std::in_range<int64_t>(v) || static_cast<int64_t>(v) < min ||
        static_cast<int64_t>(v) > max) {
      r.fail(path, std::to_string(v) + " is out of range (" + std::to_string(min) + " to " +
                       std::to_string(max) + ")");
    }
  }
};

// JSON-schema minItems: 1.
struct NonEmpty {
  template <class T>
  void operator()(Reader& r, const std::string& path, const std::vector<T>& v) const {
    if (v.empty()) r.fail(path, "must contain at least one element");
  }
};

// Applies a check to every element of an array field.
template <class Check>
struct Each {
  Check check;
  template <class T>
  void operator()(Reader& r, const std::string& path, const std::vector<T>& v) const {
    for (size_t i = 0; i < v.size(); ++i) check(r, index_path(path, i), v[i]);
  }
};
template <class Check>
Each(Check) -> Each<Check>;

// ---- objects ----

// A JSON object at a path, with typed field getters. JSON null counts as an
// absent field: Go-based tools write null for empty optional members.
class Object {
 public:
  Object(Reader& r, const json& j, std::string path) : r_(r), j_(j), path_(std::move(path)) {
    if (!j.is_object()) {
      r_.fail(path_, "must be an object, got " + describe(j));
      valid_ = false;
    }
  }

  [[nodiscard]] bool valid() const { return valid_ && r_.ok(); }
  [[nodiscard]] const std::string& path() const { return path_; }
  [[nodiscard]] Reader& reader() const { return r_; }
  // The member's JSON, or nullptr when absent or null.
  [[nodiscard]] const json* get(std::string_view key) const { return find(key); }

  template <class T, class... Checks>
  void req(std::string_view key, T& out, const Checks&... checks) {
    if (!valid()) return;
    const json* v = find(key);
    if (v == nullptr) {
      r_.fail(child_path(path_, key), "required field is missing");
      return;
    }
    read(*v, child_path(path_, key), out, checks...);
  }

  template <class T, class... Checks>
  void req(std::string_view key, std::optional<T>& out, const Checks&... checks) {
    T value{};
    req(key, value, checks...);
    if (r_.ok()) out = std::move(value);
  }

  template <class T, class... Checks>
  void opt(std::string_view key, T& out, const Checks&... checks) {
    if (!valid()) return;
    if (const json* v = find(key)) read(*v, child_path(path_, key), out, checks...);
  }

  template <class T, class... Checks>
  void opt(std::string_view key, std::optional<T>& out, const Checks&... checks) {
    if (!valid()) return;
    if (const json* v = find(key)) {
      T value{};
      read(*v, child_path(path_, key), value, checks...);
      out = std::move(value);
    }
  }

  // Validates a field without keeping it (other platforms' sections).
  template <class T, class... Checks>
  void check(std::string_view key, const Checks&... checks) {
    T ignored{};
    opt(key, ignored, checks...);
  }
  template <class T, class... Checks>
  void check_req(std::string_view key, const Checks&... checks) {
    T ignored{};
    req(key, ignored, checks...);
  }

 private:
  [[nodiscard]] const json* find(std::string_view key) const {
    if (!j_.is_object()) return nullptr;
    auto it = j_.find(key);
    if (it == j_.end() || it->is_null()) return nullptr;
    return &*it;
  }

  template <class T, class... Checks>
  void read(const json& v, const std::string& path, T& out, const Checks&... checks) {
    decode(r_, v, path, out);
    ((r_.ok() ? checks(r_, path, out) : void()), ...);
  }

  Reader& r_;
  const json& j_;
  std::string path_;
  bool valid_ = true;
};

}  // namespace mxc::spec::detail
