#pragma once
// The CUDA kernel table: every constant that decides how much work a kernel does per loop iteration lives here,
// shared by the kernels (.cu), the host runner (work()) and the static PTX audit (cuda_kernel_table prints it).
// Plain C++17 so that both nvcc and the host compiler read it; no CUDA types.
#include <cstddef>
#include <cstdint>

namespace probe_cuda {

// ---- Vector kernels (one thread is one unit) ----------------------------------------------------------------
// kVecAcc independent accumulators per thread; each loop iteration applies kVecSteps dependent FMAs to each.
// FP kernels: acc = fma(acc, x, y) with x = -1 at run time, so two steps return acc exactly (the compiler cannot
// know x); one extra step after the loop makes the stored result y - acc0, exact for any iteration count.
inline constexpr int kVecAcc = 8;
inline constexpr int kVecSteps = 16;  // even: see above
inline constexpr int kVecInstrPerIter = kVecAcc * kVecSteps;
inline constexpr int kVecThreadsPerBlock = 256;
// Per-thread input layout (elements of the kernel's type): [p, q, acc0 .. acc(kVecAcc-1)].
inline constexpr int kVecInPerThread = 2 + kVecAcc;

// ---- mma.sync kernels (one warp is one unit) -----------------------------------------------------------------
// kMmaAcc independent accumulator tiles; per loop iteration each receives kMmaSteps mma.sync, alternately with B
// and -B (floating point: the tile returns to C exactly after each pair), or always B (integer: exact modulo 2^32).
// After the loop one more mma with B; the tiles are then summed element-wise (never chained through an mma).
inline constexpr int kMmaAcc = 8;
inline constexpr int kMmaSteps = 4;  // even
inline constexpr int kMmaInstrPerIter = kMmaAcc * kMmaSteps;
inline constexpr int kMmaWarpsPerBlock = 8;

// ---- wgmma kernels (one warpgroup of 128 threads is one unit; sm_90a only) ----------------------------------
// A from registers, B from shared memory (K-major, no swizzle, two tiles: B and -B), shape m64 n kWgN.
inline constexpr int kWgN = 128;
inline constexpr int kWgAcc = 2;
inline constexpr int kWgSteps = 8;  // even
inline constexpr int kWgInstrPerIter = kWgAcc * kWgSteps;
// Warpgroups per block (one block per SM): each SM sub-partition's tensor core gets wgmma from this many warps.
inline constexpr int kWgGroupsPerBlock = 3;
// Commit groups a warpgroup keeps in flight in the timed loop (wait_group kWgGroupsInFlight - 1 after each
// iteration's commit): >= 2, or the tensor pipe drains at every iteration.
inline constexpr int kWgGroupsInFlight = 2;
// Shared-memory layout of one B tile (N rows of 32 bytes of K): core matrices of 8 rows x 16 bytes;
// LBO = byte distance between K-adjacent core matrices, SBO = between N-adjacent ones.
inline constexpr int kWgLbo = 128;
inline constexpr int kWgSbo = 256;
inline constexpr int kWgTileBytes = kWgN * 32;
constexpr int wg_smem_offset(int n, int k_byte) {
  return (n % 8) * 16 + (n / 8) * kWgSbo + (k_byte % 16) + (k_byte / 16) * kWgLbo;
}

enum class Family : int { vector, mma, wgmma };

// One compute kernel. `ptx_instruction` is the mnemonic prefix the audit counts in the timed loop body;
// the op count per instruction is derived by the audit from the PTX itself (shape or lane count), and must
// multiply to ops_per_iter.
struct ComputeKernelDesc {
  const char* id;               // "mma.bf16" (the report's kernel id)
  const char* title;
  const char* dtype;            // probe::DType name
  Family family;
  int index;                    // within its family (kernel_function(family, index))
  const char* symbol;           // extern "C" kernel name, found in the PTX
  const char* ptx_instruction;  // "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32"
  int instr_per_iter;           // per unit per loop iteration
  double ops_per_instr;         // per unit (thread, warp or warpgroup) for one instruction
  int threads_per_unit;         // 1, 32 or 128
  const char* built_for;        // compiled targets whose code holds the loop ("80 86 89 90a 100 100a 120")
  const char* runs_on;          // compute capabilities it is measured on ("80 86 89 90 100 103 120 121")
  const char* skip_reason;      // shown when the device's compute capability is not in runs_on
  const char* counting;         // how the work is counted, in words
  [[nodiscard]] constexpr double ops_per_iter() const { return instr_per_iter * ops_per_instr; }
};

inline constexpr const char* kAllTargets = "80 86 89 90a 100 100a 120";
inline constexpr const char* kAllCc = "80 86 87 89 90 100 103 110 120 121";

// clang-format off
inline constexpr ComputeKernelDesc kComputeKernels[] = {
  // Vector FMA: 2 FLOP per lane (an FMA is a multiply and an add).
  {"fma.fp64", "FP64 FMA", "fp64", Family::vector, 0, "probe_vec_fma_fp64", "fma.rn.f64",
   kVecInstrPerIter, 2, 1, kAllTargets, kAllCc, "", "2 FLOP per FMA lane"},
  {"fma.fp32", "FP32 FMA", "fp32", Family::vector, 1, "probe_vec_fma_fp32", "fma.rn.f32",
   kVecInstrPerIter, 2, 1, kAllTargets, kAllCc, "", "2 FLOP per FMA lane"},
  {"fma.fp16", "FP16 FMA (half2)", "fp16", Family::vector, 2, "probe_vec_fma_fp16", "fma.rn.f16x2",
   kVecInstrPerIter, 4, 1, kAllTargets, kAllCc, "", "2 FLOP per FMA lane, 2 lanes per half2 instruction"},
  {"fma.bf16", "BF16 FMA (bf162)", "bf16", Family::vector, 3, "probe_vec_fma_bf16", "fma.rn.bf16x2",
   kVecInstrPerIter, 4, 1, kAllTargets, kAllCc, "", "2 FLOP per FMA lane, 2 lanes per bf162 instruction"},
  {"dot.int8", "INT8 dot product dp4a, INT32 accumulate", "int8", Family::vector, 4, "probe_vec_dp4a", "dp4a.s32.s32",
   kVecInstrPerIter, 8, 1, kAllTargets, kAllCc, "", "2 OP per 8-bit multiply-add, 4 per dp4a"},
  // mma.sync, dense: 2·M·N·K per warp instruction.
  {"mma.fp16", "Tensor FP16 mma.sync, FP32 accumulate", "fp16", Family::mma, 0, "probe_mma_fp16",
   "mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32", kMmaInstrPerIter, 2.0 * 16 * 8 * 16, 32, kAllTargets, kAllCc,
   "", "2·16·8·16 FLOP per warp mma (dense)"},
  {"mma.bf16", "Tensor BF16 mma.sync, FP32 accumulate", "bf16", Family::mma, 1, "probe_mma_bf16",
   "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32", kMmaInstrPerIter, 2.0 * 16 * 8 * 16, 32, kAllTargets, kAllCc,
   "", "2·16·8·16 FLOP per warp mma (dense)"},
  {"mma.tf32", "Tensor TF32 mma.sync, FP32 accumulate", "tf32", Family::mma, 2, "probe_mma_tf32",
   "mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32", kMmaInstrPerIter, 2.0 * 16 * 8 * 8, 32, kAllTargets, kAllCc,
   "", "2·16·8·8 FLOP per warp mma (dense)"},
  {"mma.int8", "Tensor INT8 mma.sync, INT32 accumulate", "int8", Family::mma, 3, "probe_mma_int8",
   "mma.sync.aligned.m16n8k32.row.col.s32.s8.s8.s32", kMmaInstrPerIter, 2.0 * 16 * 8 * 32, 32, kAllTargets, kAllCc,
   "", "2·16·8·32 OP per warp mma (dense)"},
  {"mma.fp64", "Tensor FP64 DMMA", "fp64", Family::mma, 4, "probe_mma_fp64",
   "mma.sync.aligned.m8n8k4.row.col.f64.f64.f64.f64", kMmaInstrPerIter, 2.0 * 8 * 8 * 4, 32, kAllTargets, "80 90 100",
   "no FP64 tensor cores on this chip (DMMA is on GA100, GH100 and GB100/GB102 class parts only)",
   "2·8·8·4 FLOP per warp mma"},
  {"mma.fp8_e4m3", "Tensor FP8 E4M3 mma.sync, FP32 accumulate", "fp8_e4m3", Family::mma, 5, "probe_mma_e4m3",
   "mma.sync.aligned.m16n8k32.row.col.f32.e4m3.e4m3.f32", kMmaInstrPerIter, 2.0 * 16 * 8 * 32, 32, "89 90a 100 100a 120",
   "89 120 121",
   "FP8 mma.sync is native only on sm_89 and sm_120/121 (emulated on sm_90/sm_100: Hopper FP8 is measured by "
   "wgmma.fp8_e4m3; older chips have no FP8)",
   "2·16·8·32 FLOP per warp mma (dense)"},
  {"mma.fp8_e5m2", "Tensor FP8 E5M2 mma.sync, FP32 accumulate", "fp8_e5m2", Family::mma, 6, "probe_mma_e5m2",
   "mma.sync.aligned.m16n8k32.row.col.f32.e5m2.e5m2.f32", kMmaInstrPerIter, 2.0 * 16 * 8 * 32, 32, "89 90a 100 100a 120",
   "89 120 121",
   "FP8 mma.sync is native only on sm_89 and sm_120/121 (emulated on sm_90/sm_100; older chips have no FP8)",
   "2·16·8·32 FLOP per warp mma (dense)"},
  // wgmma, dense: 2·64·N·K per warpgroup instruction.
  {"wgmma.fp16", "Tensor FP16 wgmma, FP32 accumulate", "fp16", Family::wgmma, 0, "probe_wgmma_fp16",
   "wgmma.mma_async.sync.aligned.m64n128k16.f32.f16.f16", kWgInstrPerIter, 2.0 * 64 * kWgN * 16, 128, "90a", "90",
   "wgmma exists only on sm_90a (Hopper)", "2·64·128·16 FLOP per warpgroup wgmma (dense)"},
  {"wgmma.bf16", "Tensor BF16 wgmma, FP32 accumulate", "bf16", Family::wgmma, 1, "probe_wgmma_bf16",
   "wgmma.mma_async.sync.aligned.m64n128k16.f32.bf16.bf16", kWgInstrPerIter, 2.0 * 64 * kWgN * 16, 128, "90a", "90",
   "wgmma exists only on sm_90a (Hopper)", "2·64·128·16 FLOP per warpgroup wgmma (dense)"},
  {"wgmma.tf32", "Tensor TF32 wgmma, FP32 accumulate", "tf32", Family::wgmma, 2, "probe_wgmma_tf32",
   "wgmma.mma_async.sync.aligned.m64n128k8.f32.tf32.tf32", kWgInstrPerIter, 2.0 * 64 * kWgN * 8, 128, "90a", "90",
   "wgmma exists only on sm_90a (Hopper)", "2·64·128·8 FLOP per warpgroup wgmma (dense)"},
  {"wgmma.fp8_e4m3", "Tensor FP8 E4M3 wgmma, FP32 accumulate", "fp8_e4m3", Family::wgmma, 3, "probe_wgmma_e4m3",
   "wgmma.mma_async.sync.aligned.m64n128k32.f32.e4m3.e4m3", kWgInstrPerIter, 2.0 * 64 * kWgN * 32, 128, "90a", "90",
   "wgmma exists only on sm_90a (Hopper)", "2·64·128·32 FLOP per warpgroup wgmma (dense)"},
  {"wgmma.int8", "Tensor INT8 wgmma, INT32 accumulate", "int8", Family::wgmma, 4, "probe_wgmma_s8",
   "wgmma.mma_async.sync.aligned.m64n128k32.s32.s8.s8", kWgInstrPerIter, 2.0 * 64 * kWgN * 32, 128, "90a", "90",
   "wgmma exists only on sm_90a (Hopper)", "2·64·128·32 OP per warpgroup wgmma (dense)"},
};
// clang-format on
inline constexpr std::size_t kComputeKernelCount = sizeof(kComputeKernels) / sizeof(kComputeKernels[0]);

// Matrix shapes of the mma.sync kernels, by family index (M, N, K and element sizes).
struct MmaShape {
  int m, n, k;
  int a_bytes;  // bytes per A/B element
  int c_bytes;  // bytes per accumulator element
};
inline constexpr MmaShape kMmaShapes[] = {
    {16, 8, 16, 2, 4}, {16, 8, 16, 2, 4}, {16, 8, 8, 4, 4}, {16, 8, 32, 1, 4},
    {8, 8, 4, 8, 8},   {16, 8, 32, 1, 4}, {16, 8, 32, 1, 4},
};
inline constexpr MmaShape kWgShapes[] = {
    {64, kWgN, 16, 2, 4}, {64, kWgN, 16, 2, 4}, {64, kWgN, 8, 4, 4}, {64, kWgN, 32, 1, 4}, {64, kWgN, 32, 1, 4},
};

// Byte layout of a matrix kernel's input buffer (shared by every unit): A (M×K, row-major), B stored transposed
// (N×K, row-major: "col" operand, K-major), the second B tile (-B for floating point, B for integers), then
// `acc` accumulator tiles C (M×N, row-major). The output holds one M×N tile per unit: the element-wise sum.
struct MatrixLayout {
  std::size_t a, b, b2, c, total, out_per_unit;
};
constexpr std::size_t align16(std::size_t x) { return (x + 15) / 16 * 16; }
constexpr MatrixLayout matrix_layout(const MmaShape& s, int acc) {
  const std::size_t a_sz = align16(static_cast<std::size_t>(s.m) * s.k * s.a_bytes);
  const std::size_t b_sz = align16(static_cast<std::size_t>(s.n) * s.k * s.a_bytes);
  const std::size_t c_sz = static_cast<std::size_t>(s.m) * s.n * s.c_bytes;
  return MatrixLayout{0, a_sz, a_sz + b_sz, a_sz + 2 * b_sz, a_sz + 2 * b_sz + c_sz * acc, c_sz};
}

// Kernel entry points (the __global__ functions), for cudaLaunchKernel. Every compute kernel has the signature
// (const void* in, void* out, unsigned long long iterations).
const void* vector_kernel_function(int index);
const void* mma_kernel_function(int index);
const void* wgmma_kernel_function(int index);

// ---- Memory kernels: 16-byte accesses (uint4 / float4), grid-stride ------------------------------------------
enum class MemKernel : int { read, write, copy, triad };
// Bytes counted per 16-byte element, BabelStream's convention: each array read or written counts once, no
// write-allocate (GPUs do not read a line before a full-line write).
inline constexpr int kMemCountedBytes[] = {16, 16, 32, 48};
inline constexpr int kMemArrays[] = {1, 1, 2, 3};
inline constexpr int kMemThreadsPerBlock = 256;
// read(a, n, partial): partial[thread] = wrapping 32-bit sum of the words it read.
// write(c, n, value): every word = value.  copy(a, c, n): c = a.  triad(b, c, a, n, s): a = b + s·c (fp32 lanes).
const void* memory_kernel_function(MemKernel k);
// Device-side set-up and check of the arrays (gpu_memory_kernels.inc): probe_mem_fill and probe_mem_check.
const void* memory_fill_function();
const void* memory_check_function();

}  // namespace probe_cuda
