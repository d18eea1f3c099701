#include "json_reader.hpp"

#include <algorithm>

namespace mxc::spec::detail {

namespace {

// Messages must stay on one line whatever the document contains.
std::string one_line(std::string s) {
  std::replace_if(
      s.begin(), s.end(), [](char c) { return c == '\n' || c == '\r'; }, ' ');
  return s;
}

}  // namespace

void Reader::fail(const std::string& path, const std::string& what) {
  if (error_) return;
  std::string msg = label_ + ": ";
  if (!path.empty()) msg += path + ": ";
  msg += what;
  error_ = make_error(one_line(std::move(msg)));
}

Result<json> parse_json(std::string_view text, std::string_view label) {
  try {
    return json::parse(text);
  } catch (const json::parse_error& e) {
    // Byte offsets are useless to people: report line and column instead.
    size_t line = 1;
    size_t column = 1;
    const size_t end = std::min<size_t>(e.byte > 0 ? e.byte - 1 : 0, text.size());
    for (size_t i = 0; i < end; ++i) {
      if (text[i] == '\n') {
        ++line;
        column = 1;
      } else {
        ++column;
      }
    }
    // e.what() is "[json.exception.parse_error.101] parse error at ...: <reason>".
    std::string reason = e.what();
    if (auto p = reason.find(": "); p != std::string::npos) reason.erase(0, p + 2);
    return make_error(one_line(std::string(label) + ": invalid JSON at line " +
                               std::to_string(line) + " column " + std::to_string(column) + ": " +
                               reason));
  } catch (const json::exception& e) {
    return make_error(one_line(std::string(label) + ": invalid JSON: " + e.what()));
  }
}

std::string child_path(const std::string& path, std::string_view key) {
  if (path.empty()) return std::string(key);
  std::string p = path;
  p += '.';
  p += key;
  return p;
}

std::string index_path(const std::string& path, size_t index) {
  return path + "[" + std::to_string(index) + "]";
}

std::string quote(std::string_view s) {
  return json(std::string(s)).dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string describe(const json& j) {
  constexpr size_t kMax = 40;
  auto shown = [&] {
    std::string s = j.dump(-1, ' ', false, json::error_handler_t::replace);
    if (s.size() > kMax) s = s.substr(0, kMax) + "...";
    return s;
  };
  switch (j.type()) {
    case json::value_t::null:
      return "null";
    case json::value_t::boolean:
      return std::string("boolean ") + (j.get<bool>() ? "true" : "false");
    case json::value_t::string:
      return "string " + shown();
    case json::value_t::number_integer:
    case json::value_t::number_unsigned:
    case json::value_t::number_float:
      return "number " + shown();
    case json::value_t::object:
      return "object";
    case json::value_t::array:
      return "array";
    default:
      return "unsupported value";
  }
}

void reject_unknown(Reader& r, const json& j, const std::string& path,
                    std::initializer_list<std::string_view> known) {
  if (!r.ok() || !j.is_object()) return;
  for (auto it = j.begin(); it != j.end(); ++it) {
    if (std::find(known.begin(), known.end(), it.key()) == known.end()) {
      r.fail(child_path(path, it.key()), "unknown field");
      return;
    }
  }
}

void decode(Reader& r, const json& j, const std::string& path, bool& out) {
  if (!j.is_boolean()) {
    r.fail(path, "must be a boolean, got " + describe(j));
    return;
  }
  out = j.get<bool>();
}

void decode(Reader& r, const json& j, const std::string& path, std::string& out) {
  if (!j.is_string()) {
    r.fail(path, "must be a string, got " + describe(j));
    return;
  }
  out = j.get<std::string>();
}

void decode(Reader& r, const json& j, const std::string& path, json& out) {
  if (!j.is_object()) {
    r.fail(path, "must be an object, got " + describe(j));
    return;
  }
  out = j;
}

void OneOf::operator()(Reader& r, const std::string& path, const std::string& v) const {
  if (std::find(allowed.begin(), allowed.end(), v) != allowed.end()) return;
  std::string list;
  for (auto a : allowed) {
    if (!list.empty()) list += ", ";
    list += a;
  }
  r.fail(path, "unknown " + std::string(noun) + " " + quote(v) + "; expected one of " + list);
}

namespace {
bool all_of(std::string_view s, bool (*ok)(char)) {
  for (char c : s) {
    if (!ok(c)) return false;
  }
  return true;
}
bool upper(char c) {
  return c >= 'A' && c <= 'Z';
}
bool digit(char c) {
  return c >= '0' && c <= '9';
}
}  // namespace

bool is_rlimit_type(std::string_view s) {
  return s.size() > 7 && s.substr(0, 7) == "RLIMIT_" && all_of(s.substr(7), upper);
}
bool is_cpu_list(std::string_view s) {
  return all_of(s, [](char c) { return digit(c) || c == ',' || c == ' ' || c == '-'; });
}
bool is_device_access(std::string_view s) {
  return all_of(s, [](char c) { return c == 'r' || c == 'w' || c == 'm'; });
}
bool is_hugepage_size(std::string_view s) {
  if (s.size() < 3 || s[0] < '1' || s[0] > '9' || s.back() != 'B') return false;
  char unit = s[s.size() - 2];
  return (unit == 'K' || unit == 'M' || unit == 'G') && all_of(s.substr(1, s.size() - 3), digit);
}
bool is_mem_bw_schema(std::string_view s) {
  return s.substr(0, 3) == "MB:" && s.find('\n') == std::string_view::npos;
}
bool is_capability_name(std::string_view s) {
  return s.size() > 4 && s.substr(0, 4) == "CAP_" &&
         all_of(s.substr(4), [](char c) { return upper(c) || c == '_'; });
}

void Matches::operator()(Reader& r, const std::string& path, const std::string& v) const {
  if (!pred(v)) r.fail(path, quote(v) + " does not match " + std::string(text));
}

}  // namespace mxc::spec::detail
