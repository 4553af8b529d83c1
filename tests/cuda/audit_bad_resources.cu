// Kernels whose machine code ptxas_audit.py must reject (assembled only, never run): each has the defect that
// would make a measurement slower than the chip for reasons of our own making.
#include <cstdint>

// Register spills: 96 live accumulators under a 32-register cap (1024 threads, 2 blocks per SM).
extern "C" __global__ void __launch_bounds__(1024, 2) bad_spills(const float* in, float* out, unsigned long long n) {
  float acc[96];
#pragma unroll
  for (int i = 0; i < 96; ++i) acc[i] = in[i];
  for (unsigned long long k = 0; k < n; ++k) {
#pragma unroll
    for (int i = 0; i < 96; ++i) acc[i] = fmaf(acc[i], in[100], acc[(i + 1) % 96]);
  }
  float s = 0;
#pragma unroll
  for (int i = 0; i < 96; ++i) s += acc[i];
  out[threadIdx.x] = s;
}

// Local memory: a register array indexed at run time lives on the stack.
extern "C" __global__ void bad_local(const float* in, float* out, int j, unsigned long long n) {
  float acc[8];
  for (int i = 0; i < 8; ++i) acc[i] = in[i];
  for (unsigned long long k = 0; k < n; ++k) acc[(j + k) & 7] = fmaf(acc[(j + k) & 7], in[9], in[10]);
  out[threadIdx.x] = acc[j & 7];
}

#if defined(__CUDA_ARCH_FEAT_SM90_ALL)
// Serialized wgmma: an accumulator is touched between the wgmma and its wait, so ptxas waits after every one.
extern "C" __global__ void bad_serialized(const float* in, float* out, uint64_t desc, unsigned long long n) {
  float d[4];
  for (int i = 0; i < 4; ++i) d[i] = in[i];
  const uint32_t a = __float_as_uint(in[4]);
  for (unsigned long long i = 0; i < n; ++i) {
    asm volatile("wgmma.fence.sync.aligned;" ::: "memory");
    asm volatile(
        "{\n.reg .pred p;\nsetp.ne.b32 p, %9, 0;\n"
        "wgmma.mma_async.sync.aligned.m64n8k16.f32.f16.f16 {%0,%1,%2,%3}, {%4,%5,%6,%7}, %8, p, 1, 1, 0;\n}\n"
        : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
        : "r"(a), "r"(a), "r"(a), "r"(a), "l"(desc), "r"(1));
    d[0] += 1.0f;
    asm volatile("wgmma.commit_group.sync.aligned;" ::: "memory");
    asm volatile("wgmma.wait_group.sync.aligned 0;" ::: "memory");
  }
  out[threadIdx.x] = d[0] + d[1] + d[2] + d[3];
}
#endif
