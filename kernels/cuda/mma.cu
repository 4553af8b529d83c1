// Dense tensor-core kernels with warp-level mma.sync (sm_80+): FP16, BF16, TF32, INT8, FP64 (DMMA) and FP8
// E4M3/E5M2 (sm_89+). Work per loop iteration and unit (one warp): kMmaInstrPerIter mma instructions
// (cuda_kernels.hpp), each 2·M·N·K operations. kMmaAcc independent accumulator tiles, reduced element-wise after
// the loop and stored. Fragment layouts are PTX ISA's (9.7.14.5) for the .row.col forms.
#include <cstdint>

#include "cuda_kernels.hpp"

namespace {

using probe_cuda::kMmaAcc;
using probe_cuda::kMmaSteps;
using probe_cuda::kMmaShapes;
using probe_cuda::matrix_layout;
using probe_cuda::MatrixLayout;

// Which fragment mapping a kernel uses.
enum class Frag { k16_16bit, k8_tf32, k32_8bit, f64_m8n8k4 };

__device__ __forceinline__ uint32_t ld32(const uint8_t* base, int row, int col, int ld, int elem_bytes) {
  return *reinterpret_cast<const uint32_t*>(base + (static_cast<size_t>(row) * ld + col) * elem_bytes);
}

// A: 4 registers, B: 2 registers (1 each for FP64), C: 4 values (2 for FP64), all per lane.
template <Frag F>
__device__ __forceinline__ void load_ab(const uint8_t* a, const uint8_t* b, uint32_t (&ra)[4], uint32_t (&rb)[2],
                                        int lane, int k) {
  const int g = lane >> 2, t = lane & 3;
  if constexpr (F == Frag::k16_16bit) {
    ra[0] = ld32(a, g, 2 * t, k, 2);
    ra[1] = ld32(a, g + 8, 2 * t, k, 2);
    ra[2] = ld32(a, g, 2 * t + 8, k, 2);
    ra[3] = ld32(a, g + 8, 2 * t + 8, k, 2);
    rb[0] = ld32(b, g, 2 * t, k, 2);
    rb[1] = ld32(b, g, 2 * t + 8, k, 2);
  } else if constexpr (F == Frag::k8_tf32) {
    ra[0] = ld32(a, g, t, k, 4);
    ra[1] = ld32(a, g + 8, t, k, 4);
    ra[2] = ld32(a, g, t + 4, k, 4);
    ra[3] = ld32(a, g + 8, t + 4, k, 4);
    rb[0] = ld32(b, g, t, k, 4);
    rb[1] = ld32(b, g, t + 4, k, 4);
  } else if constexpr (F == Frag::k32_8bit) {
    ra[0] = ld32(a, g, 4 * t, k, 1);
    ra[1] = ld32(a, g + 8, 4 * t, k, 1);
    ra[2] = ld32(a, g, 4 * t + 16, k, 1);
    ra[3] = ld32(a, g + 8, 4 * t + 16, k, 1);
    rb[0] = ld32(b, g, 4 * t, k, 1);
    rb[1] = ld32(b, g, 4 * t + 16, k, 1);
  }
}

// C/D tile element of accumulator register r for this lane: m16n8 (4 registers) or m8n8 FP64 (2 registers).
template <Frag F>
__device__ __forceinline__ void c_pos(int lane, int r, int& row, int& col) {
  const int g = lane >> 2, t = lane & 3;
  if constexpr (F == Frag::f64_m8n8k4) {
    row = g;
    col = 2 * t + r;
  } else {
    row = g + 8 * (r >> 1);
    col = 2 * t + (r & 1);
  }
}

template <int Kind>
struct Mma;
#define PROBE_MMA_F32(KIND, SHAPE_TYPES)                                                                    \
  template <>                                                                                               \
  struct Mma<KIND> {                                                                                        \
    using C = float;                                                                                        \
    static __device__ __forceinline__ void run(float (&c)[4], const uint32_t (&a)[4], const uint32_t* b) { \
      asm volatile("mma.sync.aligned." SHAPE_TYPES " {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};" \
                   : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])                                         \
                   : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));                     \
    }                                                                                                       \
  };
PROBE_MMA_F32(0, "m16n8k16.row.col.f32.f16.f16.f32")
PROBE_MMA_F32(1, "m16n8k16.row.col.f32.bf16.bf16.f32")
PROBE_MMA_F32(2, "m16n8k8.row.col.f32.tf32.tf32.f32")
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 890
PROBE_MMA_F32(5, "m16n8k32.row.col.f32.e4m3.e4m3.f32")
PROBE_MMA_F32(6, "m16n8k32.row.col.f32.e5m2.e5m2.f32")
#else
// No FP8 mma before sm_89: the kernel exists (one symbol table for every target) but is never launched there.
template <>
struct Mma<5> {
  using C = float;
  static __device__ __forceinline__ void run(float (&)[4], const uint32_t (&)[4], const uint32_t*) {}
};
template <>
struct Mma<6> : Mma<5> {};
#endif
#undef PROBE_MMA_F32
template <>
struct Mma<3> {
  using C = int;
  static __device__ __forceinline__ void run(int (&c)[4], const uint32_t (&a)[4], const uint32_t* b) {
    asm volatile("mma.sync.aligned.m16n8k32.row.col.s32.s8.s8.s32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, "
                 "{%0,%1,%2,%3};"
                 : "+r"(c[0]), "+r"(c[1]), "+r"(c[2]), "+r"(c[3])
                 : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
  }
};

template <int Kind, Frag F>
__device__ __forceinline__ void mma_body(const void* in_raw, void* out_raw, unsigned long long iterations) {
  using Op = Mma<Kind>;
  using C = typename Op::C;
  constexpr auto shape = kMmaShapes[Kind];
  constexpr MatrixLayout L = matrix_layout(shape, kMmaAcc);
  const auto* in = static_cast<const uint8_t*>(in_raw);
  const int lane = threadIdx.x & 31;
  const size_t warp = (static_cast<size_t>(blockIdx.x) * blockDim.x + threadIdx.x) >> 5;
  uint32_t a[4], b[2], bn[2];
  load_ab<F>(in + L.a, in + L.b, a, b, lane, shape.k);
  load_ab<F>(in + L.a, in + L.b2, a, bn, lane, shape.k);
  C acc[kMmaAcc][4];
  const C* c_in = reinterpret_cast<const C*>(in + L.c);
#pragma unroll
  for (int t = 0; t < kMmaAcc; ++t) {
#pragma unroll
    for (int r = 0; r < 4; ++r) {
      int row, col;
      c_pos<F>(lane, r, row, col);
      acc[t][r] = c_in[t * shape.m * shape.n + row * shape.n + col];
    }
  }
#pragma unroll 1
  for (unsigned long long i = 0; i < iterations; ++i) {
#pragma unroll
    for (int s = 0; s < kMmaSteps; ++s) {
#pragma unroll
      for (int t = 0; t < kMmaAcc; ++t) Op::run(acc[t], a, (s & 1) ? bn : b);
    }
  }
#pragma unroll
  for (int t = 0; t < kMmaAcc; ++t) Op::run(acc[t], a, b);
  C* out = static_cast<C*>(out_raw) + warp * shape.m * shape.n;
#pragma unroll
  for (int r = 0; r < 4; ++r) {
    C sum = acc[0][r];
#pragma unroll
    for (int t = 1; t < kMmaAcc; ++t) sum += acc[t][r];
    int row, col;
    c_pos<F>(lane, r, row, col);
    out[row * shape.n + col] = sum;
  }
}

// FP64 m8n8k4: one A and one B register per lane (the row-g, column-t element), two accumulator values.
__device__ __forceinline__ void mma_fp64_body(const void* in_raw, void* out_raw, unsigned long long iterations) {
  constexpr auto shape = kMmaShapes[4];
  constexpr MatrixLayout L = matrix_layout(shape, kMmaAcc);
  const auto* in = static_cast<const uint8_t*>(in_raw);
  const int lane = threadIdx.x & 31;
  const int g = lane >> 2, t4 = lane & 3;
  const size_t warp = (static_cast<size_t>(blockIdx.x) * blockDim.x + threadIdx.x) >> 5;
  const double a = reinterpret_cast<const double*>(in + L.a)[g * 4 + t4];
  const double b = reinterpret_cast<const double*>(in + L.b)[g * 4 + t4];
  const double bn = reinterpret_cast<const double*>(in + L.b2)[g * 4 + t4];
  const double* c_in = reinterpret_cast<const double*>(in + L.c);
  double acc[kMmaAcc][2];
#pragma unroll
  for (int t = 0; t < kMmaAcc; ++t) {
    acc[t][0] = c_in[t * 64 + g * 8 + 2 * t4];
    acc[t][1] = c_in[t * 64 + g * 8 + 2 * t4 + 1];
  }
  auto dmma = [](double (&c)[2], double x, double y) {
    asm volatile("mma.sync.aligned.m8n8k4.row.col.f64.f64.f64.f64 {%0,%1}, {%2}, {%3}, {%0,%1};"
                 : "+d"(c[0]), "+d"(c[1])
                 : "d"(x), "d"(y));
  };
#pragma unroll 1
  for (unsigned long long i = 0; i < iterations; ++i) {
#pragma unroll
    for (int s = 0; s < kMmaSteps; ++s) {
#pragma unroll
      for (int t = 0; t < kMmaAcc; ++t) dmma(acc[t], a, (s & 1) ? bn : b);
    }
  }
#pragma unroll
  for (int t = 0; t < kMmaAcc; ++t) dmma(acc[t], a, b);
  double* out = static_cast<double*>(out_raw) + warp * 64;
#pragma unroll
  for (int r = 0; r < 2; ++r) {
    double sum = acc[0][r];
#pragma unroll
    for (int t = 1; t < kMmaAcc; ++t) sum += acc[t][r];
    out[g * 8 + 2 * t4 + r] = sum;
  }
}

}  // namespace

extern "C" __global__ void probe_mma_fp16(const void* in, void* out, unsigned long long n) {
  mma_body<0, Frag::k16_16bit>(in, out, n);
}
extern "C" __global__ void probe_mma_bf16(const void* in, void* out, unsigned long long n) {
  mma_body<1, Frag::k16_16bit>(in, out, n);
}
extern "C" __global__ void probe_mma_tf32(const void* in, void* out, unsigned long long n) {
  mma_body<2, Frag::k8_tf32>(in, out, n);
}
extern "C" __global__ void probe_mma_int8(const void* in, void* out, unsigned long long n) {
  mma_body<3, Frag::k32_8bit>(in, out, n);
}
extern "C" __global__ void probe_mma_fp64(const void* in, void* out, unsigned long long n) {
  mma_fp64_body(in, out, n);
}
extern "C" __global__ void probe_mma_e4m3(const void* in, void* out, unsigned long long n) {
  mma_body<5, Frag::k32_8bit>(in, out, n);
}
extern "C" __global__ void probe_mma_e5m2(const void* in, void* out, unsigned long long n) {
  mma_body<6, Frag::k32_8bit>(in, out, n);
}

namespace probe_cuda {
const void* mma_kernel_function(int index) {
  switch (index) {
    case 0: return reinterpret_cast<const void*>(&probe_mma_fp16);
    case 1: return reinterpret_cast<const void*>(&probe_mma_bf16);
    case 2: return reinterpret_cast<const void*>(&probe_mma_tf32);
    case 3: return reinterpret_cast<const void*>(&probe_mma_int8);
    case 4: return reinterpret_cast<const void*>(&probe_mma_fp64);
    case 5: return reinterpret_cast<const void*>(&probe_mma_e4m3);
    case 6: return reinterpret_cast<const void*>(&probe_mma_e5m2);
    default: return nullptr;
  }
}
}  // namespace probe_cuda
