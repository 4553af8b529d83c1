#pragma once
// Asks each backend for its devices and measures them, so that one failing backend or device is a line in
// the report and never takes the others down.
#include <memory>
#include <string>
#include <vector>

#include "probe/device.hpp"

namespace probe {

struct BackendStatus {
  std::string name;
  std::string source;  // "built-in" or the plugin's path
  bool available = false;
  std::string reason;  // why not available, or why enumeration failed
  std::string version;
  int devices = 0;
  friend bool operator==(const BackendStatus&, const BackendStatus&) = default;
};

struct SourcedBackend {
  std::shared_ptr<Backend> backend;
  std::string source;
};

// The backend outlives its device: members are destroyed in reverse order.
struct DeviceHandle {
  std::shared_ptr<Backend> owner;
  std::unique_ptr<Device> device;
};

struct Enumeration {
  std::vector<BackendStatus> backends;
  std::vector<DeviceHandle> devices;
};

// Never throws: availability() and devices() failures become BackendStatus reasons.
[[nodiscard]] Enumeration enumerate(const std::vector<SourcedBackend>& backends);

// Never throws: an exception escaping the device becomes a `failed` measurement naming it.
[[nodiscard]] Measurement measure_safely(Device& device, const KernelSpec& spec, const RunPolicy& policy,
                                         RunContext& ctx) noexcept;

}  // namespace probe
