#pragma once
// Every CUDA runtime call is checked: a failure throws probe::BackendError naming file:line and the call, and
// Device::measure turns it into a `failed` measurement with that text.
#include <cuda_runtime_api.h>

#include <string>

#include "probe/error.hpp"

namespace probe::cuda {

// Errors that poison the CUDA context ("sticky"): every later call in this process fails the same way, so the
// device runs nothing more. throw_cuda_error throws DeviceAbortedError for these, BackendError otherwise.
[[nodiscard]] bool is_sticky(cudaError_t e);

[[noreturn]] void throw_cuda_error(cudaError_t e, const char* expr, const char* file, int line);

// "cudaErrorInsufficientDriver: CUDA driver version is insufficient for CUDA runtime version"
[[nodiscard]] std::string describe(cudaError_t e);

}  // namespace probe::cuda

#define PROBE_CUDA_CHECK(expr)                                                             \
  do {                                                                                     \
    const cudaError_t probe_cuda_err_ = (expr);                                            \
    if (probe_cuda_err_ != cudaSuccess) {                                                  \
      ::probe::cuda::throw_cuda_error(probe_cuda_err_, #expr, __FILE__, __LINE__);         \
    }                                                                                      \
  } while (0)
