// Feature detection and the Isa/MemOp names. Assertions hold on any x86-64; this CPU's flags are printed.
#include <gtest/gtest.h>

#include <iostream>

#include "kernels/cpu/cpu_kernels.hpp"

namespace probe::cpu {
namespace {

TEST(CpuFeatures, DetectsAnX86_64Baseline) {
  const CpuFeatures f = detect_features();
  std::cout << "vendor '" << f.vendor << "', brand '" << f.brand << "', family " << f.family << " model "
            << f.model << " stepping " << f.stepping << "\n  avx " << f.avx << " fma " << f.fma << " avx2 "
            << f.avx2 << " f16c " << f.f16c << " avx512f " << f.avx512f << " bw " << f.avx512bw << " vl "
            << f.avx512vl << " dq " << f.avx512dq << " bf16 " << f.avx512_bf16 << " avx512_vnni "
            << f.avx512_vnni << " avx_vnni " << f.avx_vnni << " avx512_fp16 " << f.avx512_fp16 << "\n";
  EXPECT_EQ(f.vendor.size(), 12U);
  EXPECT_TRUE(f.sse2);  // part of x86-64
  EXPECT_GE(f.family, 6);
  EXPECT_GE(f.model, 0);
  EXPECT_LE(f.model, 255);
  EXPECT_GE(f.stepping, 0);
  EXPECT_LE(f.stepping, 15);
}

TEST(CpuFeatures, FlagsAreConsistent) {
  // Every flag that needs OS-saved YMM/ZMM state implies the base it builds on.
  const CpuFeatures f = detect_features();
  // (a → b) written as !a || b: gtest's EXPECT macros inside a bare if trip -Wdangling-else.
  EXPECT_TRUE(!(f.fma || f.avx2 || f.f16c) || f.avx);
  EXPECT_TRUE(!f.avx_vnni || f.avx2);
  for (bool x : {f.avx512bw, f.avx512vl, f.avx512dq, f.avx512_bf16, f.avx512_vnni, f.avx512_fp16}) {
    EXPECT_TRUE(!x || f.avx512f);
  }
  EXPECT_TRUE(!f.avx512f || f.avx);
}

TEST(CpuFeatures, StableAcrossCalls) {
  const CpuFeatures a = detect_features(), b = detect_features();
  EXPECT_EQ(a.vendor, b.vendor);
  EXPECT_EQ(a.brand, b.brand);
  EXPECT_EQ(a.family, b.family);
  EXPECT_EQ(a.model, b.model);
  EXPECT_EQ(a.avx512f, b.avx512f);
}

TEST(IsaNames, RoundTrip) {
  for (Isa i : {Isa::amx, Isa::avx512, Isa::avx2, Isa::sse2}) EXPECT_EQ(isa_from_string(to_string(i)), i);
  EXPECT_EQ(to_string(Isa::amx), "amx");
  EXPECT_EQ(to_string(Isa::avx512), "avx512");
  EXPECT_EQ(to_string(Isa::avx2), "avx2");
  EXPECT_EQ(to_string(Isa::sse2), "sse2");
  EXPECT_FALSE(isa_from_string("avx"));
  EXPECT_FALSE(isa_from_string(""));
  EXPECT_FALSE(isa_from_string("AVX512"));
}

TEST(MemOpNames, AreStable) {
  EXPECT_EQ(to_string(MemOp::read), "read");
  EXPECT_EQ(to_string(MemOp::write), "write");
  EXPECT_EQ(to_string(MemOp::copy), "copy");
  EXPECT_EQ(to_string(MemOp::triad), "triad");
}

}  // namespace
}  // namespace probe::cpu
