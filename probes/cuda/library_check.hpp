#pragma once
// The library cross-check's host side, pure C++ (no CUDA): finding a shared library with dlopen, the GEMM op
// count, the random inputs, and the sampled host verification of a GEMM's output. Unit-tested without a GPU
// (tests/cuda/test_library_check.cpp); the cuBLASLt runner itself is in cublaslt.cpp.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace probe::cuda {

// THE operation count of a dense GEMM D = A·B with A M×K and B K×N: one multiply and one add per (i, j, k).
[[nodiscard]] constexpr double gemm_ops(std::size_t m, std::size_t n, std::size_t k) {
  return 2.0 * static_cast<double>(m) * static_cast<double>(n) * static_cast<double>(k);
}

// ---- dlopen ---------------------------------------------------------------------------------------------------
struct OpenedLibrary {
  void* handle = nullptr;  // null: none of the candidates could be opened
  std::string name;        // the candidate that was opened
  std::string why;         // when handle is null: "<what> not found (dlopen <c1>: <dlerror>; dlopen <c2>: …)"
};
// Tries the candidates in order (RTLD_NOW | RTLD_LOCAL); the first that opens wins.
[[nodiscard]] OpenedLibrary open_first(std::span<const std::string> candidates, std::string_view what);
// libcublasLt.so.13 (the toolkit this was built with), the unversioned name, the other majors, then the same names
// under $CUDA_HOME/lib64, $CUDA_PATH/lib64 and /usr/local/cuda/lib64 (a toolkit that is not on the loader's path).
[[nodiscard]] std::vector<std::string> cublaslt_candidates(int built_major = 13);

// ---- Inputs and verification ------------------------------------------------------------------------------------
enum class GemmType { bf16, fp8_e4m3 };
[[nodiscard]] std::size_t element_bytes(GemmType t);
[[nodiscard]] double bf16_value(std::uint16_t bits);
[[nodiscard]] double e4m3_value(std::uint8_t bits);  // OCP E4M3 (fn): no infinities, 0x7f/0xff are NaN

// Layout ("TN", what cuBLASLt requires for FP8 and what both GEMMs use): A is stored as M rows of K contiguous
// elements (column-major K×M, transposed by the GEMM), B as N columns of K contiguous elements (column-major K×N),
// D column-major M×N in BF16: D(i, j) = Σ_k a[i·K + k] · b[j·K + k].
struct GemmInputs {
  GemmType type = GemmType::bf16;
  std::size_t m = 0, n = 0, k = 0;
  std::vector<std::uint8_t> a, b;  // raw element encodings
  [[nodiscard]] double a_at(std::size_t i, std::size_t kk) const;
  [[nodiscard]] double b_at(std::size_t kk, std::size_t j) const;
};
// Random, non-degenerate inputs (no zeros, no NaN, full-entropy mantissas): sign random, magnitude in
// [2^-4, 2) for BF16 and [2^-3, 15] for E4M3, deterministic in `seed`.
[[nodiscard]] GemmInputs make_gemm_inputs(GemmType t, std::size_t m, std::size_t n, std::size_t k, std::uint64_t seed);

struct GemmPoint {
  std::size_t i = 0, j = 0;
};
// `count` distinct-enough random (i, j), always including the four corners (a layout or size mistake shows
// there first).
[[nodiscard]] std::vector<GemmPoint> sample_points(std::size_t m, std::size_t n, std::size_t count, std::uint64_t seed);

// The host reference of one element in double (products of BF16/E4M3 values are exact in double, and so is the sum
// to far below the tolerance), Σ|a·b|, and the tolerance the GPU's result must meet:
//   |d − ref| ≤ 2^-8·|ref| + (1 + 2^-8)·γ_K·Σ|a_k·b_k|,   γ_K = K·u / (1 − K·u), u = 2^-23,
// the classical bound for K-term recursive (or any-order, e.g. split-K) summation in FP32 (Higham, Accuracy and
// Stability, §3.1) with u doubled to cover truncating (round-toward-zero) tensor-core accumulation, plus the final
// rounding of D to BF16 (unit roundoff 2^-8). Products are exact in FP32 for both input types.
struct ElementReference {
  double value = 0, sum_abs = 0, tolerance = 0;
};
[[nodiscard]] ElementReference reference_element(const GemmInputs& in, std::size_t i, std::size_t j);
[[nodiscard]] double gemm_tolerance(double ref, double sum_abs, std::size_t k);

// Compares the GPU's D at the points (got[p] is D(points[p])) with the host reference; describes the first element
// outside its tolerance (or not finite), if any.
[[nodiscard]] std::optional<std::string> check_gemm_points(const GemmInputs& in, std::span<const GemmPoint> points,
                                                           std::span<const double> got);

}  // namespace probe::cuda
