#pragma once
// ROCm SMI through dlopen("librocm_smi64.so.1") with our own declarations of the subset used (no link-time
// dependency: the Debian CMake config is broken, and a node without it still measures). rsmi_init prints
// "Failed to open drm root directory" to stderr on machines without a GPU: stderr is captured around it and the
// text goes into why() instead.
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <thread>
#include <vector>

namespace probe::hip {

// The ABI-dependent decoding behind RocmSmi, pure so that tests/hip/test_rocm_smi.cpp checks it without a GPU.
namespace rsmi {
// Bytes handed to rsmi_dev_gpu_clk_freq_get: more than the largest known rsmi_frequencies_t (280 bytes), so a
// library whose struct grew again still writes inside our buffer.
inline constexpr std::size_t kFreqBufBytes = 512;
// The frequency (Hz) at the current DPM level, or at the highest with want_max, from an rsmi_frequencies_t written
// by a library whose rsmi_version_get major is lib_major; nullopt when the counts are out of range for that layout.
[[nodiscard]] std::optional<std::uint64_t> decode_clock_hz(std::span<const unsigned char> raw, int lib_major,
                                                           bool want_max);

struct PciAddress {
  std::uint32_t domain = 0, bus = 0, device = 0;
};
// "dddd:bb:dd.f" (hwloc's format, as the HIP backend writes it); the function is not kept.
[[nodiscard]] std::optional<PciAddress> parse_bus_id(const std::string& bus_id);
// rsmi_dev_pci_id_get's BDFID names this domain/bus/device (partition id and function bits ignored).
[[nodiscard]] bool same_pci_device(std::uint64_t bdfid, const PciAddress& at);
// The SMI index for the chip at `at`, given every SMI device's BDFID (nullopt where the call failed).
[[nodiscard]] std::optional<std::uint32_t> pick_smi_device(std::span<const std::optional<std::uint64_t>> bdfids,
                                                           const PciAddress& at);
}  // namespace rsmi

struct RsmiApi;

struct SmiStatic {
  std::string serial, vbios;
  std::optional<double> power_cap_w;
  std::optional<double> sclk_hz, mclk_hz;          // current, at enumeration
  std::optional<double> sclk_max_hz, mclk_max_hz;  // highest DPM level
};

struct SensorSummary {
  int samples = 0;
  double sclk_hz_mean = 0, sclk_hz_min = 0, sclk_hz_max = 0;
  double power_w_mean = 0, power_w_max = 0;
  double temperature_c_max = 0;  // junction (hotspot), else edge
  // Every sample, in order (the sustained phase's traces), and the sampler's wall time from start to stop.
  std::vector<double> sclk_hz, mclk_hz, power_w, temperature_c;
  double wall_s = 0;
};

class RocmSmi {
 public:
  RocmSmi();  // never throws
  ~RocmSmi();
  RocmSmi(const RocmSmi&) = delete;
  RocmSmi& operator=(const RocmSmi&) = delete;

  [[nodiscard]] bool available() const noexcept { return m_api != nullptr; }
  [[nodiscard]] const std::string& why() const noexcept { return m_why; }
  [[nodiscard]] const std::string& version() const noexcept { return m_version; }
  // The SMI index of the device at a PCI bus id ("0000:c1:00.0").
  [[nodiscard]] std::optional<std::uint32_t> index(const std::string& bus_id) const;
  [[nodiscard]] SmiStatic read_static(std::uint32_t dev) const;

  class Sampler {
   public:
    Sampler(const RocmSmi& smi, std::uint32_t dev, int period_ms);
    ~Sampler();
    Sampler(const Sampler&) = delete;
    Sampler& operator=(const Sampler&) = delete;
    SensorSummary stop();

   private:
    void sample();
    const RocmSmi& m_smi;
    std::uint32_t m_dev;
    int m_period_ms;
    std::atomic<bool> m_stop{false};
    std::vector<double> m_clock, m_mem_clock, m_power, m_temp;
    std::chrono::steady_clock::time_point m_start = std::chrono::steady_clock::now();
    std::thread m_thread;
  };

 private:
  [[nodiscard]] std::optional<double> clock_now(std::uint32_t dev, int type, bool want_max = false) const;
  [[nodiscard]] std::optional<double> power_now_w(std::uint32_t dev) const;
  void* m_lib = nullptr;
  std::unique_ptr<RsmiApi> m_api;
  std::string m_why, m_version;
  int m_major = 0;
};

}  // namespace probe::hip
