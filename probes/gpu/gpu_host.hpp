#pragma once
// Host code shared by the CUDA and HIP backends (one source, compiled into each plugin through gpu_api.hpp's
// name mapping): device/pinned buffers, the event timer, the compute/memory/transfer SampleRunners with their
// verification, kernel specs and the parts of Device::measure that do not depend on the vendor. Lives in
// probe::cuda::gpu or probe::hip::gpu, so the two plugins never share a symbol.
#include <algorithm>
#include <bit>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <fmt/format.h>
#include <fstream>
#include <functional>
#include <iterator>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "gpu_api.hpp"
#include "probe/device.hpp"
#include "probe/engine.hpp"
#include "probe/version.hpp"
#include "reference.hpp"
#include "sustain.hpp"

namespace probe::PROBE_GPU_NS::gpu {

using PROBE_GPU_KERNEL_NS::ComputeKernelDesc;
using PROBE_GPU_KERNEL_NS::MemKernel;

inline std::string human_bytes(double b) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  int u = 0;
  while (b >= 1024 && u < 4) {
    b /= 1024;
    ++u;
  }
  return fmt::format("{:.4g} {}", b, units[u]);
}

// "0x10de\n" from sysfs, the files hwloc reads for its PCI objects.
inline std::optional<std::uint16_t> read_sysfs_hex(const std::string& path) {
  std::ifstream f(path);
  unsigned v = 0;
  if (!(f >> std::hex >> v)) return std::nullopt;
  return static_cast<std::uint16_t>(v);
}

// The PCI ids of the device at `bus_id` from sysfs; the vendor defaults to `vendor_id` where sysfs is not readable,
// the other ids to 0. `sys` is set to the sysfs folder that was read.
inline PciId read_pci_ids(const std::string& bus_id, std::uint16_t vendor_id, std::string& sys) {
  PciId pci;
  pci.bus_id = bus_id;
  pci.vendor_id = vendor_id;
  sys = "/sys/bus/pci/devices/" + bus_id + "/";
  if (auto v = read_sysfs_hex(sys + "vendor")) pci.vendor_id = *v;
  pci.device_id = read_sysfs_hex(sys + "device").value_or(0);
  pci.subvendor_id = read_sysfs_hex(sys + "subsystem_vendor").value_or(0);
  pci.subdevice_id = read_sysfs_hex(sys + "subsystem_device").value_or(0);
  return pci;
}

inline bool listed(const char* list, const std::string& item) {
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
    PROBE_GPU_CHECK(gpuEventCreate(&m_start));
    PROBE_GPU_CHECK(gpuEventCreate(&m_stop));
  }
  ~EventTimer() {
    (void)gpuEventDestroy(m_start);
    (void)gpuEventDestroy(m_stop);
  }
  EventTimer(const EventTimer&) = delete;
  EventTimer& operator=(const EventTimer&) = delete;
  void start(gpuStream_t s) { PROBE_GPU_CHECK(gpuEventRecord(m_start, s)); }
  double stop_seconds(gpuStream_t s) {
    PROBE_GPU_CHECK(gpuEventRecord(m_stop, s));
    PROBE_GPU_CHECK(gpuEventSynchronize(m_stop));
    float ms = 0;
    PROBE_GPU_CHECK(gpuEventElapsedTime(&ms, m_start, m_stop));
    return ms / 1e3;
  }

 private:
  gpuEvent_t m_start = nullptr, m_stop = nullptr;
};

struct DeviceBuffer {
  void* p = nullptr;
  explicit DeviceBuffer(std::size_t n) { PROBE_GPU_CHECK(gpuMalloc(&p, n)); }
  ~DeviceBuffer() { (void)gpuFree(p); }
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;
};

struct PinnedBuffer {
  void* p = nullptr;
  explicit PinnedBuffer(std::size_t n) { PROBE_GPU_CHECK(gpuMallocHost(&p, n)); }
  ~PinnedBuffer() { (void)gpuFreeHost(p); }
  PinnedBuffer(const PinnedBuffer&) = delete;
  PinnedBuffer& operator=(const PinnedBuffer&) = delete;
};

// A non-blocking stream owned by a runner.
class Stream {
 public:
  Stream() { PROBE_GPU_CHECK(gpuStreamCreateWithFlags(&m_s, gpuStreamNonBlocking)); }
  ~Stream() { (void)gpuStreamDestroy(m_s); }
  Stream(const Stream&) = delete;
  Stream& operator=(const Stream&) = delete;
  [[nodiscard]] gpuStream_t get() const { return m_s; }

 private:
  gpuStream_t m_s = nullptr;
};

// One compute kernel over a full wave of blocks; `fn`/`block` come from the backend's kernel table, `unit_word`
// names a unit in launch_text ("warp", "wavefront", ...).
class ComputeRunner final : public SampleRunner {
 public:
  ComputeRunner(const ComputeKernelDesc& d, int multiprocessors, const void* fn, int block, const char* unit_word)
      : m_desc(d), m_fn(fn), m_block(block), m_unit_word(unit_word) {
    int per_sm = 0;
    PROBE_GPU_CHECK(gpuOccupancyMaxActiveBlocksPerMultiprocessor(&per_sm, m_fn, m_block, 0));
    if (per_sm < 1) {
      throw BackendError(fmt::format("{}: the kernel cannot be resident on " PROBE_GPU_MULTIPROCESSOR, d.id));
    }
    m_blocks = multiprocessors * per_sm;  // a full wave: every SM/CU holds as many blocks as fit, none waits
    m_problem = make_problem(d, static_cast<std::size_t>(m_blocks) * m_block / d.threads_per_unit, 0x5eed0000u + d.index);
    m_in = std::make_unique<DeviceBuffer>(m_problem.input.size());
    m_out = std::make_unique<DeviceBuffer>(m_problem.output_bytes);
    PROBE_GPU_CHECK(gpuMemcpy(m_in->p, m_problem.input.data(), m_problem.input.size(), gpuMemcpyHostToDevice));
    m_stream = std::make_unique<Stream>();
    m_host_out.resize(m_problem.output_bytes);
    // A copy from pageable memory may still be in flight when gpuMemcpy returns, and the runner's non-blocking
    // stream does not wait for the legacy stream: without this the first (verified) run could read partial input.
    PROBE_GPU_CHECK(gpuDeviceSynchronize());
  }
  ComputeRunner(const ComputeRunner&) = delete;
  ComputeRunner& operator=(const ComputeRunner&) = delete;

  double run(std::uint64_t iterations) override {
    // Poisoned before every run: a unit that does not store its result fails verification.
    PROBE_GPU_CHECK(gpuMemsetAsync(m_out->p, 0xA5, m_problem.output_bytes, m_stream->get()));
    const void* in = m_in->p;
    void* out = m_out->p;
    unsigned long long n = iterations;
    void* args[] = {&in, &out, &n};
    m_timer.start(m_stream->get());
    PROBE_GPU_CHECK(gpuLaunchKernel(m_fn, dim3(static_cast<unsigned>(m_blocks)), dim3(static_cast<unsigned>(m_block)),
                                    args, 0, m_stream->get()));
    PROBE_GPU_CHECK(gpuGetLastError());
    return m_timer.stop_seconds(m_stream->get());
  }
  std::optional<std::string> verify(std::uint64_t iterations, bool) override {
    PROBE_GPU_CHECK(gpuMemcpy(m_host_out.data(), m_out->p, m_host_out.size(), gpuMemcpyDeviceToHost));
    return check_output(m_problem, m_host_out, iterations);
  }
  double work(std::uint64_t iterations) const override {
    return m_desc.ops_per_iter() * static_cast<double>(iterations) * static_cast<double>(m_problem.units);
  }
  [[nodiscard]] std::string launch_text() const {
    return fmt::format("{} blocks × {} threads ({} {}s)", m_blocks, m_block, m_problem.units, m_unit_word);
  }

 private:
  const ComputeKernelDesc& m_desc;
  const void* m_fn;
  int m_block = 0, m_blocks = 0;
  const char* m_unit_word;
  ComputeProblem m_problem;
  std::unique_ptr<DeviceBuffer> m_in, m_out;
  std::vector<std::uint8_t> m_host_out;
  std::unique_ptr<Stream> m_stream;
  EventTimer m_timer;
};

// Arrays of the memory kernels: filled and checked on the device from a formula of the index (kernels/common/
// gpu_hash.hpp: a hash, random-looking and non-degenerate), the same source as the host reference, which
// spot-checks words the device wrote (a device check that passed everything would otherwise go unnoticed).
inline constexpr std::size_t kChunk = std::size_t{64} << 20;
inline constexpr std::uint64_t kMemSeed = 0x3c6ef372fe94f82bull;
inline constexpr int kSpotWords = 64;
using Content = probe_gpu_hash::Content;

// Launches a grid-stride set-up kernel on the legacy stream and waits for it (not timed).
inline void run_setup_kernel(const void* fn, void** args) {
  PROBE_GPU_CHECK(gpuLaunchKernel(fn, dim3(4096), dim3(256), args, 0, nullptr));
  PROBE_GPU_CHECK(gpuGetLastError());
  PROBE_GPU_CHECK(gpuDeviceSynchronize());
}

inline void fill_array(void* dev, std::size_t bytes, Content kind, int which, std::uint32_t value = 0) {
  std::size_t words = bytes / 4;
  int k = static_cast<int>(kind);
  unsigned long long seed = kMemSeed;
  float s = kTriadScalar;
  void* args[] = {&dev, &words, &k, &seed, &which, &value, &s};
  run_setup_kernel(PROBE_GPU_KERNEL_NS::memory_fill_function(), args);
}

// The host reference of word i of an array of `kind` (what the device formula must agree with).
inline std::uint32_t host_word(Content kind, int which, std::uint32_t value, std::size_t i) {
  switch (kind) {
    case Content::constant: return value;
    case Content::word: return memory_word(kMemSeed, which, i);
    case Content::triad_input: return std::bit_cast<std::uint32_t>(triad_value(kMemSeed, which, i));
    case Content::triad_output:
      return std::bit_cast<std::uint32_t>(triad_value(kMemSeed, 0, i) + kTriadScalar * triad_value(kMemSeed, 1, i));
  }
  return 0;
}

inline std::uint32_t device_word(const void* dev, std::size_t i) {
  std::uint32_t w = 0;
  PROBE_GPU_CHECK(gpuMemcpy(&w, static_cast<const std::uint32_t*>(dev) + i, 4, gpuMemcpyDeviceToHost));
  return w;
}

struct ArrayCheck {
  std::optional<std::string> problem;  // the first mismatch, if any
  std::uint32_t expected_sum = 0;      // wrapping 32-bit sum of the expected words
};

// Compares every word of a device array with its formula on the device, then kSpotWords words (the ends and
// spread indices) with the host reference.
inline ArrayCheck check_array(const void* dev, std::size_t bytes, Content kind, int which, std::uint32_t value,
                              const char* name) {
  ArrayCheck out;
  std::size_t words = bytes / 4;
  DeviceBuffer result(3 * sizeof(unsigned long long));
  const unsigned long long init[3] = {0, ~0ull, 0};
  PROBE_GPU_CHECK(gpuMemcpy(result.p, init, sizeof init, gpuMemcpyHostToDevice));
  int k = static_cast<int>(kind);
  unsigned long long seed = kMemSeed;
  float s = kTriadScalar;
  void* res = result.p;
  void* src = const_cast<void*>(dev);  // the kernel takes const uint32_t*; launch arguments are void*
  void* args[] = {&src, &words, &k, &seed, &which, &value, &s, &res};
  run_setup_kernel(PROBE_GPU_KERNEL_NS::memory_check_function(), args);
  unsigned long long got[3] = {};
  PROBE_GPU_CHECK(gpuMemcpy(got, result.p, sizeof got, gpuMemcpyDeviceToHost));
  out.expected_sum = static_cast<std::uint32_t>(got[2]);
  if (got[0] != 0) {
    const std::size_t i = got[1];
    out.problem = fmt::format("{} of {} words differ (device check); first: {}[word {}] = 0x{:08x}, expected 0x{:08x}",
                              got[0], words, name, i, device_word(dev, i), host_word(kind, which, value, i));
    return out;
  }
  for (int j = 0; j < kSpotWords && words > 0; ++j) {
    const std::size_t i = j == 0 ? 0 : j == 1 ? words - 1 : (static_cast<std::size_t>(j) * 2654435761u) % words;
    const std::uint32_t w = device_word(dev, i), e = host_word(kind, which, value, i);
    if (w != e) {
      out.problem = fmt::format("{}[word {}] = 0x{:08x}, expected 0x{:08x} (host spot check; the device check "
                                "passed: its formula disagrees with the host reference)", name, i, w, e);
      return out;
    }
  }
  return out;
}

class MemoryRunner final : public SampleRunner {
 public:
  MemoryRunner(MemKernel k, std::size_t array_bytes, int multiprocessors)
      : m_kernel(k), m_bytes(array_bytes) {
    m_fn = PROBE_GPU_KERNEL_NS::memory_kernel_function(k);
    int per_sm = 0;
    PROBE_GPU_CHECK(gpuOccupancyMaxActiveBlocksPerMultiprocessor(&per_sm, m_fn, kThreads, 0));
    m_blocks = multiprocessors * std::max(per_sm, 1);
    const int arrays = PROBE_GPU_KERNEL_NS::kMemArrays[static_cast<int>(k)];
    for (int i = 0; i < arrays; ++i) m_arrays.push_back(std::make_unique<DeviceBuffer>(m_bytes));
    const Content input = k == MemKernel::triad ? Content::triad_input : Content::word;
    // read: a; write: c; copy: a → c; triad: b, c → a (inputs first, the output last).
    const int inputs = k == MemKernel::read ? 1 : arrays - 1;
    for (int i = 0; i < inputs; ++i) fill_array(m_arrays[static_cast<std::size_t>(i)]->p, m_bytes, input, i);
    if (k != MemKernel::read) PROBE_GPU_CHECK(gpuMemset(m_arrays.back()->p, 0xA5, m_bytes));
    if (k == MemKernel::read) {
      m_partial = std::make_unique<DeviceBuffer>(static_cast<std::size_t>(m_blocks) * kThreads * 4);
      // The filled array checked once (device and host spot check); the sum the read kernel must reach with it.
      ArrayCheck c = check_array(m_arrays[0]->p, m_bytes, Content::word, 0, 0, "a");
      if (c.problem) throw BackendError("mem.read set-up: " + *c.problem);
      m_read_sum = c.expected_sum;
    }
    m_stream = std::make_unique<Stream>();
    PROBE_GPU_CHECK(gpuDeviceSynchronize());  // the memset is asynchronous; the kernels run on a non-blocking stream
  }
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
    m_timer.start(m_stream->get());
    for (std::uint64_t i = 0; i < passes; ++i) {
      PROBE_GPU_CHECK(gpuLaunchKernel(m_fn, dim3(static_cast<unsigned>(m_blocks)), dim3(kThreads), args.data(), 0,
                                      m_stream->get()));
    }
    PROBE_GPU_CHECK(gpuGetLastError());
    return m_timer.stop_seconds(m_stream->get());
  }
  std::optional<std::string> verify(std::uint64_t, bool final) override {
    if (m_kernel == MemKernel::read) {  // cheap: the per-thread partial sums
      std::vector<std::uint32_t> part(static_cast<std::size_t>(m_blocks) * kThreads);
      PROBE_GPU_CHECK(gpuMemcpy(part.data(), m_partial->p, part.size() * 4, gpuMemcpyDeviceToHost));
      std::uint32_t sum = 0;
      for (const auto x : part) sum += x;
      if (sum != m_read_sum) return fmt::format("sum of the words read 0x{:08x}, expected 0x{:08x}", sum, m_read_sum);
      return std::nullopt;
    }
    if (!final) return std::nullopt;  // a full check is another pass over the arrays: once, at the end
    switch (m_kernel) {
      case MemKernel::write: return check_array(m_arrays[0]->p, m_bytes, Content::constant, 0, kWriteValue, "c").problem;
      case MemKernel::copy: return check_array(m_arrays[1]->p, m_bytes, Content::word, 0, 0, "c").problem;
      case MemKernel::triad: return check_array(m_arrays[2]->p, m_bytes, Content::triad_output, 0, 0, "a").problem;
      case MemKernel::read: break;
    }
    return std::nullopt;
  }
  double work(std::uint64_t passes) const override {
    return static_cast<double>(passes) * static_cast<double>(m_bytes / 16) *
           PROBE_GPU_KERNEL_NS::kMemCountedBytes[static_cast<int>(m_kernel)];
  }
  [[nodiscard]] std::uint64_t working_set() const { return m_bytes * m_arrays.size(); }
  [[nodiscard]] int blocks() const { return m_blocks; }

 private:
  static constexpr std::uint32_t kWriteValue = 0x3f9e3779u;
  static constexpr int kThreads = PROBE_GPU_KERNEL_NS::kMemThreadsPerBlock;
  MemKernel m_kernel;
  std::size_t m_bytes;
  const void* m_fn = nullptr;
  int m_blocks = 0;
  std::vector<std::unique_ptr<DeviceBuffer>> m_arrays;
  std::unique_ptr<DeviceBuffer> m_partial;
  std::uint32_t m_read_sum = 0;
  std::unique_ptr<Stream> m_stream;
  EventTimer m_timer;
};

// Host↔device copies from/to pinned host memory; each byte is counted once (nvbandwidth's convention).
class TransferRunner final : public SampleRunner {
 public:
  TransferRunner(bool to_device, std::size_t bytes) : m_to_device(to_device), m_bytes(bytes), m_host(bytes), m_dev(bytes) {
    auto* w = static_cast<std::uint32_t*>(m_host.p);
    for (std::size_t i = 0; i < bytes / 4; ++i) w[i] = memory_word(kMemSeed, 7, i);
    if (!to_device) {
      PROBE_GPU_CHECK(gpuMemcpy(m_dev.p, m_host.p, bytes, gpuMemcpyHostToDevice));
      // Poisoned, so that the check proves the device→host copies wrote the host buffer.
      std::memset(m_host.p, 0xA5, bytes);
    }
    m_stream = std::make_unique<Stream>();
  }
  TransferRunner(const TransferRunner&) = delete;
  TransferRunner& operator=(const TransferRunner&) = delete;
  double run(std::uint64_t n) override {
    const gpuStream_t s = m_stream->get();
    m_timer.start(s);
    for (std::uint64_t i = 0; i < n; ++i) {
      PROBE_GPU_CHECK(m_to_device ? gpuMemcpyAsync(m_dev.p, m_host.p, m_bytes, gpuMemcpyHostToDevice, s)
                                  : gpuMemcpyAsync(m_host.p, m_dev.p, m_bytes, gpuMemcpyDeviceToHost, s));
    }
    return m_timer.stop_seconds(s);
  }
  std::optional<std::string> verify(std::uint64_t, bool final) override {
    if (!final) return std::nullopt;
    if (m_to_device) return check_array(m_dev.p, m_bytes, Content::word, 7, 0, "device copy").problem;
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
  std::unique_ptr<Stream> m_stream;
  EventTimer m_timer;
};

// The verification note of a compute kernel. Only the integer kernels' results depend on the iteration count (they
// grow with every iteration, wrapping modulo 2^32); the floating-point loops are built to return their accumulators
// to the start every two steps (x = -1 for FMA, B then -B for mma/wgmma/MFMA) so that the result is exact for any
// count, which also means the result cannot prove the count: the static audit of the loop does.
inline std::string verification_note(const ComputeKernelDesc& d) {
  if (std::string_view(d.dtype).starts_with("int")) {
    return "result exact and it proves the iteration count: integer inputs, the result grows with every iteration "
           "(modulo 2^32); host reference for every unit";
  }
  return "result exact; iteration count proven by the static audit: integer-valued inputs with random signs and "
         "mantissa bits, host reference for every unit; the floating-point loop returns to its start every two steps "
         "(x = -1, or B then -B), so the result is the same for any iteration count";
}

inline KernelSpec compute_spec(const ComputeKernelDesc& d) {
  return KernelSpec{d.id, d.title, dtype_from_string(d.dtype).value_or(DType::none), Unit::ops_per_s,
                    KernelClass::compute, d.counting};
}
inline KernelSpec memory_spec(std::string id, std::string title, std::string counting) {
  return KernelSpec{std::move(id), std::move(title), DType::none, Unit::bytes_per_s, KernelClass::memory,
                    std::move(counting)};
}
// The memory and transfer kernels, listed after the compute kernels on every device.
inline void append_memory_specs(std::vector<KernelSpec>& v) {
  v.push_back(memory_spec("mem.read", "Device memory read (16-byte loads)", "BabelStream: 16 B per element read"));
  v.push_back(memory_spec("mem.write", "Device memory write (16-byte stores)", "BabelStream: 16 B per element written"));
  v.push_back(memory_spec("mem.copy", "Device memory copy c=a", "BabelStream: 32 B per element (read + write)"));
  v.push_back(memory_spec("mem.triad", "Device memory triad a=b+s·c (fp32)", "BabelStream: 48 B per element"));
  v.push_back(memory_spec("xfer.h2d", "Host to device, pinned", "bytes copied, counted once"));
  v.push_back(memory_spec("xfer.d2h", "Device to host, pinned", "bytes copied, counted once"));
}

// Device::measure's frame: timestamps, the device selected, any exception a `failed` measurement.
template <class Body>
Measurement measure_guarded(const KernelSpec& spec, int device, Body&& body) {
  Measurement m;
  m.spec = spec;
  m.conditions.started_at = utc_now_iso8601();
  const auto t0 = std::chrono::steady_clock::now();
  try {
    PROBE_GPU_CHECK(gpuSetDevice(device));
    body(m);
  } catch (const DeviceAbortedError& e) {
    // A sticky error: the context is unusable, so the rest of this device's kernels are skipped, not failed.
    m.status = Status::failed;
    m.reason = e.what();
    m.stats = {};
    m.device_aborted = true;
  } catch (const std::exception& e) {
    m.status = Status::failed;
    m.reason = e.what();
    m.stats = {};
  }
  m.conditions.finished_at = utc_now_iso8601();
  m.conditions.elapsed_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return m;
}

// What the vendor's sensor library (NVML, ROCm SMI) saw during a measurement.
struct SensorReadings {
  int samples = 0;
  double clock_hz_mean = 0, clock_hz_min = 0, clock_hz_max = 0;
  double power_w_mean = 0, power_w_max = 0, temperature_c_max = 0;
};

// The throttling note fires under this fraction of the maximum clock: a healthy H100/H200 under dense tensor load
// runs at its power limit near 85-92% of the maximum boost (its datasheet peaks use 1830 of 1980 MHz), which is not
// throttling; NVML's reason bits say more in the sustained phase (nvml.hpp throttling_reasons).
inline constexpr double kThrottledClockFraction = 0.80;

// The measured clock and the sensor notes, when there are samples. `clock_name` ("SM clock", "sclk") names the
// clock in the throttling note, `limit_word` ("limit", "cap") the board power limit in the power_at_limit note.
inline void record_sensors(Measurement& m, const SensorReadings& s, std::string clock_source, const char* clock_name,
                           double max_clock, std::optional<double> power_limit_w, const char* limit_word) {
  auto& c = m.conditions;
  c.clock_hz = s.clock_hz_mean;
  c.clock_hz_min = s.clock_hz_min;
  c.clock_hz_max = s.clock_hz_max;
  c.clock_source = std::move(clock_source);
  c.notes.emplace_back("power_w", fmt::format("mean {:.0f}, max {:.0f}", s.power_w_mean, s.power_w_max));
  c.notes.emplace_back("temperature_c_max", fmt::format("{:.0f}", s.temperature_c_max));
  if (max_clock > 0 && s.clock_hz_mean < kThrottledClockFraction * max_clock) {
    c.notes.emplace_back("throttling", fmt::format("{} {:.0f} MHz mean, {:.0f}% of the {:.0f} MHz maximum", clock_name,
                                                   s.clock_hz_mean / 1e6, 100 * s.clock_hz_mean / max_clock,
                                                   max_clock / 1e6));
  }
  if (power_limit_w && s.power_w_max >= 0.97 * *power_limit_w) {
    c.notes.emplace_back("power_at_limit",
                         fmt::format("{:.0f} W of a {:.0f} W {}", s.power_w_max, *power_limit_w, limit_word));
  }
}

// The end of every sample(): the attribute clock where none was measured (`fallback_source` says so), then
// iterations, warm-up, notes and the status from run_sampling's outcome.
inline void record_outcome(Measurement& m, SamplingOutcome& o, double fallback_clock_hz, const char* fallback_source,
                           const char* timing) {
  auto& c = m.conditions;
  if (c.clock_hz <= 0) {
    c.clock_hz = fallback_clock_hz;
    c.clock_source = fallback_source;
  }
  c.iterations = o.iterations;
  c.warmup_s = o.warmup_s;
  c.notes.emplace_back("spread_target_met", o.spread_met ? "yes" : "no (time or sample budget spent)");
  c.notes.emplace_back("timing", timing);
  if (!o.ok) {
    m.status = Status::failed;
    m.reason = std::move(o.failure);
  } else {
    m.status = Status::ok;
    m.stats = std::move(o.stats);
  }
}

// Array size of the memory kernels: each array ≥ 8× L2 and ≥ 1 GiB, within 80% of the free memory.
inline std::size_t array_bytes(int arrays, std::uint64_t l2_bytes) {
  std::size_t want = std::max<std::size_t>(8 * l2_bytes, std::size_t{1} << 30);
  std::size_t free_b = 0, total = 0;
  PROBE_GPU_CHECK(gpuMemGetInfo(&free_b, &total));
  const std::size_t cap = free_b / 10 * 8 / static_cast<std::size_t>(arrays);
  return std::min(want, cap) / kChunk * kChunk;
}

enum class MemoryPath { transfer, kernel, unknown };

// The memory and transfer kernels (everything but the theoretical peak, which the backend states):
// `sample(m, runner)` runs the sampling with the backend's sensors. `backend` is "cuda" or "hip".
template <class Sample>
MemoryPath measure_memory_kernel(Measurement& m, std::uint64_t l2_bytes, int multiprocessors, std::string_view backend,
                                 Sample&& sample) {
  if (m.spec.id == "xfer.h2d" || m.spec.id == "xfer.d2h") {
    const std::size_t bytes = std::size_t{256} << 20;
    TransferRunner runner(m.spec.id == "xfer.h2d", bytes);
    m.conditions.working_set_bytes = bytes;
    m.variant = fmt::format("{}MemcpyAsync, pinned host memory", backend);
    const SamplingOutcome o = sample(m, runner);
    m.conditions.work_per_sample = runner.work(o.iterations);
    return MemoryPath::transfer;
  }
  static constexpr std::pair<const char*, MemKernel> kIds[] = {
      {"mem.read", MemKernel::read}, {"mem.write", MemKernel::write}, {"mem.copy", MemKernel::copy},
      {"mem.triad", MemKernel::triad}};
  const auto it = std::find_if(std::begin(kIds), std::end(kIds), [&](const auto& e) { return m.spec.id == e.first; });
  if (it == std::end(kIds)) {
    m.status = Status::skipped;
    m.reason = fmt::format("unknown kernel for the {} backend", backend);
    return MemoryPath::unknown;
  }
  const MemKernel k = it->second;
  const std::size_t bytes = array_bytes(PROBE_GPU_KERNEL_NS::kMemArrays[static_cast<int>(k)], l2_bytes);
  MemoryRunner runner(k, bytes, multiprocessors);
  m.variant = "16-byte accesses, grid-stride";
  m.conditions.working_set_bytes = runner.working_set();
  m.conditions.array_bytes = bytes;
  m.conditions.notes.emplace_back("launch", fmt::format("{} blocks × {} threads per pass", runner.blocks(),
                                                        PROBE_GPU_KERNEL_NS::kMemThreadsPerBlock));
  if (bytes < 8 * l2_bytes || bytes < (std::size_t{1} << 30)) {
    m.conditions.warnings.push_back(fmt::format("arrays of {} are under max(8× L2, 1 GiB): not enough free memory",
                                                human_bytes(static_cast<double>(bytes))));
  }
  const SamplingOutcome o = sample(m, runner);
  m.conditions.work_per_sample = runner.work(o.iterations);
  return MemoryPath::kernel;
}

}  // namespace probe::PROBE_GPU_NS::gpu
