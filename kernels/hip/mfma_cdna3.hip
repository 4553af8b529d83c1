// MFMA kernels, CDNA3-only forms (gfx940; gfx942 = MI300X with ROCm >= 6, docs/hip.md), dense. Ops per wavefront
// instruction = 2·M·N·K (hip_kernels.hpp kMfmaShapes, shared with work() and the audit):
//   fp8_e4m3  v_mfma_f32_16x16x32_fp8_fp8   2·16·16·32 = 16384 FLOP (FP8 E4M3 FNUZ operands, FP32 accumulate)
//   int8      v_mfma_i32_16x16x32_i8        2·16·16·32 = 16384 OP   (CDNA3's INT8 form, twice CDNA2's rate)
// kMfmaInstrPerIter (16) instructions per wavefront per loop iteration. On gfx90a these kernels trap: the
// instructions do not exist there ("needs target feature fp8-insts") and the host never launches them.
#include "mfma_body.hpp"

using namespace probe_hip_dev;

#if defined(__gfx940__) || defined(__gfx941__) || defined(__gfx942__) || !defined(__HIP_DEVICE_COMPILE__)
#define PROBE_CDNA3 1
#endif

namespace {
struct Fp8 {
  static constexpr int index = 5;
  using A = long;  // eight FP8 values
  using C = float4v;
  static __device__ __forceinline__ C op(A a, A b, C c) {
#if defined(PROBE_CDNA3) && defined(__HIP_DEVICE_COMPILE__)
    return __builtin_amdgcn_mfma_f32_16x16x32_fp8_fp8(a, b, c, 0, 0, 0);
#else
    (void)a, (void)b;
    __builtin_trap();
    return c;
#endif
  }
};
struct I8 {
  static constexpr int index = 6;
  using A = long;  // eight int8 values
  using C = int4v;
  static __device__ __forceinline__ C op(A a, A b, C c) {
#if defined(PROBE_CDNA3) && defined(__HIP_DEVICE_COMPILE__)
    return __builtin_amdgcn_mfma_i32_16x16x32_i8(a, b, c, 0, 0, 0);
#else
    (void)a, (void)b;
    __builtin_trap();
    return c;
#endif
  }
};
}  // namespace

extern "C" __global__ void probe_mfma_fp8_16x16x32(const void* in, void* out, unsigned long long n) { mfma_body<Fp8>(in, out, n); }
extern "C" __global__ void probe_mfma_i8_16x16x32(const void* in, void* out, unsigned long long n) { mfma_body<I8>(in, out, n); }

namespace probe_hip {
const void* mfma_cdna3_kernel_function(int index) {
  switch (index) {
    case 5: return reinterpret_cast<const void*>(&probe_mfma_fp8_16x16x32);
    case 6: return reinterpret_cast<const void*>(&probe_mfma_i8_16x16x32);
    default: return nullptr;
  }
}
}  // namespace probe_hip
