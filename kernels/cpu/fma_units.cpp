// How many 512-bit FMA units does this core have? The GROMACS approach (identifyavx512fmaunits.cpp), which works
// in a VM where the model number may be masked: time a loop of 12 independent zmm FMAs against the same loop with
// 12 vpermd interleaved. On Intel, vpermd zmm runs only on port 5, the port of the second 512-bit FMA unit:
//   one unit (p0):       FMA-only 12 cycles/iter; mixed: FMAs on p0, vpermd on p5 in parallel -> 12: ratio ~1
//   two units (p0, p5):  FMA-only  6 cycles/iter; mixed: p5 busy with vpermd, FMAs on p0 -> 12: ratio ~2
// Both loops run at the same clock, so turbo, licence clocks and the TSC rate cancel in the ratio.
// The ratio says nothing certain on AMD (no port-5 layout; Zen 4 splits zmm ops over 256-bit pipes): the caller
// interprets it per vendor.
// Inline asm, no -mavx512f (like fma_avx512.cpp): the compiler never emits AVX-512 code of its own here, so
// nothing AVX-512 can reach baseline callers through a shared inline function; callers check avx512f first.
#include <algorithm>
#include <chrono>
#include <cstdint>

#include "kernels/cpu/cpu_kernels.hpp"

namespace {

// 14 zmm slots: accumulators 0-11 (1.0), multiplier 12 (1.0, also the permute table), addend 13 (0.0, also the
// permute indices: all zero is a valid index vector). x = 1·x + 0 stays 1.0: no denormals, no overflow.
struct alignas(64) Operands {
  double v[14][8];
};

#define PROBE_FU_12(M) M(0) M(1) M(2) M(3) M(4) M(5) M(6) M(7) M(8) M(9) M(10) M(11)
#define PROBE_FU_LOAD(i) "vmovupd " #i "*64(%[in]), %%zmm" #i "\n\t"
#define PROBE_FU_FMA(i) "vfmadd213pd %%zmm13, %%zmm12, %%zmm" #i "\n\t"
#define PROBE_FU_CLOBBER                                                                                   \
  "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9", "xmm10", "xmm11", "xmm12", \
      "xmm13", "xmm14", "xmm15"

}  // namespace

// The permute destination alternates between zmm14 and zmm15 and is never read: the 12 permutes are
// independent of each other and of the FMAs.
#define PROBE_FU_PERM_DST_0 "4"
#define PROBE_FU_PERM_DST_1 "5"
#define PROBE_FU_PERM_DST_2 "4"
#define PROBE_FU_PERM_DST_3 "5"
#define PROBE_FU_PERM_DST_4 "4"
#define PROBE_FU_PERM_DST_5 "5"
#define PROBE_FU_PERM_DST_6 "4"
#define PROBE_FU_PERM_DST_7 "5"
#define PROBE_FU_PERM_DST_8 "4"
#define PROBE_FU_PERM_DST_9 "5"
#define PROBE_FU_PERM_DST_10 "4"
#define PROBE_FU_PERM_DST_11 "5"
#define PROBE_FU_FMA_PERM(i) PROBE_FU_FMA(i) "vpermd %%zmm12, %%zmm13, %%zmm1" PROBE_FU_PERM_DST_##i "\n\t"

extern "C" {
// 12 vfmadd213pd zmm per iteration.
__attribute__((noinline, used)) void probe_cpu_fma_units_fma_only(const void* in, std::uint64_t iterations) noexcept {
  if (iterations == 0) return;
  asm volatile(PROBE_FU_12(PROBE_FU_LOAD) "vmovupd 12*64(%[in]), %%zmm12\n\t"
                                          "vmovupd 13*64(%[in]), %%zmm13\n\t"
                                          ".p2align 5\n"
                                          "1:\n\t" PROBE_FU_12(PROBE_FU_FMA) "sub $1, %[n]\n\t"
                                          "jnz 1b\n\t"
                                          "vzeroupper\n\t"
               : [n] "+r"(iterations)
               : [in] "r"(in)
               : "memory", "cc", PROBE_FU_CLOBBER);
}
// 12 vfmadd213pd zmm + 12 vpermd zmm per iteration, interleaved.
__attribute__((noinline, used)) void probe_cpu_fma_units_fma_permute(const void* in,
                                                                     std::uint64_t iterations) noexcept {
  if (iterations == 0) return;
  asm volatile(PROBE_FU_12(PROBE_FU_LOAD) "vmovupd 12*64(%[in]), %%zmm12\n\t"
                                          "vmovupd 13*64(%[in]), %%zmm13\n\t"
                                          ".p2align 5\n"
                                          "1:\n\t" PROBE_FU_12(PROBE_FU_FMA_PERM) "sub $1, %[n]\n\t"
                                          "jnz 1b\n\t"
                                          "vzeroupper\n\t"
               : [n] "+r"(iterations)
               : [in] "r"(in)
               : "memory", "cc", PROBE_FU_CLOBBER);
}
}

namespace probe::cpu {
namespace {

template <class Loop>
double seconds(Loop loop, const Operands& ops, std::uint64_t n) noexcept {
  const auto t0 = std::chrono::steady_clock::now();
  loop(&ops, n);
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

FmaUnitTiming time_zmm_fma_units() noexcept {
  Operands ops{};
  for (int r = 0; r < 13; ++r) std::fill(ops.v[r], ops.v[r] + 8, 1.0);
  // About 1.2-2.4 M cycles per run of the FMA-only loop: long against timer resolution, short in all (~15 ms).
  constexpr std::uint64_t kIterations = 200000;
  constexpr int kRuns = 7;
  // Warm-up: the 512-bit units power up and the licence clock settles before anything is timed.
  (void)seconds(probe_cpu_fma_units_fma_only, ops, kIterations);
  FmaUnitTiming t;
  t.iterations = kIterations;
  t.fma_only_s = 1e30;
  t.fma_and_permute_s = 1e30;
  // Alternate the two loops so that a clock change or a preemption affects both alike; keep each one's best.
  for (int i = 0; i < kRuns; ++i) {
    t.fma_only_s = std::min(t.fma_only_s, seconds(probe_cpu_fma_units_fma_only, ops, kIterations));
    t.fma_and_permute_s = std::min(t.fma_and_permute_s, seconds(probe_cpu_fma_units_fma_permute, ops, kIterations));
  }
  return t;
}

}  // namespace probe::cpu
