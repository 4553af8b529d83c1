#include "report.hpp"

#include <algorithm>
#include <fmt/format.h>

namespace probe::report {

bool Report::any_failed() const noexcept {
  for (const auto& d : devices) {
    for (const auto& m : d.measurements) {
      if (m.status == Status::failed) return true;
    }
  }
  return false;
}

std::vector<Convention> standard_conventions() {
  return {
      {"units", "SI prefixes: 1 GB/s = 1e9 bytes/s, 1 GFLOP/s = 1e9 FLOP/s; ops/s counts 2 operations per "
                "multiply-add (the datasheet and TPP convention)"},
      {"statistics", "the figure shown is the median of the samples; spread = interquartile range / median; min, "
                     "max, quartiles, mean, standard deviation and every sample are in the JSON report"},
      {"bandwidth", "bytes counted as STREAM counts them: read 8 B, write 8 B, copy 16 B, triad 24 B per element "
                    "(8-byte doubles); write-allocate traffic of regular stores is not counted in the figure and "
                    "is shown separately as with_write_allocate"},
      {"clock", "CPU: the clock a kernel ran at, on every measuring thread: its cycle counter over each sample "
                "where the CPU offers one (perf_event), else a dependent integer-add chain (one add per cycle) run "
                "on the same core right after each sample, before the core leaves the kernel's licence clock "
                "(AVX-512, AMX); the median over samples is the clock shown and the one % of peak uses. The scalar "
                "add-chain clock just before and after the measurement is kept as clock_hz_scalar in the JSON. The "
                "TSC rate is not the core clock"},
      {"theoretical", "theoretical peak = cores x instructions per cycle (data/cpu_uarch.json) x operations per "
                      "instruction x the measured clock"},
      {"verification", "every sample's result is checked against a host reference; a wrong result makes the "
                       "measurement failed and yields no number"},
  };
}

std::vector<UnmeasuredDevice> unmeasured_accelerators(const Inventory& inventory,
                                                      const std::vector<DeviceReport>& devices,
                                                      const std::vector<BackendStatus>& backends,
                                                      const std::vector<DeviceInfo>& deselected,
                                                      std::string_view selection) {
  // Only a missing or failed runtime is "no runtime"; a backend that runs but did not see the device says so.
  auto backend_reason = [&](std::string_view name) -> std::string {
    for (const auto& b : backends) {
      if (b.name == name) {
        if (!b.available) return fmt::format("not measured: no runtime ({} backend: {})", name, b.reason);
        return fmt::format("not measured: the {} backend found no device at this bus id", name);
      }
    }
    return fmt::format("not measured: no runtime (no {} backend plugin found)", name);
  };
  std::vector<UnmeasuredDevice> out;
  for (const auto& pci : inventory.accelerators) {
    const bool measured = std::any_of(devices.begin(), devices.end(), [&](const DeviceReport& d) {
      return d.info.pci && d.info.pci->bus_id == pci.id.bus_id;
    });
    if (measured) continue;
    const auto left_out = std::find_if(deselected.begin(), deselected.end(), [&](const DeviceInfo& i) {
      return i.pci && i.pci->bus_id == pci.id.bus_id;
    });
    std::string why;
    if (left_out != deselected.end()) {
      why = fmt::format("not selected ({}): {} was found by the {} backend", selection.empty() ? "by the device filter" : selection,
                        left_out->id, left_out->backend);
    } else {
      switch (pci.id.vendor_id) {
        case 0x10de: why = backend_reason("cuda"); break;
        case 0x1002: why = backend_reason("hip"); break;
        default: why = "not measured: no runtime (no backend for this vendor)"; break;
      }
    }
    out.push_back(UnmeasuredDevice{pci, std::move(why)});
  }
  return out;
}

}  // namespace probe::report
