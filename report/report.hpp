#pragma once
// The report: everything one run found and measured, in one value that every printer reads and that
// round-trips through JSON (so a recorded report can be re-printed or re-evaluated without measuring again).
#include <optional>
#include <string>
#include <vector>

#include "probe/device.hpp"
#include "probe/inventory.hpp"
#include "probe/plugin_loader.hpp"
#include "probe/registry.hpp"

namespace probe::report {

inline constexpr int kSchemaVersion = 1;

struct DeviceReport {
  DeviceInfo info;
  std::vector<Measurement> measurements;
  friend bool operator==(const DeviceReport&, const DeviceReport&) = default;
};

// A PCI accelerator that no backend measured, and why.
struct UnmeasuredDevice {
  PciDevice pci;
  std::string reason;  // "not measured: no runtime (no cuda backend plugin found)"
  friend bool operator==(const UnmeasuredDevice&, const UnmeasuredDevice&) = default;
};

struct Convention {
  std::string topic;  // "bandwidth", "clock", "statistics"
  std::string text;
  friend bool operator==(const Convention&, const Convention&) = default;
};

// A kernel an interrupted run did not reach (or did not finish): nothing was recorded for it.
struct NotReached {
  std::string device, kernel;
  friend bool operator==(const NotReached&, const NotReached&) = default;
};

// The watchdog on accelerator kernels (each plugin backend is measured in a worker process).
struct Watchdog {
  double kernel_timeout_s = 0;  // wall time one kernel may take before its worker is killed
  std::string source;           // "--kernel-timeout" or "the <budget> budget"
  friend bool operator==(const Watchdog&, const Watchdog&) = default;
};

struct Report {
  int schema_version = kSchemaVersion;
  std::string tool_version;
  std::string run_id;       // UUID v4 naming this run, also in its signed statement; empty before schema 1.2
  std::string command;      // the command line, for the record
  std::string budget;       // "quick", "default", "thorough"
  std::string started_at, finished_at;
  Inventory inventory;
  std::vector<BackendStatus> backends;
  std::vector<PluginRecord> plugins;
  std::vector<PluginFolder> plugin_folders;  // every folder searched for plugins, found/readable or not
  std::vector<DeviceReport> devices;
  std::vector<UnmeasuredDevice> unmeasured;
  std::vector<Convention> conventions;
  std::string status = "complete";  // "complete", or "interrupted" (by a signal)
  std::string interrupted_by;       // "SIGINT", "SIGTERM" when interrupted
  std::vector<NotReached> not_reached;  // interrupted: the selected kernels left without a result
  std::optional<Watchdog> watchdog;     // absent when no worker process measured anything (--list, no plugins)
  friend bool operator==(const Report&, const Report&) = default;

  // True when any measurement failed: exit status 1.
  [[nodiscard]] bool any_failed() const noexcept;
};

// The conventions every report states (byte counting, clock, statistics).
[[nodiscard]] std::vector<Convention> standard_conventions();

// PCI accelerators with no measured device on the same bus id, with the true reason: a device a backend found
// but the selection left out ("not selected (--device cpu0)"; `deselected` are those devices, `selection` the
// flag that left them out), else the backends' state ("not measured: no runtime (…)").
[[nodiscard]] std::vector<UnmeasuredDevice> unmeasured_accelerators(const Inventory& inventory,
                                                                    const std::vector<DeviceReport>& devices,
                                                                    const std::vector<BackendStatus>& backends,
                                                                    const std::vector<DeviceInfo>& deselected = {},
                                                                    std::string_view selection = {});

}  // namespace probe::report
