#pragma once
// Asks each backend for its devices and measures them, so that one failing backend or device is a line in
// the report and never takes the others down.
#include <functional>
#include <memory>
#include <string>
#include <string_view>
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

// A kernel the device never ran because an earlier one left it unusable: `skipped`, reason
// "device aborted after <after_kernel>: <why>".
[[nodiscard]] Measurement skipped_after_abort(const KernelSpec& spec, std::string_view after_kernel,
                                              std::string_view why);

// What measure_kernels reports as it goes.
struct KernelLoopEvents {
  std::function<void(const KernelSpec&)> begin = [](const KernelSpec&) {};
  std::function<void(Measurement)> result = [](Measurement) {};
};

// Measures `kernels` on `device` in order with measure_safely. After a measurement that says the device aborted
// (a sticky error), the rest are skipped_after_abort. Once ctx.stop_requested() is true no further kernel starts,
// and a measurement cut short by the stop (not ok) is dropped. Returns how many kernels, from the front, had a
// result reported; the rest were not reached.
std::size_t measure_kernels(Device& device, const std::vector<KernelSpec>& kernels, const RunPolicy& policy,
                            RunContext& ctx, const KernelLoopEvents& events);

}  // namespace probe
