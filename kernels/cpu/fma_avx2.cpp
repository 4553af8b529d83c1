// fma.fp64 / fma.fp32, AVX2 + FMA3: one loop iteration = 12 × vfmadd213{pd,ps} ymm on 12 independent accumulators.
//   fp64: 4 lanes × 2 FLOP = 8 FLOP per instruction, 96 FLOP per iteration.
//   fp32: 8 lanes × 2 FLOP = 16 FLOP per instruction, 192 FLOP per iteration.
// 213 form for the checkable recurrence x <- fma(x, m, c) (same µop as 231). Inline asm, no ISA flags.
#include <cstddef>

#include "kernels/cpu/compute_impl.hpp"

namespace probe::cpu::detail {
namespace {

constexpr int kVectorBytes = 32;
constexpr int kFp64Lanes = kVectorBytes / 8;
constexpr int kFp32Lanes = kVectorBytes / 4;
constexpr int kFlopPerFmaLane = 2;
constexpr int kFmaPerIteration = kAccumulators;

using Fp64Kernel = FmaKernel<Fp64Fused, kFp64Lanes>;
using Fp32Kernel = FmaKernel<Fp32Fused, kFp32Lanes>;
static_assert(offsetof(Fp64Kernel::In, m) == 12 * kVectorBytes && offsetof(Fp64Kernel::In, c) == 13 * kVectorBytes);
static_assert(offsetof(Fp32Kernel::In, m) == 12 * kVectorBytes && offsetof(Fp32Kernel::In, c) == 13 * kVectorBytes);

}  // namespace
}  // namespace probe::cpu::detail

#define FMA_PD(i) "vfmadd213pd %%ymm13, %%ymm12, %%ymm" #i "\n\t"  // ymm_i = ymm12(m)·ymm_i + ymm13(c)
#define FMA_PS(i) "vfmadd213ps %%ymm13, %%ymm12, %%ymm" #i "\n\t"

extern "C" {
__attribute__((noinline, used)) void probe_cpu_fma_fp64_avx2(const void* in, void* out,
                                                             std::uint64_t iterations) noexcept {
  PROBE_ASM_ACC_LOOP(ymm, 32, FMA_PD);
}
__attribute__((noinline, used)) void probe_cpu_fma_fp32_avx2(const void* in, void* out,
                                                             std::uint64_t iterations) noexcept {
  PROBE_ASM_ACC_LOOP(ymm, 32, FMA_PS);
}
}

namespace probe::cpu::detail {
namespace {

const ComputeKernelInfo& fp64_info() {
  static constexpr ComputeKernelInfo k{"fma.fp64",          "avx2",           Isa::avx2,
                                       DType::fp64,         "vfmadd213pd ymm", kFmaPerIteration,
                                       kFp64Lanes * kFlopPerFmaLane,
                                       "2 FLOP per FMA lane, 4 fp64 lanes per ymm: 8 FLOP per instruction"};
  return k;
}
const ComputeKernelInfo& fp32_info() {
  static constexpr ComputeKernelInfo k{"fma.fp32",          "avx2",           Isa::avx2,
                                       DType::fp32,         "vfmadd213ps ymm", kFmaPerIteration,
                                       kFp32Lanes * kFlopPerFmaLane,
                                       "2 FLOP per FMA lane, 8 fp32 lanes per ymm: 16 FLOP per instruction"};
  return k;
}

// FMA3 is a separate CPUID bit from AVX2 (and both need the OS to save YMM state, folded into the flags).
bool supported(const CpuFeatures& f) noexcept { return f.avx2 && f.fma; }

}  // namespace

std::span<const ComputeEntry> fma_avx2_entries() {
  static const ComputeEntry entries[] = {
      PROBE_COMPUTE_ENTRY(fp64_info, Fp64Kernel, probe_cpu_fma_fp64_avx2, supported),
      PROBE_COMPUTE_ENTRY(fp32_info, Fp32Kernel, probe_cpu_fma_fp32_avx2, supported),
  };
  return entries;
}

}  // namespace probe::cpu::detail
