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
#include <emmintrin.h>

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

// Internal linkage so that it inlines into the fill and check loops (an exported function would not, in PIC).
inline void take(StreamSlice::Sums& s, double v) noexcept {
  const auto bits = std::bit_cast<std::uint64_t>(v);
  s.add += bits;
  s.xor_ ^= bits;
}

class StreamKernel final : public MemoryKernel {
 public:
  StreamKernel(const MemoryKernelInfo& info, MemFn fn) noexcept : m_info(info), m_fn(fn) {}
  [[nodiscard]] const MemoryKernelInfo& info() const noexcept override { return m_info; }

  void attach(StreamSlice& slice, std::uint64_t seed) override {
    m_slice = &slice;
    SplitMix64 rng(seed);
    // write stores a value no source element holds ([2, 4) vs [1, 2)); triad's s keeps b + s·c finite.
    m_scalar = m_info.op == MemOp::write ? 2.0 + rng.uniform(0, 2) : rng.uniform(0.5, 1.5);
    m_touched.assign(slice.chunks(), false);
    m_sum_first.assign(slice.chunks(), 0.0);
    m_sums_agree = true;
  }

  void run(std::uint64_t passes) noexcept override {
    if (m_slice == nullptr || m_slice->chunk_elements() == 0) return;
    const StreamArrays& arr = m_slice->arrays();
    for (std::uint64_t p = 0; p < passes; ++p) {
      const std::size_t chunk = m_slice->take_next_chunk();
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

  [[nodiscard]] double want_at(std::size_t i) const noexcept {
    const StreamArrays& arr = m_slice->arrays();
    if (m_info.op == MemOp::copy) return arr.b[i];
    if (m_info.op == MemOp::triad) {
      const double t = m_scalar * arr.c[i];  // multiply, round, add, round: what the kernels do
      return arr.b[i] + t;
    }
    return m_scalar;
  }

  // One branch-free pass (it vectorises: these checks cover gigabytes) ORs together the XOR of every element
  // with its expected value and takes the sources' checksums; only a failing chunk is walked again, to count the
  // wrong elements and name the first.
  [[nodiscard]] std::optional<std::string> verify_stores(std::size_t chunk) const {
    const StreamArrays& arr = m_slice->arrays();
    const std::size_t b = m_slice->chunk_begin(chunk), e = b + m_slice->chunk_elements();
    const double* pa = arr.a;
    const double* pb = arr.b;
    const double* pc = arr.c;
    const double s = m_scalar;
    const auto bits = [](double v) { return std::bit_cast<std::uint64_t>(v); };
    std::uint64_t diff = 0, b_add = 0, b_xor = 0, c_add = 0, c_xor = 0;
    switch (m_info.op) {
      case MemOp::write:
        for (std::size_t i = b; i < e; ++i) diff |= bits(pa[i]) ^ bits(s);
        break;
      case MemOp::copy:
        for (std::size_t i = b; i < e; ++i) {
          diff |= bits(pa[i]) ^ bits(pb[i]);
          b_add += bits(pb[i]);
          b_xor ^= bits(pb[i]);
        }
        break;
      case MemOp::triad:
        for (std::size_t i = b; i < e; ++i) {
          const double t = s * pc[i];  // multiply, round, add, round: what the kernels do
          diff |= bits(pa[i]) ^ bits(pb[i] + t);
          b_add += bits(pb[i]);
          b_xor ^= bits(pb[i]);
          c_add += bits(pc[i]);
          c_xor ^= bits(pc[i]);
        }
        break;
      case MemOp::read: break;
    }
    if (m_info.op != MemOp::write) {
      const StreamSlice::Sums sb{b_add, b_xor}, sc{c_add, c_xor};
      if (auto err = m_slice->check_sums(chunk, sb, m_info.op == MemOp::triad ? &sc : nullptr)) return err;
    }
    if (diff == 0) return std::nullopt;
    std::size_t bad = 0, first = e;
    for (std::size_t i = b; i < e; ++i) {
      if (!same(pa[i], want_at(i)) && bad++ == 0) first = i;
    }
    if (first == e) first = b;  // cannot happen: diff != 0 means some element differs
    return std::to_string(bad) + " elements of a differ from the host reference; first a[" + std::to_string(first) +
           "] = " + show(pa[first]) + ", expected " + show(want_at(first));
  }

  // The exact sum of a chunk of b: every source is in [1, 2), i.e. (2^52 + m)·2^-52 with a 52-bit integer m, so
  // the sum is count + Σm·2^-52, and Σm is summed exactly as two integer halves of 26 bits (a chunk has fewer than
  // 2^37 elements, so neither half can overflow). The kernel's floating-point sum must lie within the
  // recursive-summation bound of it.
  [[nodiscard]] std::optional<std::string> verify_sum(std::size_t chunk) const {
    const double* pb = m_slice->arrays().b;
    const std::size_t b = m_slice->chunk_begin(chunk), e = b + m_slice->chunk_elements();
    constexpr std::uint64_t kHalf = (std::uint64_t{1} << 26) - 1;
    std::uint64_t lo = 0, hi = 0, b_add = 0, b_xor = 0;
    for (std::size_t i = b; i < e; ++i) {
      const auto bits = std::bit_cast<std::uint64_t>(pb[i]);
      lo += bits & kHalf;
      hi += (bits >> 26) & kHalf;
      b_add += bits;
      b_xor ^= bits;
    }
    // Also proves every b is still in [1, 2).
    if (auto err = m_slice->check_sums(chunk, StreamSlice::Sums{b_add, b_xor}, nullptr)) return err;
    const auto len = static_cast<long double>(e - b);
    const long double exact =
        len + (static_cast<long double>(hi) * 0x1p26L + static_cast<long double>(lo)) * 0x1p-52L;
    // Each element passes through at most len/kLeastLanes + 64 roundings (its lane's chain, the tree, the
    // tail): the standard recursive-summation bound with that chain length. Every term is positive.
    const long double tol = (len / kLeastLanes + 64) * std::numeric_limits<double>::epsilon() * exact;
    const double got = m_sum_first[chunk];
    const long double err = std::fabs(static_cast<long double>(got) - exact);
    if (std::isfinite(static_cast<double>(err)) && err <= tol) return std::nullopt;
    return "sum " + show(got) + ", host " + show(static_cast<double>(exact)) + ", |difference| " +
           show(static_cast<double>(err)) + " > tolerance " + show(static_cast<double>(tol));
  }

  const MemoryKernelInfo& m_info;
  MemFn m_fn;
  StreamSlice* m_slice = nullptr;
  double m_scalar = 0;
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
  m_sum_b.assign(chunks, Sums{});
  m_sum_c.assign(chunks, Sums{});
}

void StreamSlice::fill(std::uint64_t seed, bool touch_a) {
  // A sequential generator (not a hash per element), the checksums taken while the values are in registers, and
  // streaming stores (SSE2, part of x86-64) that skip the write-allocate read: filling gigabytes is part of every
  // run's wall time, so it is one write-only pass.
  detail::SplitMix64 gb(seed ^ detail::kTagB), gc(seed ^ detail::kTagC);
  for (std::size_t k = 0; k < m_chunks; ++k) {
    const std::size_t first = chunk_begin(k), last = first + m_chunk_len;
    Sums sb, sc;
    std::size_t i = first;
    const auto put = [&](std::size_t j, double vb, double vc) {
      if (touch_a) m_arrays.a[j] = 0;
      m_arrays.b[j] = vb;
      m_arrays.c[j] = vc;
      detail::take(sb, vb);
      detail::take(sc, vc);
    };
    // Scalar up to a 16-byte boundary of every array (the three share their alignment when the slice starts on
    // a multiple of two elements), then two elements per streaming store.
    const bool aligned_together = ((reinterpret_cast<std::uintptr_t>(m_arrays.a + i) |
                                    reinterpret_cast<std::uintptr_t>(m_arrays.b + i) |
                                    reinterpret_cast<std::uintptr_t>(m_arrays.c + i)) & 15U) == 0;
    if (aligned_together) {
      for (; i + 2 <= last; i += 2) {
        const double b0 = detail::value_from(gb.next()), c0 = detail::value_from(gc.next());
        const double b1 = detail::value_from(gb.next()), c1 = detail::value_from(gc.next());
        if (touch_a) _mm_stream_pd(m_arrays.a + i, _mm_setzero_pd());
        _mm_stream_pd(m_arrays.b + i, _mm_set_pd(b1, b0));
        _mm_stream_pd(m_arrays.c + i, _mm_set_pd(c1, c0));
        detail::take(sb, b0);
        detail::take(sb, b1);
        detail::take(sc, c0);
        detail::take(sc, c1);
      }
    }
    for (; i < last; ++i) put(i, detail::value_from(gb.next()), detail::value_from(gc.next()));
    m_sum_b[k] = sb;
    m_sum_c[k] = sc;
  }
  _mm_sfence();  // streaming stores are weakly ordered: make them visible before any kernel reads the arrays
}

std::optional<std::string> StreamSlice::check_sums(std::size_t chunk, const Sums& b, const Sums* c) const {
  if (chunk >= m_chunks) return "chunk " + std::to_string(chunk) + " out of range";
  if (!(b == m_sum_b[chunk])) return std::string("source b changed (its checksums differ from those taken when filled)");
  if (c != nullptr && !(*c == m_sum_c[chunk])) {
    return std::string("source c changed (its checksums differ from those taken when filled)");
  }
  return std::nullopt;
}

}  // namespace probe::cpu
