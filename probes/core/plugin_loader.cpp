// Loads backend plugins: dlopen, the one versioned entry point, ABI and probe-version checks, create().
// Every outcome becomes a PluginRecord; nothing here throws to the caller.
#include "probe/plugin_loader.hpp"

#include <dlfcn.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <map>
#include <string_view>
#include <system_error>
#include <utility>

#include <fmt/format.h>

#include "probe/plugin.hpp"
#include "probe/version.hpp"

namespace probe {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kPluginPrefix = "probe_backend_";
constexpr std::string_view kPluginSuffix = ".so";

// Unmaps a module that failed its checks; release() keeps one that created a backend mapped for good.
struct ModuleCloser {
  void operator()(void* handle) const noexcept { dlclose(handle); }
};
using ModuleHandle = std::unique_ptr<void, ModuleCloser>;

using EntryFn = const probe_backend_entry* (*)();

LoadedBackend failure(const fs::path& file, std::string name, std::string reason) {
  LoadedBackend out;
  out.record.path = file.string();
  out.record.name = name.empty() ? file.stem().string() : std::move(name);
  out.record.loaded = false;
  out.record.reason = std::move(reason);
  return out;
}

std::string last_dlerror(std::string_view fallback) {
  const char* e = dlerror();
  return e != nullptr ? std::string(e) : std::string(fallback);
}

bool is_plugin_name(const std::string& name) {
  return name.size() > kPluginPrefix.size() + kPluginSuffix.size() && name.starts_with(kPluginPrefix) &&
         name.ends_with(kPluginSuffix);
}

LoadedBackend load_plugin_unguarded(const fs::path& file) {
  // A bare file name would make dlopen search the library path instead of opening this file.
  std::string open_path = file.string();
  if (open_path.find('/') == std::string::npos) open_path = "./" + open_path;

  dlerror();  // clear any stale message
  ModuleHandle module(dlopen(open_path.c_str(), RTLD_NOW | RTLD_LOCAL));
  if (!module) return failure(file, {}, "dlopen failed: " + last_dlerror("unknown error"));

  // dlerror() here would only repeat the path and the symbol name.
  void* symbol = dlsym(module.get(), PROBE_PLUGIN_ENTRY_SYMBOL);
  if (symbol == nullptr) return failure(file, {}, fmt::format("no entry point {}", PROBE_PLUGIN_ENTRY_SYMBOL));
  // POSIX guarantees a data pointer from dlsym converts to a function pointer; memcpy keeps -Wpedantic quiet.
  EntryFn entry_fn = nullptr;
  static_assert(sizeof entry_fn == sizeof symbol);
  std::memcpy(&entry_fn, &symbol, sizeof entry_fn);

  const probe_backend_entry* entry = nullptr;
  try {
    entry = entry_fn();
  } catch (const std::exception& e) {
    return failure(file, {}, fmt::format("entry point {} threw: {}", PROBE_PLUGIN_ENTRY_SYMBOL, e.what()));
  } catch (...) {
    return failure(file, {}, fmt::format("entry point {} threw an unknown exception", PROBE_PLUGIN_ENTRY_SYMBOL));
  }
  if (entry == nullptr) {
    return failure(file, {}, fmt::format("entry point {} returned null", PROBE_PLUGIN_ENTRY_SYMBOL));
  }

  // The ABI version decides the meaning of every later field, so it is checked before any of them is read.
  if (entry->abi_version != PROBE_PLUGIN_ABI_VERSION) {
    return failure(file, {}, fmt::format("plugin ABI version {}, this probe expects {}", entry->abi_version,
                                         PROBE_PLUGIN_ABI_VERSION));
  }
  if (entry->struct_size < sizeof(probe_backend_entry)) {
    return failure(file, {}, fmt::format("plugin entry is {} bytes, this probe expects at least {}",
                                         entry->struct_size, sizeof(probe_backend_entry)));
  }
  const std::string name = entry->name != nullptr ? std::string(entry->name) : std::string();
  if (entry->probe_version == nullptr) {
    return failure(file, name, "plugin does not say which probe version it was built for");
  }
  // The contract is C++ classes: a plugin built against another probe may lay them out differently.
  if (std::strcmp(entry->probe_version, kVersion) != 0) {
    return failure(file, name, fmt::format("built for probe {}, this is probe {}", entry->probe_version, kVersion));
  }
  if (name.empty()) return failure(file, name, "plugin entry has no backend name");
  if (entry->create == nullptr || entry->destroy == nullptr) {
    return failure(file, name, "plugin entry lacks create() or destroy()");
  }

  Backend* raw = nullptr;
  try {
    raw = entry->create();
  } catch (const std::exception& e) {
    return failure(file, name, fmt::format("create() threw: {}", e.what()));
  } catch (...) {
    return failure(file, name, "create() threw an unknown exception");
  }
  if (raw == nullptr) return failure(file, name, "create() returned null");

  LoadedBackend out;
  // The module's own destroy() frees what its create() allocated (its allocator, its vtable).
  out.backend = std::shared_ptr<Backend>(raw, [destroy = entry->destroy](Backend* b) { destroy(b); });
  out.record = PluginRecord{file.string(), name, true, {}};
  // Devices made by this backend carry the module's vtables and may outlive it: never unmap it.
  static_cast<void>(module.release());
  return out;
}

}  // namespace

LoadedBackend load_plugin(const fs::path& file) {
  try {
    return load_plugin_unguarded(file);
  } catch (const std::exception& e) {
    // Only allocation can fail here; the record still says which file.
    try {
      return failure(file, {}, fmt::format("loading failed: {}", e.what()));
    } catch (...) {
      return {};
    }
  } catch (...) {
    try {
      return failure(file, {}, "loading failed: unknown exception");
    } catch (...) {
      return {};
    }
  }
}

namespace {

// Finds out whether `dir` exists and can be listed; fills `candidates` with its plugin files when it can.
PluginFolder scan_folder(const fs::path& dir, std::vector<fs::path>& candidates) {
  PluginFolder folder{dir.string(), false, false, {}};
  std::error_code ec;
  const fs::file_status st = fs::status(dir, ec);
  if (ec && ec != std::errc::no_such_file_or_directory && ec != std::errc::not_a_directory) {
    // EACCES on a parent: the folder may well exist, and its plugins would vanish without a word.
    folder.found = true;
    folder.reason = fmt::format("cannot look up: {}", ec.message());
    return folder;
  }
  if (ec || !fs::exists(st)) {
    folder.reason = "not found";
    return folder;
  }
  folder.found = true;
  if (!fs::is_directory(st)) {
    folder.reason = "not a folder";
    return folder;
  }
  fs::directory_iterator it(dir, ec);
  const fs::directory_iterator end;
  for (; !ec && it != end; it.increment(ec)) {
    const fs::path& p = it->path();
    if (!is_plugin_name(p.filename().string())) continue;
    std::error_code type_ec;
    if (!it->is_regular_file(type_ec)) continue;  // follows links; folders and broken links are skipped
    candidates.push_back(p);
  }
  if (ec) {
    folder.reason = fmt::format("cannot list: {}", ec.message());
    candidates.clear();  // a partial listing would load an arbitrary subset
    return folder;
  }
  folder.readable = true;
  return folder;
}

}  // namespace

PluginScan load_plugins(const std::vector<fs::path>& dirs, const std::vector<std::string>& taken_names) {
  PluginScan scan;
  try {
    std::map<std::string, std::string> first_by_name;  // file name → the path that won
    std::map<std::string, std::string> backend_by_name;  // backend name → where it came from
    for (const auto& n : taken_names) backend_by_name.try_emplace(n, "the built-in backend");
    for (const fs::path& dir : dirs) {
      std::vector<fs::path> candidates;
      scan.folders.push_back(scan_folder(dir, candidates));
      std::sort(candidates.begin(), candidates.end(),
                [](const fs::path& a, const fs::path& b) { return a.filename() < b.filename(); });

      for (const fs::path& file : candidates) {
        const std::string file_name = file.filename().string();
        if (auto [winner, inserted] = first_by_name.try_emplace(file_name, file.string()); !inserted) {
          scan.records.push_back(
              PluginRecord{file.string(), file.stem().string(), false, "shadowed by " + winner->second});
          continue;
        }
        LoadedBackend loaded = load_plugin(file);
        if (loaded.record.loaded) {
          if (auto [first, inserted] = backend_by_name.try_emplace(loaded.record.name, file.string()); !inserted) {
            // Its backend is destroyed here (the module stays mapped, as for every module that created one).
            loaded.backend.reset();
            loaded.record.loaded = false;
            loaded.record.reason =
                fmt::format("backend '{}' is already loaded from {}", loaded.record.name, first->second);
          }
        }
        scan.records.push_back(loaded.record);
        if (loaded.record.loaded) scan.backends.push_back(std::move(loaded));
      }
    }
  } catch (const std::exception& e) {
    try {
      scan.records.push_back(PluginRecord{{}, {}, false, fmt::format("plugin scan failed: {}", e.what())});
    } catch (...) {
    }
  }
  return scan;
}

std::vector<fs::path> split_search_path(std::string_view text) {
  std::vector<fs::path> dirs;
  while (!text.empty()) {
    const auto colon = text.find(':');
    const std::string_view entry = text.substr(0, colon);
    if (!entry.empty()) dirs.push_back(fs::path(entry).lexically_normal());
    if (colon == std::string_view::npos) break;
    text.remove_prefix(colon + 1);
  }
  return dirs;
}

std::vector<fs::path> default_plugin_dirs(const fs::path& exe) {
  std::vector<fs::path> dirs;
  if (const char* env = std::getenv("PROBE_PLUGIN_PATH"); env != nullptr) dirs = split_search_path(env);
  const fs::path bin = exe.parent_path();
  dirs.push_back((bin / ".." / "lib" / "probe" / "plugins").lexically_normal());
  dirs.push_back((bin / "lib" / "probe" / "plugins").lexically_normal());
  return dirs;
}

}  // namespace probe
