#pragma once
// The vector FMA/dot loop shared by the CUDA (kernels/cuda/vector.cu) and HIP (kernels/hip/vector.hip) kernels.
// Acc independent accumulators per thread; each loop iteration applies Steps dependent Op::step to each, so the
// timed loop body holds Acc·Steps instructions (or half as many where the compiler packs two FP32 lanes into one
// v_pk_fma_f32, gfx90a/gfx940: the backend's kernel table says which, and the static audits check it).
// Per-thread input layout (elements of T): [p, q, acc0 .. acc(Acc-1)]; the output is the sum of the accumulators
// after one more step outside the loop. Verification design: the backends' host references (x = p = -1 for
// floating point makes every pair of steps an identity; integer dot chains are exact modulo 2^32).
#include "gpu_portability.hpp"

namespace probe_gpu {

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
struct Fma<Half2> {
  static __device__ __forceinline__ Half2 step(Half2 a, Half2 x, Half2 y) { return __hfma2(a, x, y); }
  static __device__ __forceinline__ Half2 add(Half2 a, Half2 b) { return __hadd2(a, b); }
};
// p and q are four packed int8 each; acc += dot(p, q).
struct Dot4I8 {
  static __device__ __forceinline__ int step(int a, int p, int q) { return dot4_i8(p, q, a); }
  static __device__ __forceinline__ int add(int a, int b) { return a + b; }
};

template <int Acc, int Steps, int InPerThread, class T, class Op>
__device__ __forceinline__ void vector_body(const void* in_raw, void* out_raw, unsigned long long iterations) {
  static_assert(InPerThread == 2 + Acc, "input layout: p, q, then the accumulators");
  const T* in = static_cast<const T*>(in_raw);
  const std::size_t tid = global_thread_id();
  const T* mine = in + tid * InPerThread;
  const T p = mine[0];
  const T q = mine[1];
  T acc[Acc];
#pragma unroll
  for (int a = 0; a < Acc; ++a) acc[a] = mine[2 + a];
#pragma unroll 1
  for (unsigned long long i = 0; i < iterations; ++i) {
#pragma unroll
    for (int s = 0; s < Steps; ++s) {
#pragma unroll
      for (int a = 0; a < Acc; ++a) acc[a] = Op::step(acc[a], p, q);
    }
  }
  // One more step (outside the timed loop body): the stored result differs from the input.
#pragma unroll
  for (int a = 0; a < Acc; ++a) acc[a] = Op::step(acc[a], p, q);
  T sum = acc[0];
#pragma unroll
  for (int a = 1; a < Acc; ++a) sum = Op::add(sum, acc[a]);
  static_cast<T*>(out_raw)[tid] = sum;
}

}  // namespace probe_gpu
