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
#include "cublaslt.hpp"
#include "cuda_kernels.hpp"
#include "nvml.hpp"
#include "probe/device.hpp"
#include "probe/engine.hpp"
#include "probe/plugin.hpp"
#include "probe/version.hpp"
#include "reference.hpp"

namespace probe::cuda {

[[noreturn]] void throw_cuda_error(cudaError_t e, const char* expr, const char* file, int line) {
  const char* base = std::strrchr(file, '/');
  throw BackendError(fmt::format("{}:{}: {} failed: {}", base ? base + 1 : file, line, expr, describe(e)));
}

std::string describe(cudaError_t e) { return fmt::format("{}: {}", cudaGetErrorName(e), cudaGetErrorString(e)); }

namespace {

using probe_cuda::ComputeKernelDesc;
using probe_cuda::Family;
using probe_cuda::MemKernel;

std::string version_text(int v) { return v <= 0 ? "none" : fmt::format("{}.{}", v / 1000, (v % 1000) / 10); }

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
    PROBE_CUDA_CHECK(cudaEventCreate(&m_start));
    PROBE_CUDA_CHECK(cudaEventCreate(&m_stop));
  }
  ~EventTimer() {
    cudaEventDestroy(m_start);
    cudaEventDestroy(m_stop);
  }
  EventTimer(const EventTimer&) = delete;
  EventTimer& operator=(const EventTimer&) = delete;
  void start(cudaStream_t s) { PROBE_CUDA_CHECK(cudaEventRecord(m_start, s)); }
  double stop_seconds(cudaStream_t s) {
    PROBE_CUDA_CHECK(cudaEventRecord(m_stop, s));
    PROBE_CUDA_CHECK(cudaEventSynchronize(m_stop));
    float ms = 0;
    PROBE_CUDA_CHECK(cudaEventElapsedTime(&ms, m_start, m_stop));
    return ms / 1e3;
  }

 private:
  cudaEvent_t m_start = nullptr, m_stop = nullptr;
};

struct DeviceBuffer {
  void* p = nullptr;
  explicit DeviceBuffer(std::size_t n) { PROBE_CUDA_CHECK(cudaMalloc(&p, n)); }
  ~DeviceBuffer() { cudaFree(p); }
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;
};

struct PinnedBuffer {
  void* p = nullptr;
  explicit PinnedBuffer(std::size_t n) { PROBE_CUDA_CHECK(cudaMallocHost(&p, n)); }
  ~PinnedBuffer() { cudaFreeHost(p); }
  PinnedBuffer(const PinnedBuffer&) = delete;
  PinnedBuffer& operator=(const PinnedBuffer&) = delete;
};

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

class ComputeRunner final : public SampleRunner {
 public:
  ComputeRunner(const ComputeKernelDesc& d, int sms) : m_desc(d), m_fn(kernel_function(d)) {
    m_block = threads_per_block(d);
    int per_sm = 0;
    PROBE_CUDA_CHECK(cudaOccupancyMaxActiveBlocksPerMultiprocessor(&per_sm, m_fn, m_block, 0));
    if (per_sm < 1) throw BackendError(fmt::format("{}: the kernel cannot be resident on an SM", d.id));
    m_blocks = sms * per_sm;  // a full wave: every SM holds as many blocks as fit, none waits
    m_problem = make_problem(d, static_cast<std::size_t>(m_blocks) * m_block / d.threads_per_unit, 0x5eed0000u + d.index);
    m_in = std::make_unique<DeviceBuffer>(m_problem.input.size());
    m_out = std::make_unique<DeviceBuffer>(m_problem.output_bytes);
    PROBE_CUDA_CHECK(cudaMemcpy(m_in->p, m_problem.input.data(), m_problem.input.size(), cudaMemcpyHostToDevice));
    PROBE_CUDA_CHECK(cudaStreamCreateWithFlags(&m_stream, cudaStreamNonBlocking));
    m_host_out.resize(m_problem.output_bytes);
  }
  ~ComputeRunner() override { cudaStreamDestroy(m_stream); }
  ComputeRunner(const ComputeRunner&) = delete;
  ComputeRunner& operator=(const ComputeRunner&) = delete;

  double run(std::uint64_t iterations) override {
    // Poisoned before every run: a unit that does not store its result fails verification.
    PROBE_CUDA_CHECK(cudaMemsetAsync(m_out->p, 0xA5, m_problem.output_bytes, m_stream));
    const void* in = m_in->p;
    void* out = m_out->p;
    unsigned long long n = iterations;
    void* args[] = {&in, &out, &n};
    m_timer.start(m_stream);
    PROBE_CUDA_CHECK(cudaLaunchKernel(m_fn, dim3(static_cast<unsigned>(m_blocks)), dim3(static_cast<unsigned>(m_block)),
                                      args, 0, m_stream));
    PROBE_CUDA_CHECK(cudaGetLastError());
    return m_timer.stop_seconds(m_stream);
  }
  std::optional<std::string> verify(std::uint64_t iterations, bool) override {
    PROBE_CUDA_CHECK(cudaMemcpy(m_host_out.data(), m_out->p, m_host_out.size(), cudaMemcpyDeviceToHost));
    return check_output(m_problem, m_host_out, iterations);
  }
  double work(std::uint64_t iterations) const override {
    return m_desc.ops_per_iter() * static_cast<double>(iterations) * static_cast<double>(m_problem.units);
  }
  [[nodiscard]] std::string launch_text() const {
    return fmt::format("{} blocks × {} threads ({} {}s)", m_blocks, m_block, m_problem.units,
                       m_desc.threads_per_unit == 1 ? "thread" : m_desc.threads_per_unit == 32 ? "warp" : "warpgroup");
  }

 private:
  const ComputeKernelDesc& m_desc;
  const void* m_fn;
  int m_block = 0, m_blocks = 0;
  ComputeProblem m_problem;
  std::unique_ptr<DeviceBuffer> m_in, m_out;
  std::vector<std::uint8_t> m_host_out;
  cudaStream_t m_stream = nullptr;
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
    PROBE_CUDA_CHECK(cudaMemcpy(static_cast<char*>(dev) + off, w, n, cudaMemcpyHostToDevice));
  }
}

// Compares a device array with want(i) for every 32-bit word; the first mismatch, if any.
template <class F>
std::optional<std::string> compare_array(const void* dev, std::size_t bytes, PinnedBuffer& staging, F want,
                                         const char* name) {
  auto* w = static_cast<const std::uint32_t*>(staging.p);
  for (std::size_t off = 0; off < bytes; off += kChunk) {
    const std::size_t n = std::min(kChunk, bytes - off);
    PROBE_CUDA_CHECK(cudaMemcpy(staging.p, static_cast<const char*>(dev) + off, n, cudaMemcpyDeviceToHost));
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
  MemoryRunner(MemKernel k, std::size_t array_bytes, int sms) : m_kernel(k), m_bytes(array_bytes), m_staging(kChunk) {
    m_fn = probe_cuda::memory_kernel_function(k);
    int per_sm = 0;
    PROBE_CUDA_CHECK(cudaOccupancyMaxActiveBlocksPerMultiprocessor(&per_sm, m_fn, probe_cuda::kMemThreadsPerBlock, 0));
    m_blocks = sms * std::max(per_sm, 1);
    const int arrays = probe_cuda::kMemArrays[static_cast<int>(k)];
    for (int i = 0; i < arrays; ++i) m_arrays.push_back(std::make_unique<DeviceBuffer>(m_bytes));
    const bool triad = k == MemKernel::triad;
    // read: a; write: c; copy: a → c; triad: b, c → a (inputs first, the output last).
    const int inputs = k == MemKernel::read ? 1 : arrays - 1;
    for (int i = 0; i < inputs; ++i) {
      fill_array(m_arrays[static_cast<std::size_t>(i)]->p, m_bytes, i, triad, m_staging);
    }
    if (k != MemKernel::read) PROBE_CUDA_CHECK(cudaMemset(m_arrays.back()->p, 0xA5, m_bytes));
    if (k == MemKernel::read) {
      m_partial = std::make_unique<DeviceBuffer>(static_cast<std::size_t>(m_blocks) * probe_cuda::kMemThreadsPerBlock * 4);
      for (std::size_t i = 0; i < m_bytes / 4; ++i) m_read_sum += memory_word(kMemSeed, 0, i);
    }
    PROBE_CUDA_CHECK(cudaStreamCreateWithFlags(&m_stream, cudaStreamNonBlocking));
  }
  ~MemoryRunner() override { cudaStreamDestroy(m_stream); }
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
      PROBE_CUDA_CHECK(cudaLaunchKernel(m_fn, dim3(static_cast<unsigned>(m_blocks)),
                                        dim3(probe_cuda::kMemThreadsPerBlock), args.data(), 0, m_stream));
    }
    PROBE_CUDA_CHECK(cudaGetLastError());
    return m_timer.stop_seconds(m_stream);
  }
  std::optional<std::string> verify(std::uint64_t, bool final) override {
    if (m_kernel == MemKernel::read) {  // cheap: the per-thread partial sums
      std::vector<std::uint32_t> part(static_cast<std::size_t>(m_blocks) * probe_cuda::kMemThreadsPerBlock);
      PROBE_CUDA_CHECK(cudaMemcpy(part.data(), m_partial->p, part.size() * 4, cudaMemcpyDeviceToHost));
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
           probe_cuda::kMemCountedBytes[static_cast<int>(m_kernel)];
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
  cudaStream_t m_stream = nullptr;
  EventTimer m_timer;
};

// Host↔device copies from/to pinned host memory; each byte is counted once (nvbandwidth's convention).
class TransferRunner final : public SampleRunner {
 public:
  TransferRunner(bool to_device, std::size_t bytes) : m_to_device(to_device), m_bytes(bytes), m_host(bytes), m_dev(bytes) {
    auto* w = static_cast<std::uint32_t*>(m_host.p);
    for (std::size_t i = 0; i < bytes / 4; ++i) w[i] = memory_word(kMemSeed, 7, i);
    if (!to_device) PROBE_CUDA_CHECK(cudaMemcpy(m_dev.p, m_host.p, bytes, cudaMemcpyHostToDevice));
    PROBE_CUDA_CHECK(cudaStreamCreateWithFlags(&m_stream, cudaStreamNonBlocking));
  }
  ~TransferRunner() override { cudaStreamDestroy(m_stream); }
  TransferRunner(const TransferRunner&) = delete;
  TransferRunner& operator=(const TransferRunner&) = delete;
  double run(std::uint64_t n) override {
    m_timer.start(m_stream);
    for (std::uint64_t i = 0; i < n; ++i) {
      PROBE_CUDA_CHECK(m_to_device ? cudaMemcpyAsync(m_dev.p, m_host.p, m_bytes, cudaMemcpyHostToDevice, m_stream)
                                   : cudaMemcpyAsync(m_host.p, m_dev.p, m_bytes, cudaMemcpyDeviceToHost, m_stream));
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
  cudaStream_t m_stream = nullptr;
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
  for (const auto& d : probe_cuda::kComputeKernels) v.push_back(compute_spec(d));
  for (const auto& d : library_kernels()) v.push_back(library_spec(d));
  v.push_back(memory_spec("mem.read", "Device memory read (16-byte loads)", "BabelStream: 16 B per element read"));
  v.push_back(memory_spec("mem.write", "Device memory write (16-byte stores)", "BabelStream: 16 B per element written"));
  v.push_back(memory_spec("mem.copy", "Device memory copy c=a", "BabelStream: 32 B per element (read + write)"));
  v.push_back(memory_spec("mem.triad", "Device memory triad a=b+s·c (fp32)", "BabelStream: 48 B per element"));
  v.push_back(memory_spec("xfer.h2d", "Host to device, pinned", "bytes copied, counted once"));
  v.push_back(memory_spec("xfer.d2h", "Device to host, pinned", "bytes copied, counted once"));
  return v;
}

// Vector FP32/FP64 lanes per SM by compute capability (CUDA C++ Programming Guide, arithmetic instruction
// throughput table): the only theoretical compute peaks stated here; tensor rates come from the chip database.
std::optional<int> fma_lanes_per_sm(int cc, std::string_view dtype) {
  const bool fp64 = dtype == "fp64";
  switch (cc) {
    case 80: return fp64 ? 32 : 64;
    case 90: case 100: case 103: return fp64 ? 64 : 128;
    case 86: case 87: case 89: case 120: case 121: return fp64 ? 2 : 128;
    default: return std::nullopt;
  }
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
    PciId pci;
    pci.bus_id = m_s.bus_id;
    pci.vendor_id = 0x10de;
    const std::string sys = "/sys/bus/pci/devices/" + m_s.bus_id + "/";
    if (auto v = read_sysfs_hex(sys + "vendor")) pci.vendor_id = *v;
    pci.device_id = read_sysfs_hex(sys + "device").value_or(0);
    pci.subvendor_id = read_sysfs_hex(sys + "subsystem_vendor").value_or(0);
    pci.subdevice_id = read_sysfs_hex(sys + "subsystem_device").value_or(0);
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
  std::span<const KernelSpec> kernels() const noexcept override { return m_specs; }

  Measurement measure(const KernelSpec& spec, const RunPolicy& policy, RunContext& ctx) override {
    Measurement m;
    m.spec = spec;
    m.conditions.started_at = utc_now_iso8601();
    const auto t0 = std::chrono::steady_clock::now();
    try {
      PROBE_CUDA_CHECK(cudaSetDevice(m_s.index));
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
        c.clock_hz = s.sm_clock_hz_mean;
        c.clock_hz_min = s.sm_clock_hz_min;
        c.clock_hz_max = s.sm_clock_hz_max;
        c.clock_source = fmt::format("NVML SM clock, {} samples every 10 ms during the measurement", s.samples);
        c.notes.emplace_back("power_w", fmt::format("mean {:.0f}, max {:.0f}", s.power_w_mean, s.power_w_max));
        c.notes.emplace_back("temperature_c_max", fmt::format("{:.0f}", s.temperature_c_max));
        const double max_clock = m_s.nvml.max_sm_clock_hz.value_or(m_s.sm_clock_hz);
        if (max_clock > 0 && s.sm_clock_hz_mean < 0.9 * max_clock) {
          c.notes.emplace_back("throttling", fmt::format("SM clock {:.0f} MHz mean, {:.0f}% of the {:.0f} MHz maximum",
                                                         s.sm_clock_hz_mean / 1e6, 100 * s.sm_clock_hz_mean / max_clock,
                                                         max_clock / 1e6));
        }
        if (m_s.nvml.power_limit_w && s.power_w_max >= 0.97 * *m_s.nvml.power_limit_w) {
          c.notes.emplace_back("power_at_limit", fmt::format("{:.0f} W of a {:.0f} W limit", s.power_w_max,
                                                             *m_s.nvml.power_limit_w));
        }
        if (const std::string r = throttle_reason_names(s.throttle_reasons); !r.empty()) {
          c.notes.emplace_back("clock_event_reasons", r);
        }
      }
    }
    if (c.clock_hz <= 0) {
      c.clock_hz = m_s.sm_clock_hz;
      c.clock_source = "not measured (no NVML): the CUDA maximum SM clock attribute";
    }
    c.iterations = o.iterations;
    c.warmup_s = o.warmup_s;
    c.notes.emplace_back("spread_target_met", o.spread_met ? "yes" : "no (time or sample budget spent)");
    c.notes.emplace_back("timing", "CUDA events around each sample");
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
    m.conditions.notes.emplace_back("verification", "exact: small-integer inputs, host reference for every unit");
    if (m_s.cc >= 100 && d.family != Family::vector) {
      m.conditions.notes.emplace_back("lower_bound", "Blackwell: measured with mma.sync, not tcgen05; the tensor figure "
                                                     "is a lower bound of the chip's tensor throughput");
    }
    ctx.progress(fmt::format("{} {}", m_info.id, d.id));
    ComputeRunner runner(d, m_s.sms);
    m.conditions.notes.emplace_back("launch", runner.launch_text());
    const SamplingOutcome o = sample(m, runner, policy);
    m.conditions.work_per_sample = runner.work(o.iterations);
    if (auto lanes = fma_lanes_per_sm(m_s.cc, d.dtype); lanes && (m.spec.id == "fma.fp32" || m.spec.id == "fma.fp64")) {
      m.theoretical = m_s.sms * *lanes * 2.0 * m.conditions.clock_hz;
      m.theoretical_basis = fmt::format("{} SMs × {} lanes × 2 FLOP × {:.0f} MHz ({})", m_s.sms, *lanes,
                                        m.conditions.clock_hz / 1e6, m.conditions.clock_source);
    } else {
      m.theoretical_basis = "not computed here: per-SM tensor and packed rates come from the chip database";
    }
  }

  std::size_t array_bytes(int arrays) const {
    // Each array ≥ 8× L2 and ≥ 1 GiB, within 80% of the free memory.
    std::size_t want = std::max<std::size_t>(8 * m_s.l2_bytes, std::size_t{1} << 30);
    std::size_t free_b = 0, total = 0;
    PROBE_CUDA_CHECK(cudaMemGetInfo(&free_b, &total));
    const std::size_t cap = free_b / 10 * 8 / static_cast<std::size_t>(arrays);
    return std::min(want, cap) / kChunk * kChunk;
  }

  void measure_memory(Measurement& m, const RunPolicy& policy, RunContext& ctx) {
    ctx.progress(fmt::format("{} {}", m_info.id, m.spec.id));
    if (m.spec.id == "xfer.h2d" || m.spec.id == "xfer.d2h") {
      const std::size_t bytes = std::size_t{256} << 20;
      TransferRunner runner(m.spec.id == "xfer.h2d", bytes);
      m.conditions.working_set_bytes = bytes;
      m.variant = "cudaMemcpyAsync, pinned host memory";
      const SamplingOutcome o = sample(m, runner, policy);
      m.conditions.work_per_sample = runner.work(o.iterations);
      m.theoretical_basis = "not computed: the PCIe/NVLink-C2C link is not known to the CUDA runtime";
      return;
    }
    static constexpr std::pair<const char*, MemKernel> kIds[] = {
        {"mem.read", MemKernel::read}, {"mem.write", MemKernel::write}, {"mem.copy", MemKernel::copy},
        {"mem.triad", MemKernel::triad}};
    const auto it = std::find_if(std::begin(kIds), std::end(kIds), [&](const auto& e) { return m.spec.id == e.first; });
    if (it == std::end(kIds)) {
      m.status = Status::skipped;
      m.reason = "unknown kernel for the cuda backend";
      return;
    }
    const MemKernel k = it->second;
    const std::size_t bytes = array_bytes(probe_cuda::kMemArrays[static_cast<int>(k)]);
    MemoryRunner runner(k, bytes, m_s.sms);
    m.variant = "16-byte accesses, grid-stride";
    m.conditions.working_set_bytes = runner.working_set();
    m.conditions.notes.emplace_back("array_bytes", std::to_string(bytes));
    m.conditions.notes.emplace_back("launch", fmt::format("{} blocks × {} threads per pass", runner.blocks(),
                                                          probe_cuda::kMemThreadsPerBlock));
    if (bytes < 8 * m_s.l2_bytes || bytes < (std::size_t{1} << 30)) {
      m.conditions.notes.emplace_back("warning", fmt::format("arrays of {} are under max(8× L2, 1 GiB): not enough free "
                                                             "memory", human_bytes(static_cast<double>(bytes))));
    }
    const SamplingOutcome o = sample(m, runner, policy);
    m.conditions.work_per_sample = runner.work(o.iterations);
    m.theoretical = theoretical_bw();
    m.theoretical_basis = fmt::format("2 transfers per clock × {:.0f} MHz memory clock × {} bits / 8 (CUDA attributes)",
                                      m_s.mem_clock_hz / 1e6, m_s.bus_width_bits);
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
