#pragma once
// Finds, loads and checks backend plugins. Every outcome is a record for the report; nothing here is fatal.
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "probe/device.hpp"

namespace probe {

struct PluginRecord {
  std::string path;
  std::string name;      // the backend's name when the entry point answered, else the file stem
  bool loaded = false;
  std::string reason;    // why not: "dlopen: … undefined symbol …", "ABI version 7, expected 1", …
  friend bool operator==(const PluginRecord&, const PluginRecord&) = default;
};

// A backend created by a plugin. Owns the backend and keeps the module mapped for the process's lifetime
// (devices made by the plugin carry its vtables, so the module is never unmapped under them).
struct LoadedBackend {
  std::shared_ptr<Backend> backend;
  PluginRecord record;
};

// One folder searched for plugins, and what came of it: a missing folder is normal (no install, no build tree);
// one that exists but cannot be listed is reported, since the plugins in it are then silently absent.
struct PluginFolder {
  std::string path;
  bool found = false;     // exists (or cannot be told apart from existing: its parent is unreadable)
  bool readable = false;  // listed
  std::string reason;     // why not found or not readable; empty when listed
  friend bool operator==(const PluginFolder&, const PluginFolder&) = default;
};

struct PluginScan {
  std::vector<LoadedBackend> backends;
  std::vector<PluginRecord> records;  // one per candidate file, loaded or not (loaded ones too)
  std::vector<PluginFolder> folders;  // one per folder searched, in search order
};

// Loads one module file. Never throws.
[[nodiscard]] LoadedBackend load_plugin(const std::filesystem::path& file);

// Loads every `probe_backend_*.so` in the given folders (missing folders are skipped, unreadable ones recorded).
// A backend name is loaded once: a later plugin whose backend calls itself by a name already loaded, or by
// one of `taken_names` (the built-in backends), is refused with the reason, else one node would list two
// `cuda0` devices. Never throws.
[[nodiscard]] PluginScan load_plugins(const std::vector<std::filesystem::path>& dirs,
                                      const std::vector<std::string>& taken_names = {});

// A colon-separated search path ($PROBE_PLUGIN_PATH) as folders: empty entries are skipped, each entry is
// lexically normalised.
[[nodiscard]] std::vector<std::filesystem::path> split_search_path(std::string_view text);

// Where plugins live: $PROBE_PLUGIN_PATH (colon-separated) first, then <exe>/../lib/probe/plugins and
// <exe>/lib/probe/plugins (the build tree).
[[nodiscard]] std::vector<std::filesystem::path> default_plugin_dirs(const std::filesystem::path& exe);

}  // namespace probe
