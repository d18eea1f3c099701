// Finds backend plugins and loads them through the C ABI table (Boost.DLL).
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "mxc/plugin.h"
#include "mxc/spec/result.hpp"

namespace mxc::runtime {

// A loaded plugin. Keeps the library mapped for as long as it lives.
class Plugin {
 public:
  virtual ~Plugin() = default;
  [[nodiscard]] virtual const mxc_plugin& table() const = 0;
  [[nodiscard]] virtual const std::filesystem::path& file() const = 0;
};

class PluginManager {
 public:
  // Searched in order: `flag_dirs` (--plugin-path), MXC_PLUGIN_PATH, the install's directory.
  PluginManager(std::vector<std::filesystem::path> flag_dirs, const char* env_path);

  [[nodiscard]] const std::vector<std::filesystem::path>& search_dirs() const { return dirs_; }

  // Loads backend `name` from lib<name>.so in the first directory holding it.
  Result<std::unique_ptr<Plugin>> load(const std::string& name) const;

  // Loads one file; errors name the file and, on ABI mismatch, both versions.
  static Result<std::unique_ptr<Plugin>> load_file(const std::filesystem::path& file);

  // <dir of this executable>/../lib/mxc-runtime/plugins
  static std::filesystem::path install_dir();

 private:
  std::vector<std::filesystem::path> dirs_;
};

// Backend names become file names: [a-z0-9_-], 1..64 characters.
Status validate_backend_name(const std::string& name);

}  // namespace mxc::runtime
