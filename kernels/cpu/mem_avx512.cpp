// Memory loops, AVX-512F: zmm loads/stores, vmovntpd zmm + sfence for the streaming variants.
// Built with -mavx512f; contains nothing but these loops (see mem_loops_impl.hpp).
// Counting (STREAM, no write-allocate): read 8 B, write 8 B, copy 16 B, triad 24 B per element.
#include <immintrin.h>

#include "kernels/cpu/mem_loops_impl.hpp"

namespace {
struct Zmm {
  using T = __m512d;
  static constexpr int kLanes = 8;
  static T zero() noexcept { return _mm512_setzero_pd(); }
  static T set1(double x) noexcept { return _mm512_set1_pd(x); }
  static T load(const double* p) noexcept { return _mm512_loadu_pd(p); }
  static void store(double* p, T v) noexcept { _mm512_storeu_pd(p, v); }
  static void stream(double* p, T v) noexcept { _mm512_stream_pd(p, v); }
  static T add(T x, T y) noexcept { return _mm512_add_pd(x, y); }
  static T mul(T x, T y) noexcept { return _mm512_mul_pd(x, y); }
  // Through memory, not _mm512_reduce_add_pd: GCC 12's extract intrinsic trips -Wuninitialized. Runs once.
  static double sum(T v) noexcept {
    alignas(64) double t[kLanes];
    _mm512_store_pd(t, v);
    return ((t[0] + t[1]) + (t[2] + t[3])) + ((t[4] + t[5]) + (t[6] + t[7]));
  }
  static void fence() noexcept { _mm_sfence(); }
};
}  // namespace

PROBE_DEFINE_MEM_LOOPS(avx512, Zmm)
