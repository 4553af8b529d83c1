// Hopper warpgroup MMA (wgmma.mma_async, sm_90a only): FP16, BF16, TF32, FP8 E4M3 and INT8, the instructions
// that reach H100/H200 tensor peak (mma.sync reaches about half, and FP8 mma.sync is emulated there).
// Unit: one warpgroup (4 warps). Work per loop iteration: kWgInstrPerIter wgmma of shape m64 n kWgN
// (cuda_kernels.hpp), 2·64·N·K operations each. A comes from registers (the mma.sync m16 fragment per warp,
// rows 16·warp..), B from shared memory through a descriptor: K-major, no swizzle, core matrices 8 rows × 16 B,
// LBO between K-adjacent ones, SBO between N-adjacent ones. kWgAcc independent accumulator tiles, alternating
// B and -B (floating point) or B, B (integer), one more B product after the loop, element-wise sum stored.
// Pipelined: one commit group per iteration and wait_group kWgGroupsInFlight - 1, kWgGroupsPerBlock warpgroups per
// block (one block per SM); the op count per iteration does not depend on either.
#include <cstdint>

#include "cuda_kernels.hpp"

namespace {

using probe_cuda::kWgAcc;
using probe_cuda::kWgGroupsInFlight;
using probe_cuda::kWgGroupsPerBlock;
using probe_cuda::kWgLbo;
using probe_cuda::kWgN;
using probe_cuda::kWgSbo;
using probe_cuda::kWgShapes;
using probe_cuda::kWgSteps;
using probe_cuda::kWgTileBytes;
using probe_cuda::matrix_layout;
using probe_cuda::MatrixLayout;
using probe_cuda::wg_smem_offset;

[[maybe_unused]] constexpr int kRegs = kWgN / 2;  // accumulator registers per thread for one m64nN tile

}  // namespace

#if defined(__CUDA_ARCH_FEAT_SM90_ALL)
#include "wgmma_ops.cuh"

namespace {

__device__ __forceinline__ uint32_t ld32(const uint8_t* base, int row, int col_bytes, int row_bytes) {
  return *reinterpret_cast<const uint32_t*>(base + static_cast<size_t>(row) * row_bytes + col_bytes);
}

// A fragment of this lane: every form has 32 bytes of K per row; the element size decides the column map.
template <int ElemBytes>
__device__ __forceinline__ void load_a(const uint8_t* a, uint32_t (&ra)[4], int warp, int lane) {
  const int g = lane >> 2, t = lane & 3, r0 = 16 * warp + g;
  if constexpr (ElemBytes == 2) {  // m64nNk16 .f16/.bf16: pairs at k = 2t and 2t+8
    ra[0] = ld32(a, r0, 4 * t, 32);
    ra[1] = ld32(a, r0 + 8, 4 * t, 32);
    ra[2] = ld32(a, r0, 4 * t + 16, 32);
    ra[3] = ld32(a, r0 + 8, 4 * t + 16, 32);
  } else if constexpr (ElemBytes == 4) {  // m64nNk8 .tf32: k = t and t+4
    ra[0] = ld32(a, r0, 4 * t, 32);
    ra[1] = ld32(a, r0 + 8, 4 * t, 32);
    ra[2] = ld32(a, r0, 4 * t + 16, 32);
    ra[3] = ld32(a, r0 + 8, 4 * t + 16, 32);
  } else {  // m64nNk32 8-bit: four at k = 4t and 4t+16
    ra[0] = ld32(a, r0, 4 * t, 32);
    ra[1] = ld32(a, r0 + 8, 4 * t, 32);
    ra[2] = ld32(a, r0, 4 * t + 16, 32);
    ra[3] = ld32(a, r0 + 8, 4 * t + 16, 32);
  }
}

__device__ __forceinline__ uint64_t smem_desc(const void* p) {
  const auto addr = static_cast<uint64_t>(__cvta_generic_to_shared(p));
  return ((addr & 0x3FFFF) >> 4) | (static_cast<uint64_t>(kWgLbo >> 4) << 16) |
         (static_cast<uint64_t>(kWgSbo >> 4) << 32);
}

// Accumulator register r of this lane in the 64×N tile.
__device__ __forceinline__ void d_pos(int warp, int lane, int r, int& row, int& col) {
  row = 16 * warp + (lane >> 2) + 8 * ((r >> 1) & 1);
  col = (r >> 2) * 8 + 2 * (lane & 3) + (r & 1);
}

template <int Kind, class C, void (*Op)(C (&)[kRegs], const uint32_t (&)[4], uint64_t)>
__device__ __forceinline__ void wgmma_body(const void* in_raw, void* out_raw, unsigned long long iterations) {
  constexpr auto shape = kWgShapes[Kind];
  constexpr MatrixLayout L = matrix_layout(shape, kWgAcc);
  __shared__ alignas(128) uint8_t tiles[2 * kWgTileBytes];
  const auto* in = static_cast<const uint8_t*>(in_raw);
  // Both B tiles into the no-swizzle K-major layout, 16 bytes at a time.
  for (int c = threadIdx.x; c < 2 * kWgN * 2; c += blockDim.x) {
    const int tile = c / (kWgN * 2), n = (c / 2) % kWgN, kc = c % 2;
    const uint8_t* src = in + (tile ? L.b2 : L.b) + n * 32 + kc * 16;
    *reinterpret_cast<uint4*>(tiles + tile * kWgTileBytes + wg_smem_offset(n, kc * 16)) =
        *reinterpret_cast<const uint4*>(src);
  }
  // Ordinary stores that the tensor cores (async proxy) read next need this fence before the barrier.
  asm volatile("fence.proxy.async.shared::cta;" ::: "memory");
  __syncthreads();
  const int lane = threadIdx.x & 31, warp = (threadIdx.x >> 5) & 3;
  const size_t unit = static_cast<size_t>(blockIdx.x) * kWgGroupsPerBlock + (threadIdx.x >> 7);
  uint32_t a[4];
  load_a<shape.a_bytes>(in + L.a, a, warp, lane);
  const uint64_t desc_b = smem_desc(tiles), desc_bn = smem_desc(tiles + kWgTileBytes);
  const C* c_in = reinterpret_cast<const C*>(in + L.c);
  C acc[kWgAcc][kRegs];
#pragma unroll
  for (int t = 0; t < kWgAcc; ++t) {
#pragma unroll
    for (int r = 0; r < kRegs; ++r) {
      int row, col;
      d_pos(warp, lane, r, row, col);
      acc[t][r] = c_in[t * 64 * kWgN + row * kWgN + col];
    }
  }
  // One commit group per iteration; the wait is for the group before it (kWgGroupsInFlight - 1 stay pending),
  // so the next iteration's wgmma are queued while the tensor cores still work on this one and the pipe never
  // drains. Legal because nothing but wgmma touches the accumulators inside the loop (the hardware orders wgmma
  // on the same accumulator); they are read only after the wait_group 0 below.
#pragma unroll 1
  for (unsigned long long i = 0; i < iterations; ++i) {
    asm volatile("wgmma.fence.sync.aligned;" ::: "memory");
#pragma unroll
    for (int s = 0; s < kWgSteps; ++s) {
#pragma unroll
      for (int t = 0; t < kWgAcc; ++t) Op(acc[t], a, (s & 1) ? desc_bn : desc_b);
    }
    asm volatile("wgmma.commit_group.sync.aligned;" ::: "memory");
    asm volatile("wgmma.wait_group.sync.aligned %0;" ::"n"(kWgGroupsInFlight - 1) : "memory");
  }
  asm volatile("wgmma.wait_group.sync.aligned 0;" ::: "memory");
  asm volatile("wgmma.fence.sync.aligned;" ::: "memory");
#pragma unroll
  for (int t = 0; t < kWgAcc; ++t) Op(acc[t], a, desc_b);
  asm volatile("wgmma.commit_group.sync.aligned;" ::: "memory");
  asm volatile("wgmma.wait_group.sync.aligned 0;" ::: "memory");
  C* out = static_cast<C*>(out_raw) + unit * 64 * kWgN;
#pragma unroll
  for (int r = 0; r < kRegs; ++r) {
    C sum = acc[0][r];
#pragma unroll
    for (int t = 1; t < kWgAcc; ++t) sum += acc[t][r];
    int row, col;
    d_pos(warp, lane, r, row, col);
    out[row * kWgN + col] = sum;
  }
}

}  // namespace

#define PROBE_WGMMA_KERNEL(NAME, KIND, C, OP)                                                          \
  extern "C" __global__ void __launch_bounds__(128 * kWgGroupsPerBlock, 1)                             \
      NAME(const void* in, void* out, unsigned long long n) {                                          \
    wgmma_body<KIND, C, OP>(in, out, n);                                                               \
  }
#else
// Other targets: the symbols exist (one kernel table for every target) but are never launched there.
#define PROBE_WGMMA_KERNEL(NAME, KIND, C, OP) \
  extern "C" __global__ void NAME(const void*, void*, unsigned long long) {}
#endif

PROBE_WGMMA_KERNEL(probe_wgmma_fp16, 0, float, wgmma_f16)
PROBE_WGMMA_KERNEL(probe_wgmma_bf16, 1, float, wgmma_bf16)
PROBE_WGMMA_KERNEL(probe_wgmma_tf32, 2, float, wgmma_tf32)
PROBE_WGMMA_KERNEL(probe_wgmma_e4m3, 3, float, wgmma_e4m3)
PROBE_WGMMA_KERNEL(probe_wgmma_s8, 4, int, wgmma_s8)

namespace probe_cuda {
const void* wgmma_kernel_function(int index) {
  switch (index) {
    case 0: return reinterpret_cast<const void*>(&probe_wgmma_fp16);
    case 1: return reinterpret_cast<const void*>(&probe_wgmma_bf16);
    case 2: return reinterpret_cast<const void*>(&probe_wgmma_tf32);
    case 3: return reinterpret_cast<const void*>(&probe_wgmma_e4m3);
    case 4: return reinterpret_cast<const void*>(&probe_wgmma_s8);
    default: return nullptr;
  }
}
}  // namespace probe_cuda
