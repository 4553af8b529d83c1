#pragma once
// One device (a CPU package, a GPU) and the backend that enumerates them: the contract every backend meets.
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "probe/measurement.hpp"
#include "probe/run_policy.hpp"

namespace probe {

struct PciId {
  std::string bus_id;  // "0000:17:00.0"
  std::uint16_t vendor_id = 0, device_id = 0, subvendor_id = 0, subdevice_id = 0;
  friend bool operator==(const PciId&, const PciId&) = default;
};

struct DeviceInfo {
  std::string id;       // unique in a report: "cpu0", "cuda0"
  std::string backend;  // "cpu", "cuda"
  std::string kind;     // "cpu", "gpu", "accelerator"
  std::string name;     // "AMD EPYC 9654", "NVIDIA H100 80GB HBM3"
  std::string vendor;
  std::string arch;     // "zen4", "sm_90"
  int units = 0;        // cores, SMs, CUs
  std::string unit_name;  // "cores", "SMs"
  bool partial = false; // only part of the chip is visible (a VM's cores, a MIG slice)
  std::string partial_reason;
  std::optional<PciId> pci;
  std::vector<std::pair<std::string, std::string>> properties;  // ordered, for the report

  friend bool operator==(const DeviceInfo&, const DeviceInfo&) = default;
};

// A device's own signed evidence of what it is (GPU confidential-computing attestation), collected for a nonce
// that binds it to one run, or why there is none. The byte strings are as the device gave them.
struct Attestation {
  bool available = false;
  std::string reason;      // when not available: "confidential computing is off (NVML ccFeature disabled)"
  std::string source;      // "NVML nvmlDeviceGetConfComputeGpuAttestationReport"
  std::string nonce;       // the 32-byte nonce the device was given (raw bytes)
  std::string report;      // the attestation report (SPDM GET_MEASUREMENTS request + signed response)
  std::string cec_report;  // the CEC attestation report, where the device has one
  std::string certificate_chain, attestation_certificate_chain;  // DER/PEM as the device holds them
  friend bool operator==(const Attestation&, const Attestation&) = default;
};

// Passed down from main: no globals. The progress callback is how long-running work says what it does.
struct RunContext {
  std::function<void(std::string_view)> progress = [](std::string_view) {};
  // True once the run is to stop (SIGINT/SIGTERM): run_sampling checks it between samples and gives up.
  std::function<bool()> stop_requested = [] { return false; };
};

class Device {
 public:
  virtual ~Device() = default;
  [[nodiscard]] virtual const DeviceInfo& info() const noexcept = 0;
  // Every kernel this device knows of, supported or not: unsupported ones are measured as `skipped`.
  [[nodiscard]] virtual std::span<const KernelSpec> kernels() const noexcept = 0;
  // Should not throw (a failure is a `failed` measurement with the reason); the engine still catches
  // anything that escapes, so one broken device never takes the report down.
  virtual Measurement measure(const KernelSpec& spec, const RunPolicy& policy, RunContext& ctx) = 0;
  // The device's attestation for `nonce` (32 bytes); never throws. Devices without any say so.
  virtual Attestation attest(std::string_view /*nonce*/) {
    Attestation a;
    a.reason = "the " + info().backend + " backend offers no device attestation";
    return a;
  }
};

struct Availability {
  bool available = false;
  std::string reason;   // why not, in one line: "no driver (cudaErrorInsufficientDriver)"
  std::string version;  // runtime/driver versions when available
};

class Backend {
 public:
  virtual ~Backend() = default;
  [[nodiscard]] virtual std::string_view name() const noexcept = 0;
  virtual Availability availability() noexcept = 0;
  // Only called when available; may throw BackendError.
  virtual std::vector<std::unique_ptr<Device>> devices() = 0;
};

}  // namespace probe
