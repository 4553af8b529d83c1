// Deliberately broken kernels: tests/hip/asm_audit.py must reject every row of audit_bad_kernels.tsv.
#include "../../kernels/common/gpu_portability.hpp"

typedef short short4v __attribute__((ext_vector_type(4)));
typedef float float16v __attribute__((ext_vector_type(16)));

// Eight chains, one step per iteration: 4 v_pk_fma_f32, fewer than the row declares (a kernel shorter than its table).
extern "C" __global__ void bad_short(const float* in, float* out, unsigned long long n) {
  float acc[8];
  for (int a = 0; a < 8; ++a) acc[a] = in[a];
  for (unsigned long long i = 0; i < n; ++i)
    for (int a = 0; a < 8; ++a) acc[a] = fmaf(acc[a], in[8], in[9]);
  float s = 0;
  for (int a = 0; a < 4; ++a) s += acc[a];
  out[threadIdx.x] = s;
}
// Multiply and add, not fused.
extern "C" __global__ void bad_mul_add(const double* in, double* out, unsigned long long n) {
#pragma clang fp contract(off)
  double acc[8];
  for (int a = 0; a < 8; ++a) acc[a] = in[a];
  for (unsigned long long i = 0; i < n; ++i)
    for (int a = 0; a < 8; ++a) acc[a] = acc[a] * in[8] + in[9];
  double s = 0;
  for (int a = 0; a < 8; ++a) s += acc[a];
  out[threadIdx.x] = s;
}
// One FP32 chain: scalar v_fma_f32, never packed (the table expects v_pk_fma_f32).
extern "C" __global__ void bad_unpacked(const float* in, float* out, unsigned long long n) {
  float acc = in[0];
  for (unsigned long long i = 0; i < n; ++i)
    for (int s = 0; s < 8; ++s) acc = fmaf(acc, in[8], in[9]);
  out[threadIdx.x] = acc;
}
// The half-rate non-_1k BF16 MFMA (v_mfma_f32_32x32x4bf16, 2 blocks) where the _1k form is declared.
extern "C" __global__ void bad_wrong_mfma(const short4v* in, float16v* out, unsigned long long n) {
  typedef short short2v __attribute__((ext_vector_type(2)));
  const short2v a = {in[0][0], in[0][1]}, b = {in[1][0], in[1][1]};
  float16v c = out[threadIdx.x];
  for (unsigned long long i = 0; i < n; ++i) c = __builtin_amdgcn_mfma_f32_32x32x4bf16(a, b, c, 0, 0, 0);
  out[threadIdx.x] = c;
}
// Loop-invariant FMA: hoisted out of the loop.
extern "C" __global__ void bad_hoisted(const double* in, double* out, unsigned long long n) {
  double s = 0;
  for (unsigned long long i = 0; i < n; ++i) s += fma(in[0], in[1], in[2]) > 0 ? 1.0 : 0.0;
  out[threadIdx.x] = s;
}
