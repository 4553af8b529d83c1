// Device-memory kernels with 16-byte accesses (uint4/float4), grid-stride, coalesced across the warp; the kernels
// themselves are kernels/common/gpu_memory_kernels.inc, shared with the HIP backend.
// Bytes counted per 16-byte element: kMemCountedBytes (cuda_kernels.hpp), BabelStream's convention.
#include "cuda_kernels.hpp"
#include "../common/gpu_memory_kernels.inc"  // the kernels, shared with HIP

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
const void* memory_fill_function() { return reinterpret_cast<const void*>(&probe_mem_fill); }
const void* memory_check_function() { return reinterpret_cast<const void*>(&probe_mem_check); }
}  // namespace probe_cuda
