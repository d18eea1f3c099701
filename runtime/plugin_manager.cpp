#include "mxc/runtime/plugin_manager.hpp"

#include "mxc/runtime/container_id.hpp"
#include "mxc/spec/text.hpp"

#define BOOST_DLL_USE_STD_FS
#include <dlfcn.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <boost/dll/shared_library.hpp>
#include <boost/system/error_code.hpp>
#include <cstring>
#include <map>
#include <nlohmann/json.hpp>
#include <system_error>
#include <variant>

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
    for (auto dir : spec::split_nonempty(env_path, ':')) dirs_.emplace_back(dir);
  }
  auto installed = install_dir();
  if (!installed.empty()) dirs_.push_back(installed);
}

namespace {

std::string abi_text(uint32_t major, uint32_t minor) {
  return std::to_string(major) + "." + std::to_string(minor);
}

// Why a file is not a usable plugin. `backend` is the name its table claims,
// set only where the message names it (an ABI mismatch).
struct Refusal {
  std::string reason;
  std::string backend;
};

// dlopen() on a text file says "invalid ELF header" among other things; the
// magic number tells "not a library at all" apart from a library that fails.
bool has_elf_magic(const std::filesystem::path& file) {
  char magic[4] = {};
  int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return true;  // let the loader report why it cannot open it
  ssize_t n = ::read(fd, magic, sizeof magic);
  ::close(fd);
  static constexpr char kElfMagic[4] = {0x7f, 'E', 'L', 'F'};
  return n == 4 && std::memcmp(magic, kElfMagic, 4) == 0;
}

// The `enforces` string must be a JSON array of strings: policy field names.
Result<std::vector<std::string>> parse_enforces(const char* text) {
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_array())
    return make_error("enforces is not a JSON array: " + quote_untrusted(text));
  std::vector<std::string> out;
  for (const auto& f : j) {
    if (!f.is_string() || f.get<std::string>().empty())
      return make_error("enforces must hold field names (non-empty strings): " +
                        quote_untrusted(text));
    out.push_back(f.get<std::string>());
  }
  return out;
}

// Loads and checks one file; on failure, the reason without the file name.
std::variant<std::unique_ptr<Plugin>, Refusal> open_plugin(const std::filesystem::path& file) {
  if (!has_elf_magic(file)) return Refusal{"cannot load: not a shared library (no ELF header)", {}};
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
      // dlerror() starts with the path, which the caller already names.
      std::string prefix = file.string() + ": ";
      if (why.rfind(prefix, 0) == 0) why.erase(0, prefix.size());
    }
    return Refusal{"cannot load: " + why, {}};
  }
  if (!lib.has(MXC_PLUGIN_ENTRY_SYMBOL))
    return Refusal{"no entry point " MXC_PLUGIN_ENTRY_SYMBOL, {}};
  auto entry = lib.get<const mxc_plugin*()>(MXC_PLUGIN_ENTRY_SYMBOL);
  const mxc_plugin* table = entry();
  if (table == nullptr) return Refusal{"entry point returned no table", {}};
  if (table->abi_major != MXC_PLUGIN_ABI_MAJOR) {
    return Refusal{"ABI " + abi_text(table->abi_major, table->abi_minor) +
                       " is incompatible with the runtime's ABI " +
                       abi_text(MXC_PLUGIN_ABI_MAJOR, MXC_PLUGIN_ABI_MINOR) +
                       " (the major versions differ)",
                   table->name ? table->name : "?"};
  }
  // Everything of ABI 1.0 but exec, which a backend may leave out.
  std::string missing;
  auto need = [&](bool present, const char* what) {
    if (!present) missing += (missing.empty() ? "" : ", ") + std::string(what);
  };
  need(table->name != nullptr, "name");
  need(table->version != nullptr, "version");
  need(table->tiers != nullptr, "tiers");
  need(table->enforces != nullptr, "enforces");
  need(table->create != nullptr, "create");
  need(table->start != nullptr, "start");
  need(table->kill != nullptr, "kill");
  need(table->status != nullptr, "status");
  need(table->wait != nullptr, "wait");
  need(table->destroy != nullptr, "destroy");
  if (!missing.empty()) return Refusal{"incomplete table (no " + missing + ")", {}};
  if (auto e = parse_enforces(table->enforces); !e) return Refusal{e.error().message, {}};
  return std::unique_ptr<Plugin>(new LoadedPlugin(std::move(lib), table, file));
}

std::vector<std::string> split_tiers(const char* text) {
  std::vector<std::string> out;
  std::string s = text ? text : "";
  size_t start = 0;
  while (start <= s.size()) {
    size_t end = s.find(',', start);
    if (end == std::string::npos) end = s.size();
    std::string t = s.substr(start, end - start);
    t.erase(0, t.find_first_not_of(' '));
    t.erase(t.find_last_not_of(' ') + 1);
    if (!t.empty()) out.push_back(t);
    start = end + 1;
  }
  return out;
}

}  // namespace

Result<std::unique_ptr<Plugin>> PluginManager::load_file(const std::filesystem::path& file) {
  auto opened = open_plugin(file);
  if (auto* r = std::get_if<Refusal>(&opened)) {
    std::string who = r->backend.empty() ? "" : " (backend \"" + r->backend + "\")";
    return make_error("plugin " + file.string() + who + ": " + r->reason);
  }
  return std::move(std::get<std::unique_ptr<Plugin>>(opened));
}

PluginScan PluginManager::scan() const {
  namespace fs = std::filesystem;
  PluginScan out;
  out.search_dirs = dirs_;
  // Backend name -> the file load() would open for it: the first in search order.
  std::map<std::string, fs::path> first;
  for (const auto& dir : dirs_) {
    std::error_code ec;
    if (!fs::is_directory(dir, ec)) continue;  // absent directories are normal
    std::vector<fs::path> files;
    for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
      if (it->path().extension() == ".so") files.push_back(it->path());
    }
    if (ec) {
      out.rejected.push_back({dir, "cannot read the directory: " + ec.message()});
      continue;
    }
    std::sort(files.begin(), files.end());
    for (const auto& file : files) {
      std::string fname = file.filename().string();
      std::string name = fname.size() > 6 && fname.rfind("lib", 0) == 0
                             ? fname.substr(3, fname.size() - 6)
                             : std::string();
      if (name.empty() || !validate_backend_name(name)) {
        out.rejected.push_back(
            {file, "not named lib<backend>.so with a backend name of [a-z0-9_-]"});
        continue;
      }
      if (auto it = first.find(name); it != first.end()) {
        // The same file reached through two search entries is not a rival.
        if (!fs::equivalent(it->second, file, ec))
          out.rejected.push_back({file, "shadowed by " + it->second.string()});
        continue;
      }
      first.emplace(name, file);
      if (!fs::is_regular_file(file, ec)) {
        out.rejected.push_back({file, "not a regular file"});
        continue;
      }
      auto opened = open_plugin(file);
      if (auto* r = std::get_if<Refusal>(&opened)) {
        out.rejected.push_back({file, r->reason});
        continue;
      }
      const mxc_plugin& t = std::get<std::unique_ptr<Plugin>>(opened)->table();
      if (t.name != name) {
        out.rejected.push_back({file, "calls itself " + quote_untrusted(t.name) + ", not \"" +
                                          name + "\" as its file name says"});
        continue;
      }
      PluginInfo info;
      info.name = t.name;
      info.version = t.version;
      info.abi_major = t.abi_major;
      info.abi_minor = t.abi_minor;
      info.file = file;
      info.tiers = split_tiers(t.tiers);
      info.enforces = *parse_enforces(t.enforces);
      info.has_exec = t.exec != nullptr;
      out.loaded.push_back(std::move(info));
    }
  }
  return out;
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
