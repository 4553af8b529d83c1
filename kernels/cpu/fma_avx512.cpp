// fma.fp64 / fma.fp32, AVX-512: one loop iteration = 12 × vfmadd213{pd,ps} zmm on 12 independent accumulators.
//   fp64: 8 lanes × 2 FLOP (multiply + add) = 16 FLOP per instruction, 192 FLOP per iteration.
//   fp32: 16 lanes × 2 FLOP = 32 FLOP per instruction, 384 FLOP per iteration.
// The 213 form (x = m·x + c) is used rather than 231 (acc += a·b) because the recurrence x <- fma(x, m, c)
// contracts and can be checked exactly; it is the same µop with the same latency and throughput.
// Inline asm, no -mavx512f: the compiler never sees AVX-512 code here, so nothing AVX-512 can leak into
// baseline code, and the loop cannot be spilled or folded away (toolchain.md §7).
#include <cstddef>

#include "kernels/cpu/compute_impl.hpp"

namespace probe::cpu::detail {
namespace {

constexpr int kVectorBytes = 64;
constexpr int kFp64Lanes = kVectorBytes / 8;
constexpr int kFp32Lanes = kVectorBytes / 4;
constexpr int kFlopPerFmaLane = 2;
constexpr int kFmaPerIteration = kAccumulators;  // one per accumulator

using Fp64Kernel = FmaKernel<Fp64Fused, kFp64Lanes>;
using Fp32Kernel = FmaKernel<Fp32Fused, kFp32Lanes>;
// The asm below hard-codes this layout.
static_assert(offsetof(Fp64Kernel::In, m) == 12 * kVectorBytes && offsetof(Fp64Kernel::In, c) == 13 * kVectorBytes);
static_assert(offsetof(Fp32Kernel::In, m) == 12 * kVectorBytes && offsetof(Fp32Kernel::In, c) == 13 * kVectorBytes);

}  // namespace
}  // namespace probe::cpu::detail

#define FMA_PD(i) "vfmadd213pd %%zmm13, %%zmm12, %%zmm" #i "\n\t"  // zmm_i = zmm12(m)·zmm_i + zmm13(c)
#define FMA_PS(i) "vfmadd213ps %%zmm13, %%zmm12, %%zmm" #i "\n\t"

extern "C" {
__attribute__((noinline, used)) void probe_cpu_fma_fp64_avx512(const void* in, void* out,
                                                               std::uint64_t iterations) noexcept {
  PROBE_ASM_ACC_LOOP(zmm, 64, FMA_PD);
}
__attribute__((noinline, used)) void probe_cpu_fma_fp32_avx512(const void* in, void* out,
                                                               std::uint64_t iterations) noexcept {
  PROBE_ASM_ACC_LOOP(zmm, 64, FMA_PS);
}
}

namespace probe::cpu::detail {
namespace {

const ComputeKernelInfo& fp64_info() {
  static constexpr ComputeKernelInfo k{"fma.fp64",          "avx512",         Isa::avx512,
                                       DType::fp64,         "vfmadd213pd zmm", kFmaPerIteration,
                                       kFp64Lanes * kFlopPerFmaLane,
                                       "2 FLOP per FMA lane, 8 fp64 lanes per zmm: 16 FLOP per instruction"};
  return k;
}
const ComputeKernelInfo& fp32_info() {
  static constexpr ComputeKernelInfo k{"fma.fp32",          "avx512",         Isa::avx512,
                                       DType::fp32,         "vfmadd213ps zmm", kFmaPerIteration,
                                       kFp32Lanes * kFlopPerFmaLane,
                                       "2 FLOP per FMA lane, 16 fp32 lanes per zmm: 32 FLOP per instruction"};
  return k;
}

bool supported(const CpuFeatures& f) noexcept { return f.avx512f; }

}  // namespace

std::span<const ComputeEntry> fma_avx512_entries() {
  static const ComputeEntry entries[] = {
      PROBE_COMPUTE_ENTRY(fp64_info, Fp64Kernel, probe_cpu_fma_fp64_avx512, supported),
      PROBE_COMPUTE_ENTRY(fp32_info, Fp32Kernel, probe_cpu_fma_fp32_avx512, supported),
  };
  return entries;
}

}  // namespace probe::cpu::detail
