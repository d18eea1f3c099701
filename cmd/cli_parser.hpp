// runc-style command-line parsing: global flags, a command, its flags, then
// positional arguments. `--opt value`, `--opt=value`, `-o value`, and
// `--flag=true|false` all work; flags stop at the first positional or `--`.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "mxc/spec/result.hpp"

namespace mxc::cli {

struct OptionSpec {
  std::string name;        // long name without dashes
  char short_name = '\0';  // '\0' when there is none
  bool takes_value = false;
  std::string value_name;  // for usage: --pid-file FILE
  std::string help;
  bool repeatable = false;  // values of repeated uses are joined with '\n'
};

struct CommandSpec {
  std::string name;
  std::string args_usage;  // "<container-id>"
  std::string summary;
  std::vector<OptionSpec> options;
  int min_args = 0;
  int max_args = 0;  // -1: unlimited
  // Flags end at the first positional (exec: what follows the id is the command).
  bool flags_before_args_only = false;
};

struct ParsedArgs {
  std::map<std::string, std::string> values;  // option -> value ("true" for flags)
  std::vector<std::string> args;
  bool help = false;

  [[nodiscard]] bool flag(const std::string& name) const;
  [[nodiscard]] std::string value(const std::string& name, const std::string& fallback = "") const;
};

// Parses argv[start..end); stops at the first positional only when `stop_at_positional`.
// `next` receives the index after the last consumed argument.
Result<ParsedArgs> parse(const std::vector<OptionSpec>& options,
                         const std::vector<std::string>& argv, size_t start,
                         bool stop_at_positional, size_t* next);

std::string usage(const std::string& program, const CommandSpec& command);

}  // namespace mxc::cli
