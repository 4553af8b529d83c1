// Memory loops, AVX2 level: ymm loads/stores, vmovntpd ymm + sfence for the streaming variants.
// Built with -mavx2; contains nothing but these loops (see mem_loops_impl.hpp).
// Counting (STREAM, no write-allocate): read 8 B, write 8 B, copy 16 B, triad 24 B per element.
#include <immintrin.h>

#include "kernels/cpu/mem_loops_impl.hpp"

namespace {
struct Ymm {
  using T = __m256d;
  static constexpr int kLanes = 4;
  static T zero() noexcept { return _mm256_setzero_pd(); }
  static T set1(double x) noexcept { return _mm256_set1_pd(x); }
  static T load(const double* p) noexcept { return _mm256_loadu_pd(p); }
  static void store(double* p, T v) noexcept { _mm256_storeu_pd(p, v); }
  static void stream(double* p, T v) noexcept { _mm256_stream_pd(p, v); }
  static T add(T x, T y) noexcept { return _mm256_add_pd(x, y); }
  static T mul(T x, T y) noexcept { return _mm256_mul_pd(x, y); }
  static double sum(T v) noexcept {
    const __m128d s = _mm_add_pd(_mm256_castpd256_pd128(v), _mm256_extractf128_pd(v, 1));
    return _mm_cvtsd_f64(_mm_add_sd(s, _mm_unpackhi_pd(s, s)));
  }
  static void fence() noexcept { _mm_sfence(); }
};
}  // namespace

PROBE_DEFINE_MEM_LOOPS(avx2, Ymm)
