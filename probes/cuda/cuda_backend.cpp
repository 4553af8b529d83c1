// CUDA backend: the runtime is linked statically (a node needs only the driver), NVML and everything else is
// optional. One device per CUDA device; every kernel of kernels/cuda/cuda_kernels.hpp is listed on every device
// and measured where the compute capability has the instruction natively (`skipped`, with the reason, elsewhere).
#include <cuda_runtime_api.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fmt/format.h>
#include <fstream>
#include <memory>
#include <sstream>

#include "cuda_check.hpp"
#include "gpu_host.hpp"
#include "cublaslt.hpp"
#include "cuda_kernels.hpp"
#include "fma_lanes.hpp"
#include "nvml.hpp"
#include "probe/device.hpp"
#include "probe/engine.hpp"
#include "probe/plugin.hpp"
#include "probe/version.hpp"
#include "reference.hpp"

namespace probe::cuda {

bool is_sticky(cudaError_t e) {
  switch (e) {
    case cudaErrorIllegalAddress:
    case cudaErrorLaunchFailure:
    case cudaErrorLaunchTimeout:
    case cudaErrorIllegalInstruction:
    case cudaErrorMisalignedAddress:
    case cudaErrorHardwareStackError:
    case cudaErrorInvalidAddressSpace:
    case cudaErrorInvalidPc:
    case cudaErrorAssert:
    case cudaErrorECCUncorrectable:
    case cudaErrorNvlinkUncorrectable:
      return true;
    default:
      return false;
  }
}

[[noreturn]] void throw_cuda_error(cudaError_t e, const char* expr, const char* file, int line) {
  const char* base = std::strrchr(file, '/');
  std::string what = fmt::format("{}:{}: {} failed: {}", base ? base + 1 : file, line, expr, describe(e));
  if (is_sticky(e)) throw DeviceAbortedError(std::move(what));
  throw BackendError(std::move(what));
}

std::string describe(cudaError_t e) { return fmt::format("{}: {}", cudaGetErrorName(e), cudaGetErrorString(e)); }

namespace {

using probe_cuda::ComputeKernelDesc;
using probe_cuda::Family;
using probe_cuda::MemKernel;

std::string version_text(int v) { return v <= 0 ? "none" : fmt::format("{}.{}", v / 1000, (v % 1000) / 10); }

using namespace gpu;

const void* kernel_function(const ComputeKernelDesc& d) {
  switch (d.family) {
    case Family::vector: return probe_cuda::vector_kernel_function(d.index);
    case Family::mma: return probe_cuda::mma_kernel_function(d.index);
    case Family::wgmma: return probe_cuda::wgmma_kernel_function(d.index);
  }
  return nullptr;
}

int threads_per_block(const ComputeKernelDesc& d) {
  switch (d.family) {
    case Family::vector: return probe_cuda::kVecThreadsPerBlock;
    case Family::mma: return 32 * probe_cuda::kMmaWarpsPerBlock;
    case Family::wgmma: return 128 * probe_cuda::kWgGroupsPerBlock;
  }
  return 0;
}

// The unit of a kernel, in launch_text.
const char* unit_word(const ComputeKernelDesc& d) {
  return d.threads_per_unit == 1 ? "thread" : d.threads_per_unit == 32 ? "warp" : "warpgroup";
}

std::vector<KernelSpec> all_specs() {
  std::vector<KernelSpec> v;
  for (const auto& d : probe_cuda::kComputeKernels) v.push_back(compute_spec(d));
  for (const auto& d : library_kernels()) v.push_back(library_spec(d));
  append_memory_specs(v);
  return v;
}

struct StaticInfo {
  int index = 0, cc = 0, sms = 0;
  double sm_clock_hz = 0, mem_clock_hz = 0;
  int bus_width_bits = 0;
  std::uint64_t l2_bytes = 0, memory_bytes = 0;
  std::string bus_id;
  void* nvml_dev = nullptr;
  NvmlStatic nvml;
};

class CudaDevice final : public Device {
 public:
  CudaDevice(int index, std::shared_ptr<Nvml> nvml, int driver, int runtime) : m_nvml(std::move(nvml)) {
    m_s.index = index;
    PROBE_CUDA_CHECK(cudaSetDevice(index));
    cudaDeviceProp prop{};
    PROBE_CUDA_CHECK(cudaGetDeviceProperties(&prop, index));
    auto attr = [&](cudaDeviceAttr a) {
      int v = 0;
      PROBE_CUDA_CHECK(cudaDeviceGetAttribute(&v, a, index));
      return v;
    };
    const int major = attr(cudaDevAttrComputeCapabilityMajor), minor = attr(cudaDevAttrComputeCapabilityMinor);
    m_s.cc = major * 10 + minor;
    m_s.sms = attr(cudaDevAttrMultiProcessorCount);
    m_s.sm_clock_hz = attr(cudaDevAttrClockRate) * 1e3;
    m_s.mem_clock_hz = attr(cudaDevAttrMemoryClockRate) * 1e3;
    m_s.bus_width_bits = attr(cudaDevAttrGlobalMemoryBusWidth);
    m_s.l2_bytes = static_cast<std::uint64_t>(attr(cudaDevAttrL2CacheSize));
    m_s.memory_bytes = prop.totalGlobalMem;
    m_s.bus_id = fmt::format("{:04x}:{:02x}:{:02x}.0", attr(cudaDevAttrPciDomainId), attr(cudaDevAttrPciBusId),
                             attr(cudaDevAttrPciDeviceId));
    m_specs = all_specs();

    m_info.id = fmt::format("cuda{}", index);
    m_info.backend = "cuda";
    m_info.kind = "gpu";
    m_info.name = prop.name;
    m_info.vendor = "NVIDIA";
    m_info.arch = fmt::format("sm_{}", m_s.cc);
    m_info.units = m_s.sms;
    m_info.unit_name = "SMs";
    std::string sys;
    const PciId pci = read_pci_ids(m_s.bus_id, 0x10de, sys);
    m_info.pci = pci;

    auto& p = m_info.properties;
    const auto* u = reinterpret_cast<const unsigned char*>(prop.uuid.bytes);
    p.emplace_back("uuid", fmt::format("GPU-{:02x}{:02x}{:02x}{:02x}-{:02x}{:02x}-{:02x}{:02x}-{:02x}{:02x}-{:02x}{:02x}{:02x}"
                                       "{:02x}{:02x}{:02x}",
                                       u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11], u[12],
                                       u[13], u[14], u[15]));
    p.emplace_back("pci_bus_id", m_s.bus_id);
    if (pci.device_id == 0) p.emplace_back("pci_ids", fmt::format("not readable from {} (device id unknown)", sys));
    p.emplace_back("compute_capability", fmt::format("{}.{}", major, minor));
    p.emplace_back("sm_count", std::to_string(m_s.sms));
    p.emplace_back("sm_clock_max", fmt::format("{:.0f} MHz (CUDA attribute)", m_s.sm_clock_hz / 1e6));
    p.emplace_back("memory", human_bytes(static_cast<double>(m_s.memory_bytes)));
    p.emplace_back("memory_bus_width", fmt::format("{} bits", m_s.bus_width_bits));
    p.emplace_back("memory_clock", fmt::format("{:.0f} MHz", m_s.mem_clock_hz / 1e6));
    p.emplace_back("memory_bandwidth_theoretical",
                   fmt::format("{:.1f} GB/s (2 transfers per clock × {:.0f} MHz × {} bits / 8)", theoretical_bw() / 1e9,
                               m_s.mem_clock_hz / 1e6, m_s.bus_width_bits));
    p.emplace_back("l2_cache", human_bytes(static_cast<double>(m_s.l2_bytes)));
    p.emplace_back("driver_version", fmt::format("CUDA {}{}", version_text(driver),
                                                 m_nvml->driver_version().empty() ? "" : " (" + m_nvml->driver_version() + ")"));
    p.emplace_back("runtime_version", fmt::format("CUDA {} (static)", version_text(runtime)));
    if (!m_nvml->available()) {
      p.emplace_back("nvml", m_nvml->why() + ": no serial, power, temperature or live clocks");
    } else if (m_s.nvml_dev = m_nvml->device(m_s.bus_id); !m_s.nvml_dev) {
      p.emplace_back("nvml", "NVML has no device at " + m_s.bus_id);
    } else {
      m_s.nvml = m_nvml->read_static(m_s.nvml_dev);
      const NvmlStatic& n = m_s.nvml;
      if (!n.serial.empty()) p.emplace_back("serial", n.serial);
      if (!n.board_part_number.empty()) p.emplace_back("board_part_number", n.board_part_number);
      if (!n.vbios.empty()) p.emplace_back("vbios", n.vbios);
      if (n.power_limit_w) p.emplace_back("power_limit", fmt::format("{:.0f} W", *n.power_limit_w));
      if (n.max_sm_clock_hz) p.emplace_back("sm_clock_max_nvml", fmt::format("{:.0f} MHz", *n.max_sm_clock_hz / 1e6));
      if (n.max_mem_clock_hz) p.emplace_back("memory_clock_max_nvml", fmt::format("{:.0f} MHz", *n.max_mem_clock_hz / 1e6));
      if (n.sm_clock_hz) p.emplace_back("sm_clock_now", fmt::format("{:.0f} MHz", *n.sm_clock_hz / 1e6));
      if (n.mem_clock_hz) p.emplace_back("memory_clock_now", fmt::format("{:.0f} MHz", *n.mem_clock_hz / 1e6));
      if (n.ecc_enabled) p.emplace_back("ecc", *n.ecc_enabled ? "enabled" : "disabled");
      if (n.mig_enabled) p.emplace_back("mig_mode", *n.mig_enabled ? "enabled" : "disabled");
      if (n.mig_enabled.value_or(false)) {
        m_info.partial = true;
        m_info.partial_reason = "MIG mode: CUDA sees one GPU instance, a part of the chip (TPP is defined for the whole IC)";
      }
    }
  }

  const DeviceInfo& info() const noexcept override { return m_info; }
  // Confidential-computing attestation through NVML, for the run's nonce (probe --sign).
  Attestation attest(std::string_view nonce) override { return m_nvml->attest(m_s.nvml_dev, nonce); }
  std::span<const KernelSpec> kernels() const noexcept override { return m_specs; }

  Measurement measure(const KernelSpec& spec, const RunPolicy& policy, RunContext& ctx) override {
    return measure_guarded(spec, m_s.index, [&](Measurement& m) { measure_one(m, policy, ctx); });
  }

 private:
  [[nodiscard]] double theoretical_bw() const { return 2.0 * m_s.mem_clock_hz * m_s.bus_width_bits / 8.0; }

  void measure_one(Measurement& m, const RunPolicy& policy, RunContext& ctx) {
    for (const auto& d : probe_cuda::kComputeKernels) {
      if (m.spec.id == d.id) return measure_compute(m, d, policy, ctx);
    }
    for (const auto& d : library_kernels()) {
      if (m.spec.id == d.id) {
        ctx.progress(fmt::format("{} {}", m_info.id, d.id));
        return measure_library(m, d, m_s.cc, [&](SampleRunner& r) { return sample(m, r, policy); });
      }
    }
    measure_memory(m, policy, ctx);
  }

  // Samples NVML around run_sampling and fills the conditions; notes throttling.
  SamplingOutcome sample(Measurement& m, SampleRunner& runner, const RunPolicy& policy) {
    std::optional<Nvml::Sampler> sampler;
    if (m_s.nvml_dev) sampler.emplace(*m_nvml, m_s.nvml_dev, 10);
    SamplingOutcome o = run_sampling(runner, policy);
    auto& c = m.conditions;
    c.threads = 0;
    if (sampler) {
      const SensorSummary s = sampler->stop();
      if (s.samples > 0) {
        record_sensors(m,
                       {s.samples, s.sm_clock_hz_mean, s.sm_clock_hz_min, s.sm_clock_hz_max, s.power_w_mean,
                        s.power_w_max, s.temperature_c_max},
                       fmt::format("NVML SM clock, {} samples every 10 ms during the measurement", s.samples),
                       "SM clock", m_s.nvml.max_sm_clock_hz.value_or(m_s.sm_clock_hz), m_s.nvml.power_limit_w, "limit");
        if (const std::string r = throttle_reason_names(s.throttle_reasons); !r.empty()) {
          c.notes.emplace_back("clock_event_reasons", r);
        }
      }
    }
    record_outcome(m, o, m_s.sm_clock_hz, "not measured (no NVML): the CUDA maximum SM clock attribute",
                   "CUDA events around each sample");
    return o;
  }

  // The sustained phase (policy.sustain_s > 0) of an ok measurement: the kernel back to back at the sampling's
  // calibrated length, NVML sampled every kSustainPeriodMs (>= 10 Hz), verified after (the sampling verified
  // before). The clock measured here, with the kernel running and no gaps, becomes the measurement's clock (the
  // peak's basis); the sampling phase's clock averages over its copies and checks.
  static constexpr int kSustainPeriodMs = 20;
  void sustain(Measurement& m, SampleRunner& runner, const RunPolicy& policy, RunContext& ctx) {
    if (policy.sustain_s <= 0 || !m.ok() || m.conditions.iterations == 0) return;
    ctx.progress(fmt::format("{} {} sustained {:g} s", m_info.id, m.spec.id, policy.sustain_s));
    SustainedPhase p;
    p.requested_s = policy.sustain_s;
    std::optional<Nvml::Sampler> sampler;
    if (m_s.nvml_dev) sampler.emplace(*m_nvml, m_s.nvml_dev, kSustainPeriodMs);
    const std::uint64_t iterations = m.conditions.iterations;
    const SustainRun run = run_sustained(runner, iterations, policy.sustain_s, ctx.stop_requested);
    const double max_clock = m_s.nvml.max_sm_clock_hz.value_or(m_s.sm_clock_hz);
    if (sampler) {
      const SensorSummary s = sampler->stop();
      if (s.samples > 0) {
        record_sustained_sensors(p, s, kSustainPeriodMs, max_clock);
      } else {
        p.sensors = "NVML returned no samples";
      }
    } else {
      p.sensors = !m_nvml->available() ? m_nvml->why() : "NVML has no device at " + m_s.bus_id;
    }
    finish_sustained(m, std::move(p), run, runner.work(iterations));
  }

  void measure_compute(Measurement& m, const ComputeKernelDesc& d, const RunPolicy& policy, RunContext& ctx) {
    const std::string cc = std::to_string(m_s.cc);
    if (!listed(d.runs_on, cc)) {
      m.status = Status::skipped;
      m.reason = fmt::format("{} (this device: sm_{})", d.skip_reason, m_s.cc);
      return;
    }
    m.variant = d.symbol;
    m.conditions.notes.emplace_back("instruction", d.ptx_instruction);
    m.conditions.notes.emplace_back("counting", fmt::format("{}; {} instructions per loop iteration per {}", d.counting,
                                                            d.instr_per_iter,
                                                            d.threads_per_unit == 1 ? "thread" : d.threads_per_unit == 32 ? "warp" : "warpgroup"));
    m.conditions.notes.emplace_back("verification", verification_note(d));
    if (m_s.cc >= 100 && d.family != Family::vector) {
      m.conditions.notes.emplace_back("lower_bound", "Blackwell: measured with mma.sync, not tcgen05; the tensor figure "
                                                     "is a lower bound of the chip's tensor throughput");
    }
    ctx.progress(fmt::format("{} {}", m_info.id, d.id));
    ComputeRunner runner(d, m_s.sms, kernel_function(d), threads_per_block(d), unit_word(d));
    m.conditions.notes.emplace_back("launch", runner.launch_text());
    const SamplingOutcome o = sample(m, runner, policy);
    m.conditions.work_per_sample = runner.work(o.iterations);
    sustain(m, runner, policy, ctx);
    if (auto lanes = fma_lanes_per_sm(m_s.cc, d.dtype); lanes && (m.spec.id == "fma.fp32" || m.spec.id == "fma.fp64")) {
      m.theoretical = m_s.sms * *lanes * 2.0 * m.conditions.clock_hz;
      m.theoretical_basis = fmt::format("{} SMs × {} lanes × 2 FLOP × {:.0f} MHz ({})", m_s.sms, *lanes,
                                        m.conditions.clock_hz / 1e6, m.conditions.clock_source);
    } else {
      m.theoretical_basis = "not computed here: per-SM tensor and packed rates come from the chip database";
    }
    sustained_peak(m, true);
  }

  void measure_memory(Measurement& m, const RunPolicy& policy, RunContext& ctx) {
    ctx.progress(fmt::format("{} {}", m_info.id, m.spec.id));
    // Device-memory kernels get the sustained phase too (HBM under load for as long); transfers do not.
    const auto sampler = [&](Measurement& mm, SampleRunner& r) {
      SamplingOutcome o = sample(mm, r, policy);
      if (mm.spec.id.starts_with("mem.")) sustain(mm, r, policy, ctx);
      return o;
    };
    switch (measure_memory_kernel(m, m_s.l2_bytes, m_s.sms, "cuda", sampler)) {
      case MemoryPath::transfer:
        m.theoretical_basis = "not computed: the PCIe/NVLink-C2C link is not known to the CUDA runtime";
        break;
      case MemoryPath::kernel:
        m.theoretical = theoretical_bw();
        m.theoretical_basis = fmt::format("2 transfers per clock × {:.0f} MHz memory clock × {} bits / 8 (CUDA attributes)",
                                          m_s.mem_clock_hz / 1e6, m_s.bus_width_bits);
        sustained_peak(m, false);
        break;
      case MemoryPath::unknown: break;
    }
  }

  std::shared_ptr<Nvml> m_nvml;
  StaticInfo m_s;
  DeviceInfo m_info;
  std::vector<KernelSpec> m_specs;
};

class CudaBackend final : public Backend {
 public:
  std::string_view name() const noexcept override { return "cuda"; }
  Availability availability() noexcept override {
    Availability a;
    int n = 0, driver = 0, runtime = 0;
    const cudaError_t e = cudaGetDeviceCount(&n);  // leaves n untouched on failure: initialised above
    cudaDriverGetVersion(&driver);
    cudaRuntimeGetVersion(&runtime);
    a.version = fmt::format("CUDA runtime {} (static), driver {}", version_text(runtime), version_text(driver));
    if (e == cudaErrorInsufficientDriver) {
      a.reason = driver == 0 ? "no driver (cudaErrorInsufficientDriver)"
                             : fmt::format("driver too old: CUDA {} < runtime {} (cudaErrorInsufficientDriver)",
                                           version_text(driver), version_text(runtime));
    } else if (e == cudaErrorNoDevice || (e == cudaSuccess && n == 0)) {
      a.reason = "no device (cudaErrorNoDevice)";
    } else if (e != cudaSuccess) {
      a.reason = describe(e);
    } else {
      a.available = true;
    }
    return a;
  }
  std::vector<std::unique_ptr<Device>> devices() override {
    int n = 0, driver = 0, runtime = 0;
    PROBE_CUDA_CHECK(cudaGetDeviceCount(&n));
    cudaDriverGetVersion(&driver);
    cudaRuntimeGetVersion(&runtime);
    if (!m_nvml) m_nvml = std::make_shared<Nvml>();
    std::vector<std::unique_ptr<Device>> out;
    for (int i = 0; i < n; ++i) out.push_back(std::make_unique<CudaDevice>(i, m_nvml, driver, runtime));
    return out;
  }

 private:
  std::shared_ptr<Nvml> m_nvml;
};

}  // namespace
}  // namespace probe::cuda

PROBE_DEFINE_PLUGIN("cuda", probe::cuda::CudaBackend)
