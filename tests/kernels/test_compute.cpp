// Compute kernels: exact verification (small and large n), error injection, op counts, selection.
// Behaviour only, never speed.
#include <gtest/gtest.h>

#include <bit>
#include <map>
#include <random>
#include <string>

#include "kernels/cpu/compute_impl.hpp"
#include "kernels/cpu/cpu_kernels.hpp"

namespace probe::cpu {

// gtest prints parameters into the test names ctest sees; the id/variant is stable, an address is not.
void PrintTo(const ComputeKernelInfo* k, std::ostream* os) { *os << k->id << '/' << k->variant; }

namespace {

std::string key(const ComputeKernelInfo& k) { return std::string(k.id) + "/" + std::string(k.variant); }

class ComputeVariant : public ::testing::TestWithParam<const ComputeKernelInfo*> {
 protected:
  void SetUp() override {
    if (!is_supported(*GetParam(), detect_features())) {
      GTEST_SKIP() << key(*GetParam()) << " is not supported on this CPU (" << GetParam()->instruction << ")";
    }
    m_kernel = make_compute_kernel(*GetParam());
    ASSERT_NE(m_kernel, nullptr);
  }
  std::unique_ptr<ComputeKernel> m_kernel;
};

TEST_P(ComputeVariant, InfoIsTheRegisteredOne) { EXPECT_EQ(&m_kernel->info(), GetParam()); }

TEST_P(ComputeVariant, SmallRunMatchesHostReference) {
  m_kernel->prepare(42);
  for (std::uint64_t n : {0ULL, 1ULL, 2ULL, 37ULL}) {
    m_kernel->run(n);
    const auto err = m_kernel->verify(n);
    EXPECT_FALSE(err) << "n=" << n << ": " << *err;
  }
}

TEST_P(ComputeVariant, WrongIterationCountIsCaught) {
  m_kernel->prepare(7);
  m_kernel->run(37);
  EXPECT_TRUE(m_kernel->verify(36));
  EXPECT_TRUE(m_kernel->verify(38));
}

TEST_P(ComputeVariant, LargeRunMatchesHostReference) {
  // Past the FMA recurrences' transient (cycle jump) and past several bf16 chunks.
  for (std::uint64_t seed : {1ULL, 2ULL}) {
    m_kernel->prepare(seed);
    for (std::uint64_t n : {2'000'000ULL, 16384ULL, 8193ULL}) {
      m_kernel->run(n);
      const auto err = m_kernel->verify(n);
      EXPECT_FALSE(err) << "seed " << seed << " n=" << n << ": " << *err;
    }
  }
}

TEST_P(ComputeVariant, EveryRunRestartsFromTheInitialValues) {
  m_kernel->prepare(3);
  m_kernel->run(1000);
  m_kernel->run(37);
  const auto err = m_kernel->verify(37);
  EXPECT_FALSE(err) << *err;
}

TEST_P(ComputeVariant, InjectedErrorIsCaught) {
  for (std::uint64_t n : {37ULL, 2'000'000ULL}) {
    m_kernel->prepare(11);
    m_kernel->run(n);
    ASSERT_FALSE(m_kernel->verify(n));
    m_kernel->inject_error();
    const auto err = m_kernel->verify(n);
    ASSERT_TRUE(err) << "n=" << n;
    EXPECT_NE(err->find("1 of"), std::string::npos) << *err;  // exactly one lane, named in the message
  }
}

std::string variant_name(const ::testing::TestParamInfo<const ComputeKernelInfo*>& p) {
  std::string s = key(*p.param);
  for (char& c : s) {
    if (c == '.' || c == '/') c = '_';
  }
  return s;
}

INSTANTIATE_TEST_SUITE_P(All, ComputeVariant, ::testing::ValuesIn(compute_kernel_variants()), variant_name);

TEST(ComputeInfo, OpCountsMatchHandCountedValues) {
  // FLOP (or OP) per loop iteration, counted by hand from each loop: accumulators × lanes × 2 (× pairs/lane).
  const std::map<std::string, double> expected = {
      {"fma.fp64/avx512", 12 * 8 * 2},      // 192
      {"fma.fp32/avx512", 12 * 16 * 2},     // 384
      {"fma.fp64/avx2", 12 * 4 * 2},        // 96
      {"fma.fp32/avx2", 12 * 8 * 2},        // 192
      {"fma.fp64/sse2", 12 * 2 * 2},        // 48: 12 mulpd+addpd pairs, 2 lanes
      {"fma.fp32/sse2", 12 * 4 * 2},        // 96
      {"dot.bf16/avx512", 12 * 16 * 2 * 2}, // 768
      {"dot.int8/avx512", 12 * 16 * 4 * 2}, // 1536
      {"dot.int8/avx2", 12 * 8 * 4 * 2},    // 768
      {"fma.fp16/avx512", 12 * 32 * 2},     // 768
      // AMX: 4 full-tile instructions per iteration, 16×16 outputs × K multiply-adds × 2.
      {"amx.bf16/amx", 4 * 16 * 16 * 32 * 2},  // 65,536
      {"amx.fp16/amx", 4 * 16 * 16 * 32 * 2},  // 65,536
      {"amx.int8/amx", 4 * 16 * 16 * 64 * 2},  // 131,072
  };
  const auto variants = compute_kernel_variants();
  EXPECT_EQ(variants.size(), expected.size());
  for (const ComputeKernelInfo* k : variants) {
    const auto it = expected.find(key(*k));
    ASSERT_NE(it, expected.end()) << "no hand count for " << key(*k);
    EXPECT_EQ(k->ops_per_iter(), it->second) << key(*k);
    EXPECT_EQ(k->instr_per_iter, k->isa == Isa::amx ? 4 : 12) << key(*k);  // accumulators: tiles or vectors
    EXPECT_FALSE(k->instruction.empty());
    EXPECT_FALSE(k->counting.empty());
  }
}

TEST(ComputeInfo, DtypesAndIsas) {
  for (const ComputeKernelInfo* k : compute_kernel_variants()) {
    EXPECT_EQ(isa_from_string(k->variant), k->isa) << key(*k);
    const std::string_view dtype = k->id.substr(k->id.find('.') + 1);
    EXPECT_EQ(to_string(k->dtype), dtype) << key(*k);
    const std::string_view width = k->isa == Isa::amx      ? "tmm"
                                   : k->isa == Isa::avx512 ? "zmm"
                                   : k->isa == Isa::avx2   ? "ymm"
                                                           : "xmm";
    EXPECT_TRUE(k->instruction.ends_with(width)) << key(*k) << ": " << k->instruction;
  }
}

CpuFeatures all_features() {
  CpuFeatures f;
  f.sse2 = f.avx = f.fma = f.avx2 = f.f16c = true;
  f.avx512f = f.avx512bw = f.avx512vl = f.avx512dq = true;
  f.avx512_bf16 = f.avx512_vnni = f.avx_vnni = f.avx512_fp16 = true;
  return f;
}
CpuFeatures zen4_features() {
  CpuFeatures f = all_features();
  f.avx_vnni = f.avx512_fp16 = false;
  return f;
}
CpuFeatures sse2_only() {
  CpuFeatures f;
  f.sse2 = true;
  return f;
}

std::string selected(std::string_view id, const CpuFeatures& f, Isa cap) {
  const ComputeKernelInfo* k = select_compute_kernel(id, f, cap);
  return k ? std::string(k->variant) : "none";
}

TEST(ComputeSelect, BestVariantAtOrBelowTheCap) {
  const CpuFeatures all = all_features();
  EXPECT_EQ(selected("fma.fp64", all, Isa::avx512), "avx512");
  EXPECT_EQ(selected("fma.fp64", all, Isa::avx2), "avx2");
  EXPECT_EQ(selected("fma.fp64", all, Isa::sse2), "sse2");
  EXPECT_EQ(selected("fma.fp32", all, Isa::avx2), "avx2");
  EXPECT_EQ(selected("dot.int8", all, Isa::avx512), "avx512");
  EXPECT_EQ(selected("dot.int8", all, Isa::avx2), "avx2");
  EXPECT_EQ(selected("dot.int8", all, Isa::sse2), "none");
  EXPECT_EQ(selected("dot.bf16", all, Isa::avx2), "none");
  EXPECT_EQ(selected("fma.fp16", all, Isa::avx512), "avx512");
  EXPECT_EQ(selected("no.such.kernel", all, Isa::avx512), "none");
}

TEST(ComputeSelect, HonoursTheCpuFeatures) {
  const CpuFeatures zen4 = zen4_features();
  EXPECT_EQ(selected("dot.int8", zen4, Isa::avx512), "avx512");
  EXPECT_EQ(selected("dot.int8", zen4, Isa::avx2), "none");  // AVX512_VNNI does not give the VEX form
  EXPECT_EQ(selected("fma.fp16", zen4, Isa::avx512), "none");
  EXPECT_EQ(selected("dot.bf16", zen4, Isa::avx512), "avx512");

  const CpuFeatures base = sse2_only();
  EXPECT_EQ(selected("fma.fp64", base, Isa::avx512), "sse2");
  EXPECT_EQ(selected("fma.fp32", base, Isa::avx512), "sse2");
  EXPECT_EQ(selected("dot.bf16", base, Isa::avx512), "none");

  CpuFeatures avx2_no_fma = base;
  avx2_no_fma.avx = avx2_no_fma.avx2 = true;  // FMA3 is a separate bit
  EXPECT_EQ(selected("fma.fp64", avx2_no_fma, Isa::avx512), "sse2");
}

TEST(ComputeSelect, SelectedIsSupportedOnThisCpu) {
  const CpuFeatures f = detect_features();
  for (const char* id : {"fma.fp64", "fma.fp32", "dot.bf16", "dot.int8", "fma.fp16", "amx.bf16", "amx.int8", "amx.fp16"}) {
    for (Isa cap : {Isa::amx, Isa::avx512, Isa::avx2, Isa::sse2}) {
      const ComputeKernelInfo* k = select_compute_kernel(id, f, cap);
      if (k == nullptr) continue;
      EXPECT_TRUE(is_supported(*k, f)) << key(*k);
      EXPECT_NE(make_compute_kernel(*k), nullptr);
    }
  }
  // fma.fp64 has an sse2 variant, so every x86-64 CPU gets one.
  EXPECT_NE(select_compute_kernel("fma.fp64", f, Isa::sse2), nullptr);
}

// ---- host references ----

template <class Traits>
void expect_cycle_jump_matches_brute_force(std::uint64_t seed) {
  using Elem = typename Traits::Elem;
  probe::cpu::detail::SplitMix64 rng(seed);
  for (int t = 0; t < 20; ++t) {
    const double sign = (rng.next() & 1) ? -1.0 : 1.0;
    const Elem m = Traits::from_double(rng.uniform(0.5, 0.95));
    const Elem c = Traits::from_double(sign * rng.uniform(0.5, 2.0));
    const Elem x0 = Traits::from_double(sign * rng.uniform(0.1, 40.0));
    probe::cpu::detail::FmaReference<Traits> ref;
    ASSERT_TRUE(ref.build(x0, m, c));
    Elem x = x0;
    for (std::uint64_t n = 0; n < 5000; ++n) {
      ASSERT_EQ(probe::cpu::detail::bits_of(ref.at(n)), probe::cpu::detail::bits_of(x)) << "n=" << n;
      x = Traits::step(x, m, c);
    }
  }
}

TEST(HostReference, CycleJumpMatchesBruteForce) {
  expect_cycle_jump_matches_brute_force<probe::cpu::detail::Fp64Fused>(1);
  expect_cycle_jump_matches_brute_force<probe::cpu::detail::Fp64MulAdd>(2);
  expect_cycle_jump_matches_brute_force<probe::cpu::detail::Fp32Fused>(3);
  expect_cycle_jump_matches_brute_force<probe::cpu::detail::Fp32MulAdd>(4);
  expect_cycle_jump_matches_brute_force<probe::cpu::detail::Fp16Fused>(5);
}

TEST(HostReference, Fp16DecodeEncodeRoundTrips) {
  for (std::uint32_t h = 0; h < 0x10000; ++h) {
    const auto b = static_cast<std::uint16_t>(h);
    if ((b & 0x7c00) == 0x7c00 && (b & 0x3ff) != 0) continue;  // NaN payloads
    ASSERT_EQ(probe::cpu::detail::double_to_fp16(probe::cpu::detail::fp16_to_double(b)), b) << std::hex << h;
  }
}

#if defined(__FLT16_MAX__)
// The compiler's _Float16 conversion (libgcc, round to nearest even) is an independent implementation.
TEST(HostReference, Fp16RoundingMatchesTheCompiler) {
  std::mt19937_64 gen(99);
  for (int i = 0; i < 200000; ++i) {
    const int e = static_cast<int>(gen() % 40) - 28;  // subnormals to overflow
    const double d = std::ldexp(static_cast<double>(gen() >> 11) * 0x1p-53 + 0.5, e) * ((gen() & 1) ? -1 : 1);
    const auto want = std::bit_cast<std::uint16_t>(static_cast<_Float16>(d));
    ASSERT_EQ(probe::cpu::detail::double_to_fp16(d), want) << d;
  }
  // Ties: halfway between two fp16 values round to the even one.
  for (std::uint16_t h : {std::uint16_t{0x3c00}, std::uint16_t{0x3c01}, std::uint16_t{0x0001}, std::uint16_t{0x7bfe}}) {
    const double lo = probe::cpu::detail::fp16_to_double(h);
    const double hi = probe::cpu::detail::fp16_to_double(static_cast<std::uint16_t>(h + 1));
    const double mid = (lo + hi) / 2;
    EXPECT_EQ(probe::cpu::detail::double_to_fp16(mid), std::bit_cast<std::uint16_t>(static_cast<_Float16>(mid)));
  }
}
#endif

}  // namespace
}  // namespace probe::cpu
