// HIP backend (AMD Instinct, CDNA2/CDNA3): the HIP runtime (libamdhip64) is linked, ROCm SMI is loaded with dlopen.
// One device per HIP device (an MI250X GCD is a device; its package is recorded). Every kernel of
// kernels/hip/hip_kernels.hpp is listed on every device and measured where this build has a code object for the
// device's gfx target and the kernel's instruction exists there (`skipped`, with the reason, elsewhere).
// Structure and verification follow the CUDA backend (probes/cuda/cuda_backend.cpp).
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

#include "hip_check.hpp"
#include "hip_kernels.hpp"
#include "rocm_smi.hpp"
#include "probe/device.hpp"
#include "probe/engine.hpp"
#include "probe/plugin.hpp"
#include "probe/version.hpp"
#include "reference.hpp"

namespace probe::hip {

[[noreturn]] void throw_hip_error(hipError_t e, const char* expr, const char* file, int line) {
  const char* base = std::strrchr(file, '/');
  throw BackendError(fmt::format("{}:{}: {} failed: {}", base ? base + 1 : file, line, expr, describe(e)));
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

std::string human_bytes(double b) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  int u = 0;
  while (b >= 1024 && u < 4) {
    b /= 1024;
    ++u;
  }
  return fmt::format("{:.4g} {}", b, units[u]);
}

// "0x10de\n" from sysfs, the files hwloc reads for its PCI objects.
std::optional<std::uint16_t> read_sysfs_hex(const std::string& path) {
  std::ifstream f(path);
  unsigned v = 0;
  if (!(f >> std::hex >> v)) return std::nullopt;
  return static_cast<std::uint16_t>(v);
}

bool listed(const char* list, const std::string& item) {
  std::istringstream in(list);
  std::string w;
  while (in >> w) {
    if (w == item) return true;
  }
  return false;
}

// Event pair around a region of the stream, destroyed with the runner.
class EventTimer {
 public:
  EventTimer() {
    PROBE_HIP_CHECK(hipEventCreate(&m_start));
    PROBE_HIP_CHECK(hipEventCreate(&m_stop));
  }
  ~EventTimer() {
    (void)hipEventDestroy(m_start);
    (void)hipEventDestroy(m_stop);
  }
  EventTimer(const EventTimer&) = delete;
  EventTimer& operator=(const EventTimer&) = delete;
  void start(hipStream_t s) { PROBE_HIP_CHECK(hipEventRecord(m_start, s)); }
  double stop_seconds(hipStream_t s) {
    PROBE_HIP_CHECK(hipEventRecord(m_stop, s));
    PROBE_HIP_CHECK(hipEventSynchronize(m_stop));
    float ms = 0;
    PROBE_HIP_CHECK(hipEventElapsedTime(&ms, m_start, m_stop));
    return ms / 1e3;
  }

 private:
  hipEvent_t m_start = nullptr, m_stop = nullptr;
};

struct DeviceBuffer {
  void* p = nullptr;
  explicit DeviceBuffer(std::size_t n) { PROBE_HIP_CHECK(hipMalloc(&p, n)); }
  ~DeviceBuffer() { (void)hipFree(p); }
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;
};

struct PinnedBuffer {
  void* p = nullptr;
  explicit PinnedBuffer(std::size_t n) { PROBE_HIP_CHECK(hipHostMalloc(&p, n)); }
  ~PinnedBuffer() { (void)hipHostFree(p); }
  PinnedBuffer(const PinnedBuffer&) = delete;
  PinnedBuffer& operator=(const PinnedBuffer&) = delete;
};

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

class ComputeRunner final : public SampleRunner {
 public:
  ComputeRunner(const ComputeKernelDesc& d, int cus) : m_desc(d), m_fn(kernel_function(d)) {
    m_block = threads_per_block(d);
    int per_sm = 0;
    PROBE_HIP_CHECK(hipOccupancyMaxActiveBlocksPerMultiprocessor(&per_sm, m_fn, m_block, 0));
    if (per_sm < 1) throw BackendError(fmt::format("{}: the kernel cannot be resident on a CU", d.id));
    m_blocks = cus * per_sm;  // a full wave: every CU holds as many blocks as fit, none waits
    m_problem = make_problem(d, static_cast<std::size_t>(m_blocks) * m_block / d.threads_per_unit, 0x5eed0000u + d.index);
    m_in = std::make_unique<DeviceBuffer>(m_problem.input.size());
    m_out = std::make_unique<DeviceBuffer>(m_problem.output_bytes);
    PROBE_HIP_CHECK(hipMemcpy(m_in->p, m_problem.input.data(), m_problem.input.size(), hipMemcpyHostToDevice));
    PROBE_HIP_CHECK(hipStreamCreateWithFlags(&m_stream, hipStreamNonBlocking));
    m_host_out.resize(m_problem.output_bytes);
  }
  ~ComputeRunner() override { (void)hipStreamDestroy(m_stream); }
  ComputeRunner(const ComputeRunner&) = delete;
  ComputeRunner& operator=(const ComputeRunner&) = delete;

  double run(std::uint64_t iterations) override {
    // Poisoned before every run: a unit that does not store its result fails verification.
    PROBE_HIP_CHECK(hipMemsetAsync(m_out->p, 0xA5, m_problem.output_bytes, m_stream));
    const void* in = m_in->p;
    void* out = m_out->p;
    unsigned long long n = iterations;
    void* args[] = {&in, &out, &n};
    m_timer.start(m_stream);
    PROBE_HIP_CHECK(hipLaunchKernel(m_fn, dim3(static_cast<unsigned>(m_blocks)), dim3(static_cast<unsigned>(m_block)),
                                      args, 0, m_stream));
    PROBE_HIP_CHECK(hipGetLastError());
    return m_timer.stop_seconds(m_stream);
  }
  std::optional<std::string> verify(std::uint64_t iterations, bool) override {
    PROBE_HIP_CHECK(hipMemcpy(m_host_out.data(), m_out->p, m_host_out.size(), hipMemcpyDeviceToHost));
    return check_output(m_problem, m_host_out, iterations);
  }
  double work(std::uint64_t iterations) const override {
    return m_desc.ops_per_iter() * static_cast<double>(iterations) * static_cast<double>(m_problem.units);
  }
  [[nodiscard]] std::string launch_text() const {
    return fmt::format("{} blocks × {} threads ({} {}s)", m_blocks, m_block, m_problem.units,
                       m_desc.threads_per_unit == 1 ? "thread" : "wavefront");
  }

 private:
  const ComputeKernelDesc& m_desc;
  const void* m_fn;
  int m_block = 0, m_blocks = 0;
  ComputeProblem m_problem;
  std::unique_ptr<DeviceBuffer> m_in, m_out;
  std::vector<std::uint8_t> m_host_out;
  hipStream_t m_stream = nullptr;
  EventTimer m_timer;
};

// Arrays of the memory kernels: filled from a deterministic hash (so that verification streams through them in
// chunks instead of keeping a host copy), moved in 64 MiB pinned chunks.
constexpr std::size_t kChunk = std::size_t{64} << 20;
constexpr std::uint64_t kMemSeed = 0x3c6ef372fe94f82bull;

void fill_array(void* dev, std::size_t bytes, int which, bool triad, PinnedBuffer& staging) {
  auto* w = static_cast<std::uint32_t*>(staging.p);
  for (std::size_t off = 0; off < bytes; off += kChunk) {
    const std::size_t n = std::min(kChunk, bytes - off);
    for (std::size_t i = 0; i < n / 4; ++i) {
      const std::size_t g = off / 4 + i;
      w[i] = triad ? std::bit_cast<std::uint32_t>(triad_value(kMemSeed, which, g)) : memory_word(kMemSeed, which, g);
    }
    PROBE_HIP_CHECK(hipMemcpy(static_cast<char*>(dev) + off, w, n, hipMemcpyHostToDevice));
  }
}

// Compares a device array with want(i) for every 32-bit word; the first mismatch, if any.
template <class F>
std::optional<std::string> compare_array(const void* dev, std::size_t bytes, PinnedBuffer& staging, F want,
                                         const char* name) {
  auto* w = static_cast<const std::uint32_t*>(staging.p);
  for (std::size_t off = 0; off < bytes; off += kChunk) {
    const std::size_t n = std::min(kChunk, bytes - off);
    PROBE_HIP_CHECK(hipMemcpy(staging.p, static_cast<const char*>(dev) + off, n, hipMemcpyDeviceToHost));
    for (std::size_t i = 0; i < n / 4; ++i) {
      const std::size_t g = off / 4 + i;
      const std::uint32_t e = want(g);
      if (w[i] != e) return fmt::format("{}[word {}] = 0x{:08x}, expected 0x{:08x}", name, g, w[i], e);
    }
  }
  return std::nullopt;
}

class MemoryRunner final : public SampleRunner {
 public:
  MemoryRunner(MemKernel k, std::size_t array_bytes, int cus) : m_kernel(k), m_bytes(array_bytes), m_staging(kChunk) {
    m_fn = probe_hip::memory_kernel_function(k);
    int per_sm = 0;
    PROBE_HIP_CHECK(hipOccupancyMaxActiveBlocksPerMultiprocessor(&per_sm, m_fn, probe_hip::kMemThreadsPerBlock, 0));
    m_blocks = cus * std::max(per_sm, 1);
    const int arrays = probe_hip::kMemArrays[static_cast<int>(k)];
    for (int i = 0; i < arrays; ++i) m_arrays.push_back(std::make_unique<DeviceBuffer>(m_bytes));
    const bool triad = k == MemKernel::triad;
    // read: a; write: c; copy: a → c; triad: b, c → a (inputs first, the output last).
    const int inputs = k == MemKernel::read ? 1 : arrays - 1;
    for (int i = 0; i < inputs; ++i) {
      fill_array(m_arrays[static_cast<std::size_t>(i)]->p, m_bytes, i, triad, m_staging);
    }
    if (k != MemKernel::read) PROBE_HIP_CHECK(hipMemset(m_arrays.back()->p, 0xA5, m_bytes));
    if (k == MemKernel::read) {
      m_partial = std::make_unique<DeviceBuffer>(static_cast<std::size_t>(m_blocks) * probe_hip::kMemThreadsPerBlock * 4);
      for (std::size_t i = 0; i < m_bytes / 4; ++i) m_read_sum += memory_word(kMemSeed, 0, i);
    }
    PROBE_HIP_CHECK(hipStreamCreateWithFlags(&m_stream, hipStreamNonBlocking));
  }
  ~MemoryRunner() override { (void)hipStreamDestroy(m_stream); }
  MemoryRunner(const MemoryRunner&) = delete;
  MemoryRunner& operator=(const MemoryRunner&) = delete;

  double run(std::uint64_t passes) override {
    std::size_t n = m_bytes / 16;
    void* a = m_arrays[0]->p;
    void* b = m_arrays.size() > 1 ? m_arrays[1]->p : nullptr;
    void* c = m_arrays.size() > 2 ? m_arrays[2]->p : nullptr;
    void* partial = m_partial ? m_partial->p : nullptr;
    std::uint32_t value = kWriteValue;
    float s = kTriadScalar;
    std::vector<void*> args;
    switch (m_kernel) {
      case MemKernel::read: args = {&a, &n, &partial}; break;
      case MemKernel::write: args = {&a, &n, &value}; break;
      case MemKernel::copy: args = {&a, &b, &n}; break;
      case MemKernel::triad: args = {&a, &b, &c, &n, &s}; break;  // b=arrays[0], c=arrays[1], out=arrays[2]
    }
    m_timer.start(m_stream);
    for (std::uint64_t i = 0; i < passes; ++i) {
      PROBE_HIP_CHECK(hipLaunchKernel(m_fn, dim3(static_cast<unsigned>(m_blocks)),
                                        dim3(probe_hip::kMemThreadsPerBlock), args.data(), 0, m_stream));
    }
    PROBE_HIP_CHECK(hipGetLastError());
    return m_timer.stop_seconds(m_stream);
  }
  std::optional<std::string> verify(std::uint64_t, bool final) override {
    if (m_kernel == MemKernel::read) {  // cheap: the per-thread partial sums
      std::vector<std::uint32_t> part(static_cast<std::size_t>(m_blocks) * probe_hip::kMemThreadsPerBlock);
      PROBE_HIP_CHECK(hipMemcpy(part.data(), m_partial->p, part.size() * 4, hipMemcpyDeviceToHost));
      std::uint32_t sum = 0;
      for (const auto x : part) sum += x;
      if (sum != m_read_sum) return fmt::format("sum of the words read 0x{:08x}, expected 0x{:08x}", sum, m_read_sum);
      return std::nullopt;
    }
    if (!final) return std::nullopt;  // a full check is another pass over the arrays: once, at the end
    switch (m_kernel) {
      case MemKernel::write:
        return compare_array(m_arrays[0]->p, m_bytes, m_staging, [](std::size_t) { return kWriteValue; }, "c");
      case MemKernel::copy:
        return compare_array(m_arrays[1]->p, m_bytes, m_staging,
                             [](std::size_t i) { return memory_word(kMemSeed, 0, i); }, "c");
      case MemKernel::triad:
        return compare_array(m_arrays[2]->p, m_bytes, m_staging, [](std::size_t i) {
          return std::bit_cast<std::uint32_t>(triad_value(kMemSeed, 0, i) + kTriadScalar * triad_value(kMemSeed, 1, i));
        }, "a");
      case MemKernel::read: break;
    }
    return std::nullopt;
  }
  double work(std::uint64_t passes) const override {
    return static_cast<double>(passes) * static_cast<double>(m_bytes / 16) *
           probe_hip::kMemCountedBytes[static_cast<int>(m_kernel)];
  }
  [[nodiscard]] std::uint64_t working_set() const { return m_bytes * m_arrays.size(); }
  [[nodiscard]] int blocks() const { return m_blocks; }

 private:
  static constexpr std::uint32_t kWriteValue = 0x3f9e3779u;
  MemKernel m_kernel;
  std::size_t m_bytes;
  const void* m_fn = nullptr;
  int m_blocks = 0;
  std::vector<std::unique_ptr<DeviceBuffer>> m_arrays;
  std::unique_ptr<DeviceBuffer> m_partial;
  std::uint32_t m_read_sum = 0;
  PinnedBuffer m_staging;
  hipStream_t m_stream = nullptr;
  EventTimer m_timer;
};

// Host↔device copies from/to pinned host memory; each byte is counted once (nvbandwidth's convention).
class TransferRunner final : public SampleRunner {
 public:
  TransferRunner(bool to_device, std::size_t bytes) : m_to_device(to_device), m_bytes(bytes), m_host(bytes), m_dev(bytes) {
    auto* w = static_cast<std::uint32_t*>(m_host.p);
    for (std::size_t i = 0; i < bytes / 4; ++i) w[i] = memory_word(kMemSeed, 7, i);
    if (!to_device) PROBE_HIP_CHECK(hipMemcpy(m_dev.p, m_host.p, bytes, hipMemcpyHostToDevice));
    PROBE_HIP_CHECK(hipStreamCreateWithFlags(&m_stream, hipStreamNonBlocking));
  }
  ~TransferRunner() override { (void)hipStreamDestroy(m_stream); }
  TransferRunner(const TransferRunner&) = delete;
  TransferRunner& operator=(const TransferRunner&) = delete;
  double run(std::uint64_t n) override {
    m_timer.start(m_stream);
    for (std::uint64_t i = 0; i < n; ++i) {
      PROBE_HIP_CHECK(m_to_device ? hipMemcpyAsync(m_dev.p, m_host.p, m_bytes, hipMemcpyHostToDevice, m_stream)
                                   : hipMemcpyAsync(m_host.p, m_dev.p, m_bytes, hipMemcpyDeviceToHost, m_stream));
    }
    return m_timer.stop_seconds(m_stream);
  }
  std::optional<std::string> verify(std::uint64_t, bool final) override {
    if (!final) return std::nullopt;
    if (m_to_device) {
      PinnedBuffer staging(kChunk);
      return compare_array(m_dev.p, m_bytes, staging, [](std::size_t i) { return memory_word(kMemSeed, 7, i); },
                           "device copy");
    }
    const auto* w = static_cast<const std::uint32_t*>(m_host.p);
    for (std::size_t i = 0; i < m_bytes / 4; ++i) {
      if (w[i] != memory_word(kMemSeed, 7, i)) return fmt::format("host copy word {} differs", i);
    }
    return std::nullopt;
  }
  double work(std::uint64_t n) const override { return static_cast<double>(n) * static_cast<double>(m_bytes); }

 private:
  bool m_to_device;
  std::size_t m_bytes;
  PinnedBuffer m_host;
  DeviceBuffer m_dev;
  hipStream_t m_stream = nullptr;
  EventTimer m_timer;
};

KernelSpec compute_spec(const ComputeKernelDesc& d) {
  return KernelSpec{d.id, d.title, dtype_from_string(d.dtype).value_or(DType::none), Unit::ops_per_s,
                    KernelClass::compute, d.counting};
}
KernelSpec memory_spec(std::string id, std::string title, std::string counting) {
  return KernelSpec{std::move(id), std::move(title), DType::none, Unit::bytes_per_s, KernelClass::memory,
                    std::move(counting)};
}

std::vector<KernelSpec> all_specs() {
  std::vector<KernelSpec> v;
  for (const auto& d : probe_hip::kComputeKernels) v.push_back(compute_spec(d));
  v.push_back(memory_spec("mem.read", "Device memory read (16-byte loads)", "BabelStream: 16 B per element read"));
  v.push_back(memory_spec("mem.write", "Device memory write (16-byte stores)", "BabelStream: 16 B per element written"));
  v.push_back(memory_spec("mem.copy", "Device memory copy c=a", "BabelStream: 32 B per element (read + write)"));
  v.push_back(memory_spec("mem.triad", "Device memory triad a=b+s·c (fp32)", "BabelStream: 48 B per element"));
  v.push_back(memory_spec("xfer.h2d", "Host to device, pinned", "bytes copied, counted once"));
  v.push_back(memory_spec("xfer.d2h", "Device to host, pinned", "bytes copied, counted once"));
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
    PciId pci;
    pci.bus_id = m_s.bus_id;
    pci.vendor_id = 0x1002;
    const std::string sys = "/sys/bus/pci/devices/" + m_s.bus_id + "/";
    if (auto v = read_sysfs_hex(sys + "vendor")) pci.vendor_id = *v;
    pci.device_id = read_sysfs_hex(sys + "device").value_or(0);
    pci.subvendor_id = read_sysfs_hex(sys + "subsystem_vendor").value_or(0);
    pci.subdevice_id = read_sysfs_hex(sys + "subsystem_device").value_or(0);
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
    Measurement m;
    m.spec = spec;
    m.conditions.started_at = utc_now_iso8601();
    const auto t0 = std::chrono::steady_clock::now();
    try {
      PROBE_HIP_CHECK(hipSetDevice(m_s.index));
      measure_one(m, policy, ctx);
    } catch (const std::exception& e) {
      m.status = Status::failed;
      m.reason = e.what();
      m.stats = {};
    }
    m.conditions.finished_at = utc_now_iso8601();
    m.conditions.elapsed_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    return m;
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
        c.clock_hz = s.sclk_hz_mean;
        c.clock_hz_min = s.sclk_hz_min;
        c.clock_hz_max = s.sclk_hz_max;
        c.clock_source = fmt::format("ROCm SMI sclk, {} samples every 10 ms during the measurement", s.samples);
        c.notes.emplace_back("power_w", fmt::format("mean {:.0f}, max {:.0f}", s.power_w_mean, s.power_w_max));
        c.notes.emplace_back("temperature_c_max", fmt::format("{:.0f}", s.temperature_c_max));
        const double max_clock = m_s.smi.sclk_max_hz.value_or(m_s.sclk_hz);
        if (max_clock > 0 && s.sclk_hz_mean < 0.9 * max_clock) {
          c.notes.emplace_back("throttling", fmt::format("sclk {:.0f} MHz mean, {:.0f}% of the {:.0f} MHz maximum",
                                                         s.sclk_hz_mean / 1e6, 100 * s.sclk_hz_mean / max_clock,
                                                         max_clock / 1e6));
        }
        if (m_s.smi.power_cap_w && s.power_w_max >= 0.97 * *m_s.smi.power_cap_w) {
          c.notes.emplace_back("power_at_limit",
                               fmt::format("{:.0f} W of a {:.0f} W cap", s.power_w_max, *m_s.smi.power_cap_w));
        }
      }
    }
    if (c.clock_hz <= 0) {
      c.clock_hz = m_s.sclk_hz;
      c.clock_source = "not measured (no ROCm SMI): the HIP maximum clock attribute";
    }
    c.iterations = o.iterations;
    c.warmup_s = o.warmup_s;
    c.notes.emplace_back("spread_target_met", o.spread_met ? "yes" : "no (time or sample budget spent)");
    c.notes.emplace_back("timing", "HIP events around each sample");
    if (!o.ok) {
      m.status = Status::failed;
      m.reason = std::move(o.failure);
    } else {
      m.status = Status::ok;
      m.stats = std::move(o.stats);
    }
    return o;
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
    m.conditions.notes.emplace_back("verification", "exact: small-integer inputs, host reference for every unit");
    ctx.progress(fmt::format("{} {}", m_info.id, d.id));
    ComputeRunner runner(d, m_s.cus);
    m.conditions.notes.emplace_back("launch", runner.launch_text());
    const SamplingOutcome o = sample(m, runner, policy);
    m.conditions.work_per_sample = runner.work(o.iterations);
    if (m.spec.id == "fma.fp64" || m.spec.id == "fma.fp32") {
      // CDNA2/CDNA3: 64 lanes per CU, FP64 and packed FP32 at 2 FMAs per lane per clock.
      const double per_cu = 64 * 2 * 2;
      m.theoretical = m_s.cus * per_cu * m.conditions.clock_hz;
      m.theoretical_basis = fmt::format("{} CUs × 64 lanes × 2 FMA (packed/full-rate FP64) × 2 FLOP × {:.0f} MHz ({})",
                                        m_s.cus, m.conditions.clock_hz / 1e6, m.conditions.clock_source);
    } else {
      m.theoretical_basis = "not computed here: MFMA and packed rates per CU come from the chip database";
    }
  }

  std::size_t array_bytes(int arrays) const {
    // Each array >= 8x L2 and >= 1 GiB (4x MI300X's 256 MB Infinity Cache), within 80% of the free memory.
    std::size_t want = std::max<std::size_t>(8 * m_s.l2_bytes, std::size_t{1} << 30);
    std::size_t free_b = 0, total = 0;
    PROBE_HIP_CHECK(hipMemGetInfo(&free_b, &total));
    const std::size_t cap = free_b / 10 * 8 / static_cast<std::size_t>(arrays);
    return std::min(want, cap) / kChunk * kChunk;
  }

  void measure_memory(Measurement& m, const RunPolicy& policy, RunContext& ctx) {
    ctx.progress(fmt::format("{} {}", m_info.id, m.spec.id));
    if (m.spec.id == "xfer.h2d" || m.spec.id == "xfer.d2h") {
      const std::size_t bytes = std::size_t{256} << 20;
      TransferRunner runner(m.spec.id == "xfer.h2d", bytes);
      m.conditions.working_set_bytes = bytes;
      m.variant = "hipMemcpyAsync, pinned host memory";
      const SamplingOutcome o = sample(m, runner, policy);
      m.conditions.work_per_sample = runner.work(o.iterations);
      m.theoretical_basis = "not computed: the PCIe/Infinity Fabric link is not known to the HIP runtime";
      return;
    }
    static constexpr std::pair<const char*, MemKernel> kIds[] = {
        {"mem.read", MemKernel::read}, {"mem.write", MemKernel::write}, {"mem.copy", MemKernel::copy},
        {"mem.triad", MemKernel::triad}};
    const auto it = std::find_if(std::begin(kIds), std::end(kIds), [&](const auto& e) { return m.spec.id == e.first; });
    if (it == std::end(kIds)) {
      m.status = Status::skipped;
      m.reason = "unknown kernel for the hip backend";
      return;
    }
    const MemKernel k = it->second;
    const std::size_t bytes = array_bytes(probe_hip::kMemArrays[static_cast<int>(k)]);
    MemoryRunner runner(k, bytes, m_s.cus);
    m.variant = "16-byte accesses, grid-stride";
    m.conditions.working_set_bytes = runner.working_set();
    m.conditions.notes.emplace_back("array_bytes", std::to_string(bytes));
    m.conditions.notes.emplace_back("launch", fmt::format("{} blocks × {} threads per pass", runner.blocks(),
                                                          probe_hip::kMemThreadsPerBlock));
    if (bytes < 8 * m_s.l2_bytes || bytes < (std::size_t{1} << 30)) {
      m.conditions.notes.emplace_back("warning", fmt::format("arrays of {} are under max(8× L2, 1 GiB): not enough free "
                                                             "memory", human_bytes(static_cast<double>(bytes))));
    }
    const SamplingOutcome o = sample(m, runner, policy);
    m.conditions.work_per_sample = runner.work(o.iterations);
    if (m_s.cdna != 3) {
      m.theoretical = theoretical_bw();
      m.theoretical_basis = fmt::format("2 transfers per clock × {:.0f} MHz memory clock × {} bits / 8 (HIP attributes)",
                                        m_s.mem_clock_hz / 1e6, m_s.bus_width_bits);
    } else {
      m.theoretical_basis = "not computed: HIP's memory clock attribute does not give HBM3's data rate (chip database)";
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
