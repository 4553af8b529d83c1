// HIP backend (AMD Instinct, CDNA2/CDNA3): the HIP runtime (libamdhip64) is linked, ROCm SMI is loaded with dlopen.
// One device per HIP device (an MI250X GCD is a device; its package is recorded). Every kernel of
// kernels/hip/hip_kernels.hpp is listed on every device and measured where this build has a code object for the
// device's gfx target and the kernel's instruction exists there (`skipped`, with the reason, elsewhere).
// Buffers, timers, the compute/memory/transfer runners and their verification are shared with the CUDA backend
// (probes/gpu/gpu_host.hpp); this file holds what is HIP-specific.
#include <hip/hip_runtime_api.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fmt/format.h>
#include <fstream>
#include <memory>
#include <sstream>
#include <climits>
#include <cstdlib>

#include "gpu_host.hpp"
#include "hip_check.hpp"
#include "hip_kernels.hpp"
#include "rocm_smi.hpp"
#include "probe/device.hpp"
#include "probe/engine.hpp"
#include "probe/plugin.hpp"
#include "probe/version.hpp"
#include "reference.hpp"

namespace probe::hip {

bool is_sticky(hipError_t e) {
  switch (e) {
    case hipErrorIllegalAddress:
    case hipErrorLaunchFailure:
    case hipErrorLaunchTimeOut:
    case hipErrorAssert:
    case hipErrorECCNotCorrectable:
    case hipErrorContextIsDestroyed:
      return true;
    default:
      return false;
  }
}

[[noreturn]] void throw_hip_error(hipError_t e, const char* expr, const char* file, int line) {
  const char* base = std::strrchr(file, '/');
  std::string what = fmt::format("{}:{}: {} failed: {}", base ? base + 1 : file, line, expr, describe(e));
  if (is_sticky(e)) throw DeviceAbortedError(std::move(what));
  throw BackendError(std::move(what));
}

std::string describe(hipError_t e) { return fmt::format("{}: {}", hipGetErrorName(e), hipGetErrorString(e)); }

namespace {

using probe_hip::ComputeKernelDesc;
using probe_hip::Family;
using probe_hip::MemKernel;

// HIP versions are major·10^7 + minor·10^5 + patch.
std::string version_text(int v) {
  return v <= 0 ? "none" : fmt::format("{}.{}.{}", v / 10000000, (v / 100000) % 100, v % 100000);
}

using namespace gpu;

const void* kernel_function(const ComputeKernelDesc& d) {
  switch (d.family) {
    case Family::vector: return probe_hip::vector_kernel_function(d.index);
    case Family::mfma: return probe_hip::mfma_kernel_function(d.index);
  }
  return nullptr;
}

int threads_per_block(const ComputeKernelDesc& d) {
  switch (d.family) {
    case Family::vector: return probe_hip::kVecThreadsPerBlock;
    case Family::mfma: return probe_hip::kWave * probe_hip::kMfmaWavesPerBlock;
  }
  return 0;
}

// The unit of a kernel, in launch_text.
const char* unit_word(const ComputeKernelDesc& d) { return d.threads_per_unit == 1 ? "thread" : "wavefront"; }

std::vector<KernelSpec> all_specs() {
  std::vector<KernelSpec> v;
  for (const auto& d : probe_hip::kComputeKernels) v.push_back(compute_spec(d));
  append_memory_specs(v);
  return v;
}

struct StaticInfo {
  int index = 0, cus = 0;
  std::string gfx;  // base target, "gfx90a" (gcnArchName without its feature suffix)
  int cdna = 0;     // 2, 3, or 0
  double sclk_hz = 0, mem_clock_hz = 0;
  int bus_width_bits = 0;
  std::uint64_t l2_bytes = 0, memory_bytes = 0;
  std::string bus_id;
  bool code_object = false;  // this build has device code for `gfx`
  std::optional<std::uint32_t> smi_dev;
  SmiStatic smi;
};

// The gfx targets this plugin was built for (CMake: PROBE_HIP_TARGETS).
bool built_for(const std::string& gfx) { return listed(PROBE_HIP_TARGETS, gfx); }

// Multi-die packages: an MI250/MI250X (PCI device 0x7408/0x740c) holds two GCDs, each a separate PCI function and
// HIP device. Two GCDs of one package sit behind the same upstream switch port on the OAM, so the key is the
// sysfs path of the endpoint minus its last two components. Not verified on hardware from this build machine.
bool multi_gcd_part(std::uint16_t device_id) { return device_id == 0x7408 || device_id == 0x740c; }
std::string package_key(const std::string& bus_id) {
  char real[4096];
  const std::string link = "/sys/bus/pci/devices/" + bus_id;
  if (!realpath(link.c_str(), real)) return {};
  std::string p = real;
  for (int i = 0; i < 2; ++i) {
    const auto slash = p.rfind('/');
    if (slash == std::string::npos) return {};
    p.resize(slash);
  }
  return p;
}

class HipDevice final : public Device {
 public:
  HipDevice(int index, std::shared_ptr<RocmSmi> smi, int driver, int runtime) : m_smi(std::move(smi)) {
    m_s.index = index;
    PROBE_HIP_CHECK(hipSetDevice(index));
    hipDeviceProp_t prop{};
    PROBE_HIP_CHECK(hipGetDeviceProperties(&prop, index));
    const std::string arch_full = prop.gcnArchName;
    m_s.gfx = arch_full.substr(0, arch_full.find(':'));
    m_s.cdna = probe_hip::cdna_family(m_s.gfx.c_str());
    m_s.code_object = built_for(m_s.gfx);
    m_s.cus = prop.multiProcessorCount;
    m_s.sclk_hz = prop.clockRate * 1e3;
    m_s.mem_clock_hz = prop.memoryClockRate * 1e3;
    m_s.bus_width_bits = prop.memoryBusWidth;
    m_s.l2_bytes = static_cast<std::uint64_t>(std::max(prop.l2CacheSize, 0));
    m_s.memory_bytes = prop.totalGlobalMem;
    m_s.bus_id = fmt::format("{:04x}:{:02x}:{:02x}.0", prop.pciDomainID, prop.pciBusID, prop.pciDeviceID);
    m_specs = all_specs();

    m_info.id = fmt::format("hip{}", index);
    m_info.backend = "hip";
    m_info.kind = "gpu";
    m_info.name = *prop.name ? prop.name : "AMD GPU " + m_s.gfx;
    m_info.vendor = "AMD";
    m_info.arch = m_s.gfx;
    m_info.units = m_s.cus;
    m_info.unit_name = "CUs";
    std::string sys;
    const PciId pci = read_pci_ids(m_s.bus_id, 0x1002, sys);
    m_info.pci = pci;

    auto& p = m_info.properties;
    p.emplace_back("pci_bus_id", m_s.bus_id);
    if (pci.device_id == 0) p.emplace_back("pci_ids", fmt::format("not readable from {} (device id unknown)", sys));
    p.emplace_back("gfx_target", arch_full);
    p.emplace_back("compute_units", std::to_string(m_s.cus));
    p.emplace_back("sclk_max", fmt::format("{:.0f} MHz (HIP clockRate)", m_s.sclk_hz / 1e6));
    p.emplace_back("memory", human_bytes(static_cast<double>(m_s.memory_bytes)));
    p.emplace_back("memory_bus_width", fmt::format("{} bits", m_s.bus_width_bits));
    p.emplace_back("memory_clock", fmt::format("{:.0f} MHz", m_s.mem_clock_hz / 1e6));
    if (m_s.cdna == 3) {
      p.emplace_back("memory_bandwidth_theoretical",
                     "not computed: HIP's memory clock attribute does not give HBM3's data rate (chip database)");
    } else {
      p.emplace_back("memory_bandwidth_theoretical",
                     fmt::format("{:.1f} GB/s (2 transfers per clock × {:.0f} MHz × {} bits / 8)", theoretical_bw() / 1e9,
                                 m_s.mem_clock_hz / 1e6, m_s.bus_width_bits));
    }
    p.emplace_back("l2_cache", human_bytes(static_cast<double>(m_s.l2_bytes)));
    p.emplace_back("driver_version", fmt::format("HIP driver {}", version_text(driver)));
    p.emplace_back("runtime_version", fmt::format("HIP runtime {}", version_text(runtime)));
    p.emplace_back("code_objects", fmt::format("built for {}", PROBE_HIP_TARGETS));
    if (!m_s.code_object) p.emplace_back("code_object", no_code_object());
    if (multi_gcd_part(pci.device_id)) {
      m_info.partial = true;
      m_info.partial_reason = "one GCD of a two-GCD package (MI250/MI250X): TPP is defined per integrated circuit; "
                              "the package's figures are the sum over its GCDs";
    }
    if (!m_smi->available()) {
      p.emplace_back("rocm_smi", m_smi->why() + ": no serial, power, temperature or live clocks");
    } else if (m_s.smi_dev = m_smi->index(m_s.bus_id); !m_s.smi_dev) {
      p.emplace_back("rocm_smi", "ROCm SMI has no device at " + m_s.bus_id);
    } else {
      m_s.smi = m_smi->read_static(*m_s.smi_dev);
      const SmiStatic& n = m_s.smi;
      p.emplace_back("rocm_smi_version", m_smi->version());
      if (!n.serial.empty()) p.emplace_back("serial", n.serial);
      if (!n.vbios.empty()) p.emplace_back("vbios", n.vbios);
      if (n.power_cap_w) p.emplace_back("power_cap", fmt::format("{:.0f} W", *n.power_cap_w));
      if (n.sclk_max_hz) p.emplace_back("sclk_max_smi", fmt::format("{:.0f} MHz", *n.sclk_max_hz / 1e6));
      if (n.mclk_max_hz) p.emplace_back("mclk_max_smi", fmt::format("{:.0f} MHz", *n.mclk_max_hz / 1e6));
      if (n.sclk_hz) p.emplace_back("sclk_now", fmt::format("{:.0f} MHz", *n.sclk_hz / 1e6));
      if (n.mclk_hz) p.emplace_back("mclk_now", fmt::format("{:.0f} MHz", *n.mclk_hz / 1e6));
    }
  }

  const DeviceInfo& info() const noexcept override { return m_info; }
  std::span<const KernelSpec> kernels() const noexcept override { return m_specs; }
  [[nodiscard]] const std::string& bus_id() const { return m_s.bus_id; }
  [[nodiscard]] bool multi_gcd() const { return m_info.partial && m_info.pci && multi_gcd_part(m_info.pci->device_id); }
  // Records the physical package (set by the backend once every device is enumerated).
  void set_package(const std::string& text) { m_info.properties.emplace_back("package", text); }

  Measurement measure(const KernelSpec& spec, const RunPolicy& policy, RunContext& ctx) override {
    return measure_guarded(spec, m_s.index, [&](Measurement& m) { measure_one(m, policy, ctx); });
  }

 private:
  [[nodiscard]] double theoretical_bw() const { return 2.0 * m_s.mem_clock_hz * m_s.bus_width_bits / 8.0; }
  [[nodiscard]] std::string no_code_object() const {
    return fmt::format("no code object for {} in this build; rebuild with ROCm ≥ 6 — see docs/hip.md", m_s.gfx);
  }

  void measure_one(Measurement& m, const RunPolicy& policy, RunContext& ctx) {
    if (!m_s.code_object) {  // a device kernel launch would fail with hipErrorNoBinaryForGpu
      m.status = Status::skipped;
      m.reason = no_code_object();
      return;
    }
    for (const auto& d : probe_hip::kComputeKernels) {
      if (m.spec.id == d.id) return measure_compute(m, d, policy, ctx);
    }
    measure_memory(m, policy, ctx);
  }

  SamplingOutcome sample(Measurement& m, SampleRunner& runner, const RunPolicy& policy) {
    std::optional<RocmSmi::Sampler> sampler;
    if (m_s.smi_dev) sampler.emplace(*m_smi, *m_s.smi_dev, 10);
    SamplingOutcome o = run_sampling(runner, policy);
    auto& c = m.conditions;
    c.threads = 0;
    if (sampler) {
      const SensorSummary s = sampler->stop();
      if (s.samples > 0) {
        record_sensors(m,
                       {s.samples, s.sclk_hz_mean, s.sclk_hz_min, s.sclk_hz_max, s.power_w_mean, s.power_w_max,
                        s.temperature_c_max},
                       fmt::format("ROCm SMI sclk, {} samples every 10 ms during the measurement", s.samples), "sclk",
                       m_s.smi.sclk_max_hz.value_or(m_s.sclk_hz), m_s.smi.power_cap_w, "cap");
      }
    }
    record_outcome(m, o, m_s.sclk_hz, "not measured (no ROCm SMI): the HIP maximum clock attribute",
                   "HIP events around each sample");
    return o;
  }

  // The sustained phase (policy.sustain_s > 0), as the CUDA backend's: ROCm SMI every kSustainPeriodMs; ROCm SMI's
  // throttle status is not read, so the reason lists stay empty and `sensors` says so.
  static constexpr int kSustainPeriodMs = 20;
  void sustain(Measurement& m, SampleRunner& runner, const RunPolicy& policy, RunContext& ctx) {
    if (policy.sustain_s <= 0 || !m.ok() || m.conditions.iterations == 0) return;
    ctx.progress(fmt::format("{} {} sustained {:g} s", m_info.id, m.spec.id, policy.sustain_s));
    SustainedPhase p;
    p.requested_s = policy.sustain_s;
    std::optional<RocmSmi::Sampler> sampler;
    if (m_s.smi_dev) sampler.emplace(*m_smi, *m_s.smi_dev, kSustainPeriodMs);
    const std::uint64_t iterations = m.conditions.iterations;
    const SustainRun run = run_sustained(runner, iterations, policy.sustain_s, ctx.stop_requested);
    if (sampler) {
      const SensorSummary s = sampler->stop();
      p.sensors = fmt::format("ROCm SMI every {} ms on a sampler thread; clock event reasons not read", kSustainPeriodMs);
      p.sample_rate_hz = s.wall_s > 0 ? s.samples / s.wall_s : 0;
      p.core_clock_hz = trace_of(s.sclk_hz);
      p.memory_clock_hz = trace_of(s.mclk_hz);
      p.power_w = trace_of(s.power_w);
      p.temperature_c = trace_of(s.temperature_c);
    } else {
      p.sensors = !m_smi->available() ? m_smi->why() : "ROCm SMI has no device at " + m_s.bus_id;
    }
    finish_sustained(m, std::move(p), run, runner.work(iterations));
  }

  void measure_compute(Measurement& m, const ComputeKernelDesc& d, const RunPolicy& policy, RunContext& ctx) {
    const char* instr = probe_hip::instruction_for(d, m_s.cdna);
    if (*instr == 0) {
      m.status = Status::skipped;
      m.reason = fmt::format("{} has no such instruction (CDNA2 forms: {}; CDNA3 forms: {})", m_s.gfx,
                             *d.isa_cdna2 ? d.isa_cdna2 : "none", *d.isa_cdna3 ? d.isa_cdna3 : "none");
      return;
    }
    m.variant = d.symbol;
    m.conditions.notes.emplace_back("instruction", instr);
    m.conditions.notes.emplace_back("counting", fmt::format("{}; {} instructions per loop iteration per {}", d.counting,
                                                            d.instr_per_iter, d.threads_per_unit == 1 ? "lane" : "wavefront"));
    m.conditions.notes.emplace_back("verification", verification_note(d));
    ctx.progress(fmt::format("{} {}", m_info.id, d.id));
    ComputeRunner runner(d, m_s.cus, kernel_function(d), threads_per_block(d), unit_word(d));
    m.conditions.notes.emplace_back("launch", runner.launch_text());
    const SamplingOutcome o = sample(m, runner, policy);
    m.conditions.work_per_sample = runner.work(o.iterations);
    sustain(m, runner, policy, ctx);
    if (m.spec.id == "fma.fp64" || m.spec.id == "fma.fp32") {
      // CDNA2/CDNA3: 64 lanes per CU, FP64 and packed FP32 at 2 FMAs per lane per clock.
      const double per_cu = 64 * 2 * 2;
      m.theoretical = m_s.cus * per_cu * m.conditions.clock_hz;
      m.theoretical_basis = fmt::format("{} CUs × 64 lanes × 2 FMA (packed/full-rate FP64) × 2 FLOP × {:.0f} MHz ({})",
                                        m_s.cus, m.conditions.clock_hz / 1e6, m.conditions.clock_source);
    } else {
      m.theoretical_basis = "not computed here: MFMA and packed rates per CU come from the chip database";
    }
    sustained_peak(m, true);
  }

  void measure_memory(Measurement& m, const RunPolicy& policy, RunContext& ctx) {
    ctx.progress(fmt::format("{} {}", m_info.id, m.spec.id));
    const auto sampler = [&](Measurement& mm, SampleRunner& r) {
      SamplingOutcome o = sample(mm, r, policy);
      if (mm.spec.id.starts_with("mem.")) sustain(mm, r, policy, ctx);
      return o;
    };
    switch (measure_memory_kernel(m, m_s.l2_bytes, m_s.cus, "hip", sampler)) {
      case MemoryPath::transfer:
        m.theoretical_basis = "not computed: the PCIe/Infinity Fabric link is not known to the HIP runtime";
        break;
      case MemoryPath::kernel:
        if (m_s.cdna != 3) {
          m.theoretical = theoretical_bw();
          m.theoretical_basis = fmt::format("2 transfers per clock × {:.0f} MHz memory clock × {} bits / 8 (HIP attributes)",
                                            m_s.mem_clock_hz / 1e6, m_s.bus_width_bits);
          sustained_peak(m, false);
        } else {
          m.theoretical_basis = "not computed: HIP's memory clock attribute does not give HBM3's data rate (chip database)";
        }
        break;
      case MemoryPath::unknown: break;
    }
  }

  std::shared_ptr<RocmSmi> m_smi;
  StaticInfo m_s;
  DeviceInfo m_info;
  std::vector<KernelSpec> m_specs;
};

class HipBackend final : public Backend {
 public:
  std::string_view name() const noexcept override { return "hip"; }
  Availability availability() noexcept override {
    Availability a;
    int n = 0, driver = 0, runtime = 0;
    const hipError_t e = hipGetDeviceCount(&n);
    (void)hipDriverGetVersion(&driver);
    (void)hipRuntimeGetVersion(&runtime);
    a.version = fmt::format("HIP runtime {}, driver {}; code objects for {}", version_text(runtime),
                            version_text(driver), PROBE_HIP_TARGETS);
    if (e == hipErrorNoDevice || (e == hipSuccess && n == 0)) {
      a.reason = "no device (hipErrorNoDevice)";
    } else if (e != hipSuccess) {
      a.reason = describe(e);
    } else {
      a.available = true;
    }
    return a;
  }
  std::vector<std::unique_ptr<Device>> devices() override {
    int n = 0, driver = 0, runtime = 0;
    PROBE_HIP_CHECK(hipGetDeviceCount(&n));
    (void)hipDriverGetVersion(&driver);
    (void)hipRuntimeGetVersion(&runtime);
    if (!m_smi) m_smi = std::make_shared<RocmSmi>();
    std::vector<HipDevice*> gcds;
    std::vector<std::unique_ptr<Device>> out;
    for (int i = 0; i < n; ++i) {
      auto d = std::make_unique<HipDevice>(i, m_smi, driver, runtime);
      if (d->multi_gcd()) gcds.push_back(d.get());
      out.push_back(std::move(d));
    }
    // Group the GCDs of each multi-die package (same upstream switch port).
    std::vector<std::pair<std::string, std::vector<HipDevice*>>> packages;
    for (HipDevice* d : gcds) {
      const std::string key = package_key(d->bus_id());
      auto it = std::find_if(packages.begin(), packages.end(), [&](const auto& p) { return !key.empty() && p.first == key; });
      if (it == packages.end()) packages.push_back({key, {d}});
      else it->second.push_back(d);
    }
    for (std::size_t k = 0; k < packages.size(); ++k) {
      std::string members;
      for (HipDevice* d : packages[k].second) members += (members.empty() ? "" : ", ") + d->info().id + " (" + d->bus_id() + ")";
      const std::size_t count = packages[k].second.size();
      for (HipDevice* d : packages[k].second) {
        d->set_package(fmt::format("package {}: {} of 2 GCDs found: {}{}", k, count, members,
                                   count == 2 ? "" : " (the other GCD is not visible to HIP)"));
      }
    }
    return out;
  }

 private:
  std::shared_ptr<RocmSmi> m_smi;
};

}  // namespace
}  // namespace probe::hip

PROBE_DEFINE_PLUGIN("hip", probe::hip::HipBackend)
