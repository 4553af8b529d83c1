// Memory loops, SSE2 baseline: xmm loads/stores, movntpd + sfence for the streaming variants.
// Counting (STREAM, no write-allocate): read 8 B, write 8 B, copy 16 B, triad 24 B per element.
#include <emmintrin.h>

#include "kernels/cpu/mem_loops_impl.hpp"

namespace {
struct Xmm {
  using T = __m128d;
  static constexpr int kLanes = 2;
  static T zero() noexcept { return _mm_setzero_pd(); }
  static T set1(double x) noexcept { return _mm_set1_pd(x); }
  static T load(const double* p) noexcept { return _mm_loadu_pd(p); }
  static void store(double* p, T v) noexcept { _mm_storeu_pd(p, v); }
  static void stream(double* p, T v) noexcept { _mm_stream_pd(p, v); }
  static T add(T x, T y) noexcept { return _mm_add_pd(x, y); }
  static T mul(T x, T y) noexcept { return _mm_mul_pd(x, y); }
  static double sum(T v) noexcept { return _mm_cvtsd_f64(_mm_add_sd(v, _mm_unpackhi_pd(v, v))); }
  static void fence() noexcept { _mm_sfence(); }
};
}  // namespace

PROBE_DEFINE_MEM_LOOPS(sse2, Xmm)
