// fma.fp16, AVX512_FP16 (Sapphire Rapids and later; not Zen 4): one loop iteration = 12 × vfmadd213ph zmm on
// 12 independent accumulators. 32 fp16 lanes × 2 FLOP = 64 FLOP per instruction, 768 FLOP per iteration.
// Same contracting recurrence as fma.fp64/fp32, x <- fma(x, m, c) in binary16, with a host reference that
// emulates the single fp16 rounding exactly (Fp16Fused in compute_impl.hpp). AVX512_FP16 ignores MXCSR.DAZ/FTZ;
// the operands keep x away from zero (same sign as c), so no subnormal ever occurs.
#include <cstddef>

#include "kernels/cpu/compute_impl.hpp"

namespace probe::cpu::detail {
namespace {

constexpr int kVectorBytes = 64;
constexpr int kLanes = kVectorBytes / 2;
constexpr int kFlopPerFmaLane = 2;
constexpr int kFmaPerIteration = kAccumulators;

using Fp16Kernel = FmaKernel<Fp16Fused, kLanes>;
static_assert(offsetof(Fp16Kernel::In, m) == 12 * kVectorBytes && offsetof(Fp16Kernel::In, c) == 13 * kVectorBytes);

}  // namespace
}  // namespace probe::cpu::detail

#define FMA_PH(i) "vfmadd213ph %%zmm13, %%zmm12, %%zmm" #i "\n\t"  // zmm_i = zmm12(m)·zmm_i + zmm13(c)

extern "C" __attribute__((noinline, used)) void probe_cpu_fma_fp16_avx512(const void* in, void* out,
                                                                          std::uint64_t iterations) noexcept {
  PROBE_ASM_ACC_LOOP(zmm, 64, FMA_PH);
}

namespace probe::cpu::detail {
namespace {

const ComputeKernelInfo& info() {
  static constexpr ComputeKernelInfo k{"fma.fp16",          "avx512",         Isa::avx512,
                                       DType::fp16,         "vfmadd213ph zmm", kFmaPerIteration,
                                       kLanes * kFlopPerFmaLane,
                                       "2 FLOP per FMA lane, 32 fp16 lanes per zmm: 64 FLOP per instruction"};
  return k;
}

bool supported(const CpuFeatures& f) noexcept { return f.avx512f && f.avx512_fp16; }

}  // namespace

std::span<const ComputeEntry> fma_fp16_entries() {
  static const ComputeEntry entries[] = {
      PROBE_COMPUTE_ENTRY(info, Fp16Kernel, probe_cpu_fma_fp16_avx512, supported),
  };
  return entries;
}

}  // namespace probe::cpu::detail
