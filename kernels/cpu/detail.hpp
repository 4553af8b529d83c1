#pragma once
// Internals shared by the CPU kernel files: the registry tables, the random source and bit helpers.
// Included only by baseline (non-ISA-flagged) translation units: an inline function or template emitted in a
// TU built with -mavx512f could be the copy the linker keeps for everyone (COMDAT), and then fault on a CPU
// without AVX-512.
#include <bit>
#include <cstdint>
#include <memory>
#include <span>
#include <string_view>

#include "kernels/cpu/cpu_kernels.hpp"

namespace probe::cpu::detail {

// One compute variant: its description, the asm loop's symbol (the objdump audit looks it up), what the CPU
// must support, and a factory.
struct ComputeEntry {
  const ComputeKernelInfo* info;
  std::string_view symbol;
  bool (*supported)(const CpuFeatures&) noexcept;
  std::unique_ptr<ComputeKernel> (*make)();
};

// One memory variant; `symbol` names the loop function (vector width and streaming stores are audited).
struct MemoryEntry {
  const MemoryKernelInfo* info;
  std::string_view symbol;
  bool (*supported)(const CpuFeatures&) noexcept;
  std::unique_ptr<MemoryKernel> (*make)();
};

// Each kernel file exports its variants; registry.cpp concatenates them.
std::span<const ComputeEntry> fma_avx512_entries();
std::span<const ComputeEntry> fma_avx2_entries();
std::span<const ComputeEntry> fma_sse2_entries();
std::span<const ComputeEntry> dot_bf16_entries();
std::span<const ComputeEntry> dot_int8_entries();
std::span<const ComputeEntry> fma_fp16_entries();
std::span<const ComputeEntry> amx_entries();
std::span<const MemoryEntry> memory_entries();

// All variants, in registry order (best ISA first within an id).
std::span<const ComputeEntry> compute_entries();
std::span<const MemoryEntry> memory_entries_all();

// SplitMix64: small, seedable, and every seed gives a good stream (prepare() seeds one per thread).
class SplitMix64 {
 public:
  explicit SplitMix64(std::uint64_t seed) noexcept : m_state(seed) {}
  std::uint64_t next() noexcept {
    std::uint64_t z = (m_state += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  }
  // Uniform in [lo, hi).
  double uniform(double lo, double hi) noexcept {
    return lo + (hi - lo) * static_cast<double>(next() >> 11) * 0x1.0p-53;
  }
  std::uint32_t below(std::uint32_t n) noexcept { return static_cast<std::uint32_t>((next() >> 32) % n); }

 private:
  std::uint64_t m_state;
};

// A counter-based value: the same (seed, index) always gives the same number, so verify() can recompute what
// init() wrote without keeping a copy of the arrays.
[[nodiscard]] inline std::uint64_t hash64(std::uint64_t seed, std::uint64_t index) noexcept {
  SplitMix64 g(seed ^ (index * 0xD1B54A32D192ED03ULL));
  return g.next();
}

template <class T>
[[nodiscard]] constexpr auto bits_of(T x) noexcept {
  if constexpr (sizeof(T) == 8) {
    return std::bit_cast<std::uint64_t>(x);
  } else if constexpr (sizeof(T) == 4) {
    return std::bit_cast<std::uint32_t>(x);
  } else {
    return std::bit_cast<std::uint16_t>(x);
  }
}

// Number of independent accumulators in every compute loop: Zen 4 needs 8 chains to cover 2 ymm FMA pipes ×
// 4 cycles latency, Intel servers 8-10 for 2 zmm pipes × 4 cycles; 12 leaves margin and, with the operand
// registers, still fits in xmm/ymm/zmm 0-15 (usable without telling the compiler about AVX-512).
inline constexpr int kAccumulators = 12;

}  // namespace probe::cpu::detail

// Repeats M(i) for the 12 accumulator registers 0..11 inside an asm template.
#define PROBE_ASM_12(M) M(0) M(1) M(2) M(3) M(4) M(5) M(6) M(7) M(8) M(9) M(10) M(11)
// One timed loop shape for every AVX/AVX-512 kernel: accumulators REG0..11 loaded from in[0..11], operands
// REG12/REG13 from in[12..13], BODY(i) applied to each accumulator per iteration, accumulators stored to out.
// n == 0 skips the loop and stores the initial values. REG is zmm (64-byte slots) or ymm (32-byte slots).
#define PROBE_ASM_LOAD_zmm(i) "vmovups " #i "*64(%[in]), %%zmm" #i "\n\t"
#define PROBE_ASM_STORE_zmm(i) "vmovups %%zmm" #i ", " #i "*64(%[out])\n\t"
#define PROBE_ASM_LOAD_ymm(i) "vmovups " #i "*32(%[in]), %%ymm" #i "\n\t"
#define PROBE_ASM_STORE_ymm(i) "vmovups %%ymm" #i ", " #i "*32(%[out])\n\t"
#define PROBE_ASM_ACC_LOOP(REG, BYTES, BODY)                                                              \
  asm volatile(PROBE_ASM_12(PROBE_ASM_LOAD_##REG) "vmovups 12*" #BYTES "(%[in]), %%" #REG "12\n\t"          \
                                                  "vmovups 13*" #BYTES "(%[in]), %%" #REG "13\n\t"          \
                                                  "test %[n], %[n]\n\t"                                     \
                                                  "jz 2f\n\t"                                               \
                                                  ".p2align 5\n"                                            \
                                                  "1:\n\t" PROBE_ASM_12(BODY) "sub $1, %[n]\n\t"             \
                                                  "jnz 1b\n"                                                \
                                                  "2:\n\t" PROBE_ASM_12(PROBE_ASM_STORE_##REG) "vzeroupper\n\t" \
               : [n] "+r"(iterations)                                                                       \
               : [in] "r"(in), [out] "r"(out)                                                               \
               : "memory", "cc", PROBE_ASM_CLOBBER_XMM0_15)
// The vector registers an asm loop may touch: 12 accumulators + up to 4 operands, all below 16.
#define PROBE_ASM_CLOBBER_XMM0_15                                                                          \
  "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9", "xmm10", "xmm11", "xmm12", \
      "xmm13", "xmm14", "xmm15"
