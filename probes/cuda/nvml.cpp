// NVML subset. The prototypes are NVML's public C API (stable across driver versions); the _v2 entry points are
// the ones current drivers export.
#include "nvml.hpp"

#include <dlfcn.h>

#include <algorithm>
#include <chrono>
#include <fmt/format.h>
#include <cstring>
#include <numeric>

#include "nvml_cc.hpp"

namespace probe::cuda {

namespace {
using Ret = int;  // nvmlReturn_t; 0 is NVML_SUCCESS
using Dev = void*;
constexpr int kClockSm = 1, kClockMem = 2;  // nvmlClockType_t
constexpr int kTemperatureGpu = 0;          // nvmlTemperatureSensors_t
}  // namespace

struct NvmlApi {
  Ret (*init)() = nullptr;
  Ret (*shutdown)() = nullptr;
  const char* (*error_string)(Ret) = nullptr;
  Ret (*system_driver_version)(char*, unsigned) = nullptr;
  Ret (*handle_by_pci)(const char*, Dev*) = nullptr;
  Ret (*serial)(Dev, char*, unsigned) = nullptr;
  Ret (*board_part)(Dev, char*, unsigned) = nullptr;
  Ret (*vbios)(Dev, char*, unsigned) = nullptr;
  Ret (*power_limit)(Dev, unsigned*) = nullptr;
  Ret (*max_clock)(Dev, int, unsigned*) = nullptr;
  Ret (*clock)(Dev, int, unsigned*) = nullptr;
  Ret (*temperature)(Dev, int, unsigned*) = nullptr;
  Ret (*power_usage)(Dev, unsigned*) = nullptr;
  Ret (*ecc_mode)(Dev, int*, int*) = nullptr;
  Ret (*mig_mode)(Dev, unsigned*, unsigned*) = nullptr;
  Ret (*clock_reasons)(Dev, unsigned long long*) = nullptr;
  // Confidential computing (attestation): r535+ drivers, Hopper and newer.
  Ret (*cc_state)(nvml_cc::SystemState*) = nullptr;
  Ret (*cc_report)(Dev, nvml_cc::GpuAttestationReport*) = nullptr;
  Ret (*cc_certificate)(Dev, nvml_cc::GpuCertificate*) = nullptr;
};

namespace {
template <class F>
bool resolve(void* lib, const char* name, F& fn) {
  fn = reinterpret_cast<F>(dlsym(lib, name));
  return fn != nullptr;
}
std::string text(Ret (*fn)(Dev, char*, unsigned), Dev d) {
  if (!fn) return {};
  char buf[96] = {};
  return fn(d, buf, sizeof buf) == 0 ? std::string(buf) : std::string();
}
}  // namespace

Nvml::Nvml() {
  m_lib = dlopen("libnvidia-ml.so.1", RTLD_NOW | RTLD_LOCAL);
  if (!m_lib) {
    m_why = "NVML not found (libnvidia-ml.so.1 could not be loaded)";
    return;
  }
  auto api = std::make_unique<NvmlApi>();
  const bool core = resolve(m_lib, "nvmlInit_v2", api->init) && resolve(m_lib, "nvmlShutdown", api->shutdown) &&
                    resolve(m_lib, "nvmlDeviceGetHandleByPciBusId_v2", api->handle_by_pci);
  if (!core) {
    m_why = "NVML lacks nvmlInit_v2/nvmlDeviceGetHandleByPciBusId_v2";
    dlclose(m_lib);
    m_lib = nullptr;
    return;
  }
  resolve(m_lib, "nvmlErrorString", api->error_string);
  resolve(m_lib, "nvmlSystemGetDriverVersion", api->system_driver_version);
  resolve(m_lib, "nvmlDeviceGetSerial", api->serial);
  resolve(m_lib, "nvmlDeviceGetBoardPartNumber", api->board_part);
  resolve(m_lib, "nvmlDeviceGetVbiosVersion", api->vbios);
  resolve(m_lib, "nvmlDeviceGetPowerManagementLimit", api->power_limit);
  resolve(m_lib, "nvmlDeviceGetMaxClockInfo", api->max_clock);
  resolve(m_lib, "nvmlDeviceGetClockInfo", api->clock);
  resolve(m_lib, "nvmlDeviceGetTemperature", api->temperature);
  resolve(m_lib, "nvmlDeviceGetPowerUsage", api->power_usage);
  resolve(m_lib, "nvmlDeviceGetEccMode", api->ecc_mode);
  resolve(m_lib, "nvmlDeviceGetMigMode", api->mig_mode);
  if (!resolve(m_lib, "nvmlDeviceGetCurrentClocksEventReasons", api->clock_reasons)) {
    resolve(m_lib, "nvmlDeviceGetCurrentClocksThrottleReasons", api->clock_reasons);
  }
  resolve(m_lib, "nvmlSystemGetConfComputeState", api->cc_state);
  resolve(m_lib, "nvmlDeviceGetConfComputeGpuAttestationReport", api->cc_report);
  resolve(m_lib, "nvmlDeviceGetConfComputeGpuCertificate", api->cc_certificate);
  if (const Ret r = api->init(); r != 0) {
    m_why = fmt::format("nvmlInit failed: {}", api->error_string ? api->error_string(r) : std::to_string(r));
    dlclose(m_lib);
    m_lib = nullptr;
    return;
  }
  if (api->system_driver_version) {
    char buf[96] = {};
    if (api->system_driver_version(buf, sizeof buf) == 0) m_driver = buf;
  }
  m_api = std::move(api);
}

Nvml::~Nvml() {
  if (m_api) m_api->shutdown();
  if (m_lib) dlclose(m_lib);
}

void* Nvml::device(const std::string& bus_id) const {
  if (!m_api) return nullptr;
  Dev d = nullptr;
  return m_api->handle_by_pci(bus_id.c_str(), &d) == 0 ? d : nullptr;
}

NvmlStatic Nvml::read_static(void* dev) const {
  NvmlStatic s;
  if (!m_api || !dev) return s;
  s.serial = text(m_api->serial, dev);
  s.board_part_number = text(m_api->board_part, dev);
  s.vbios = text(m_api->vbios, dev);
  unsigned v = 0;
  if (m_api->power_limit && m_api->power_limit(dev, &v) == 0) s.power_limit_w = v / 1000.0;
  if (m_api->max_clock && m_api->max_clock(dev, kClockSm, &v) == 0) s.max_sm_clock_hz = v * 1e6;
  if (m_api->max_clock && m_api->max_clock(dev, kClockMem, &v) == 0) s.max_mem_clock_hz = v * 1e6;
  if (m_api->clock && m_api->clock(dev, kClockSm, &v) == 0) s.sm_clock_hz = v * 1e6;
  if (m_api->clock && m_api->clock(dev, kClockMem, &v) == 0) s.mem_clock_hz = v * 1e6;
  int cur = 0, pend = 0;
  if (m_api->ecc_mode && m_api->ecc_mode(dev, &cur, &pend) == 0) s.ecc_enabled = cur != 0;
  unsigned mc = 0, mp = 0;
  if (m_api->mig_mode && m_api->mig_mode(dev, &mc, &mp) == 0) s.mig_enabled = mc != 0;
  return s;
}

Attestation Nvml::attest(void* dev, std::string_view nonce) const {
  Attestation a;
  auto error = [&](Ret r) { return m_api->error_string ? std::string(m_api->error_string(r)) : fmt::format("NVML error {}", r); };
  if (!m_api) {
    a.reason = m_why;
  } else if (!dev) {
    a.reason = "NVML has no handle for this device";
  } else if (!m_api->cc_report || !m_api->cc_certificate) {
    a.reason = "this NVML has no confidential-computing attestation (nvmlDeviceGetConfComputeGpuAttestationReport: "
               "driver r535 or newer)";
  } else if (nonce.size() != nvml_cc::kNonceSize) {
    a.reason = fmt::format("the nonce has {} bytes, NVML takes {}", nonce.size(), nvml_cc::kNonceSize);
  } else {
    nvml_cc::SystemState state{};
    if (m_api->cc_state && m_api->cc_state(&state) == 0 && state.ccFeature != nvml_cc::kFeatureEnabled) {
      // Hopper attests only in confidential-computing mode; say so rather than NVML's bare error.
      a.reason = "confidential computing is off on this system (nvmlSystemGetConfComputeState: ccFeature disabled)";
      return a;
    }
    // The structures are large (about 22 KiB together): on the heap, not the stack of a sampler-sized thread.
    auto report = std::make_unique<nvml_cc::GpuAttestationReport>();
    std::memcpy(report->nonce, nonce.data(), nvml_cc::kNonceSize);
    if (const Ret r = m_api->cc_report(dev, report.get()); r != 0) {
      a.reason = fmt::format("nvmlDeviceGetConfComputeGpuAttestationReport: {}", error(r));
      return a;
    }
    auto cert = std::make_unique<nvml_cc::GpuCertificate>();
    if (const Ret r = m_api->cc_certificate(dev, cert.get()); r != 0) {
      a.reason = fmt::format("nvmlDeviceGetConfComputeGpuCertificate: {}", error(r));
      return a;
    }
    // Sizes come from the driver: clamp them to the arrays so a wrong size cannot read past them.
    auto bytes = [](const unsigned char* p, unsigned n, unsigned cap) {
      return std::string(reinterpret_cast<const char*>(p), std::min(n, cap));
    };
    a.available = true;
    a.source = "NVML nvmlDeviceGetConfComputeGpuAttestationReport + nvmlDeviceGetConfComputeGpuCertificate";
    a.nonce = std::string(nonce);
    a.report = bytes(report->attestationReport, report->attestationReportSize, nvml_cc::kAttestationReportSize);
    if (report->isCecAttestationReportPresent != 0) {
      a.cec_report = bytes(report->cecAttestationReport, report->cecAttestationReportSize,
                           nvml_cc::kCecAttestationReportSize);
    }
    a.certificate_chain = bytes(cert->certChain, cert->certChainSize, nvml_cc::kCertChainSize);
    a.attestation_certificate_chain =
        bytes(cert->attestationCertChain, cert->attestationCertChainSize, nvml_cc::kAttestationCertChainSize);
  }
  return a;
}

Nvml::Sampler::Sampler(const Nvml& nvml, void* dev, int period_ms) : m_nvml(nvml), m_dev(dev), m_period_ms(period_ms) {
  if (!m_nvml.m_api || !m_dev) return;
  m_thread = std::thread([this] {
    while (!m_stop.load(std::memory_order_relaxed)) {
      sample();
      std::this_thread::sleep_for(std::chrono::milliseconds(m_period_ms));
    }
  });
}

Nvml::Sampler::~Sampler() {
  m_stop = true;
  if (m_thread.joinable()) m_thread.join();
}

void Nvml::Sampler::sample() {
  const NvmlApi& api = *m_nvml.m_api;
  unsigned v = 0;
  if (api.clock && api.clock(m_dev, kClockSm, &v) == 0) m_clock.push_back(v * 1e6);
  if (api.clock && api.clock(m_dev, kClockMem, &v) == 0) m_mem_clock.push_back(v * 1e6);
  if (api.power_usage && api.power_usage(m_dev, &v) == 0) m_power.push_back(v / 1000.0);
  if (api.temperature && api.temperature(m_dev, kTemperatureGpu, &v) == 0) m_temp.push_back(v);
  unsigned long long r = 0;
  if (api.clock_reasons && api.clock_reasons(m_dev, &r) == 0) m_reasons |= r;
}

SensorSummary Nvml::Sampler::stop() {
  m_stop = true;
  if (m_thread.joinable()) m_thread.join();
  SensorSummary s;
  s.samples = static_cast<int>(m_clock.size());
  auto mean = [](const std::vector<double>& v) {
    return v.empty() ? 0.0 : std::accumulate(v.begin(), v.end(), 0.0) / static_cast<double>(v.size());
  };
  if (!m_clock.empty()) {
    s.sm_clock_hz_mean = mean(m_clock);
    s.sm_clock_hz_min = *std::min_element(m_clock.begin(), m_clock.end());
    s.sm_clock_hz_max = *std::max_element(m_clock.begin(), m_clock.end());
  }
  if (!m_power.empty()) {
    s.power_w_mean = mean(m_power);
    s.power_w_max = *std::max_element(m_power.begin(), m_power.end());
  }
  if (!m_temp.empty()) s.temperature_c_max = *std::max_element(m_temp.begin(), m_temp.end());
  s.throttle_reasons = m_reasons;
  s.sm_clock_hz = m_clock;
  s.mem_clock_hz = m_mem_clock;
  s.power_w = m_power;
  s.temperature_c = m_temp;
  s.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - m_start).count();
  return s;
}

namespace {
// nvmlClocksEventReason* bits (nvml.h).
constexpr std::uint64_t kIdle = 0x1, kAppClocks = 0x2, kSwPowerCap = 0x4, kHwSlowdown = 0x8, kSyncBoost = 0x10,
                        kSwThermal = 0x20, kHwThermal = 0x40, kHwPowerBrake = 0x80, kDisplayClock = 0x100;
constexpr std::pair<std::uint64_t, const char*> kReasonNames[] = {
    {kIdle, "GPU idle"},
    {kAppClocks, "application clocks setting"},
    {kSwPowerCap, "software power cap"},
    {kHwSlowdown, "hardware slowdown"},
    {kSyncBoost, "sync boost"},
    {kSwThermal, "software thermal slowdown"},
    {kHwThermal, "hardware thermal slowdown"},
    {kHwPowerBrake, "hardware power brake"},
    {kDisplayClock, "display clock setting"}};
const char* reason_name(std::uint64_t bit) {
  for (const auto& [b, name] : kReasonNames) {
    if (b == bit) return name;
  }
  return "";
}
}  // namespace

std::vector<std::string> clock_event_reason_list(std::uint64_t mask) {
  std::vector<std::string> out;
  std::uint64_t known = 0;
  for (const auto& [bit, name] : kReasonNames) {
    known |= bit;
    if (mask & bit) out.emplace_back(name);
  }
  if (mask & ~known) out.push_back(fmt::format("reason bits 0x{:x}", mask & ~known));
  return out;
}

std::vector<std::string> throttling_reasons(std::uint64_t mask, double sm_clock_median_hz, double max_sm_clock_hz) {
  std::vector<std::string> out;
  for (const std::uint64_t bit : {kHwSlowdown, kSwThermal, kHwThermal, kHwPowerBrake}) {
    if (mask & bit) out.emplace_back(reason_name(bit));
  }
  const bool clock_low = max_sm_clock_hz <= 0 || sm_clock_median_hz < kPowerCapThrottleFraction * max_sm_clock_hz;
  if ((mask & kSwPowerCap) && clock_low) out.emplace_back(reason_name(kSwPowerCap));
  return out;
}

void record_sustained_sensors(SustainedPhase& p, const SensorSummary& s, int period_ms, double max_sm_clock_hz) {
  p.sensors = fmt::format("NVML every {} ms on a sampler thread", period_ms);
  p.sample_rate_hz = s.wall_s > 0 ? s.samples / s.wall_s : 0;
  p.core_clock_hz = trace_of(s.sm_clock_hz);
  p.memory_clock_hz = trace_of(s.mem_clock_hz);
  p.power_w = trace_of(s.power_w);
  p.temperature_c = trace_of(s.temperature_c);
  p.clock_event_reasons = clock_event_reason_list(s.throttle_reasons);
  p.throttled_by = throttling_reasons(s.throttle_reasons, p.core_clock_hz.median, max_sm_clock_hz);
}

std::string throttle_reason_names(std::uint64_t mask) {
  // nvmlClocksEventReason* bits (nvml.h): the ones that mean the clock was held below what was asked.
  static constexpr std::pair<std::uint64_t, const char*> kNames[] = {
      {0x4, "software power cap"},   {0x8, "hardware slowdown"},        {0x20, "software thermal slowdown"},
      {0x40, "hardware thermal slowdown"}, {0x80, "hardware power brake"}, {0x100, "display clock setting"},
      {0x2, "application clocks setting"}, {0x10, "sync boost"}};
  std::string out;
  std::uint64_t known = 0x1;  // GPU idle: not a slowdown
  for (const auto& [bit, name] : kNames) {
    known |= bit;
    if (mask & bit) out += (out.empty() ? "" : ", ") + std::string(name);
  }
  // Bits newer drivers may add are shown, not dropped.
  if (mask & ~known) out += fmt::format("{}other reason bits 0x{:x}", out.empty() ? "" : ", ", mask & ~known);
  return out;
}

}  // namespace probe::cuda
