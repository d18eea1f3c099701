// Finds backend plugins and loads them through the C ABI table (Boost.DLL).
#pragma once

#include <cstdint>
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

// What `scan` learned from a plugin that loaded: copies, so the library can go.
struct PluginInfo {
  std::string name;
  std::string version;
  uint32_t abi_major = 0;
  uint32_t abi_minor = 0;
  std::filesystem::path file;
  std::vector<std::string> tiers;     // from the comma-separated `tiers`
  std::vector<std::string> enforces;  // policy field names, e.g. "filesystem.denyRead"
  bool has_exec = false;
};

// A *.so in a plugin directory that is not a usable backend, and why (one line).
struct RejectedPlugin {
  std::filesystem::path file;
  std::string reason;
};

struct PluginScan {
  std::vector<std::filesystem::path> search_dirs;
  std::vector<PluginInfo> loaded;  // in search order; names are unique
  std::vector<RejectedPlugin> rejected;
};

class PluginManager {
 public:
  // Searched in order: `flag_dirs` (--plugin-path), MXC_PLUGIN_PATH, the install's directory.
  PluginManager(std::vector<std::filesystem::path> flag_dirs, const char* env_path);

  [[nodiscard]] const std::vector<std::filesystem::path>& search_dirs() const { return dirs_; }

  // Loads backend `name` from lib<name>.so in the first directory holding it.
  Result<std::unique_ptr<Plugin>> load(const std::string& name) const;

  // Loads every *.so of every search directory, in order (files sorted by name
  // within a directory). A file that fails is reported and never stops the
  // others; of two files claiming one backend name, the first found wins.
  [[nodiscard]] PluginScan scan() const;

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
