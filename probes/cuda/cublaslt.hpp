#pragma once
// Library cross-check: dense BF16 and FP8 GEMMs through cuBLASLt, loaded with dlopen when present (no link-time
// dependency), timed with CUDA events through the shared engine, verified on sampled elements against a host
// reference (library_check.hpp). Reported beside the microkernels as "library.<type>.cublaslt".
#include <functional>
#include <span>

#include "library_check.hpp"
#include "probe/engine.hpp"
#include "probe/measurement.hpp"

namespace probe::cuda {

struct LibraryKernelDesc {
  const char* id;      // "library.bf16.cublaslt"
  const char* title;
  const char* dtype;   // probe::DType name
  GemmType type;
  int min_cc;          // compute capability (major·10 + minor) cuBLASLt needs for this type
  const char* skip_reason;
};
[[nodiscard]] std::span<const LibraryKernelDesc> library_kernels();
[[nodiscard]] KernelSpec library_spec(const LibraryKernelDesc& d);

// M = N = K of the cross-check GEMMs.
inline constexpr std::size_t kLibraryGemmSize = 8192;
inline constexpr std::size_t kLibraryCheckedElements = 64;

// Measures `d` on the current CUDA device (compute capability `cc`); `sample` is the device's run_sampling wrapped
// with its NVML sampling (it sets status, stats and the clock conditions).
void measure_library(Measurement& m, const LibraryKernelDesc& d, int cc,
                     const std::function<SamplingOutcome(SampleRunner&)>& sample);

}  // namespace probe::cuda
