// Vector kernels: FP64/FP32 FMA, FP16 half2 and BF16 bf162 FMA, INT8 dp4a. The work per loop iteration is
// kVecInstrPerIter instructions per thread (cuda_kernels.hpp): kVecAcc independent chains × kVecSteps steps.
// Verification (host): FP chains use x = -1, so every pair of steps is an exact identity and the one step after
// the loop makes each chain y - acc0; dp4a chains are exact modulo 2^32 for any count.
#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include "cuda_kernels.hpp"

namespace {

using probe_cuda::kVecAcc;
using probe_cuda::kVecInPerThread;
using probe_cuda::kVecSteps;

template <class T>
struct Fma;
template <>
struct Fma<double> {
  static __device__ __forceinline__ double step(double a, double x, double y) { return fma(a, x, y); }
  static __device__ __forceinline__ double add(double a, double b) { return a + b; }
};
template <>
struct Fma<float> {
  static __device__ __forceinline__ float step(float a, float x, float y) { return fmaf(a, x, y); }
  static __device__ __forceinline__ float add(float a, float b) { return a + b; }
};
template <>
struct Fma<__half2> {
  static __device__ __forceinline__ __half2 step(__half2 a, __half2 x, __half2 y) { return __hfma2(a, x, y); }
  static __device__ __forceinline__ __half2 add(__half2 a, __half2 b) { return __hadd2(a, b); }
};
template <>
struct Fma<__nv_bfloat162> {
  static __device__ __forceinline__ __nv_bfloat162 step(__nv_bfloat162 a, __nv_bfloat162 x, __nv_bfloat162 y) {
    return __hfma2(a, x, y);
  }
  static __device__ __forceinline__ __nv_bfloat162 add(__nv_bfloat162 a, __nv_bfloat162 b) { return __hadd2(a, b); }
};
// dp4a: p and q are four packed int8 each; acc += dot(p, q).
struct Dp4a {
  static __device__ __forceinline__ int step(int a, int p, int q) { return __dp4a(p, q, a); }
  static __device__ __forceinline__ int add(int a, int b) { return a + b; }
};

template <class T, class Op>
__device__ __forceinline__ void vector_body(const void* in_raw, void* out_raw, unsigned long long iterations) {
  const T* in = static_cast<const T*>(in_raw);
  const size_t tid = static_cast<size_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  const T* mine = in + tid * kVecInPerThread;
  const T p = mine[0];
  const T q = mine[1];
  T acc[kVecAcc];
#pragma unroll
  for (int a = 0; a < kVecAcc; ++a) acc[a] = mine[2 + a];
#pragma unroll 1
  for (unsigned long long i = 0; i < iterations; ++i) {
#pragma unroll
    for (int s = 0; s < kVecSteps; ++s) {
#pragma unroll
      for (int a = 0; a < kVecAcc; ++a) acc[a] = Op::step(acc[a], p, q);
    }
  }
  // One more step (outside the timed loop body): the stored result differs from the input.
#pragma unroll
  for (int a = 0; a < kVecAcc; ++a) acc[a] = Op::step(acc[a], p, q);
  T sum = acc[0];
#pragma unroll
  for (int a = 1; a < kVecAcc; ++a) sum = Op::add(sum, acc[a]);
  static_cast<T*>(out_raw)[tid] = sum;
}

}  // namespace

extern "C" __global__ void probe_vec_fma_fp64(const void* in, void* out, unsigned long long iterations) {
  vector_body<double, Fma<double>>(in, out, iterations);
}
extern "C" __global__ void probe_vec_fma_fp32(const void* in, void* out, unsigned long long iterations) {
  vector_body<float, Fma<float>>(in, out, iterations);
}
extern "C" __global__ void probe_vec_fma_fp16(const void* in, void* out, unsigned long long iterations) {
  vector_body<__half2, Fma<__half2>>(in, out, iterations);
}
extern "C" __global__ void probe_vec_fma_bf16(const void* in, void* out, unsigned long long iterations) {
  vector_body<__nv_bfloat162, Fma<__nv_bfloat162>>(in, out, iterations);
}
extern "C" __global__ void probe_vec_dp4a(const void* in, void* out, unsigned long long iterations) {
  vector_body<int, Dp4a>(in, out, iterations);
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
