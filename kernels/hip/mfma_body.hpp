#pragma once
// The MFMA loop shared by the per-family MFMA files (mfma_cdna2.hip, mfma_cdna3.hip). One wavefront is one unit:
// it loads its lanes' A, B and -B fragments and kMfmaAcc accumulator tiles (register order, hip_kernels.hpp
// MfmaLayout), applies kMfmaSteps MFMAs per tile per iteration (alternately B and the second tile: -B for floating
// point, B for integers), one more with B after the loop, and stores the element-wise sum of the tiles.
#include "../common/gpu_portability.hpp"
#include "hip_kernels.hpp"

namespace probe_hip_dev {

typedef _Float16 half4 __attribute__((ext_vector_type(4)));
typedef short short4v __attribute__((ext_vector_type(4)));
typedef float float4v __attribute__((ext_vector_type(4)));
typedef float float16v __attribute__((ext_vector_type(16)));
typedef double double4v __attribute__((ext_vector_type(4)));
typedef int int4v __attribute__((ext_vector_type(4)));
typedef int int16v __attribute__((ext_vector_type(16)));

// M: struct with `static constexpr int index` (kMfmaShapes), types A (one lane's A/B fragment) and C (one lane's
// accumulator registers), and `static C op(A a, A b, C c)` = the MFMA.
template <class M>
__device__ __forceinline__ void mfma_body(const void* in, void* out, unsigned long long iterations) {
  using probe_hip::kMfmaAcc;
  using probe_hip::kMfmaSteps;
  using probe_hip::kWave;
  using A = typename M::A;
  using C = typename M::C;
  constexpr probe_hip::MfmaShape s = probe_hip::kMfmaShapes[M::index];
  constexpr probe_hip::MfmaLayout L = probe_hip::mfma_layout(s);
  static_assert(sizeof(A) == static_cast<std::size_t>(s.a_per_lane()) * s.ab_bytes, "A fragment size");
  static_assert(s.a_per_lane() == s.b_per_lane(), "A and B fragments have the same size");
  static_assert(sizeof(C) == static_cast<std::size_t>(s.c_per_lane()) * s.c_bytes, "accumulator size");
  static_assert(L.c % alignof(C) == 0 && L.b % alignof(A) == 0, "layout alignment");
  const unsigned lane = threadIdx.x % kWave;
  const std::size_t wave = probe_gpu::global_thread_id() / kWave;
  const char* base = static_cast<const char*>(in);
  const A a = reinterpret_cast<const A*>(base + L.a)[lane];
  const A b = reinterpret_cast<const A*>(base + L.b)[lane];
  const A b2 = reinterpret_cast<const A*>(base + L.b2)[lane];
  C acc[kMfmaAcc];
#pragma unroll
  for (int t = 0; t < kMfmaAcc; ++t) acc[t] = reinterpret_cast<const C*>(base + L.c)[t * kWave + lane];
#pragma unroll 1
  for (unsigned long long i = 0; i < iterations; ++i) {
#pragma unroll
    for (int st = 0; st < kMfmaSteps; ++st) {
#pragma unroll
      for (int t = 0; t < kMfmaAcc; ++t) acc[t] = M::op(a, st % 2 == 0 ? b : b2, acc[t]);
    }
  }
#pragma unroll
  for (int t = 0; t < kMfmaAcc; ++t) acc[t] = M::op(a, b, acc[t]);
  C sum = acc[0];
#pragma unroll
  for (int t = 1; t < kMfmaAcc; ++t) sum += acc[t];
  reinterpret_cast<C*>(out)[wave * kWave + lane] = sum;
}

}  // namespace probe_hip_dev
