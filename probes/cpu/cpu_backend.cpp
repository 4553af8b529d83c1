// CPU backend: enumerates packages from hwloc, measures the clock with a dependent-add chain, runs each
// kernel on one pinned thread per core through the shared engine, and states the theoretical peak at the
// measured clock from the per-microarchitecture throughput table.
#include "cpu_backend.hpp"

#include <cpuid.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <limits>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fmt/format.h>
#include <numeric>
#include <optional>
#include <tuple>

#include "probe/engine.hpp"
#include "probe/error.hpp"
#include "cycle_counter.hpp"
#include "identify.hpp"
#include "uarch.hpp"
#include "worker_pool.hpp"

namespace probe::cpu {
namespace {

// The scalar clock before and after a measurement: about 1 ms of adds (4 bursts, the fastest kept) per thread.
constexpr double kClockProbeSeconds = 0.001;
// Chunks per thread slice for the memory kernels: a pass covers 1/64 of the arrays (the engine calibrates how
// many passes make a sample), and since the rotation carries over from kernel to kernel an element is touched
// again only after 63/64 of the arrays (at least 3.9 × the LLC under the 4 × LLC rule) went through the caches.
// A kernel's check then covers about what its samples touched, whatever the array size.
constexpr std::size_t kStreamChunks = 64;

KernelSpec compute_spec(std::string id, std::string title, DType t, std::string counting) {
  return KernelSpec{std::move(id), std::move(title), t, Unit::ops_per_s, KernelClass::compute, std::move(counting)};
}
KernelSpec memory_spec(std::string id, std::string title, std::string counting) {
  return KernelSpec{std::move(id), std::move(title), DType::fp64, Unit::bytes_per_s, KernelClass::memory,
                    std::move(counting)};
}

// The 1-minute load average when a measurement starts: a busy node explains a wide spread.
std::optional<double> load_average() {
  std::FILE* f = std::fopen("/proc/loadavg", "r");
  if (!f) return std::nullopt;
  double one = 0;
  const int n = std::fscanf(f, "%lf", &one);
  std::fclose(f);
  return n == 1 && std::isfinite(one) && one >= 0 ? std::optional<double>(one) : std::nullopt;
}

bool running_under_hypervisor() noexcept {
  unsigned a = 0, b = 0, c = 0, d = 0;
  if (__get_cpuid(1, &a, &b, &c, &d) == 0) return false;
  return (c & (1u << 31)) != 0;  // CPUID.1:ECX[31], set by hypervisors for their guests
}

std::string human_bytes(std::uint64_t b) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double v = static_cast<double>(b);
  int u = 0;
  while (v >= 1024 && u < 4) {
    v /= 1024;
    ++u;
  }
  return u == 0 ? fmt::format("{} B", b) : fmt::format("{:.4g} {}", v, units[u]);
}

// Memory for the stream kernels: 2 MiB aligned so that transparent huge pages can back it (fewer TLB misses,
// as a tuned STREAM gets), released with the device.
struct ArrayBlock {
  void* base = nullptr;
  std::size_t bytes = 0;
  ArrayBlock() = default;
  explicit ArrayBlock(std::size_t n) : bytes(n) {
    constexpr std::size_t kAlign = std::size_t{2} << 20;
    const std::size_t rounded = (n + kAlign - 1) / kAlign * kAlign;
    base = std::aligned_alloc(kAlign, rounded);
    if (!base) throw SystemError(fmt::format("cannot allocate {} for the memory kernels", human_bytes(rounded)));
    madvise(base, rounded, MADV_HUGEPAGE);
    bytes = rounded;
  }
  ~ArrayBlock() { std::free(base); }
  ArrayBlock(const ArrayBlock&) = delete;
  ArrayBlock& operator=(const ArrayBlock&) = delete;
};

// STREAM's rule, kept whatever the LLC: each array at least 4 × the sum of all last-level caches, at least
// 64 MiB. A VM may see an LLC that serves many more cores than it has (480 MiB for 2 vCPUs), but those cores can
// still fill all of it when the neighbours are idle, so a per-visible-core share would let part of the traffic
// hit the cache. The cost of big arrays is paid once per run (filled once, sampled a chunk at a time). The only
// cap is memory: the three arrays take at most half of the memory available now.
std::pair<std::uint64_t, std::string> choose_array_bytes(std::optional<std::uint64_t> given, std::uint64_t llc_total) {
  if (given) return {*given, fmt::format("{} per array (--mem-size)", human_bytes(*given))};
  const std::uint64_t stream = std::max<std::uint64_t>(4 * llc_total, 64ull << 20);
  const std::uint64_t available = available_memory_bytes();
  const std::uint64_t cap = available / 6;  // three arrays ≤ half of it
  if (available > 0 && stream > cap) {
    return {cap, fmt::format("{} per array: capped at 1/6 of the {} of memory available (STREAM's 4 × LLC {} would "
                             "not fit)", human_bytes(cap), human_bytes(available), human_bytes(4 * llc_total))};
  }
  return {stream, fmt::format("{} per array: 4 × the {} of last-level cache (STREAM's rule), at least 64 MiB",
                              human_bytes(stream), human_bytes(llc_total))};
}

// Faults in [begin, end) from the calling thread in one call (MADV_POPULATE_WRITE, Linux 5.14): pages land on
// this thread's NUMA node as with a first touch, at about twice the rate of faulting them one by one. Where the
// kernel refuses (false), the fill's own first touch does the same more slowly.
bool prefault(double* begin, double* end) noexcept {
#ifndef MADV_POPULATE_WRITE
  constexpr int MADV_POPULATE_WRITE = 23;
#endif
  constexpr std::uintptr_t kPage = 4096;
  const auto lo = reinterpret_cast<std::uintptr_t>(begin) / kPage * kPage;
  const auto hi = (reinterpret_cast<std::uintptr_t>(end) + kPage - 1) / kPage * kPage;
  return hi <= lo || madvise(reinterpret_cast<void*>(lo), hi - lo, MADV_POPULATE_WRITE) == 0;
}

struct ClockReading {
  double mean = 0, min = 0, max = 0;
};

ClockReading read_clock(WorkerPool& pool, double seconds) {
  std::vector<double> hz(static_cast<std::size_t>(pool.size()));
  pool.run([&](int i) { hz[static_cast<std::size_t>(i)] = core_clock_hz_brief(static_cast<std::uint64_t>(seconds * 4e9)); });
  ClockReading r;
  r.min = *std::min_element(hz.begin(), hz.end());
  r.max = *std::max_element(hz.begin(), hz.end());
  r.mean = std::accumulate(hz.begin(), hz.end(), 0.0) / static_cast<double>(hz.size());
  return r;
}

// Runs each thread's check on its own thread (its data is in its caches and on its NUMA node) and returns the
// first failure, naming the thread and its PU.
template <typename Kernel, typename Check>
std::optional<std::string> verify_on_threads(WorkerPool& pool, const std::vector<std::unique_ptr<Kernel>>& kernels,
                                             Check check) {
  std::vector<std::optional<std::string>> errors(kernels.size());
  pool.run([&](int i) {
    const auto u = static_cast<std::size_t>(i);
    errors[u] = check(*kernels[u]);
  });
  for (std::size_t i = 0; i < errors.size(); ++i) {
    if (errors[i]) return fmt::format("thread {} (PU {}): {}", i, pool.pus()[i], *errors[i]);
  }
  return std::nullopt;
}

// Clock during the kernel, per thread and run: the cycle counter over the timed loop where the CPU offers one,
// else a brief add chain on the same core right after the loop, before the core leaves the clock it ran the
// loop at (AVX-512 and AMX licence clocks; Intel keeps a licence about 2 ms after its last heavy instruction).
constexpr std::uint64_t kClockChainAdds = 1'000'000;

class ComputeRunner final : public SampleRunner {
 public:
  ComputeRunner(WorkerPool& pool, const ComputeKernelInfo& info) : m_pool(pool), m_info(info) {
    const auto threads = static_cast<std::size_t>(pool.size());
    m_kernels.resize(threads);
    m_counters.resize(threads);
    m_hz.resize(threads);
    // Each thread draws its own operands in its own memory and opens its own cycle counter.
    m_pool.run([&](int i) {
      const auto u = static_cast<std::size_t>(i);
      auto k = make_compute_kernel(m_info);
      k->prepare(0x9e3779b97f4a7c15ull * static_cast<std::uint64_t>(i + 1));
      m_kernels[u] = std::move(k);
      m_counters[u] = CycleCounter::for_this_thread();
    });
    m_use_counter = std::all_of(m_counters.begin(), m_counters.end(), [](const CycleCounter& c) { return c.valid(); });
    if (!m_use_counter) m_counter_why_not = m_counters.front().why_not();
  }
  double run(std::uint64_t iterations) override {
    const double t = m_pool.run_timed(
        [&](int i) {
          const auto u = static_cast<std::size_t>(i);
          if (m_use_counter) m_counters[u].start();
          m_kernels[u]->run(iterations);
          if (m_use_counter) m_hz[u] = m_counters[u].stop_hz().value_or(0);
        },
        [&](int i) {
          // Also where the counter did not count this run (e.g. a hybrid CPU's other core type): the add chain.
          auto& hz = m_hz[static_cast<std::size_t>(i)];
          if (!m_use_counter || !(hz > 0)) hz = core_clock_hz_brief(kClockChainAdds);
        });
    m_run_hz.push_back(m_hz);
    return t;
  }
  std::optional<std::string> verify(std::uint64_t iterations, bool) override {
    return verify_on_threads(m_pool, m_kernels, [iterations](const ComputeKernel& k) { return k.verify(iterations); });
  }
  double work(std::uint64_t iterations) const override {
    return m_info.ops_per_iter() * static_cast<double>(iterations) * static_cast<double>(m_kernels.size());
  }

  // The clock over the last `runs` runs (the samples): median over runs of the thread mean, and the extremes.
  [[nodiscard]] std::optional<ClockReading> kernel_clock(std::size_t runs) const {
    std::vector<double> means;
    ClockReading r;
    r.min = 1e300;
    const std::size_t first = m_run_hz.size() > runs ? m_run_hz.size() - runs : 0;
    for (std::size_t k = first; k < m_run_hz.size(); ++k) {
      const auto& hz = m_run_hz[k];
      if (std::any_of(hz.begin(), hz.end(), [](double v) { return !(v > 0); })) continue;
      means.push_back(std::accumulate(hz.begin(), hz.end(), 0.0) / static_cast<double>(hz.size()));
      r.min = std::min(r.min, *std::min_element(hz.begin(), hz.end()));
      r.max = std::max(r.max, *std::max_element(hz.begin(), hz.end()));
    }
    if (means.empty()) return std::nullopt;
    std::sort(means.begin(), means.end());
    const std::size_t n = means.size();
    r.mean = n % 2 == 1 ? means[n / 2] : 0.5 * (means[n / 2 - 1] + means[n / 2]);
    return r;
  }
  [[nodiscard]] std::string kernel_clock_source() const {
    if (m_use_counter) {
      return "cycle counter (perf_event, user-mode cycles) over each sample's timed loop on every measuring thread "
             "(an add chain right after the loop where the counter did not count); median over the samples of the "
             "mean over threads";
    }
    return fmt::format("dependent-add chain ({:.0f}k adds, ~0.3 ms) on every measuring thread right after each "
                       "sample's timed loop, on the same core before it leaves the loop's licence clock; median over "
                       "the samples of the mean over threads (no cycle counter: {})",
                       static_cast<double>(kClockChainAdds) / 1e3, m_counter_why_not);
  }

 private:
  WorkerPool& m_pool;
  const ComputeKernelInfo& m_info;
  std::vector<std::unique_ptr<ComputeKernel>> m_kernels;
  std::vector<CycleCounter> m_counters;
  bool m_use_counter = false;
  std::string m_counter_why_not;
  std::vector<double> m_hz;                   // this run's clock per thread
  std::vector<std::vector<double>> m_run_hz;  // every run's
};

// The slices are filled once per device and shared by every memory kernel (see StreamSlice); a runner only
// attaches one kernel instance per thread to its thread's slice. One iteration = one pass over the next chunk.
class MemoryRunner final : public SampleRunner {
 public:
  MemoryRunner(WorkerPool& pool, const MemoryKernelInfo& info, const std::vector<std::unique_ptr<StreamSlice>>& slices)
      : m_pool(pool), m_info(info) {
    const auto threads = static_cast<std::size_t>(pool.size());
    m_kernels.resize(threads);
    m_pool.run([&](int i) {
      const auto u = static_cast<std::size_t>(i);
      auto k = make_memory_kernel(m_info);
      k->attach(*slices[u], 0x2545F4914F6CDD1Dull * (u + 1));
      m_kernels[u] = std::move(k);
    });
    m_elements_per_pass = slices.empty() ? 0 : slices.front()->chunk_elements() * threads;
  }
  double run(std::uint64_t passes) override {
    return m_pool.run_timed([&](int i) { m_kernels[static_cast<std::size_t>(i)]->run(passes); });
  }
  std::optional<std::string> verify(std::uint64_t, bool final) override {
    if (!final) return std::nullopt;  // a full check is another pass over memory: once, after the last sample
    return verify_on_threads(m_pool, m_kernels, [](const MemoryKernel& k) { return k.verify(); });
  }
  double work(std::uint64_t passes) const override {
    return static_cast<double>(passes) * static_cast<double>(m_elements_per_pass) * m_info.counted_bytes_per_elem;
  }

 private:
  WorkerPool& m_pool;
  const MemoryKernelInfo& m_info;
  std::vector<std::unique_ptr<MemoryKernel>> m_kernels;
  std::size_t m_elements_per_pass = 0;
};

class CpuDevice final : public Device {
 public:
  CpuDevice(std::shared_ptr<const Topology> topology, const CpuPackage& package, std::uint64_t llc_total,
            const CpuOptions& options, const CpuFeatures& features, Identification identification)
      : m_topology(std::move(topology)), m_package(package), m_options(options), m_features(features),
        m_id(std::move(identification)) {
    // From evidence, not the model number alone: a hypervisor may mask the model (identify.hpp).
    m_uarch = m_id.entry;
    m_pus = package.core_first_pu;
    if (m_options.threads && *m_options.threads > 0 && *m_options.threads < static_cast<int>(m_pus.size())) {
      m_pus.resize(static_cast<std::size_t>(*m_options.threads));
    }
    std::tie(m_array_bytes, m_array_rule) = choose_array_bytes(m_options.array_bytes, llc_total);
    m_llc_total = llc_total;

    m_info.id = fmt::format("cpu{}", package.index);
    m_info.backend = "cpu";
    m_info.kind = "cpu";
    m_info.name = !package.model_name.empty() ? package.model_name : features.brand;
    m_info.vendor = !package.vendor.empty() ? package.vendor : features.vendor;
    m_info.arch = m_uarch ? m_uarch->id : fmt::format("x86-64 family {} model {}", features.family, features.model);
    m_info.units = package.cores;
    m_info.unit_name = "cores";
    auto& p = m_info.properties;
    for (auto& kv : cpuid_properties(features, m_id)) p.push_back(std::move(kv));
    p.emplace_back("cores", std::to_string(package.cores));
    p.emplace_back("hardware_threads", std::to_string(package.threads));
    p.emplace_back("measurement_threads", fmt::format("{} (one per core, pinned)", m_pus.size()));
    p.emplace_back("last_level_cache", human_bytes(package.llc_bytes));
    p.emplace_back("isa_cap", std::string(to_string(m_options.isa_cap)));
    for (auto& kv : identification_properties(m_id)) p.push_back(std::move(kv));
    for (auto& kv : rate_properties(m_id, features, static_cast<int>(m_pus.size()), m_options.isa_cap)) {
      p.push_back(std::move(kv));
    }
    if (running_under_hypervisor()) {
      m_info.partial = true;
      m_info.partial_reason = "virtual machine: the visible cores may be part of a larger physical package";
    }
    if (m_pus.size() < package.core_first_pu.size()) {
      m_info.partial = true;
      m_info.partial_reason = fmt::format("measured with {} of {} cores (--threads)", m_pus.size(),
                                          package.core_first_pu.size());
    }
  }

  const DeviceInfo& info() const noexcept override { return m_info; }
  std::span<const KernelSpec> kernels() const noexcept override { return cpu_kernel_specs(); }

  Measurement measure(const KernelSpec& spec, const RunPolicy& policy, RunContext& ctx) override {
    Measurement m;
    m.spec = spec;
    m.conditions.started_at = utc_now_iso8601();
    m.conditions.load_average_1min = load_average();
    const auto t0 = std::chrono::steady_clock::now();
    if (spec.kind == KernelClass::compute) {
      measure_compute(m, policy, ctx);
    } else {
      measure_memory(m, policy, ctx);
    }
    m.conditions.finished_at = utc_now_iso8601();
    m.conditions.elapsed_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    return m;
  }

 private:
  WorkerPool& pool() {
    if (!m_pool) m_pool = std::make_unique<WorkerPool>(*m_topology, m_pus);
    return *m_pool;
  }

  void fill_common(Measurement& m, WorkerPool& p) {
    m.conditions.threads = p.size();
    m.conditions.pus = p.pus();
    for (const auto& e : p.bind_errors()) m.conditions.notes.emplace_back("placement", e);
  }

  void record_clock(Measurement& m, const ClockReading& before, const ClockReading& after) {
    m.conditions.clock_hz = 0.5 * (before.mean + after.mean);
    m.conditions.clock_hz_min = std::min(before.min, after.min);
    m.conditions.clock_hz_max = std::max(before.max, after.max);
    m.conditions.clock_source =
        "dependent integer-add chain on every measuring thread, just before and just after sampling "
        "(mean of the two)";
  }

  void apply_outcome(Measurement& m, SamplingOutcome&& o, double work_per_iter) {
    m.conditions.iterations = o.iterations;
    m.conditions.work_per_sample = work_per_iter;
    m.conditions.warmup_s = o.warmup_s;
    m.conditions.notes.emplace_back("spread_target_met", o.spread_met ? "yes" : "no (time or sample budget spent)");
    if (!o.ok) {
      m.status = Status::failed;
      m.reason = std::move(o.failure);
      return;
    }
    m.status = Status::ok;
    m.stats = std::move(o.stats);
  }

  void measure_compute(Measurement& m, const RunPolicy& policy, RunContext& ctx) {
    const ComputeKernelInfo* k = select_compute_kernel(m.spec.id, m_features, m_options.isa_cap);
    if (!k) {
      m.status = Status::skipped;
      m.reason = skip_reason(m.spec.id);
      return;
    }
    m.variant = std::string(k->variant);
    m.conditions.notes.emplace_back("instruction", std::string(k->instruction));
    m.conditions.notes.emplace_back("counting", std::string(k->counting));
    ctx.progress(fmt::format("{} {} ({})", m_info.id, m.spec.id, k->variant));
    WorkerPool& p = pool();
    fill_common(m, p);
    const double probe_s = kClockProbeSeconds;
    const ClockReading before = read_clock(p, probe_s);
    ComputeRunner runner(p, *k);
    SamplingOutcome o = run_sampling(runner, policy, ctx.stop_requested);
    const ClockReading after = read_clock(p, probe_s);
    record_clock(m, before, after);
    m.conditions.clock_hz_scalar = m.conditions.clock_hz;
    // The % of peak uses the clock the loop itself ran at; the scalar clock before/after stays as a second figure.
    if (const auto during = runner.kernel_clock(o.stats.samples.size())) {
      m.conditions.clock_hz = during->mean;
      m.conditions.clock_hz_min = during->min;
      m.conditions.clock_hz_max = during->max;
      m.conditions.clock_source = runner.kernel_clock_source();
    } else {
      m.conditions.notes.emplace_back("clock", "the clock during the kernel could not be measured: the scalar "
                                               "clock before/after is used");
    }
    const double work = runner.work(o.iterations);
    apply_outcome(m, std::move(o), work);
    set_theoretical(m, *k, p.size());
  }

  std::string skip_reason(std::string_view id) const {
    for (const ComputeKernelInfo* v : compute_kernel_variants()) {
      if (v->id == id && is_supported(*v, m_features)) {
        return fmt::format("the {} variant is above the ISA cap --cpu-isa {}", v->variant,
                           to_string(m_options.isa_cap));
      }
    }
    if (id == "fma.fp16") return "no native FP16 arithmetic on this CPU (needs AVX512_FP16)";
    if (id == "dot.bf16") return "no BF16 dot-product instruction on this CPU (needs AVX512_BF16)";
    if (id == "dot.int8") return "no INT8 dot-product instruction on this CPU (needs AVX512_VNNI or AVX-VNNI)";
    if (id.starts_with("amx.")) return amx_skip_reason(id);
    return "no variant of this kernel runs on this CPU";
  }

  // The CPU's matrix instruction first, then whatever stopped the tile state (XCR0, Linux, the grant).
  std::string amx_skip_reason(std::string_view id) const {
    const bool has = id == "amx.bf16" ? m_features.amx_bf16 : id == "amx.int8" ? m_features.amx_int8
                                                                               : m_features.amx_fp16;
    if (!has) {
      if (id == "amx.bf16") return "no AMX-BF16 on this CPU (needs Sapphire Rapids or later)";
      if (id == "amx.int8") return "no AMX-INT8 on this CPU (needs Sapphire Rapids or later)";
      return "no AMX-FP16 on this CPU (needs Granite Rapids or later)";
    }
    return amx_permission(m_features).reason;
  }

  void set_theoretical(Measurement& m, const ComputeKernelInfo& k, int threads) {
    if (m.conditions.clock_hz <= 0) return;
    const std::string key = fmt::format("{}/{}", k.id, k.variant);
    const RateLookup rate = per_cycle_rate(m_id, m_features, key);
    if (!rate.per_cycle) {
      m.theoretical_basis = rate.unknown_reason;
      return;
    }
    const double per_cycle_ops = *rate.per_cycle * k.ops_per_instr;
    m.theoretical = threads * per_cycle_ops * m.conditions.clock_hz;
    m.theoretical_confirmed = rate.confirmed;
    m.theoretical_basis =
        fmt::format("{} cores × {:g} {}/cycle ({:g} × {} per cycle{}, {}{}) × {:.3f} GHz measured", threads,
                    per_cycle_ops, m.spec.dtype == DType::int8 ? "OP" : "FLOP", *rate.per_cycle, k.instruction,
                    rate.confirmed ? "" : " (unconfirmed)", rate.empirical ? "empirical: " : "", rate.source,
                    m.conditions.clock_hz / 1e9);
  }

  void measure_memory(Measurement& m, const RunPolicy& policy, RunContext& ctx) {
    const MemoryKernelInfo* k = select_memory_kernel(m.spec.id, m_features, m_options.isa_cap);
    if (!k) {
      m.status = Status::skipped;
      m.reason = "no variant of this kernel runs on this CPU";
      return;
    }
    m.variant = std::string(k->variant);
    m.conditions.notes.emplace_back("counting", std::string(k->counting));
    m.conditions.notes.emplace_back("stores", k->nontemporal ? "non-temporal (streaming)" : "regular");
    ctx.progress(fmt::format("{} {} ({})", m_info.id, m.spec.id, k->variant));
    WorkerPool& p = pool();
    fill_common(m, p);
    const auto& slices = stream_slices(p);
    const double probe_s = kClockProbeSeconds;
    const ClockReading before = read_clock(p, probe_s);
    MemoryRunner runner(p, *k, slices);
    const std::uint64_t array_bytes = m_stream_elements * sizeof(double);
    m.conditions.working_set_bytes = array_bytes * static_cast<std::uint64_t>(k->arrays);
    m.conditions.array_bytes = array_bytes;
    m.conditions.notes.emplace_back("array_rule", m_array_rule);
    m.conditions.notes.emplace_back(
        "passes", fmt::format("one pass = one of {} chunks of each thread's slice ({} per chunk and array), in turn "
                              "across kernels: an element is touched again only after the other chunks were",
                              slices.front()->chunks(), human_bytes(slices.front()->chunk_elements() * sizeof(double))));
    m.conditions.notes.emplace_back("fill_s", fmt::format("{:.3f} (arrays filled once per run, before the first "
                                                          "memory kernel; not part of any sample)", m_fill_s));
    if (array_bytes < 4 * m_llc_total) {
      m.conditions.warnings.push_back(fmt::format("arrays of {} are under 4x the last-level caches ({}): part of the "
                                                  "traffic may be served from cache",
                                                  human_bytes(array_bytes), human_bytes(4 * m_llc_total)));
    }
    SamplingOutcome o = run_sampling(runner, policy, ctx.stop_requested);
    const ClockReading after = read_clock(p, probe_s);
    record_clock(m, before, after);
    const double work = runner.work(o.iterations);
    apply_outcome(m, std::move(o), work);
    if (m.ok() && k->write_allocate_bytes_per_elem > 0) {
      const double factor = static_cast<double>(k->counted_bytes_per_elem + k->write_allocate_bytes_per_elem) /
                            k->counted_bytes_per_elem;
      m.derived.push_back(DerivedFigure{
          "with_write_allocate", m.stats.median * factor,
          fmt::format("median × {}/{}: regular stores first read each destination line (write-allocate)",
                      k->counted_bytes_per_elem + k->write_allocate_bytes_per_elem, k->counted_bytes_per_elem)});
    }
    m.theoretical_basis = "not computed: the DIMM configuration is not known to probe";
  }

  // The arrays, allocated, first-touched and filled once per run by the threads that own each slice.
  const std::vector<std::unique_ptr<StreamSlice>>& stream_slices(WorkerPool& p) {
    if (m_slices.empty()) {
      const std::size_t per_array = static_cast<std::size_t>(m_array_bytes) / 4096 * 4096;
      // --mem-size is bounded (cli_values.hpp) and checked against memory (check_array_bytes); this guards the
      // multiplication for any other caller, since a wrapped size would make the kernels write past the block.
      if (per_array == 0 || per_array > (std::numeric_limits<std::size_t>::max() - (std::size_t{2} << 20)) / 3) {
        throw SystemError(fmt::format("array size {} bytes is not usable for the memory kernels", m_array_bytes));
      }
      m_block = std::make_unique<ArrayBlock>(3 * per_array);
      auto* base = static_cast<char*>(m_block->base);
      const StreamArrays arrays{reinterpret_cast<double*>(base), reinterpret_cast<double*>(base + per_array),
                                reinterpret_cast<double*>(base + 2 * per_array), per_array / sizeof(double)};
      const auto threads = static_cast<std::size_t>(p.size());
      // Chunks of whole 64-element blocks (cache lines, vectors); small arrays (--mem-size) get one chunk.
      const std::size_t per_thread = arrays.n / threads;
      const std::size_t chunks = per_thread >= kStreamChunks * 64 * 64 ? kStreamChunks : 1;  // ≥ 2 MiB per thread
      const std::size_t chunk_len = per_thread / chunks / 64 * 64;
      m_slices.resize(threads);
      const auto t0 = std::chrono::steady_clock::now();
      p.run([&](int i) {
        const auto u = static_cast<std::size_t>(i);
        const std::size_t b = u * per_thread, e = b + chunks * chunk_len;
        const bool a_faulted = prefault(arrays.a + b, arrays.a + e);
        for (double* arr : {arrays.b, arrays.c}) (void)prefault(arr + b, arr + e);
        auto slice = std::make_unique<StreamSlice>(arrays, b, e, chunks);
        slice->fill(0x5DEECE66Dull * (u + 1), !a_faulted);
        m_slices[u] = std::move(slice);
      });
      m_fill_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      m_stream_elements = chunks * chunk_len * threads;
    }
    return m_slices;
  }

  std::shared_ptr<const Topology> m_topology;
  CpuPackage m_package;
  CpuOptions m_options;
  CpuFeatures m_features;
  Identification m_id;
  const Uarch* m_uarch = nullptr;
  std::vector<int> m_pus;
  std::uint64_t m_array_bytes = 0, m_llc_total = 0;
  DeviceInfo m_info;
  std::unique_ptr<WorkerPool> m_pool;
  std::unique_ptr<ArrayBlock> m_block;
  std::vector<std::unique_ptr<StreamSlice>> m_slices;  // one per measuring thread
  std::size_t m_stream_elements = 0;                   // per array, all threads
  double m_fill_s = 0;
  std::string m_array_rule;
};

class CpuBackend final : public Backend {
 public:
  CpuBackend(std::shared_ptr<const Topology> topology, CpuOptions options, std::unique_ptr<FmaUnitCounter> counter)
      : m_topology(std::move(topology)), m_options(options), m_fma_units(std::move(counter)) {}
  std::string_view name() const noexcept override { return "cpu"; }
  Availability availability() noexcept override {
    Availability a;
    a.available = true;
    try {
      a.version = fmt::format("built in; hwloc {}", m_topology->inventory().hwloc_version);
    } catch (...) {
      a.version = "built in";
    }
    if (!m_topology->is_this_system()) {
      a.available = false;
      a.reason = "the topology was loaded from XML: this is not the machine probe runs on";
    }
    return a;
  }
  std::vector<std::unique_ptr<Device>> devices() override {
    const Inventory inv = m_topology->inventory();
    const CpuFeatures features = detect_features();
    const Identification identification = identify(features, UarchTable::builtin());
    std::uint64_t llc_total = 0;
    for (const auto& pkg : inv.packages) llc_total += pkg.llc_bytes;
    std::vector<std::unique_ptr<Device>> out;
    for (const auto& pkg : inv.packages) {
      if (pkg.core_first_pu.empty()) continue;
      // The empirical FMA-unit count, once per device: a cross-check of the table, and the deciding figure where
      // the table cannot decide (Skylake-SP Silver vs Gold).
      Identification id = identification;
      if (m_fma_units) cross_check_fma_units(id, m_fma_units->count(features));
      out.push_back(std::make_unique<CpuDevice>(m_topology, pkg, llc_total, m_options, features, std::move(id)));
    }
    return out;
  }

 private:
  std::shared_ptr<const Topology> m_topology;
  CpuOptions m_options;
  std::unique_ptr<FmaUnitCounter> m_fma_units;
};

}  // namespace

std::uint64_t available_memory_bytes() noexcept {
  const long pages = sysconf(_SC_AVPHYS_PAGES), page = sysconf(_SC_PAGESIZE);
  if (pages <= 0 || page <= 0) return 0;
  const auto p = static_cast<std::uint64_t>(pages), size = static_cast<std::uint64_t>(page);
  return p > std::numeric_limits<std::uint64_t>::max() / size ? std::numeric_limits<std::uint64_t>::max() : p * size;
}

void check_array_bytes(std::uint64_t array_bytes, std::uint64_t available_bytes) {
  constexpr std::uint64_t kArrays = 3;
  if (array_bytes > std::numeric_limits<std::uint64_t>::max() / kArrays ||
      array_bytes > std::numeric_limits<std::size_t>::max() / kArrays) {
    throw InputError(fmt::format("--mem-size: {} bytes per array cannot be allocated three times", array_bytes));
  }
  if (available_bytes > 0 && kArrays * array_bytes > available_bytes) {
    throw InputError(fmt::format("--mem-size: three arrays of {} need {}, more than the {} of memory available",
                                 human_bytes(array_bytes), human_bytes(kArrays * array_bytes),
                                 human_bytes(available_bytes)));
  }
}

const std::vector<KernelSpec>& cpu_kernel_specs() {
  static const std::vector<KernelSpec> specs{
      compute_spec("fma.fp64", "FP64 FMA", DType::fp64, "2 FLOP per FMA lane"),
      compute_spec("fma.fp32", "FP32 FMA", DType::fp32, "2 FLOP per FMA lane"),
      compute_spec("fma.fp16", "FP16 FMA", DType::fp16, "2 FLOP per FMA lane"),
      compute_spec("dot.bf16", "BF16 dot product, FP32 accumulate", DType::bf16, "2 FLOP per BF16 multiply-add"),
      compute_spec("dot.int8", "INT8 dot product, INT32 accumulate", DType::int8, "2 OP per 8-bit multiply-add"),
      compute_spec("amx.bf16", "BF16 matrix (AMX), FP32 accumulate", DType::bf16, "2 FLOP per BF16 multiply-add"),
      compute_spec("amx.int8", "INT8 matrix (AMX), INT32 accumulate", DType::int8, "2 OP per 8-bit multiply-add"),
      compute_spec("amx.fp16", "FP16 matrix (AMX), FP32 accumulate", DType::fp16, "2 FLOP per FP16 multiply-add"),
      memory_spec("mem.read", "Read (sum)", "STREAM: 8 B per element read"),
      memory_spec("mem.write", "Write", "STREAM: 8 B per element written; write-allocate not counted"),
      memory_spec("mem.write.nt", "Write, non-temporal", "STREAM: 8 B per element written"),
      memory_spec("mem.copy", "Copy a=b", "STREAM: 16 B per element; write-allocate not counted"),
      memory_spec("mem.copy.nt", "Copy a=b, non-temporal", "STREAM: 16 B per element"),
      memory_spec("mem.triad", "Triad a=b+s·c", "STREAM: 24 B per element; write-allocate not counted"),
      memory_spec("mem.triad.nt", "Triad a=b+s·c, non-temporal", "STREAM: 24 B per element"),
  };
  return specs;
}

std::unique_ptr<Backend> make_cpu_backend(std::shared_ptr<const Topology> topology, CpuOptions options) {
  return std::make_unique<CpuBackend>(std::move(topology), options, make_fma_unit_counter());
}

std::unique_ptr<Backend> make_cpu_backend(std::shared_ptr<const Topology> topology, CpuOptions options,
                                          std::unique_ptr<FmaUnitCounter> fma_unit_counter) {
  return std::make_unique<CpuBackend>(std::move(topology), options, std::move(fma_unit_counter));
}

}  // namespace probe::cpu
