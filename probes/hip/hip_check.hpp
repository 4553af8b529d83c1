#pragma once
// Every HIP runtime call is checked: a failure throws probe::BackendError naming file:line and the call, and
// Device::measure turns it into a `failed` measurement with that text.
#include <hip/hip_runtime_api.h>

#include <string>

#include "probe/error.hpp"

namespace probe::hip {

// Errors after which the HIP context is unusable (the device faulted): every later call fails the same way, so
// the device runs nothing more. throw_hip_error throws DeviceAbortedError for these, BackendError otherwise.
[[nodiscard]] bool is_sticky(hipError_t e);

[[noreturn]] void throw_hip_error(hipError_t e, const char* expr, const char* file, int line);

// "hipErrorNoDevice: no ROCm-capable device is detected"
[[nodiscard]] std::string describe(hipError_t e);

}  // namespace probe::hip

#define PROBE_HIP_CHECK(expr)                                                             \
  do {                                                                                     \
    const hipError_t probe_hip_err_ = (expr);                                            \
    if (probe_hip_err_ != hipSuccess) {                                                  \
      ::probe::hip::throw_hip_error(probe_hip_err_, #expr, __FILE__, __LINE__);         \
    }                                                                                      \
  } while (0)
