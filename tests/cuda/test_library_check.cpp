// The library cross-check's host side, without a GPU: how a missing library is reported, the op count, the inputs,
// and the sampled host verification (a GPU-like FP32-accumulated result passes, a deliberately wrong element fails).
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <fmt/format.h>

#include "library_check.hpp"

namespace {

using namespace probe::cuda;

TEST(LibraryOpen, MissingLibraryNamesEveryAttempt) {
  const std::vector<std::string> names{"libprobe-no-such-lib.so.13", "libprobe-no-such-lib.so"};
  const OpenedLibrary r = open_first(names, "cuBLASLt");
  EXPECT_EQ(r.handle, nullptr);
  EXPECT_EQ(r.why.rfind("cuBLASLt not found (dlopen libprobe-no-such-lib.so.13: ", 0), 0u) << r.why;
  EXPECT_NE(r.why.find("; dlopen libprobe-no-such-lib.so: "), std::string::npos) << r.why;
  EXPECT_NE(r.why.find("cannot open shared object file"), std::string::npos) << r.why;
  EXPECT_EQ(r.why.back(), ')');
}

TEST(LibraryOpen, FirstCandidateThatOpensWins) {
  const std::vector<std::string> names{"libprobe-no-such-lib.so.13", "libm.so.6", "libc.so.6"};
  const OpenedLibrary r = open_first(names, "test");
  ASSERT_NE(r.handle, nullptr) << r.why;
  EXPECT_EQ(r.name, "libm.so.6");
  EXPECT_TRUE(r.why.empty());
}

TEST(LibraryOpen, CublasLtCandidatesPreferTheBuiltMajor) {
  const auto c = cublaslt_candidates(13);
  ASSERT_GE(c.size(), 4u);
  EXPECT_EQ(c[0], "libcublasLt.so.13");
  EXPECT_EQ(c[1], "libcublasLt.so");
  EXPECT_NE(std::find(c.begin(), c.end(), "libcublasLt.so.12"), c.end());
  EXPECT_NE(std::find(c.begin(), c.end(), "/usr/local/cuda/lib64/libcublasLt.so.13"), c.end());
}

TEST(LibraryGemm, OpCountIsTwoMnk) {
  static_assert(gemm_ops(8192, 8192, 8192) == 1099511627776.0);
  EXPECT_EQ(gemm_ops(2, 3, 5), 60.0);
  EXPECT_EQ(gemm_ops(8192, 4096, 1024), 2.0 * 8192 * 4096 * 1024);
}

TEST(LibraryGemm, Decoding) {
  EXPECT_EQ(bf16_value(0x3f80), 1.0);
  EXPECT_EQ(bf16_value(0xc000), -2.0);
  EXPECT_EQ(e4m3_value(0x38), 1.0);
  EXPECT_EQ(e4m3_value(0x44), 3.0);
  EXPECT_EQ(e4m3_value(0xc0), -2.0);
  EXPECT_EQ(e4m3_value(0x7e), 448.0);
  EXPECT_EQ(e4m3_value(0x01), std::ldexp(1.0, -9));
  EXPECT_TRUE(std::isnan(e4m3_value(0x7f)));
}

TEST(LibraryGemm, InputsAreNonDegenerate) {
  for (GemmType t : {GemmType::bf16, GemmType::fp8_e4m3}) {
    const GemmInputs in = make_gemm_inputs(t, 16, 8, 256, 7);
    EXPECT_EQ(in.a.size(), 16 * 256 * element_bytes(t));
    EXPECT_EQ(in.b.size(), 8 * 256 * element_bytes(t));
    int negative = 0;
    for (std::size_t i = 0; i < in.m; ++i) {
      for (std::size_t k = 0; k < in.k; ++k) {
        const double v = in.a_at(i, k);
        ASSERT_TRUE(std::isfinite(v));
        ASSERT_GE(std::fabs(v), t == GemmType::bf16 ? 1.0 / 16 : 1.0 / 8);
        ASSERT_LE(std::fabs(v), t == GemmType::bf16 ? 2.0 : 15.0);
        negative += v < 0;
      }
    }
    EXPECT_GT(negative, 16 * 256 / 4);
    EXPECT_LT(negative, 16 * 256 * 3 / 4);
  }
}

TEST(LibraryGemm, SamplePointsIncludeCornersAndStayInRange) {
  const auto p = sample_points(100, 30, 64, 1);
  ASSERT_EQ(p.size(), 64u);
  EXPECT_EQ(p[0].i, 0u);
  EXPECT_EQ(p[3].i, 99u);
  EXPECT_EQ(p[3].j, 29u);
  for (const auto& q : p) {
    EXPECT_LT(q.i, 100u);
    EXPECT_LT(q.j, 30u);
  }
}

// What a GPU returns: products accumulated in FP32 in order, then rounded to BF16 (round to nearest even).
double gpu_like_element(const GemmInputs& in, std::size_t i, std::size_t j) {
  float acc = 0;
  for (std::size_t k = 0; k < in.k; ++k) acc += static_cast<float>(in.a_at(i, k)) * static_cast<float>(in.b_at(k, j));
  std::uint32_t w;
  std::memcpy(&w, &acc, 4);
  w = (w + 0x7fff + ((w >> 16) & 1)) & 0xffff0000u;
  float r;
  std::memcpy(&r, &w, 4);
  return r;
}

class LibraryVerify : public ::testing::TestWithParam<GemmType> {};

TEST_P(LibraryVerify, GpuLikeResultPassesAndAWrongElementFails) {
  const GemmInputs in = make_gemm_inputs(GetParam(), 48, 40, 8192, 3);
  const auto points = sample_points(in.m, in.n, 64, 9);
  std::vector<double> got;
  for (const auto& p : points) got.push_back(gpu_like_element(in, p.i, p.j));
  EXPECT_EQ(check_gemm_points(in, points, got), std::nullopt);

  // A deliberately wrong element: the neighbouring row's value (what a layout or stride mistake produces).
  auto wrong = got;
  wrong[17] = gpu_like_element(in, (points[17].i + 1) % in.m, points[17].j);
  const auto r = check_gemm_points(in, points, wrong);
  ASSERT_TRUE(r.has_value());
  EXPECT_NE(r->find(fmt::format("D({}, {})", points[17].i, points[17].j)), std::string::npos) << *r;

  // Half of K accumulated (a loop bound or split-K mistake): caught.
  wrong = got;
  {
    const auto [i, j] = points[5];
    double half = 0;
    for (std::size_t k = 0; k < in.k / 2; ++k) half += in.a_at(i, k) * in.b_at(k, j);
    wrong[5] = half;
  }
  EXPECT_TRUE(check_gemm_points(in, points, wrong).has_value());

  // Not written (the poison is a NaN): caught.
  wrong = got;
  wrong[0] = std::nan("");
  EXPECT_TRUE(check_gemm_points(in, points, wrong).has_value());

  // The boundary: just inside the tolerance passes, just outside fails.
  const ElementReference ref = reference_element(in, points[63].i, points[63].j);
  wrong = got;
  wrong[63] = ref.value + 0.99 * ref.tolerance;
  EXPECT_EQ(check_gemm_points(in, points, wrong), std::nullopt);
  wrong[63] = ref.value - 1.01 * ref.tolerance;
  EXPECT_TRUE(check_gemm_points(in, points, wrong).has_value());
  EXPECT_TRUE(check_gemm_points(in, points, std::span(got).first(10)).has_value());
}

INSTANTIATE_TEST_SUITE_P(Types, LibraryVerify, ::testing::Values(GemmType::bf16, GemmType::fp8_e4m3),
                         [](const auto& p) { return p.param == GemmType::bf16 ? "bf16" : "fp8_e4m3"; });

TEST(LibraryVerify, ToleranceIsTheFp32AccumulationBound) {
  // 2^-8·|ref| + (1 + 2^-8)·γ_K·Σ|ab|, γ_K = K·2^-23 / (1 − K·2^-23)
  const double k = 8192, u = std::ldexp(1.0, -23), g = k * u / (1 - k * u);
  EXPECT_DOUBLE_EQ(gemm_tolerance(10.0, 1000.0, 8192), 10.0 / 256 + (1 + 1.0 / 256) * g * 1000.0);
  // γ_K·Σ|ab| grows like K·u·K·E|ab| while a typical element grows like √K: for K = 8192 the bound is under a
  // tenth of an element's typical size, so a wrong row, column or K range (an error of the element's own size) is
  // caught; a single dropped product (≈ 1/√K of it) is not, which is what a worst-case bound allows.
  const GemmInputs in = make_gemm_inputs(GemmType::bf16, 4, 4, 8192, 5);
  double rms = 0;
  for (std::size_t kk = 0; kk < in.k; ++kk) rms += std::pow(in.a_at(1, kk) * in.b_at(kk, 2), 2);
  rms = std::sqrt(rms);  // the typical |element|: √(Σ (ab)²)
  EXPECT_LT(reference_element(in, 1, 2).tolerance, 0.1 * rms);
}

}  // namespace
