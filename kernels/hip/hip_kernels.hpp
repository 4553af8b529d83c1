#pragma once
// The HIP kernel table: every constant that decides how much work a kernel does per loop iteration lives here,
// shared by the kernels (.hip), the host runner (work()), the host reference and the static assembly audit
// (hip_kernel_table prints it). Plain C++17 so that both clang (HIP) and the host compiler read it; no HIP types.
//
// Targets: CDNA2 (gfx90a: MI210/MI250/MI250X) and CDNA3 (gfx940 with Debian's hipcc 5.2.3; gfx942 = MI300X needs
// ROCm >= 6, docs/hip.md). The two families spell the same MFMA differently (gfx90a v_mfma_f32_32x32x8bf16_1k,
// gfx940 v_mfma_f32_32x32x8_bf16), so every kernel names its instruction per family; "" = not built there.
#include <cstddef>
#include <cstdint>

namespace probe_hip {

// ---- Vector kernels (one thread is one unit): kernels/common/gpu_vector_body.hpp, shared with CUDA --------------
inline constexpr int kVecAcc = 8;
inline constexpr int kVecSteps = 16;  // even: pairs of FP steps with x = -1 are identities
inline constexpr int kVecInstrPerIter = kVecAcc * kVecSteps;
inline constexpr int kVecThreadsPerBlock = 256;
inline constexpr int kVecInPerThread = 2 + kVecAcc;

// ---- MFMA kernels (one wavefront of 64 lanes is one unit) ------------------------------------------------------
// kMfmaAcc independent accumulator tiles; per loop iteration each receives kMfmaSteps MFMAs, alternately with B and
// -B (floating point: the tile returns to C exactly after each pair) or always B (integer: exact modulo 2^32).
// After the loop one more MFMA with B; the tiles are then summed element-wise (never chained through an MFMA).
inline constexpr int kWave = 64;
inline constexpr int kMfmaAcc = 4;
inline constexpr int kMfmaSteps = 4;  // even
inline constexpr int kMfmaInstrPerIter = kMfmaAcc * kMfmaSteps;
inline constexpr int kMfmaWavesPerBlock = 4;

enum class Family : int { vector, mfma };

// One MFMA form: D(M×N) = A(M×K)·B(K×N) + C, single block. Per lane: M·K/64 A elements, N·K/64 B elements,
// M·N/64 accumulator registers. Op count per wavefront instruction: 2·M·N·K.
struct MfmaShape {
  int m, n, k;
  int ab_bytes;  // bytes per A/B element (8 fp64, 4 fp32, 2 fp16/bf16, 1 int8/fp8)
  int c_bytes;   // bytes per accumulator element (8 fp64, else 4)
  [[nodiscard]] constexpr int a_per_lane() const { return m * k / kWave; }
  [[nodiscard]] constexpr int b_per_lane() const { return n * k / kWave; }
  [[nodiscard]] constexpr int c_per_lane() const { return m * n / kWave; }
  [[nodiscard]] constexpr double ops() const { return 2.0 * m * n * k; }
};

// MFMA shapes by kernel index (kMfmaKernels order below and mfma_kernel_function(index)).
inline constexpr MfmaShape kMfmaShapes[] = {
    {16, 16, 4, 8, 8},   // 0 fp64   v_mfma_f64_16x16x4f64
    {16, 16, 4, 4, 4},   // 1 fp32   v_mfma_f32_16x16x4f32
    {32, 32, 8, 2, 4},   // 2 fp16   v_mfma_f32_32x32x8f16
    {32, 32, 8, 2, 4},   // 3 bf16   v_mfma_f32_32x32x8bf16_1k
    {32, 32, 8, 1, 4},   // 4 int8   v_mfma_i32_32x32x8i8 (CDNA2 only)
    {16, 16, 32, 1, 4},  // 5 fp8    v_mfma_f32_16x16x32_fp8_fp8 (CDNA3)
    {16, 16, 32, 1, 4},  // 6 int8   v_mfma_i32_16x16x32_i8 (CDNA3)
};
inline constexpr int kMfmaKernelCount = sizeof(kMfmaShapes) / sizeof(kMfmaShapes[0]);

// Byte layout of an MFMA kernel's input (one problem shared by every wavefront), in register order: per lane its
// A fragment, then B, then the second B tile (-B or B), then kMfmaAcc accumulator tiles [tile][lane][register].
// The output holds one tile per wavefront, [lane][register]. The host maps fragments to matrix elements
// (probes/hip/reference.cpp, CDNA's documented operand layouts).
struct MfmaLayout {
  std::size_t a, b, b2, c, total, out_per_unit;
};
constexpr MfmaLayout mfma_layout(const MfmaShape& s) {
  const std::size_t ab = static_cast<std::size_t>(kWave) * s.a_per_lane() * s.ab_bytes;
  const std::size_t c = static_cast<std::size_t>(kWave) * s.c_per_lane() * s.c_bytes;
  return MfmaLayout{0, ab, 2 * ab, 3 * ab, 3 * ab + c * kMfmaAcc, c};
}

// One compute kernel. `isa_cdna2`/`isa_cdna3` are the mnemonics the audit counts in the timed loop of the gfx90a
// and gfx940 assembly ("" = the kernel does not exist for that family); ops_per_instr is per unit (a lane for
// vector kernels, a wavefront for MFMA), and the audit re-derives it from the mnemonic.
struct ComputeKernelDesc {
  const char* id;         // report id: "mfma.bf16"
  const char* title;
  const char* dtype;      // probe::DType name
  Family family;
  int index;              // within its family
  const char* symbol;     // extern "C" kernel name
  const char* isa_cdna2;  // gfx90a
  const char* isa_cdna3;  // gfx940 (and gfx941/gfx942, same ISA)
  int instr_per_iter;     // per unit per loop iteration
  double ops_per_instr;   // per unit
  int threads_per_unit;   // 1 or 64
  const char* counting;
  [[nodiscard]] constexpr double ops_per_iter() const { return instr_per_iter * ops_per_instr; }
};

// clang-format off
inline constexpr ComputeKernelDesc kComputeKernels[] = {
  // Vector, per lane: an FMA is 2 FLOP; packed forms do two lanes' worth per instruction.
  {"fma.fp64", "FP64 FMA", "fp64", Family::vector, 0, "probe_vec_fma_fp64", "v_fma_f64", "v_fma_f64",
   kVecInstrPerIter, 2, 1, "2 FLOP per FMA"},
  // FP32: the compiler pairs two of the eight chains into one packed v_pk_fma_f32 (CDNA2/CDNA3).
  {"fma.fp32", "FP32 FMA (packed v_pk_fma_f32)", "fp32", Family::vector, 1, "probe_vec_fma_fp32", "v_pk_fma_f32",
   "v_pk_fma_f32", kVecInstrPerIter / 2, 4, 1, "2 FLOP per FMA, 2 FMAs per v_pk_fma_f32"},
  {"fma.fp16", "FP16 FMA (half2, v_pk_fma_f16)", "fp16", Family::vector, 2, "probe_vec_fma_fp16", "v_pk_fma_f16",
   "v_pk_fma_f16", kVecInstrPerIter, 4, 1, "2 FLOP per FMA, 2 FMAs per v_pk_fma_f16"},
  {"dot.int8", "INT8 dot product v_dot4_i32_i8, INT32 accumulate", "int8", Family::vector, 3, "probe_vec_dot4_i8",
   "v_dot4c_i32_i8", "v_dot4c_i32_i8", kVecInstrPerIter, 8, 1, "2 OP per 8-bit multiply-add, 4 per dot4"},
  // MFMA, dense: 2·M·N·K per wavefront instruction.
  {"mfma.fp64", "Matrix FP64 MFMA 16x16x4", "fp64", Family::mfma, 0, "probe_mfma_f64_16x16x4",
   "v_mfma_f64_16x16x4f64", "v_mfma_f64_16x16x4_f64", kMfmaInstrPerIter, 2.0 * 16 * 16 * 4, 64,
   "2·16·16·4 FLOP per wavefront MFMA"},
  {"mfma.fp32", "Matrix FP32 MFMA 16x16x4", "fp32", Family::mfma, 1, "probe_mfma_f32_16x16x4",
   "v_mfma_f32_16x16x4f32", "v_mfma_f32_16x16x4_f32", kMfmaInstrPerIter, 2.0 * 16 * 16 * 4, 64,
   "2·16·16·4 FLOP per wavefront MFMA"},
  {"mfma.fp16", "Matrix FP16 MFMA 32x32x8, FP32 accumulate", "fp16", Family::mfma, 2, "probe_mfma_f16_32x32x8",
   "v_mfma_f32_32x32x8f16", "v_mfma_f32_32x32x8_f16", kMfmaInstrPerIter, 2.0 * 32 * 32 * 8, 64,
   "2·32·32·8 FLOP per wavefront MFMA (dense)"},
  {"mfma.bf16", "Matrix BF16 MFMA 32x32x8 (_1k), FP32 accumulate", "bf16", Family::mfma, 3, "probe_mfma_bf16_32x32x8",
   "v_mfma_f32_32x32x8bf16_1k", "v_mfma_f32_32x32x8_bf16", kMfmaInstrPerIter, 2.0 * 32 * 32 * 8, 64,
   "2·32·32·8 FLOP per wavefront MFMA (dense)"},
  {"mfma.int8", "Matrix INT8 MFMA 32x32x8 (CDNA2), INT32 accumulate", "int8", Family::mfma, 4,
   "probe_mfma_i8_32x32x8", "v_mfma_i32_32x32x8i8", "", kMfmaInstrPerIter, 2.0 * 32 * 32 * 8, 64,
   "2·32·32·8 OP per wavefront MFMA (dense)"},
  {"mfma.fp8_e4m3", "Matrix FP8 E4M3 (FNUZ) MFMA 16x16x32 (CDNA3), FP32 accumulate", "fp8_e4m3", Family::mfma, 5,
   "probe_mfma_fp8_16x16x32", "", "v_mfma_f32_16x16x32_fp8_fp8", kMfmaInstrPerIter, 2.0 * 16 * 16 * 32, 64,
   "2·16·16·32 FLOP per wavefront MFMA (dense)"},
  {"mfma.int8_cdna3", "Matrix INT8 MFMA 16x16x32 (CDNA3), INT32 accumulate", "int8", Family::mfma, 6,
   "probe_mfma_i8_16x16x32", "", "v_mfma_i32_16x16x32_i8", kMfmaInstrPerIter, 2.0 * 16 * 16 * 32, 64,
   "2·16·16·32 OP per wavefront MFMA (dense)"},
};
// clang-format on
inline constexpr std::size_t kComputeKernelCount = sizeof(kComputeKernels) / sizeof(kComputeKernels[0]);

// The ISA family of a gfx target name ("gfx90a", "gfx942"): 2 (CDNA2), 3 (CDNA3) or 0 (no kernels here).
constexpr int cdna_family(const char* gfx) {
  auto eq = [](const char* a, const char* b) {
    while (*a && *b && *a == *b) ++a, ++b;
    return *b == 0 && (*a == 0 || *a == ':');
  };
  if (eq(gfx, "gfx90a")) return 2;
  if (eq(gfx, "gfx940") || eq(gfx, "gfx941") || eq(gfx, "gfx942")) return 3;
  return 0;
}
constexpr const char* instruction_for(const ComputeKernelDesc& d, int family) {
  return family == 2 ? d.isa_cdna2 : family == 3 ? d.isa_cdna3 : "";
}

// Kernel entry points (__global__ functions) for hipLaunchKernel: (const void* in, void* out, unsigned long long n).
const void* vector_kernel_function(int index);
const void* mfma_kernel_function(int index);

// ---- Memory kernels (kernels/common/gpu_memory_kernels.inc, shared with CUDA) ----------------------------------
enum class MemKernel : int { read, write, copy, triad };
inline constexpr int kMemCountedBytes[] = {16, 16, 32, 48};  // BabelStream: each array once, no write-allocate
inline constexpr int kMemArrays[] = {1, 1, 2, 3};
inline constexpr int kMemThreadsPerBlock = 256;
const void* memory_kernel_function(MemKernel k);
// Device-side set-up and check of the arrays (gpu_memory_kernels.inc): probe_mem_fill and probe_mem_check.
const void* memory_fill_function();
const void* memory_check_function();

}  // namespace probe_hip
