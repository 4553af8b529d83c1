// Memory kernels: descriptions, the per-thread kernel object and its exact host checks.
// Byte counting per element follows STREAM (no write-allocate): read 8 B (one load), write 8 B (one store),
// copy 16 B (load + store), triad 24 B (two loads + store). Regular (non-streaming) stores make the cache read
// each destination line before writing it, 8 B more per stored element: reported as
// write_allocate_bytes_per_elem, never added to the counted bytes. Streaming stores (and read) have none.
//
// Verification: the sources b and c are filled once per run (StreamSlice) and never written; per-chunk checksums
// prove they are intact. After a kernel, every chunk it touched is checked against the host reference computed
// from the sources: write a == s, copy a == b, triad a == b + s·c (bit for bit), read the sum of b within the
// recursive-summation bound (and every pass over a chunk must give the same sum bit for bit).
#include <bit>
#include <cmath>
#include <cstdio>
#include <stdexcept>
#include <limits>
#include <string>
#include <vector>

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

// Tags of the two source arrays' value streams.
constexpr std::uint64_t kTagB = 0xB0B5B0B50000B0B5ULL;
constexpr std::uint64_t kTagC = 0xC0FFEEC0FFEE000CULL;

// A double in [1, 2) from 52 random mantissa bits: never zero, never denormal, every bit matters.
double value_from(std::uint64_t h) noexcept { return std::bit_cast<double>(0x3FF0000000000000ULL | (h >> 12)); }

bool same(double x, double y) noexcept { return std::bit_cast<std::uint64_t>(x) == std::bit_cast<std::uint64_t>(y); }

std::string show(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

// Two sums over the bit patterns: any changed element changes the first; swapped elements change the second.
void checksum(const double* x, std::size_t n, std::size_t first_index, std::uint64_t& plain, std::uint64_t& weighted) {
  std::uint64_t s1 = 0, s2 = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const auto bits = std::bit_cast<std::uint64_t>(x[i]);
    s1 += bits;
    s2 += bits * (2 * (first_index + i) + 1);
  }
  plain = s1;
  weighted = s2;
}

class StreamKernel final : public MemoryKernel {
 public:
  StreamKernel(const MemoryKernelInfo& info, MemFn fn) noexcept : m_info(info), m_fn(fn) {}
  [[nodiscard]] const MemoryKernelInfo& info() const noexcept override { return m_info; }

  void attach(const StreamSlice& slice, std::uint64_t seed) override {
    m_slice = &slice;
    SplitMix64 rng(seed);
    // write stores a value no source element holds ([2, 4) vs [1, 2)); triad's s keeps b + s·c finite.
    m_scalar = m_info.op == MemOp::write ? 2.0 + rng.uniform(0, 2) : rng.uniform(0.5, 1.5);
    m_next = 0;
    m_touched.assign(slice.chunks(), false);
    m_sum_first.assign(slice.chunks(), 0.0);
    m_sums_agree = true;
  }

  void run(std::uint64_t passes) noexcept override {
    if (m_slice == nullptr || m_slice->chunk_elements() == 0) return;
    const StreamArrays& arr = m_slice->arrays();
    for (std::uint64_t p = 0; p < passes; ++p) {
      const std::size_t chunk = m_next;
      m_next = (m_next + 1) % m_slice->chunks();
      const std::size_t at = m_slice->chunk_begin(chunk);
      double sum = 0;
      // read sums b: the sources are the arrays no kernel writes, so every kernel finds them as fill() left them.
      const MemArgs args{m_info.op == MemOp::read ? arr.b + at : arr.a + at, arr.b + at, arr.c + at,
                         m_slice->chunk_elements(), m_scalar, &sum};
      m_fn(&args);
      if (m_info.op == MemOp::read) {
        // Every pass over a chunk reads the same data in the same order: the sums must agree bit for bit.
        if (!m_touched[chunk]) {
          m_sum_first[chunk] = sum;
        } else if (!same(sum, m_sum_first[chunk])) {
          m_sums_agree = false;
        }
      }
      m_touched[chunk] = true;
    }
  }

  [[nodiscard]] std::optional<std::string> verify() const override {
    if (m_slice == nullptr) return std::string(m_info.id) + ": not attached to a slice";
    if (!m_sums_agree) return label(0) + ": passes over the same data gave different sums";
    for (std::size_t chunk = 0; chunk < m_touched.size(); ++chunk) {
      if (!m_touched[chunk]) continue;
      if (m_info.op != MemOp::write) {
        if (auto e = m_slice->check_sources(chunk, m_info.op == MemOp::triad)) return label(chunk) + ": " + *e;
      }
      if (auto e = m_info.op == MemOp::read ? verify_sum(chunk) : verify_stores(chunk)) return label(chunk) + ": " + *e;
    }
    return std::nullopt;
  }

  void inject_error() noexcept override {
    std::size_t chunk = 0;
    while (chunk < m_touched.size() && !m_touched[chunk]) ++chunk;
    if (chunk == m_touched.size() || m_slice->chunk_elements() == 0) return;
    if (m_info.op == MemOp::read) {
      // The sum is checked with a tolerance: flip the top mantissa bit (a 25-50 % change, far outside it).
      m_sum_first[chunk] = std::bit_cast<double>(std::bit_cast<std::uint64_t>(m_sum_first[chunk]) ^ (1ULL << 51));
      return;
    }
    // Stores are checked exactly: one ulp must show.
    double& v = m_slice->arrays().a[m_slice->chunk_begin(chunk) + m_slice->chunk_elements() / 2];
    v = std::bit_cast<double>(std::bit_cast<std::uint64_t>(v) ^ 1ULL);
  }

 private:
  [[nodiscard]] std::string label(std::size_t chunk) const {
    const std::size_t b = m_slice->chunk_begin(chunk);
    return std::string(m_info.id) + "/" + std::string(m_info.variant) + " chunk [" + std::to_string(b) + ", " +
           std::to_string(b + m_slice->chunk_elements()) + ")";
  }

  [[nodiscard]] std::optional<std::string> verify_stores(std::size_t chunk) const {
    const StreamArrays& arr = m_slice->arrays();
    const std::size_t b = m_slice->chunk_begin(chunk), e = b + m_slice->chunk_elements();
    std::size_t bad = 0, first = 0;
    double got_first = 0, want_first = 0;
    for (std::size_t i = b; i < e; ++i) {
      double want = m_scalar;
      if (m_info.op == MemOp::copy) want = arr.b[i];
      if (m_info.op == MemOp::triad) {
        const double t = m_scalar * arr.c[i];  // multiply, round, add, round: what the kernels do
        want = arr.b[i] + t;
      }
      if (!same(arr.a[i], want) && bad++ == 0) {
        first = i;
        got_first = arr.a[i];
        want_first = want;
      }
    }
    if (bad == 0) return std::nullopt;
    return std::to_string(bad) + " elements of a differ from the host reference; first a[" + std::to_string(first) +
           "] = " + show(got_first) + ", expected " + show(want_first);
  }

  [[nodiscard]] std::optional<std::string> verify_sum(std::size_t chunk) const {
    const StreamArrays& arr = m_slice->arrays();
    const std::size_t b = m_slice->chunk_begin(chunk), e = b + m_slice->chunk_elements();
    // 64-bit mantissa: far below the tolerance's error. Four partial sums: x87 adds have 3-cycle latency, and
    // this check covers gigabytes. The sources are in [1, 2), so the sum of absolute values is the sum.
    long double part[4] = {0, 0, 0, 0};
    std::size_t i = b;
    for (; i + 4 <= e; i += 4) {
      part[0] += arr.b[i];
      part[1] += arr.b[i + 1];
      part[2] += arr.b[i + 2];
      part[3] += arr.b[i + 3];
    }
    for (; i < e; ++i) part[0] += arr.b[i];
    const long double exact = (part[0] + part[1]) + (part[2] + part[3]);
    const long double abs_sum = std::fabs(exact);
    // Each element passes through at most len/kLeastLanes + 64 roundings (its lane's chain, the tree, the
    // tail): the standard recursive-summation bound with that chain length.
    const auto len = static_cast<long double>(e - b);
    const long double tol = (len / kLeastLanes + 64) * std::numeric_limits<double>::epsilon() * abs_sum;
    const double got = m_sum_first[chunk];
    const long double err = std::fabs(static_cast<long double>(got) - exact);
    if (std::isfinite(static_cast<double>(err)) && err <= tol) return std::nullopt;
    return "sum " + show(got) + ", host " + show(static_cast<double>(exact)) + ", |difference| " +
           show(static_cast<double>(err)) + " > tolerance " + show(static_cast<double>(tol));
  }

  const MemoryKernelInfo& m_info;
  MemFn m_fn;
  const StreamSlice* m_slice = nullptr;
  double m_scalar = 0;
  std::size_t m_next = 0;
  std::vector<bool> m_touched;
  std::vector<double> m_sum_first;
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

namespace probe::cpu {

StreamSlice::StreamSlice(const StreamArrays& arrays, std::size_t begin, std::size_t end, std::size_t chunks)
    : m_arrays(arrays), m_begin(begin), m_chunks(chunks) {
  if (begin > end || end > arrays.n || arrays.a == nullptr || arrays.b == nullptr || arrays.c == nullptr ||
      chunks == 0) {
    throw std::invalid_argument("stream slice [" + std::to_string(begin) + ", " + std::to_string(end) + ") of " +
                                std::to_string(arrays.n) + " elements in " + std::to_string(chunks) +
                                " chunks: outside the arrays, a missing array or no chunk");
  }
  m_chunk_len = (end - begin) / chunks;  // equal chunks: every pass does the same counted work
  m_sum_b.assign(2 * chunks, 0);
  m_sum_c.assign(2 * chunks, 0);
}

void StreamSlice::fill(std::uint64_t seed) {
  // A sequential generator (not a hash per element) and the checksums taken while the values are in registers:
  // filling gigabytes is part of every run's wall time, so it is one pass at store speed.
  detail::SplitMix64 gb(seed ^ detail::kTagB), gc(seed ^ detail::kTagC);
  for (std::size_t k = 0; k < m_chunks; ++k) {
    const std::size_t first = chunk_begin(k);
    std::uint64_t b1 = 0, b2 = 0, c1 = 0, c2 = 0;
    for (std::size_t i = first; i < first + m_chunk_len; ++i) {
      const double vb = detail::value_from(gb.next()), vc = detail::value_from(gc.next());
      m_arrays.a[i] = 0;
      m_arrays.b[i] = vb;
      m_arrays.c[i] = vc;
      const std::uint64_t w = 2 * i + 1;
      b1 += std::bit_cast<std::uint64_t>(vb);
      b2 += std::bit_cast<std::uint64_t>(vb) * w;
      c1 += std::bit_cast<std::uint64_t>(vc);
      c2 += std::bit_cast<std::uint64_t>(vc) * w;
    }
    m_sum_b[2 * k] = b1;
    m_sum_b[2 * k + 1] = b2;
    m_sum_c[2 * k] = c1;
    m_sum_c[2 * k + 1] = c2;
  }
}

std::optional<std::string> StreamSlice::check_sources(std::size_t chunk, bool with_c) const {
  if (chunk >= m_chunks) return "chunk " + std::to_string(chunk) + " out of range";
  std::uint64_t p = 0, w = 0;
  detail::checksum(m_arrays.b + chunk_begin(chunk), m_chunk_len, chunk_begin(chunk), p, w);
  if (p != m_sum_b[2 * chunk] || w != m_sum_b[2 * chunk + 1]) return std::string("source b changed");
  if (with_c) {
    detail::checksum(m_arrays.c + chunk_begin(chunk), m_chunk_len, chunk_begin(chunk), p, w);
    if (p != m_sum_c[2 * chunk] || w != m_sum_c[2 * chunk + 1]) return std::string("source c changed");
  }
  return std::nullopt;
}

}  // namespace probe::cpu
