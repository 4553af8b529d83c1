// HIP vector kernels: FP64 FMA, FP32 FMA (packed v_pk_fma_f32), FP16 half2 FMA (v_pk_fma_f16), INT8 dot4. The loop is
// kernels/common/gpu_vector_body.hpp, shared with CUDA; instructions per iteration and ops per instruction are in
// hip_kernels.hpp (fp64: 128 v_fma_f64 × 2 FLOP; fp32: 64 v_pk_fma_f32 × 4; fp16: 128 v_pk_fma_f16 × 4;
// int8: 128 v_dot4c_i32_i8 × 8, per lane per iteration). No BF16 vector kernel: CDNA2/CDNA3 have no BF16 vector
// FMA instruction (BF16 is measured with MFMA).
#include "../common/gpu_vector_body.hpp"
#include "hip_kernels.hpp"

namespace {
template <class T, class Op>
__device__ __forceinline__ void vector_body(const void* in, void* out, unsigned long long iterations) {
  probe_gpu::vector_body<probe_hip::kVecAcc, probe_hip::kVecSteps, probe_hip::kVecInPerThread, T, Op>(in, out,
                                                                                                      iterations);
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
extern "C" __global__ void probe_vec_dot4_i8(const void* in, void* out, unsigned long long iterations) {
  vector_body<int, probe_gpu::Dot4I8>(in, out, iterations);
}

namespace probe_hip {
const void* vector_kernel_function(int index) {
  switch (index) {
    case 0: return reinterpret_cast<const void*>(&probe_vec_fma_fp64);
    case 1: return reinterpret_cast<const void*>(&probe_vec_fma_fp32);
    case 2: return reinterpret_cast<const void*>(&probe_vec_fma_fp16);
    case 3: return reinterpret_cast<const void*>(&probe_vec_dot4_i8);
    default: return nullptr;
  }
}
}  // namespace probe_hip
