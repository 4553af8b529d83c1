#pragma once
// Inputs and exact expected results for the HIP compute kernels, computed on the host (pure C++, unit-tested
// without a GPU). Same design as the CUDA backend (probes/cuda/reference.hpp): integer-valued inputs, exact in
// every operand and accumulator type, so the expected output is exact for any iteration count. MFMA operands are
// stored in register order; the host maps each lane's fragment to matrix elements with CDNA's operand layouts.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "hip_kernels.hpp"
#include "reference_common.hpp"

namespace probe::hip {

// Shared with the other GPU backend (probes/gpu/reference_common.hpp).
using gpu_ref::from_half;
using gpu_ref::kTriadScalar;
using gpu_ref::memory_word;
using gpu_ref::to_bf16;
using gpu_ref::to_half;
using gpu_ref::triad_value;
// FP8 E4M3 FNUZ (CDNA3's FP8: exponent bias 8, no negative zero, no infinities).
[[nodiscard]] std::uint8_t to_e4m3_fnuz(float v);
[[nodiscard]] float from_e4m3_fnuz(std::uint8_t b);

// CDNA MFMA operand layouts (single-block forms). A: lane l, element j -> (row, k); B: lane l, element j -> (k,
// col); D/C: lane l, register r -> (row, col).
struct RowCol {
  int row, col;
};
[[nodiscard]] RowCol mfma_a_element(const probe_hip::MfmaShape& s, int lane, int j);  // {row, k}
[[nodiscard]] RowCol mfma_b_element(const probe_hip::MfmaShape& s, int lane, int j);  // {k, col}
[[nodiscard]] RowCol mfma_d_element(const probe_hip::MfmaShape& s, int lane, int r);

struct ComputeProblem {
  const probe_hip::ComputeKernelDesc* desc = nullptr;
  std::size_t units = 0;  // threads (vector) or wavefronts (MFMA)
  std::vector<std::uint8_t> input;
  std::size_t output_bytes = 0;
};

[[nodiscard]] ComputeProblem make_problem(const probe_hip::ComputeKernelDesc& desc, std::size_t units,
                                          std::uint64_t seed);
[[nodiscard]] std::vector<std::uint8_t> expected_unit(const ComputeProblem& p, std::size_t u,
                                                      std::uint64_t iterations);
[[nodiscard]] std::optional<std::string> check_output(const ComputeProblem& p, const std::vector<std::uint8_t>& out,
                                                      std::uint64_t iterations);

}  // namespace probe::hip
