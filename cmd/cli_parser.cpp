#include "cli_parser.hpp"

namespace mxc::cli {

bool ParsedArgs::flag(const std::string& name) const {
  auto it = values.find(name);
  return it != values.end() && it->second != "false";
}

std::string ParsedArgs::value(const std::string& name, const std::string& fallback) const {
  auto it = values.find(name);
  return it == values.end() ? fallback : it->second;
}

namespace {
const OptionSpec* find_long(const std::vector<OptionSpec>& options, const std::string& name) {
  for (const auto& o : options) {
    if (o.name == name) return &o;
  }
  return nullptr;
}
const OptionSpec* find_short(const std::vector<OptionSpec>& options, char c) {
  for (const auto& o : options) {
    if (o.short_name == c) return &o;
  }
  return nullptr;
}
}  // namespace

Result<ParsedArgs> parse(const std::vector<OptionSpec>& options,
                         const std::vector<std::string>& argv, size_t start,
                         bool stop_at_positional, size_t* next) {
  ParsedArgs out;
  size_t i = start;
  bool only_positional = false;
  for (; i < argv.size(); ++i) {
    const std::string& a = argv[i];
    if (only_positional || a.size() < 2 || a[0] != '-') {
      if (stop_at_positional) break;
      out.args.push_back(a);
      continue;
    }
    if (a == "--") {
      only_positional = true;
      if (stop_at_positional) {
        ++i;
        break;
      }
      continue;
    }
    std::string name;
    std::string value;
    bool has_value = false;
    const OptionSpec* spec = nullptr;
    if (a[1] == '-') {
      name = a.substr(2);
      auto eq = name.find('=');
      if (eq != std::string::npos) {
        value = name.substr(eq + 1);
        name = name.substr(0, eq);
        has_value = true;
      }
      spec = find_long(options, name);
    } else {
      // Single-dash long names (-root, as urfave/cli accepts) or a short flag.
      std::string body = a.substr(1);
      auto eq = body.find('=');
      if (eq != std::string::npos) {
        value = body.substr(eq + 1);
        body = body.substr(0, eq);
        has_value = true;
      }
      spec = body.size() == 1 ? find_short(options, body[0]) : find_long(options, body);
      name = spec ? spec->name : body;
    }
    if (name == "help" || name == "h") {
      out.help = true;
      continue;
    }
    if (spec == nullptr) return make_error("unknown flag " + a);
    if (spec->takes_value) {
      if (!has_value) {
        if (i + 1 >= argv.size()) return make_error("flag --" + spec->name + " needs a value");
        value = argv[++i];
      }
      auto& slot = out.values[spec->name];
      slot = (spec->repeatable && !slot.empty()) ? slot + "\n" + value : value;
    } else {
      if (has_value && value != "true" && value != "false") {
        return make_error("flag --" + spec->name + " takes true or false, not \"" + value + "\"");
      }
      out.values[spec->name] = has_value ? value : "true";
    }
  }
  for (; i < argv.size() && !stop_at_positional; ++i) out.args.push_back(argv[i]);
  if (next != nullptr) *next = i;
  return out;
}

std::string usage(const std::string& program, const CommandSpec& c) {
  std::string u = "Usage: " + program + " [global options] " + c.name;
  if (!c.options.empty()) u += " [options]";
  if (!c.args_usage.empty()) u += " " + c.args_usage;
  u += "\n\n" + c.summary + "\n";
  if (!c.options.empty()) {
    u += "\nOptions:\n";
    for (const auto& o : c.options) {
      std::string left = "  ";
      if (o.short_name) left += std::string("-") + o.short_name + ", ";
      left += "--" + o.name;
      if (o.takes_value) left += " " + (o.value_name.empty() ? std::string("VALUE") : o.value_name);
      if (left.size() < 32) left.resize(32, ' ');
      u += left + " " + o.help + "\n";
    }
  }
  u += "  --help                         show this help\n";
  return u;
}

}  // namespace mxc::cli
