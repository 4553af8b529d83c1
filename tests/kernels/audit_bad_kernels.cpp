// Deliberately broken kernels for the negative audit test (never executed): each one's claim in
// audit_bad_kernels.tsv is false in one way, and asm_audit.py must report every one of them.
#include <cstdint>

#define ACC12(M) M(0) M(1) M(2) M(3) M(4) M(5) M(6) M(7) M(8) M(9) M(10) M(11)
#define ACC11(M) M(0) M(1) M(2) M(3) M(4) M(5) M(6) M(7) M(8) M(9) M(10)
#define FMA_ZMM(i) "vfmadd213pd %%zmm13, %%zmm12, %%zmm" #i "\n\t"
#define FMA_YMM(i) "vfmadd213pd %%ymm13, %%ymm12, %%ymm" #i "\n\t"
#define MUL_ZMM(i) "vmulpd %%zmm13, %%zmm12, %%zmm" #i "\n\t"
#define FMA_ZMM0(i) "vfmadd213pd %%zmm13, %%zmm12, %%zmm0\n\t"
#define EVEX_DOT_YMM(i) "vpdpbusd %%ymm13, %%ymm12, %%ymm" #i "\n\t"
#define LOOP(BODY) asm volatile("1:\n\t" BODY "sub $1, %[n]\n\tjnz 1b\n\t" : [n] "+r"(n) : : "cc")

extern "C" {
// One FMA dropped: 11 in the loop, 12 claimed.
__attribute__((noinline, used)) void bad_dropped_fma(std::uint64_t n) { LOOP(ACC11(FMA_ZMM)); }
// Right count, wrong width: ymm FMAs claimed as zmm.
__attribute__((noinline, used)) void bad_wrong_width(std::uint64_t n) { LOOP(ACC12(FMA_YMM)); }
// Wrong instruction: multiplies claimed as FMAs.
__attribute__((noinline, used)) void bad_wrong_instruction(std::uint64_t n) { LOOP(ACC12(MUL_ZMM)); }
// One dependent chain: 12 FMAs, all into zmm0 (latency-bound, not 12 accumulators).
__attribute__((noinline, used)) void bad_one_chain(std::uint64_t n) { LOOP(ACC12(FMA_ZMM0)); }
// EVEX (AVX512VL) encoding where the VEX (AVX-VNNI) form is claimed.
__attribute__((noinline, used)) void bad_evex_not_vex(std::uint64_t n) { LOOP(ACC12(EVEX_DOT_YMM)); }
// The work was optimised away: no loop at all.
__attribute__((noinline, used)) std::uint64_t bad_no_loop(std::uint64_t n) { return n * 2; }
// A "memory kernel" whose loop is scalar.
__attribute__((noinline, used)) void bad_scalar_copy(double* a, const double* b, std::uint64_t n) {
  for (std::uint64_t i = 0; i < n; ++i) {
    asm volatile("" ::: "memory");  // keeps it a scalar loop
    a[i] = b[i];
  }
}
}

// AMX (never executed): the audit must reject a loop that chains every TDP* through one accumulator, one that
// reloads an operand tile inside the loop, and one whose tile configuration is never released.
#define AMX_LOOP(PRE, BODY, POST) \
  asm volatile(PRE "1:\n\t" BODY "sub $1, %[n]\n\tjnz 1b\n\t" POST : [n] "+r"(n) : "r"(p) : "cc", "memory")
#define TDP(c, a, b) "tdpbf16ps %%tmm" #b ", %%tmm" #a ", %%tmm" #c "\n\t"
extern "C" {
__attribute__((noinline, used)) void bad_amx_one_chain(std::uint64_t n, const void* p) {
  AMX_LOOP("ldtilecfg (%1)\n\t", TDP(0, 4, 6) TDP(0, 4, 7) TDP(0, 5, 6) TDP(0, 5, 7), "tilerelease\n\t");
}
__attribute__((noinline, used)) void bad_amx_reload(std::uint64_t n, const void* p) {
  AMX_LOOP("ldtilecfg (%1)\n\tmov $64, %%rax\n\t",
           "tileloadd (%1,%%rax,1), %%tmm4\n\t" TDP(0, 4, 6) TDP(1, 4, 7) TDP(2, 5, 6) TDP(3, 5, 7),
           "tilerelease\n\t");
}
__attribute__((noinline, used)) void bad_amx_no_release(std::uint64_t n, const void* p) {
  AMX_LOOP("ldtilecfg (%1)\n\t", TDP(0, 4, 6) TDP(1, 4, 7) TDP(2, 5, 6) TDP(3, 5, 7), "");
}
}
