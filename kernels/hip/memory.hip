// HIP device-memory kernels: the shared sources (kernels/common/gpu_memory_kernels.inc, also built as CUDA), 16-byte
// accesses, grid-stride. Bytes counted per 16-byte element: kMemCountedBytes (hip_kernels.hpp).
#include "../common/gpu_memory_kernels.inc"
#include "hip_kernels.hpp"

namespace probe_hip {
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
}  // namespace probe_hip
