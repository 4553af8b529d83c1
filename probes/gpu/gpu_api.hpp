#pragma once
// The thin host-side portability layer of the GPU backends (the host counterpart of kernels/common/
// gpu_portability.hpp): each backend's CMake defines PROBE_GPU_CUDA or PROBE_GPU_HIP, and the shared host sources
// in probes/gpu/ are written once against the names below. Only the runtime calls that the shared code makes are
// mapped; backend-specific code (device properties, NVML/ROCm SMI, cuBLASLt) keeps the native API.
#if defined(PROBE_GPU_HIP) == defined(PROBE_GPU_CUDA)
#error "define exactly one of PROBE_GPU_CUDA and PROBE_GPU_HIP (the backend's CMakeLists.txt does)"
#endif

#if defined(PROBE_GPU_HIP)
#include <hip/hip_runtime_api.h>

#include "hip_check.hpp"
#include "hip_kernels.hpp"

// The backend's namespaces: host code (probe::hip) and the kernel table (probe_hip).
#define PROBE_GPU_NS hip
#define PROBE_GPU_KERNEL_NS probe_hip
#define PROBE_GPU_CHECK PROBE_HIP_CHECK
#define gpuStream_t hipStream_t
#define gpuEvent_t hipEvent_t
#define gpuEventCreate hipEventCreate
#define gpuEventDestroy hipEventDestroy
#define gpuEventRecord hipEventRecord
#define gpuEventSynchronize hipEventSynchronize
#define gpuEventElapsedTime hipEventElapsedTime
#define gpuMalloc hipMalloc
#define gpuFree hipFree
#define gpuMallocHost hipHostMalloc
#define gpuFreeHost hipHostFree
#define gpuMemcpy hipMemcpy
#define gpuMemcpyAsync hipMemcpyAsync
#define gpuMemset hipMemset
#define gpuMemsetAsync hipMemsetAsync
#define gpuMemcpyHostToDevice hipMemcpyHostToDevice
#define gpuMemcpyDeviceToHost hipMemcpyDeviceToHost
#define gpuStreamCreateWithFlags hipStreamCreateWithFlags
#define gpuStreamDestroy hipStreamDestroy
#define gpuStreamNonBlocking hipStreamNonBlocking
#define gpuOccupancyMaxActiveBlocksPerMultiprocessor hipOccupancyMaxActiveBlocksPerMultiprocessor
#define gpuLaunchKernel hipLaunchKernel
#define gpuGetLastError hipGetLastError
#define gpuSetDevice hipSetDevice
#define gpuMemGetInfo hipMemGetInfo
#define gpuDeviceSynchronize hipDeviceSynchronize
// A multiprocessor, in messages: "the kernel cannot be resident on a CU".
#define PROBE_GPU_MULTIPROCESSOR "a CU"
#else
#include <cuda_runtime_api.h>

#include "cuda_check.hpp"
#include "cuda_kernels.hpp"

#define PROBE_GPU_NS cuda
#define PROBE_GPU_KERNEL_NS probe_cuda
#define PROBE_GPU_CHECK PROBE_CUDA_CHECK
#define gpuStream_t cudaStream_t
#define gpuEvent_t cudaEvent_t
#define gpuEventCreate cudaEventCreate
#define gpuEventDestroy cudaEventDestroy
#define gpuEventRecord cudaEventRecord
#define gpuEventSynchronize cudaEventSynchronize
#define gpuEventElapsedTime cudaEventElapsedTime
#define gpuMalloc cudaMalloc
#define gpuFree cudaFree
#define gpuMallocHost cudaMallocHost
#define gpuFreeHost cudaFreeHost
#define gpuMemcpy cudaMemcpy
#define gpuMemcpyAsync cudaMemcpyAsync
#define gpuMemset cudaMemset
#define gpuMemsetAsync cudaMemsetAsync
#define gpuMemcpyHostToDevice cudaMemcpyHostToDevice
#define gpuMemcpyDeviceToHost cudaMemcpyDeviceToHost
#define gpuStreamCreateWithFlags cudaStreamCreateWithFlags
#define gpuStreamDestroy cudaStreamDestroy
#define gpuStreamNonBlocking cudaStreamNonBlocking
#define gpuOccupancyMaxActiveBlocksPerMultiprocessor cudaOccupancyMaxActiveBlocksPerMultiprocessor
#define gpuLaunchKernel cudaLaunchKernel
#define gpuGetLastError cudaGetLastError
#define gpuSetDevice cudaSetDevice
#define gpuMemGetInfo cudaMemGetInfo
#define gpuDeviceSynchronize cudaDeviceSynchronize
#define PROBE_GPU_MULTIPROCESSOR "an SM"
#endif
