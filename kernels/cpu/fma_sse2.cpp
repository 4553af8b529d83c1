// fma.fp64 / fma.fp32, SSE2 baseline (no FMA on every x86-64): one loop iteration = 12 × (mulp{d,s} + addp{d,s})
// xmm pairs on 12 independent accumulators, x <- (x·m) + c with two roundings.
//   fp64: 2 lanes × 2 FLOP (one multiply + one add) = 4 FLOP per mul+add pair, 48 FLOP per iteration.
//   fp32: 4 lanes × 2 FLOP = 8 FLOP per pair, 96 FLOP per iteration.
// The counted "instruction" is the pair: instr_per_iter counts pairs, not single instructions.
// The host reference does the same two roundings (this library is compiled with -ffp-contract=off).
#include <cstddef>

#include "kernels/cpu/compute_impl.hpp"

namespace probe::cpu::detail {
namespace {

constexpr int kVectorBytes = 16;
constexpr int kFp64Lanes = kVectorBytes / 8;
constexpr int kFp32Lanes = kVectorBytes / 4;
constexpr int kFlopPerPairLane = 2;  // 1 multiply + 1 add
constexpr int kPairsPerIteration = kAccumulators;

using Fp64Kernel = FmaKernel<Fp64MulAdd, kFp64Lanes>;
using Fp32Kernel = FmaKernel<Fp32MulAdd, kFp32Lanes>;
static_assert(offsetof(Fp64Kernel::In, m) == 12 * kVectorBytes && offsetof(Fp64Kernel::In, c) == 13 * kVectorBytes);
static_assert(offsetof(Fp32Kernel::In, m) == 12 * kVectorBytes && offsetof(Fp32Kernel::In, c) == 13 * kVectorBytes);

}  // namespace
}  // namespace probe::cpu::detail

#define LOAD_ACC(i) "movups " #i "*16(%[in]), %%xmm" #i "\n\t"
#define STORE_ACC(i) "movups %%xmm" #i ", " #i "*16(%[out])\n\t"
#define MUL_PD(i) "mulpd %%xmm12, %%xmm" #i "\n\t"  // xmm_i *= m
#define ADD_PD(i) "addpd %%xmm13, %%xmm" #i "\n\t"  // xmm_i += c
#define MUL_PS(i) "mulps %%xmm12, %%xmm" #i "\n\t"
#define ADD_PS(i) "addps %%xmm13, %%xmm" #i "\n\t"

// Legacy SSE encoding only (no VEX): this is the path for CPUs without AVX.
#define PROBE_MULADD_LOOP(MUL, ADD)                                                          \
  asm volatile(PROBE_ASM_12(LOAD_ACC) "movups 12*16(%[in]), %%xmm12\n\t"                     \
                                      "movups 13*16(%[in]), %%xmm13\n\t"                     \
                                      "test %[n], %[n]\n\t"                                  \
                                      "jz 2f\n\t"                                            \
                                      ".p2align 5\n"                                         \
                                      "1:\n\t" PROBE_ASM_12(MUL) PROBE_ASM_12(ADD) "sub $1, %[n]\n\t" \
                                      "jnz 1b\n"                                             \
                                      "2:\n\t" PROBE_ASM_12(STORE_ACC)                       \
               : [n] "+r"(iterations)                                                        \
               : [in] "r"(in), [out] "r"(out)                                                \
               : "memory", "cc", PROBE_ASM_CLOBBER_XMM0_15)

extern "C" {
__attribute__((noinline, used)) void probe_cpu_fma_fp64_sse2(const void* in, void* out,
                                                             std::uint64_t iterations) noexcept {
  PROBE_MULADD_LOOP(MUL_PD, ADD_PD);
}
__attribute__((noinline, used)) void probe_cpu_fma_fp32_sse2(const void* in, void* out,
                                                             std::uint64_t iterations) noexcept {
  PROBE_MULADD_LOOP(MUL_PS, ADD_PS);
}
}

namespace probe::cpu::detail {
namespace {

const ComputeKernelInfo& fp64_info() {
  static constexpr ComputeKernelInfo k{
      "fma.fp64",  "sse2", Isa::sse2, DType::fp64, "mulpd+addpd xmm", kPairsPerIteration,
      kFp64Lanes * kFlopPerPairLane,
      "no FMA: a mulpd+addpd pair counts 2 FLOP per lane, 2 fp64 lanes per xmm: 4 FLOP per pair"};
  return k;
}
const ComputeKernelInfo& fp32_info() {
  static constexpr ComputeKernelInfo k{
      "fma.fp32",  "sse2", Isa::sse2, DType::fp32, "mulps+addps xmm", kPairsPerIteration,
      kFp32Lanes * kFlopPerPairLane,
      "no FMA: a mulps+addps pair counts 2 FLOP per lane, 4 fp32 lanes per xmm: 8 FLOP per pair"};
  return k;
}

bool supported(const CpuFeatures& f) noexcept { return f.sse2; }

}  // namespace

std::span<const ComputeEntry> fma_sse2_entries() {
  static const ComputeEntry entries[] = {
      PROBE_COMPUTE_ENTRY(fp64_info, Fp64Kernel, probe_cpu_fma_fp64_sse2, supported),
      PROBE_COMPUTE_ENTRY(fp32_info, Fp32Kernel, probe_cpu_fma_fp32_sse2, supported),
  };
  return entries;
}

}  // namespace probe::cpu::detail
