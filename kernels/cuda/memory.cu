// Device-memory kernels with 16-byte accesses (uint4/float4), grid-stride, coalesced across the warp.
// Bytes counted per 16-byte element: kMemCountedBytes (cuda_kernels.hpp), BabelStream's convention.
#include <cstdint>

#include "cuda_kernels.hpp"

extern "C" __global__ void probe_mem_read(const uint4* a, size_t n, uint32_t* partial) {
  const size_t tid = static_cast<size_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  const size_t stride = static_cast<size_t>(gridDim.x) * blockDim.x;
  uint32_t s0 = 0, s1 = 0;
  size_t i = tid;
  // Two loads in flight per thread before their use.
  for (; i + stride < n; i += 2 * stride) {
    const uint4 x = a[i], y = a[i + stride];
    s0 += x.x + x.y + x.z + x.w;
    s1 += y.x + y.y + y.z + y.w;
  }
  if (i < n) {
    const uint4 x = a[i];
    s0 += x.x + x.y + x.z + x.w;
  }
  partial[tid] = s0 + s1;  // wrapping 32-bit sum: exact on the host for any order
}

extern "C" __global__ void probe_mem_write(uint4* c, size_t n, uint32_t value) {
  const size_t stride = static_cast<size_t>(gridDim.x) * blockDim.x;
  const uint4 v = make_uint4(value, value, value, value);
  for (size_t i = static_cast<size_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += stride) c[i] = v;
}

extern "C" __global__ void probe_mem_copy(const uint4* a, uint4* c, size_t n) {
  const size_t stride = static_cast<size_t>(gridDim.x) * blockDim.x;
  for (size_t i = static_cast<size_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += stride) c[i] = a[i];
}

extern "C" __global__ void probe_mem_triad(const float4* b, const float4* c, float4* a, size_t n, float s) {
  const size_t stride = static_cast<size_t>(gridDim.x) * blockDim.x;
  for (size_t i = static_cast<size_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += stride) {
    const float4 x = b[i], y = c[i];
    a[i] = make_float4(x.x + s * y.x, x.y + s * y.y, x.z + s * y.z, x.w + s * y.w);
  }
}

namespace probe_cuda {
const void* memory_kernel_function(MemKernel k) {
  switch (k) {
    case MemKernel::read: return reinterpret_cast<const void*>(&probe_mem_read);
    case MemKernel::write: return reinterpret_cast<const void*>(&probe_mem_write);
    case MemKernel::copy: return reinterpret_cast<const void*>(&probe_mem_copy);
    case MemKernel::triad: return reinterpret_cast<const void*>(&probe_mem_triad);
  }
  return nullptr;
}
}  // namespace probe_cuda
