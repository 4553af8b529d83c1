#pragma once
// The thin layer that lets one kernel source compile as CUDA (nvcc) and as HIP (clang for amdgcn): headers,
// the SIMT width (warp 32, wavefront 64), the packed-half type and the few intrinsics whose names differ.
// Host-side names (streams, events) are aliased too, for host code that is written once; kernels never need them.
#if defined(__HIP__) || defined(__HIPCC__) || defined(__HIP_PLATFORM_AMD__)
#define PROBE_GPU_HIP 1
#include <hip/hip_fp16.h>
#include <hip/hip_runtime.h>
#else
#define PROBE_GPU_CUDA 1
#include <cuda_fp16.h>
#include <cuda_runtime.h>
#endif

#include <cstddef>
#include <cstdint>

namespace probe_gpu {

#if defined(PROBE_GPU_HIP)
inline constexpr int kSimtWidth = 64;  // CDNA wavefront
using Stream = hipStream_t;
using Event = hipEvent_t;
using Half2 = __half2;
// Four packed int8 dot product, INT32 accumulate: v_dot4(c)_i32_i8 on gfx90a/gfx940.
__device__ __forceinline__ int dot4_i8(int a, int b, int c) { return __builtin_amdgcn_sdot4(a, b, c, false); }
#else
inline constexpr int kSimtWidth = 32;  // NVIDIA warp
using Stream = cudaStream_t;
using Event = cudaEvent_t;
using Half2 = __half2;
__device__ __forceinline__ int dot4_i8(int a, int b, int c) { return __dp4a(a, b, c); }
#endif

// The linear id of this thread in the grid.
__device__ __forceinline__ std::size_t global_thread_id() {
  return static_cast<std::size_t>(blockIdx.x) * blockDim.x + threadIdx.x;
}
__device__ __forceinline__ std::size_t grid_threads() { return static_cast<std::size_t>(gridDim.x) * blockDim.x; }

}  // namespace probe_gpu
