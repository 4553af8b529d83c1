// Vector kernels: FP64/FP32 FMA, FP16 half2 and BF16 bf162 FMA, INT8 dp4a. The work per loop iteration is
// kVecInstrPerIter instructions per thread (cuda_kernels.hpp): kVecAcc independent chains × kVecSteps steps.
// The loop itself is kernels/common/gpu_vector_body.hpp, shared with HIP.
// Verification (host): FP chains use x = -1, so every pair of steps is an exact identity and the one step after
// the loop makes each chain y - acc0; dp4a chains are exact modulo 2^32 for any count.
#include <cuda_bf16.h>

#include "cuda_kernels.hpp"
#include "../common/gpu_vector_body.hpp"  // the loop, shared with the HIP backend

namespace {

using probe_cuda::kVecAcc;
using probe_cuda::kVecInPerThread;
using probe_cuda::kVecSteps;

// BF16 packed FMA exists on NVIDIA only (CDNA has no BF16 vector FMA): its Op stays here.
struct FmaBf162 {
  static __device__ __forceinline__ __nv_bfloat162 step(__nv_bfloat162 a, __nv_bfloat162 x, __nv_bfloat162 y) {
    return __hfma2(a, x, y);
  }
  static __device__ __forceinline__ __nv_bfloat162 add(__nv_bfloat162 a, __nv_bfloat162 b) { return __hadd2(a, b); }
};

template <class T, class Op>
__device__ __forceinline__ void vector_body(const void* in, void* out, unsigned long long iterations) {
  probe_gpu::vector_body<kVecAcc, kVecSteps, kVecInPerThread, T, Op>(in, out, iterations);
}

}  // namespace

extern "C" __global__ void probe_vec_fma_fp64(const void* in, void* out, unsigned long long iterations) {
  vector_body<double, probe_gpu::Fma<double>>(in, out, iterations);
}
extern "C" __global__ void probe_vec_fma_fp32(const void* in, void* out, unsigned long long iterations) {
  vector_body<float, probe_gpu::Fma<float>>(in, out, iterations);
}
extern "C" __global__ void probe_vec_fma_fp16(const void* in, void* out, unsigned long long iterations) {
  vector_body<__half2, probe_gpu::Fma<__half2>>(in, out, iterations);
}
extern "C" __global__ void probe_vec_fma_bf16(const void* in, void* out, unsigned long long iterations) {
  vector_body<__nv_bfloat162, FmaBf162>(in, out, iterations);
}
extern "C" __global__ void probe_vec_dp4a(const void* in, void* out, unsigned long long iterations) {
  vector_body<int, probe_gpu::Dot4I8>(in, out, iterations);
}

namespace probe_cuda {
const void* vector_kernel_function(int index) {
  switch (index) {
    case 0: return reinterpret_cast<const void*>(&probe_vec_fma_fp64);
    case 1: return reinterpret_cast<const void*>(&probe_vec_fma_fp32);
    case 2: return reinterpret_cast<const void*>(&probe_vec_fma_fp16);
    case 3: return reinterpret_cast<const void*>(&probe_vec_fma_bf16);
    case 4: return reinterpret_cast<const void*>(&probe_vec_dp4a);
    default: return nullptr;
  }
}
}  // namespace probe_cuda
