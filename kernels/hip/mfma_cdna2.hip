// MFMA kernels, CDNA2 forms (gfx90a: MI210/MI250/MI250X), dense. Ops per wavefront instruction = 2·M·N·K (the
// shapes in hip_kernels.hpp kMfmaShapes, which work() and the audit use):
//   fp64  v_mfma_f64_16x16x4f64       2·16·16·4 =  2048 FLOP
//   fp32  v_mfma_f32_16x16x4f32       2·16·16·4 =  2048 FLOP
//   fp16  v_mfma_f32_32x32x8f16       2·32·32·8 = 16384 FLOP
//   bf16  v_mfma_f32_32x32x8bf16_1k   2·32·32·8 = 16384 FLOP (the _1k form: full rate; the older 32x32x4bf16 is
//                                                             half rate, the wrong choice the issue warns of)
//   int8  v_mfma_i32_32x32x8i8        2·32·32·8 = 16384 OP
// kMfmaInstrPerIter (= kMfmaAcc·kMfmaSteps = 16) instructions per wavefront per loop iteration.
// The same builtins compile for gfx940 (CDNA3 spells them v_mfma_f32_32x32x8_bf16 ...), except the INT8 form,
// which CDNA3 replaced by v_mfma_i32_16x16x32_i8 / 32x32x16_i8 (mfma_cdna3.hip): there its kernel traps and the
// host never launches it (hip_kernels.hpp: no CDNA3 instruction). gfx908 (MI100) is not built: its BF16 MFMA is a
// different (non-_1k) form.
#include "mfma_body.hpp"

using namespace probe_hip_dev;

namespace {
struct F64 {
  static constexpr int index = 0;
  using A = double;
  using C = double4v;
  static __device__ __forceinline__ C op(A a, A b, C c) { return __builtin_amdgcn_mfma_f64_16x16x4f64(a, b, c, 0, 0, 0); }
};
struct F32 {
  static constexpr int index = 1;
  using A = float;
  using C = float4v;
  static __device__ __forceinline__ C op(A a, A b, C c) { return __builtin_amdgcn_mfma_f32_16x16x4f32(a, b, c, 0, 0, 0); }
};
struct F16 {
  static constexpr int index = 2;
  using A = half4;
  using C = float16v;
  static __device__ __forceinline__ C op(A a, A b, C c) { return __builtin_amdgcn_mfma_f32_32x32x8f16(a, b, c, 0, 0, 0); }
};
struct Bf16 {
  static constexpr int index = 3;
  using A = short4v;
  using C = float16v;
  static __device__ __forceinline__ C op(A a, A b, C c) {
    return __builtin_amdgcn_mfma_f32_32x32x8bf16_1k(a, b, c, 0, 0, 0);
  }
};
struct I8 {
  static constexpr int index = 4;
  using A = int;  // four int8
  using C = int16v;
  static __device__ __forceinline__ C op(A a, A b, C c) {
#if defined(__gfx90a__)
    return __builtin_amdgcn_mfma_i32_32x32x8i8(a, b, c, 0, 0, 0);
#else
    (void)a, (void)b;
    __builtin_trap();  // no such instruction on this target (the host never launches it there)
    return c;
#endif
  }
};
}  // namespace

extern "C" __global__ void probe_mfma_f64_16x16x4(const void* in, void* out, unsigned long long n) { mfma_body<F64>(in, out, n); }
extern "C" __global__ void probe_mfma_f32_16x16x4(const void* in, void* out, unsigned long long n) { mfma_body<F32>(in, out, n); }
extern "C" __global__ void probe_mfma_f16_32x32x8(const void* in, void* out, unsigned long long n) { mfma_body<F16>(in, out, n); }
extern "C" __global__ void probe_mfma_bf16_32x32x8(const void* in, void* out, unsigned long long n) { mfma_body<Bf16>(in, out, n); }
extern "C" __global__ void probe_mfma_i8_32x32x8(const void* in, void* out, unsigned long long n) { mfma_body<I8>(in, out, n); }

namespace probe_hip {
const void* mfma_cdna3_kernel_function(int index);  // mfma_cdna3.hip
const void* mfma_kernel_function(int index) {
  switch (index) {
    case 0: return reinterpret_cast<const void*>(&probe_mfma_f64_16x16x4);
    case 1: return reinterpret_cast<const void*>(&probe_mfma_f32_16x16x4);
    case 2: return reinterpret_cast<const void*>(&probe_mfma_f16_32x32x8);
    case 3: return reinterpret_cast<const void*>(&probe_mfma_bf16_32x32x8);
    case 4: return reinterpret_cast<const void*>(&probe_mfma_i8_32x32x8);
    default: return mfma_cdna3_kernel_function(index);
  }
}
}  // namespace probe_hip
