#include "mxc/runtime/plugin_manager.hpp"

#include "mxc/runtime/container_id.hpp"

#define BOOST_DLL_USE_STD_FS
#include <dlfcn.h>
#include <unistd.h>

#include <boost/dll/shared_library.hpp>
#include <boost/system/error_code.hpp>
#include <system_error>

namespace mxc::runtime {

namespace {

class LoadedPlugin final : public Plugin {
 public:
  LoadedPlugin(boost::dll::shared_library lib, const mxc_plugin* table, std::filesystem::path file)
      : lib_(std::move(lib)), table_(table), file_(std::move(file)) {}
  [[nodiscard]] const mxc_plugin& table() const override { return *table_; }
  [[nodiscard]] const std::filesystem::path& file() const override { return file_; }

 private:
  boost::dll::shared_library lib_;
  const mxc_plugin* table_;
  std::filesystem::path file_;
};

}  // namespace

Status validate_backend_name(const std::string& name) {
  if (name.empty() || name.size() > 64)
    return make_error("backend name must be 1 to 64 characters");
  for (char c : name) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-')) {
      return make_error("backend name " + quote_untrusted(name) + " is invalid: use [a-z0-9_-]");
    }
  }
  return {};
}

std::filesystem::path PluginManager::install_dir() {
  std::error_code ec;
  auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) return {};
  return (exe.parent_path() / ".." / MXC_PLUGIN_RELDIR).lexically_normal();
}

PluginManager::PluginManager(std::vector<std::filesystem::path> flag_dirs, const char* env_path)
    : dirs_(std::move(flag_dirs)) {
  if (env_path != nullptr) {
    std::string s(env_path);
    size_t start = 0;
    while (start <= s.size()) {
      size_t end = s.find(':', start);
      if (end == std::string::npos) end = s.size();
      if (end > start) dirs_.emplace_back(s.substr(start, end - start));
      start = end + 1;
    }
  }
  auto installed = install_dir();
  if (!installed.empty()) dirs_.push_back(installed);
}

Result<std::unique_ptr<Plugin>> PluginManager::load_file(const std::filesystem::path& file) {
  boost::dll::shared_library lib;
  boost::system::error_code ec;
  lib.load(file, boost::dll::load_mode::rtld_now | boost::dll::load_mode::rtld_local, ec);
  if (ec) {
    // Boost.DLL keeps only an error code; ask the loader itself for the reason.
    std::string why = ec.message();
    if (void* h = ::dlopen(file.c_str(), RTLD_NOW | RTLD_LOCAL)) {
      ::dlclose(h);
    } else if (const char* e = ::dlerror()) {
      why = e;
    }
    return make_error("plugin " + file.string() + ": cannot load: " + why);
  }
  if (!lib.has(MXC_PLUGIN_ENTRY_SYMBOL)) {
    return make_error("plugin " + file.string() + ": no entry point " MXC_PLUGIN_ENTRY_SYMBOL);
  }
  auto entry = lib.get<const mxc_plugin*()>(MXC_PLUGIN_ENTRY_SYMBOL);
  const mxc_plugin* table = entry();
  if (table == nullptr)
    return make_error("plugin " + file.string() + ": entry point returned no table");
  if (table->abi_major != MXC_PLUGIN_ABI_MAJOR) {
    return make_error(
        "plugin " + file.string() + " (backend \"" + (table->name ? table->name : "?") +
        "\"): ABI " + std::to_string(table->abi_major) + "." + std::to_string(table->abi_minor) +
        " is incompatible with the runtime's ABI " + std::to_string(MXC_PLUGIN_ABI_MAJOR) + "." +
        std::to_string(MXC_PLUGIN_ABI_MINOR));
  }
  if (table->name == nullptr || table->create == nullptr || table->start == nullptr ||
      table->kill == nullptr || table->status == nullptr || table->wait == nullptr ||
      table->destroy == nullptr) {
    return make_error("plugin " + file.string() + ": incomplete function table");
  }
  return std::unique_ptr<Plugin>(new LoadedPlugin(std::move(lib), table, file));
}

Result<std::unique_ptr<Plugin>> PluginManager::load(const std::string& name) const {
  MXC_TRY(validate_backend_name(name));
  std::string file_name = "lib" + name + ".so";
  std::string searched;
  for (const auto& dir : dirs_) {
    auto file = dir / file_name;
    std::error_code ec;
    if (!std::filesystem::exists(file, ec)) {
      searched += (searched.empty() ? "" : ":") + dir.string();
      continue;
    }
    auto plugin = load_file(file);
    if (!plugin) return plugin.error().context("backend \"" + name + "\"");
    if ((*plugin)->table().name != name) {
      return make_error("backend \"" + name + "\": plugin " + file.string() + " calls itself \"" +
                        (*plugin)->table().name + "\"");
    }
    return plugin;
  }
  return make_error("backend \"" + name + "\": no plugin " + file_name + " in " +
                    (searched.empty() ? std::string("any plugin directory") : searched) +
                    " (runtime ABI " + std::to_string(MXC_PLUGIN_ABI_MAJOR) + "." +
                    std::to_string(MXC_PLUGIN_ABI_MINOR) + ")");
}

}  // namespace mxc::runtime
