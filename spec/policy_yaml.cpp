// Policy documents in JSON or YAML, converted to JSON with hard limits.
//
// YAML goes through yaml-cpp's event parser rather than YAML::Load: the events
// let us count nodes as aliases expand (a "billion laughs" document is refused
// after kPolicyMaxNodes, before it is built), bound nesting, refuse duplicate
// keys, and resolve plain scalars with the YAML 1.2 core schema ("yes" stays a
// string, so `shareInput: yes` is refused as not a boolean).
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <map>
#include <sstream>

#include <yaml-cpp/depthguard.h>
#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/exceptions.h>
#include <yaml-cpp/mark.h>
#include <yaml-cpp/parser.h>

#include "json_reader.hpp"
#include "mxc/spec/policy.hpp"

namespace mxc::spec {

using detail::json;

namespace {

constexpr std::string_view kStrTag = "tag:yaml.org,2002:str";
constexpr std::string_view kIntTag = "tag:yaml.org,2002:int";
constexpr std::string_view kFloatTag = "tag:yaml.org,2002:float";
constexpr std::string_view kBoolTag = "tag:yaml.org,2002:bool";
constexpr std::string_view kNullTag = "tag:yaml.org,2002:null";

bool is_null_word(std::string_view s) {
  return s.empty() || s == "~" || s == "null" || s == "Null" || s == "NULL";
}

std::optional<bool> bool_word(std::string_view s) {
  if (s == "true" || s == "True" || s == "TRUE") return true;
  if (s == "false" || s == "False" || s == "FALSE") return false;
  return std::nullopt;
}

// YAML 1.2 core schema integers: decimal, 0o octal, 0x hex. nullopt: not an
// integer; a json string "out of range" marker is not needed: we fail instead.
std::optional<json> int_value(std::string_view s, bool& overflow) {
  overflow = false;
  int base = 10;
  bool neg = false;
  std::string_view digits = s;
  if (s.size() > 2 && s[0] == '0' && (s[1] == 'o' || s[1] == 'x')) {
    base = s[1] == 'o' ? 8 : 16;
    digits = s.substr(2);
  } else if (!s.empty() && (s[0] == '-' || s[0] == '+')) {
    neg = s[0] == '-';
    digits = s.substr(1);
  }
  if (digits.empty()) return std::nullopt;
  for (char c : digits) {
    const bool ok = base == 16 ? std::isxdigit(static_cast<unsigned char>(c)) != 0
                               : (c >= '0' && c < static_cast<char>('0' + base));
    if (!ok) return std::nullopt;
  }
  uint64_t v = 0;
  auto [p, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), v, base);
  if (ec != std::errc() || p != digits.data() + digits.size()) {
    overflow = true;
    return std::nullopt;
  }
  if (!neg) return json(v);
  if (v > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) + 1) {
    overflow = true;
    return std::nullopt;
  }
  return json(static_cast<int64_t>(0 - v));
}

std::optional<json> float_value(std::string_view s) {
  if (s == ".inf" || s == ".Inf" || s == ".INF" || s == "+.inf" || s == "-.inf" || s == ".nan" ||
      s == ".NaN" || s == ".NAN") {
    return std::nullopt;  // JSON has no infinities or NaN: kept as strings, refused by type
  }
  std::string_view t = s;
  if (!t.empty() && t[0] == '+') t.remove_prefix(1);
  if (t.empty() || !(std::isdigit(static_cast<unsigned char>(t[0])) || t[0] == '.' || t[0] == '-'))
    return std::nullopt;
  // strtod, not std::from_chars<double>: that one pulls libm into every
  // process of the runtime (for fesetround). The character set keeps strtod
  // to decimal notation (no hex floats, inf or nan); the runtime never calls
  // setlocale, so the decimal point is '.'.
  if (t.find_first_not_of("0123456789.eE+-") != std::string_view::npos) return std::nullopt;
  const std::string text(t);
  char* end = nullptr;
  errno = 0;
  double d = std::strtod(text.c_str(), &end);
  if (errno == ERANGE || end != text.c_str() + text.size() || !std::isfinite(d))
    return std::nullopt;
  return json(d);
}

class JsonBuilder : public YAML::EventHandler {
 public:
  explicit JsonBuilder(std::string label) : label_(std::move(label)) {}

  [[nodiscard]] bool failed() const { return error_.has_value(); }
  [[nodiscard]] const Error& error() const { return *error_; }
  [[nodiscard]] bool done() const { return done_; }
  json take() { return std::move(root_); }

  void OnDocumentStart(const YAML::Mark&) override {}
  void OnDocumentEnd() override {}

  void OnNull(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    add(mark, json(nullptr), 1, anchor);
  }

  void OnAlias(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    if (failed()) return;
    auto it = anchors_.find(anchor);
    if (it == anchors_.end()) {
      fail(mark, "alias to a node that is not complete (recursive alias)");
      return;
    }
    // Checked before copying: the copy is what an alias bomb multiplies.
    if (nodes_ + it->second.nodes > kPolicyMaxNodes) {
      fail(mark, "more than " + std::to_string(kPolicyMaxNodes) +
                     " nodes after alias expansion (an alias bomb?)");
      return;
    }
    if (depth() + it->second.depth > kPolicyMaxDepth) {
      fail(mark, "nesting deeper than " + std::to_string(kPolicyMaxDepth) + " levels");
      return;
    }
    add(mark, it->second.value, it->second.nodes, 0);
  }

  void OnScalar(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t anchor,
                const std::string& value) override {
    if (failed()) return;
    // A mapping key is always taken as a string.
    if (expecting_key()) {
      add(mark, json(value), 1, anchor);
      return;
    }
    auto v = resolve(mark, tag, value);
    if (v) add(mark, std::move(*v), 1, anchor);
  }

  void OnSequenceStart(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t anchor,
                       YAML::EmitterStyle::value) override {
    open(mark, tag, anchor, json::array());
  }
  void OnSequenceEnd() override { close(); }

  void OnMapStart(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t anchor,
                  YAML::EmitterStyle::value) override {
    open(mark, tag, anchor, json::object());
  }
  void OnMapEnd() override { close(); }

 private:
  struct Frame {
    json value;
    YAML::anchor_t anchor = 0;
    size_t nodes_at_start = 0;
    size_t max_child_depth = 0;
    std::optional<std::string> key;  // maps: the key waiting for its value
  };
  struct Anchored {
    json value;
    size_t nodes = 0;
    size_t depth = 0;
  };

  [[nodiscard]] size_t depth() const { return stack_.size(); }
  [[nodiscard]] bool expecting_key() const {
    return !stack_.empty() && stack_.back().value.is_object() && !stack_.back().key;
  }

  void fail(const YAML::Mark& mark, const std::string& what) {
    if (failed()) return;
    std::string msg = label_ + ": YAML";
    if (!mark.is_null()) {
      msg +=
          " line " + std::to_string(mark.line + 1) + " column " + std::to_string(mark.column + 1);
    }
    error_ = make_error(msg + ": " + what);
  }

  std::optional<json> resolve(const YAML::Mark& mark, const std::string& tag,
                              const std::string& value) {
    if (tag == "!" || tag == kStrTag) return json(value);
    const bool plain = tag == "?" || tag.empty();
    if (!plain && tag != kIntTag && tag != kFloatTag && tag != kBoolTag && tag != kNullTag) {
      fail(mark, "unsupported tag " + detail::quote(tag));
      return std::nullopt;
    }
    if ((plain || tag == kNullTag) && is_null_word(value)) return json(nullptr);
    if (plain || tag == kBoolTag) {
      if (auto b = bool_word(value)) return json(*b);
    }
    if (plain || tag == kIntTag) {
      bool overflow = false;
      if (auto i = int_value(value, overflow)) return i;
      if (overflow) {
        fail(mark, "integer " + detail::quote(value) + " is out of range");
        return std::nullopt;
      }
    }
    if (plain || tag == kFloatTag) {
      if (auto f = float_value(value)) return f;
    }
    if (plain) return json(value);
    fail(mark, detail::quote(value) + " does not match its tag " + detail::quote(tag));
    return std::nullopt;
  }

  void open(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t anchor, json empty) {
    if (failed()) return;
    if (tag != "?" && tag != "!" && !tag.empty() && tag != "tag:yaml.org,2002:seq" &&
        tag != "tag:yaml.org,2002:map") {
      fail(mark, "unsupported tag " + detail::quote(tag));
      return;
    }
    if (expecting_key()) {
      fail(mark, "mapping keys must be scalars");
      return;
    }
    if (depth() + 1 > kPolicyMaxDepth) {
      fail(mark, "nesting deeper than " + std::to_string(kPolicyMaxDepth) + " levels");
      return;
    }
    if (!count(mark, 1)) return;
    stack_.push_back(Frame{std::move(empty), anchor, nodes_ - 1, 0, std::nullopt});
    marks_.push_back(mark);
  }

  void close() {
    if (failed() || stack_.empty()) return;
    Frame f = std::move(stack_.back());
    YAML::Mark mark = marks_.back();
    stack_.pop_back();
    marks_.pop_back();
    const size_t nodes = nodes_ - f.nodes_at_start;
    const size_t d = f.max_child_depth + 1;
    if (f.anchor != 0) anchors_[f.anchor] = Anchored{f.value, nodes, d};
    place(mark, std::move(f.value), d);
  }

  bool count(const YAML::Mark& mark, size_t n) {
    if (nodes_ + n > kPolicyMaxNodes) {
      fail(mark, "more than " + std::to_string(kPolicyMaxNodes) +
                     " nodes after alias expansion (an alias bomb?)");
      return false;
    }
    nodes_ += n;
    return true;
  }

  // A complete leaf (scalar, null, or an alias's copy).
  void add(const YAML::Mark& mark, json v, size_t nodes, YAML::anchor_t anchor) {
    if (failed()) return;
    if (!count(mark, nodes)) return;
    const size_t d = v.is_structured() ? anchored_depth(v) : 0;
    if (anchor != 0) anchors_[anchor] = Anchored{v, nodes, d};
    place(mark, std::move(v), d);
  }

  static size_t anchored_depth(const json& v) {
    size_t d = 0;
    for (const auto& c : v) d = std::max(d, c.is_structured() ? anchored_depth(c) : 0);
    return d + 1;
  }

  // Puts a finished value into its parent (or makes it the document).
  void place(const YAML::Mark& mark, json v, size_t d) {
    if (stack_.empty()) {
      root_ = std::move(v);
      done_ = true;
      return;
    }
    Frame& parent = stack_.back();
    parent.max_child_depth = std::max(parent.max_child_depth, d);
    if (parent.value.is_array()) {
      parent.value.push_back(std::move(v));
      return;
    }
    if (!parent.key) {
      if (!v.is_string()) {
        fail(mark, "mapping keys must be scalars");
        return;
      }
      if (parent.value.contains(v.get<std::string>())) {
        fail(mark, "duplicate key " + detail::quote(v.get<std::string>()));
        return;
      }
      parent.key = v.get<std::string>();
      return;
    }
    parent.value[*parent.key] = std::move(v);
    parent.key.reset();
  }

  std::string label_;
  std::optional<Error> error_;
  std::vector<Frame> stack_;
  std::vector<YAML::Mark> marks_;
  std::map<YAML::anchor_t, Anchored> anchors_;
  size_t nodes_ = 0;
  json root_;
  bool done_ = false;
};

// Depth of a parsed JSON document exceeds `max`? Recursion is bounded by `max`.
bool deeper_than(const json& j, size_t max) {
  if (!j.is_structured()) return false;
  if (max == 0) return true;
  for (const auto& c : j) {
    if (deeper_than(c, max - 1)) return true;
  }
  return false;
}

Result<json> yaml_to_json(std::string_view text, const std::string& label) {
  std::istringstream in{std::string(text)};
  JsonBuilder builder(label);
  try {
    YAML::Parser parser(in);
    if (!parser.HandleNextDocument(builder)) return make_error(label + ": empty document");
    if (builder.failed()) return builder.error();
    JsonBuilder rest(label);
    if (parser.HandleNextDocument(rest)) {
      return make_error(label + ": more than one YAML document");
    }
  } catch (const YAML::DeepRecursion& e) {
    return make_error(label + ": YAML line " + std::to_string(e.mark.line + 1) +
                      ": nesting deeper than " + std::to_string(kPolicyMaxDepth) + " levels");
  } catch (const YAML::Exception& e) {
    if (builder.failed()) return builder.error();
    std::string where = e.mark.is_null() ? ""
                                         : " line " + std::to_string(e.mark.line + 1) + " column " +
                                               std::to_string(e.mark.column + 1);
    return make_error(label + ": invalid YAML" + where + ": " + e.msg);
  } catch (const std::exception& e) {
    return make_error(label + ": invalid YAML: " + e.what());
  }
  if (builder.failed()) return builder.error();
  if (!builder.done()) return make_error(label + ": empty document");
  return builder.take();
}

}  // namespace

Result<json> policy_document_to_json(std::string_view text, std::string_view label_view) {
  const std::string label(label_view);
  if (text.size() > kPolicyMaxBytes) {
    return make_error(label + ": policy document is larger than 1 MiB (" +
                      std::to_string(text.size()) + " bytes)");
  }
  if (text.find('\0') != std::string_view::npos) {
    return make_error(label + ": policy document contains a NUL byte");
  }
  const size_t first = text.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) return make_error(label + ": empty document");
  if (text[first] == '{') {
    auto doc = detail::parse_json(text, label);
    if (!doc) return doc.error();
    if (deeper_than(*doc, kPolicyMaxDepth)) {
      return make_error(label + ": nesting deeper than " + std::to_string(kPolicyMaxDepth) +
                        " levels");
    }
    return doc;
  }
  return yaml_to_json(text, label);
}

}  // namespace mxc::spec
