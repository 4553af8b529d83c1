#pragma once
// Finds, loads and checks backend plugins. Every outcome is a record for the report; nothing here is fatal.
#include <filesystem>
#include <memory>
#include <string>
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

struct PluginScan {
  std::vector<LoadedBackend> backends;
  std::vector<PluginRecord> records;  // one per candidate file, loaded or not (loaded ones too)
};

// Loads one module file. Never throws.
[[nodiscard]] LoadedBackend load_plugin(const std::filesystem::path& file);

// Loads every `probe_backend_*.so` in the given folders (missing folders are skipped). Never throws.
[[nodiscard]] PluginScan load_plugins(const std::vector<std::filesystem::path>& dirs);

// Where plugins live: $PROBE_PLUGIN_PATH (colon-separated) first, then <exe>/../lib/probe/plugins and
// <exe>/lib/probe/plugins (the build tree).
[[nodiscard]] std::vector<std::filesystem::path> default_plugin_dirs(const std::filesystem::path& exe);

}  // namespace probe
