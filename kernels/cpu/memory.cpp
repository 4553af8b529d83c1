// Memory kernels: descriptions, the per-thread kernel object and its exact host checks.
// Byte counting per element follows STREAM (no write-allocate): read 8 B (one load), write 8 B (one store),
// copy 16 B (load + store), triad 24 B (two loads + store). Regular (non-streaming) stores make the cache read
// each destination line before writing it, 8 B more per stored element: reported as
// write_allocate_bytes_per_elem, never added to the counted bytes. Streaming stores (and read) have none.
#include <cmath>
#include <cstdio>
#include <stdexcept>
#include <limits>
#include <string>

#include "kernels/cpu/detail.hpp"
#include "kernels/cpu/mem_loops.hpp"

namespace probe::cpu::detail {
namespace {

constexpr int kBytesPerDouble = 8;
constexpr int kLeastLanes = 8;  // read loops keep >= 8 partial sums (sse2: 4 xmm × 2); bounds the chain length

struct OpShape {
  MemOp op;
  int arrays;
  int loads;   // doubles loaded per element
  int stores;  // doubles stored per element
};
constexpr OpShape kRead{MemOp::read, 1, 1, 0};
constexpr OpShape kWrite{MemOp::write, 1, 0, 1};
constexpr OpShape kCopy{MemOp::copy, 2, 1, 1};
constexpr OpShape kTriad{MemOp::triad, 3, 2, 1};

constexpr MemoryKernelInfo make_info(std::string_view id, std::string_view variant, Isa isa, OpShape s, bool nt,
                                     std::string_view counting) {
  return MemoryKernelInfo{id,
                          variant,
                          isa,
                          s.op,
                          nt,
                          s.arrays,
                          (s.loads + s.stores) * kBytesPerDouble,
                          nt ? 0 : s.stores * kBytesPerDouble,
                          counting};
}

constexpr std::string_view kReadCounting = "8 B per element: one load (sum reduction, nothing stored)";
constexpr std::string_view kWriteCounting = "8 B per element: one store; regular stores also fetch the line (+8 B write-allocate, not counted)";
constexpr std::string_view kWriteNtCounting = "8 B per element: one streaming store (no write-allocate)";
constexpr std::string_view kCopyCounting = "16 B per element: one load + one store; +8 B write-allocate not counted";
constexpr std::string_view kCopyNtCounting = "16 B per element: one load + one streaming store (no write-allocate)";
constexpr std::string_view kTriadCounting = "24 B per element: two loads + one store; +8 B write-allocate not counted";
constexpr std::string_view kTriadNtCounting = "24 B per element: two loads + one streaming store (no write-allocate)";

#define PROBE_MEM_INFOS(ISA)                                                                           \
  make_info("mem.read", #ISA, Isa::ISA, kRead, false, kReadCounting),                                  \
      make_info("mem.write", #ISA, Isa::ISA, kWrite, false, kWriteCounting),                           \
      make_info("mem.write.nt", #ISA, Isa::ISA, kWrite, true, kWriteNtCounting),                       \
      make_info("mem.copy", #ISA, Isa::ISA, kCopy, false, kCopyCounting),                              \
      make_info("mem.copy.nt", #ISA, Isa::ISA, kCopy, true, kCopyNtCounting),                          \
      make_info("mem.triad", #ISA, Isa::ISA, kTriad, false, kTriadCounting),                           \
      make_info("mem.triad.nt", #ISA, Isa::ISA, kTriad, true, kTriadNtCounting)

// Indexed [isa][op]; the order matches PROBE_MEM_ENTRIES below.
const MemoryKernelInfo& info_at(int index) {
  static constexpr MemoryKernelInfo infos[] = {PROBE_MEM_INFOS(avx512), PROBE_MEM_INFOS(avx2), PROBE_MEM_INFOS(sse2)};
  return infos[index];
}

// Tags of the three arrays' value streams.
constexpr std::uint64_t kTagA = 0xA11CE5A0000000A1ULL;
constexpr std::uint64_t kTagB = 0xB0B5B0B50000B0B5ULL;
constexpr std::uint64_t kTagC = 0xC0FFEEC0FFEE000CULL;

// A double in [1, 2) from 52 random mantissa bits: never zero, never denormal, every bit matters.
double value_from(std::uint64_t h) noexcept { return std::bit_cast<double>(0x3FF0000000000000ULL | (h >> 12)); }

class StreamKernel final : public MemoryKernel {
 public:
  StreamKernel(const MemoryKernelInfo& info, MemFn fn) noexcept : m_info(info), m_fn(fn) {}
  [[nodiscard]] const MemoryKernelInfo& info() const noexcept override { return m_info; }

  void init(const StreamArrays& arrays, std::size_t begin, std::size_t end, std::uint64_t seed) override {
    if (begin > end || end > arrays.n || arrays.a == nullptr ||
        (m_info.arrays >= 2 && arrays.b == nullptr) || (m_info.arrays >= 3 && arrays.c == nullptr)) {
      throw std::invalid_argument("memory kernel " + std::string(m_info.id) + ": bad slice [" +
                                  std::to_string(begin) + ", " + std::to_string(end) + ") of " +
                                  std::to_string(arrays.n) + " elements, or a missing array");
    }
    m_arrays = arrays;
    m_begin = begin;
    m_end = end;
    m_seed = seed;
    SplitMix64 rng(seed);
    // write stores a value no element starts with ([2, 4) vs [1, 2)); triad's s keeps b + s·c finite.
    m_scalar = m_info.op == MemOp::write ? 2.0 + rng.uniform(0, 2) : rng.uniform(0.5, 1.5);
    m_sum = 0;
    m_sum_first = 0;
    m_passes_run = 0;
    m_sums_agree = true;
    // First touch by the calling thread (the backend pins it): the pages land on its NUMA node.
    for (std::size_t i = begin; i < end; ++i) {
      m_arrays.a[i] = a0(i);
      if (m_info.arrays >= 2) m_arrays.b[i] = b0(i);
      if (m_info.arrays >= 3) m_arrays.c[i] = c0(i);
    }
  }

  void run(std::uint64_t passes) noexcept override {
    const MemArgs args{m_arrays.a + m_begin, m_arrays.b ? m_arrays.b + m_begin : nullptr,
                       m_arrays.c ? m_arrays.c + m_begin : nullptr, m_end - m_begin, m_scalar, &m_sum};
    for (std::uint64_t p = 0; p < passes; ++p) {
      m_fn(&args);
      if (m_info.op == MemOp::read) {
        // Every pass reads the same data in the same order: the sums must agree bit for bit.
        if (m_passes_run == 0) {
          m_sum_first = m_sum;
        } else if (std::bit_cast<std::uint64_t>(m_sum) != std::bit_cast<std::uint64_t>(m_sum_first)) {
          m_sums_agree = false;
        }
      }
      ++m_passes_run;
    }
  }

  [[nodiscard]] std::optional<std::string> verify(std::uint64_t passes) const override {
    const std::string what = std::string(m_info.id) + "/" + std::string(m_info.variant) + " slice [" +
                             std::to_string(m_begin) + ", " + std::to_string(m_end) + ")";
    // Sources must be untouched.
    if (m_info.op != MemOp::write) {
      for (std::size_t i = m_begin; i < m_end; ++i) {
        if (m_info.op == MemOp::read && !same(m_arrays.a[i], a0(i))) return what + ": read kernel changed a[" + std::to_string(i) + "]";
        if (m_info.arrays >= 2 && !same(m_arrays.b[i], b0(i))) return what + ": source b[" + std::to_string(i) + "] changed";
        if (m_info.arrays >= 3 && !same(m_arrays.c[i], c0(i))) return what + ": source c[" + std::to_string(i) + "] changed";
      }
    }
    if (m_info.op == MemOp::read) return verify_sum(passes, what);
    std::size_t bad = 0, first = 0;
    double got_first = 0, want_first = 0;
    for (std::size_t i = m_begin; i < m_end; ++i) {
      const double want = passes == 0 ? a0(i) : expected(i);
      if (!same(m_arrays.a[i], want) && bad++ == 0) {
        first = i;
        got_first = m_arrays.a[i];
        want_first = want;
      }
    }
    if (bad == 0) return std::nullopt;
    return what + ": " + std::to_string(bad) + " elements of a differ from the host reference; first a[" +
           std::to_string(first) + "] = " + show(got_first) + ", expected " + show(want_first);
  }

  void inject_error() noexcept override {
    if (m_info.op == MemOp::read) {
      // The sum is checked with a tolerance: flip the top mantissa bit (a 25-50 % change, far outside it).
      m_sum = std::bit_cast<double>(std::bit_cast<std::uint64_t>(m_sum) ^ (1ULL << 51));
      return;
    }
    if (m_end > m_begin) {  // stores are checked exactly: one ulp must show
      double& v = m_arrays.a[m_begin + (m_end - m_begin) / 2];
      v = std::bit_cast<double>(std::bit_cast<std::uint64_t>(v) ^ 1ULL);
    }
  }

 private:
  [[nodiscard]] double a0(std::size_t i) const noexcept { return value_from(hash64(m_seed ^ kTagA, i)); }
  [[nodiscard]] double b0(std::size_t i) const noexcept { return value_from(hash64(m_seed ^ kTagB, i)); }
  [[nodiscard]] double c0(std::size_t i) const noexcept { return value_from(hash64(m_seed ^ kTagC, i)); }

  [[nodiscard]] double expected(std::size_t i) const noexcept {
    switch (m_info.op) {
      case MemOp::write: return m_scalar;
      case MemOp::copy: return b0(i);
      case MemOp::triad: {
        const double t = m_scalar * c0(i);  // multiply, round, add, round: what the kernels do
        return b0(i) + t;
      }
      case MemOp::read: break;
    }
    return 0;
  }

  static bool same(double x, double y) noexcept {
    return std::bit_cast<std::uint64_t>(x) == std::bit_cast<std::uint64_t>(y);
  }
  static std::string show(double v) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.17g", v);
    return buf;
  }

  [[nodiscard]] std::optional<std::string> verify_sum(std::uint64_t passes, const std::string& what) const {
    if (passes == 0) return std::nullopt;
    if (!m_sums_agree) return what + ": passes over the same data gave different sums";
    long double exact = 0, abs_sum = 0;  // 64-bit mantissa: far below the tolerance's error
    for (std::size_t i = m_begin; i < m_end; ++i) {
      exact += a0(i);
      abs_sum += std::fabs(a0(i));
    }
    // Each element passes through at most len/kLeastLanes + 64 roundings (its lane's chain, the tree, the
    // tail): the standard recursive-summation bound with that chain length.
    const auto len = static_cast<long double>(m_end - m_begin);
    const long double tol = (len / kLeastLanes + 64) * std::numeric_limits<double>::epsilon() * abs_sum;
    const long double err = std::fabs(static_cast<long double>(m_sum) - exact);
    if (std::isfinite(static_cast<double>(err)) && err <= tol) return std::nullopt;
    return what + ": sum " + show(m_sum) + ", host " + show(static_cast<double>(exact)) + ", |difference| " +
           show(static_cast<double>(err)) + " > tolerance " + show(static_cast<double>(tol));
  }

  const MemoryKernelInfo& m_info;
  MemFn m_fn;
  StreamArrays m_arrays{};
  std::size_t m_begin = 0, m_end = 0;
  std::uint64_t m_seed = 0;
  double m_scalar = 0;
  double m_sum = 0, m_sum_first = 0;
  std::uint64_t m_passes_run = 0;
  bool m_sums_agree = true;
};

bool avx512_ok(const CpuFeatures& f) noexcept { return f.avx512f; }
bool avx2_ok(const CpuFeatures& f) noexcept { return f.avx2; }
bool sse2_ok(const CpuFeatures& f) noexcept { return f.sse2; }

}  // namespace

#define PROBE_MEM_ENTRY(INDEX, FN, OK)                                                                  \
  MemoryEntry {                                                                                        \
    &info_at(INDEX), #FN, OK, [] { return std::unique_ptr<MemoryKernel>(new StreamKernel(info_at(INDEX), FN)); } \
  }
#define PROBE_MEM_ENTRIES(BASE, ISA, OK)                                    \
  PROBE_MEM_ENTRY(BASE + 0, probe_cpu_mem_read_##ISA, OK),                  \
      PROBE_MEM_ENTRY(BASE + 1, probe_cpu_mem_write_##ISA, OK),             \
      PROBE_MEM_ENTRY(BASE + 2, probe_cpu_mem_write_nt_##ISA, OK),          \
      PROBE_MEM_ENTRY(BASE + 3, probe_cpu_mem_copy_##ISA, OK),              \
      PROBE_MEM_ENTRY(BASE + 4, probe_cpu_mem_copy_nt_##ISA, OK),           \
      PROBE_MEM_ENTRY(BASE + 5, probe_cpu_mem_triad_##ISA, OK),             \
      PROBE_MEM_ENTRY(BASE + 6, probe_cpu_mem_triad_nt_##ISA, OK)

std::span<const MemoryEntry> memory_entries() {
  static const MemoryEntry entries[] = {PROBE_MEM_ENTRIES(0, avx512, avx512_ok), PROBE_MEM_ENTRIES(7, avx2, avx2_ok),
                                        PROBE_MEM_ENTRIES(14, sse2, sse2_ok)};
  return entries;
}

}  // namespace probe::cpu::detail
