#pragma once
// Inputs and exact expected results for the CUDA compute kernels, computed on the host. Pure C++: no CUDA, so
// the design is unit-tested on machines without a GPU.
//
// Every input is a small random integer (scaled so that it is exact in the operand type), never zero for the
// multiplicands: every product and partial sum is then exactly representable in the accumulator type, and the
// expected output is exact for any iteration count (see cuda_kernels.hpp for why the count drops out for floating
// point and is exact modulo 2^32 for integers).
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "cuda_kernels.hpp"
#include "reference_common.hpp"

namespace probe::cuda {

// Shared with the other GPU backend (probes/gpu/reference_common.hpp).
using gpu_ref::from_half;
using gpu_ref::kTriadScalar;
using gpu_ref::memory_word;
using gpu_ref::to_bf16;
using gpu_ref::to_half;
using gpu_ref::triad_value;
// FP8 bit encodings of small exactly representable values.
[[nodiscard]] std::uint8_t to_e4m3(float v);
[[nodiscard]] std::uint8_t to_e5m2(float v);

struct ComputeProblem {
  const probe_cuda::ComputeKernelDesc* desc = nullptr;
  std::size_t units = 0;          // threads (vector), warps (mma) or warpgroups (wgmma)
  std::vector<std::uint8_t> input;
  std::size_t output_bytes = 0;   // all units
};

// Draws the inputs of `desc` for `units` units (vector kernels: one input row per thread; matrix kernels: one
// problem shared by every unit).
[[nodiscard]] ComputeProblem make_problem(const probe_cuda::ComputeKernelDesc& desc, std::size_t units,
                                          std::uint64_t seed);

// Compares the kernel's output after `iterations` loop iterations with the exact host result; describes the first
// mismatch, if any.
[[nodiscard]] std::optional<std::string> check_output(const ComputeProblem& p, const std::vector<std::uint8_t>& out,
                                                      std::uint64_t iterations);

// The expected output bytes of unit `u` (for tests and for check_output).
[[nodiscard]] std::vector<std::uint8_t> expected_unit(const ComputeProblem& p, std::size_t u,
                                                      std::uint64_t iterations);

}  // namespace probe::cuda
