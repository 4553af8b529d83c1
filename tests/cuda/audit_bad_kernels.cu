// Broken kernels the PTX audit must reject (compiled to PTX only, never run). Each row of audit_bad_kernels.tsv
// names one of them with the claim a correct kernel would make.
#include <cuda_bf16.h>

// Work dropped: the accumulators are never stored, so the compiler deletes the FMAs (the loop stays, empty).
extern "C" __global__ void bad_dropped(const float* in, float* out, unsigned long long n) {
  float acc[8];
  for (int a = 0; a < 8; ++a) acc[a] = in[a];
#pragma unroll 1
  for (unsigned long long i = 0; i < n; ++i) {
#pragma unroll
    for (int a = 0; a < 8; ++a) acc[a] = fmaf(acc[a], in[8], in[9]);
  }
  out[0] = in[0];
}

// Wrong instruction: separately rounded multiply and add instead of an FMA.
extern "C" __global__ void bad_mul_add(const float* in, float* out, unsigned long long n) {
  float acc[8];
  for (int a = 0; a < 8; ++a) acc[a] = in[a];
#pragma unroll 1
  for (unsigned long long i = 0; i < n; ++i) {
#pragma unroll
    for (int a = 0; a < 8; ++a) acc[a] = __fadd_rn(__fmul_rn(acc[a], in[8]), in[9]);
  }
  float s = 0;
  for (int a = 0; a < 8; ++a) s += acc[a];
  out[0] = s;
}

// Too few instructions: claims 8 FMAs per iteration, does 4.
extern "C" __global__ void bad_short(const float* in, float* out, unsigned long long n) {
  float acc[4];
  for (int a = 0; a < 4; ++a) acc[a] = in[a];
#pragma unroll 1
  for (unsigned long long i = 0; i < n; ++i) {
#pragma unroll
    for (int a = 0; a < 4; ++a) acc[a] = fmaf(acc[a], in[8], in[9]);
  }
  out[0] = acc[0] + acc[1] + acc[2] + acc[3];
}

// Wrong type: claims a BF16 mma, issues an FP16 one.
extern "C" __global__ void bad_wrong_mma(const unsigned* in, float* out, unsigned long long n) {
  float c[4] = {0, 0, 0, 0};
#pragma unroll 1
  for (unsigned long long i = 0; i < n; ++i) {
    asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};"
                 : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
                 : "r"(in[0]), "r"(in[1]), "r"(in[2]), "r"(in[3]), "r"(in[4]), "r"(in[5]));
  }
  out[threadIdx.x] = c[0] + c[1] + c[2] + c[3];
}

// Work outside the loop: the instructions exist but the loop is empty (hoisted by hand).
extern "C" __global__ void bad_hoisted(const float* in, float* out, unsigned long long n) {
  float acc = in[0];
#pragma unroll
  for (int a = 0; a < 8; ++a) acc = fmaf(acc, in[8], in[9]);
  volatile unsigned long long sink = 0;
#pragma unroll 1
  for (unsigned long long i = 0; i < n; ++i) sink = sink + 1;
  out[0] = acc;
}

// Drained tensor pipe: the right wgmma and count, but wait_group 0 in the loop (every iteration waits for all of
// its wgmma before issuing the next ones).
extern "C" __global__ void bad_wgmma_drained(const unsigned* in, float* out, unsigned long long n) {
  float d[4] = {0, 0, 0, 0};
  const unsigned long long desc = in[4];
#pragma unroll 1
  for (unsigned long long i = 0; i < n; ++i) {
    asm volatile("wgmma.fence.sync.aligned;" ::: "memory");
    asm volatile("wgmma.mma_async.sync.aligned.m64n8k16.f32.bf16.bf16 {%0,%1,%2,%3}, {%4,%5,%6,%7}, %8, 1, 1, 1, 0;"
                 : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
                 : "r"(in[0]), "r"(in[1]), "r"(in[2]), "r"(in[3]), "l"(desc));
    asm volatile("wgmma.commit_group.sync.aligned;" ::: "memory");
    asm volatile("wgmma.wait_group.sync.aligned 0;" ::: "memory");
  }
  out[threadIdx.x] = d[0] + d[1] + d[2] + d[3];
}
