#pragma once
// NVML through dlopen("libnvidia-ml.so.1"), with our own declarations of the few entry points used: no link-time
// dependency, and a node without NVML still measures (the report says NVML was missing).
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "probe/device.hpp"
#include "probe/measurement.hpp"

namespace probe::cuda {

struct NvmlApi;  // the resolved function pointers

// One NVML device (the physical GPU behind a CUDA device, found by PCI bus id).
struct NvmlStatic {
  std::string serial, board_part_number, vbios;
  std::optional<double> power_limit_w;
  std::optional<double> max_sm_clock_hz, max_mem_clock_hz;
  std::optional<double> sm_clock_hz, mem_clock_hz;  // current, at enumeration
  std::optional<bool> ecc_enabled;
  std::optional<bool> mig_enabled;
};

struct SensorSummary {
  int samples = 0;
  double sm_clock_hz_mean = 0, sm_clock_hz_min = 0, sm_clock_hz_max = 0;
  double power_w_mean = 0, power_w_max = 0;
  double temperature_c_max = 0;
  std::uint64_t throttle_reasons = 0;  // OR of every sample's clock event reasons (NVML bit mask)
  // Every sample, in order (the sustained phase's traces), and the sampler's wall time from start to stop.
  std::vector<double> sm_clock_hz, mem_clock_hz, power_w, temperature_c;
  double wall_s = 0;
};

class Nvml {
 public:
  // Never throws: when the library or the init is missing, available() is false and why() says so.
  Nvml();
  ~Nvml();
  Nvml(const Nvml&) = delete;
  Nvml& operator=(const Nvml&) = delete;

  [[nodiscard]] bool available() const noexcept { return m_api != nullptr; }
  [[nodiscard]] const std::string& why() const noexcept { return m_why; }
  [[nodiscard]] const std::string& driver_version() const noexcept { return m_driver; }
  // The handle for a PCI bus id ("0000:17:00.0"), or null.
  [[nodiscard]] void* device(const std::string& bus_id) const;
  [[nodiscard]] NvmlStatic read_static(void* dev) const;
  // The device's confidential-computing attestation report and certificate chains for `nonce` (32 bytes), or an
  // unavailable Attestation whose reason says why (no NVML, an NVML without the entry points, CC mode off, …).
  [[nodiscard]] Attestation attest(void* dev, std::string_view nonce) const;

  // Samples SM and memory clock, power, temperature and clock event reasons every `period_ms` on its own
  // thread until stopped.
  class Sampler {
   public:
    Sampler(const Nvml& nvml, void* dev, int period_ms);
    ~Sampler();
    Sampler(const Sampler&) = delete;
    Sampler& operator=(const Sampler&) = delete;
    SensorSummary stop();

   private:
    void sample();
    const Nvml& m_nvml;
    void* m_dev;
    int m_period_ms;
    std::atomic<bool> m_stop{false};
    std::vector<double> m_clock, m_mem_clock, m_power, m_temp;
    std::uint64_t m_reasons = 0;
    std::chrono::steady_clock::time_point m_start = std::chrono::steady_clock::now();
    std::thread m_thread;
  };

 private:
  void* m_lib = nullptr;
  std::unique_ptr<NvmlApi> m_api;
  std::string m_why, m_driver;
};

// Names of the NVML clock event ("throttle") reason bits set in `mask`, comma-separated (GPU idle left out).
[[nodiscard]] std::string throttle_reason_names(std::uint64_t mask);

// Below this fraction of the maximum SM clock a software power cap counts as throttling. Dense tensor kernels
// hold an H100/H200 at its power limit: the driver reports "software power cap" while the clock stays near its
// boost (the datasheet peaks use 1830 of 1980 MHz, 92%; 1.6-1.8 GHz is normal under FP8), so the cap alone is
// not a throttle note; a cap that pulls the clock under 80% of the maximum is.
inline constexpr double kPowerCapThrottleFraction = 0.80;

// Every reason bit set in `mask`, by name (GPU idle included; unknown bits as "reason bit 0x..").
[[nodiscard]] std::vector<std::string> clock_event_reason_list(std::uint64_t mask);
// The reasons that held the clock down: hardware slowdown, software/hardware thermal slowdown and hardware power
// brake always; software power cap when the median SM clock is under kPowerCapThrottleFraction of `max_sm_clock_hz`
// (or that maximum is unknown); never GPU idle, application clocks setting, sync boost, display clock setting.
[[nodiscard]] std::vector<std::string> throttling_reasons(std::uint64_t mask, double sm_clock_median_hz,
                                                          double max_sm_clock_hz);
// The sensor part of a sustained phase from the sampler's summary (`period_ms`: the sampler's period).
void record_sustained_sensors(SustainedPhase& phase, const SensorSummary& s, int period_ms, double max_sm_clock_hz);

}  // namespace probe::cuda
