#include "reference.hpp"

#include <bit>
#include <cmath>
#include <cstring>
#include <fmt/format.h>
#include <random>

namespace probe::cuda {
namespace {

using probe_cuda::ComputeKernelDesc;
using probe_cuda::Family;
using probe_cuda::kMmaAcc;
using probe_cuda::kMmaShapes;
using probe_cuda::kMmaSteps;
using probe_cuda::kVecAcc;
using probe_cuda::kVecInPerThread;
using probe_cuda::kVecSteps;
using probe_cuda::kWgAcc;
using probe_cuda::kWgShapes;
using probe_cuda::kWgSteps;
using probe_cuda::matrix_layout;
using probe_cuda::MmaShape;

using gpu_ref::encode;
using gpu_ref::get;
using gpu_ref::put;

const MmaShape& shape_of(const ComputeKernelDesc& d) {
  return d.family == Family::mma ? kMmaShapes[d.index] : kWgShapes[d.index];
}
int acc_of(const ComputeKernelDesc& d) { return d.family == Family::mma ? kMmaAcc : kWgAcc; }
int steps_of(const ComputeKernelDesc& d) {
  switch (d.family) {
    case Family::vector: return kVecSteps;
    case Family::mma: return kMmaSteps;
    case Family::wgmma: return kWgSteps;
  }
  return 0;
}
std::string_view dtype(const ComputeKernelDesc& d) { return d.dtype; }
bool integer_kernel(const ComputeKernelDesc& d) { return dtype(d) == "int8"; }

// Writes one operand element of the matrix kernels' A/B type.
void put_operand(std::vector<std::uint8_t>& buf, std::size_t off, const ComputeKernelDesc& d, std::int64_t v) {
  const auto t = dtype(d);
  const auto f = static_cast<float>(v);
  if (t == "fp16") put(buf, off, to_half(f));
  else if (t == "bf16") put(buf, off, to_bf16(f));
  else if (t == "tf32") put(buf, off, f);
  else if (t == "fp64") put(buf, off, static_cast<double>(v));
  else if (t == "fp8_e4m3") put(buf, off, to_e4m3(f));
  else if (t == "fp8_e5m2") put(buf, off, to_e5m2(f));
  else put(buf, off, static_cast<std::int8_t>(v));  // int8
}

// Logical values of the matrix problem, kept beside the encoded bytes (rebuilt from the seed).
struct MatrixValues {
  std::vector<std::int64_t> a, b;      // A: M×K, B stored N×K
  std::vector<std::int64_t> c;         // acc tiles, M×N each
};

MatrixValues matrix_values(const ComputeKernelDesc& d, std::uint64_t seed) {
  const MmaShape& s = shape_of(d);
  std::mt19937_64 rng(seed);
  MatrixValues v;
  // Busy mantissas, exact sums: gpu_ref::operand_range.
  for (int i = 0; i < s.m * s.k; ++i) v.a.push_back(gpu_ref::matrix_operand(rng, dtype(d), false));
  for (int i = 0; i < s.n * s.k; ++i) v.b.push_back(gpu_ref::matrix_operand(rng, dtype(d), true));
  const bool integer = integer_kernel(d);
  std::uniform_int_distribution<std::int64_t> c_float(-64, 64), c_int(-(1 << 20), 1 << 20);
  for (int i = 0; i < acc_of(d) * s.m * s.n; ++i) v.c.push_back(integer ? c_int(rng) : c_float(rng));
  return v;
}

}  // namespace

std::uint8_t to_e4m3(float v) { return static_cast<std::uint8_t>(encode(v, 4, 3, 7)); }
std::uint8_t to_e5m2(float v) { return static_cast<std::uint8_t>(encode(v, 5, 2, 15)); }

ComputeProblem make_problem(const ComputeKernelDesc& desc, std::size_t units, std::uint64_t seed) {
  ComputeProblem p;
  p.desc = &desc;
  p.units = units;
  std::mt19937_64 rng(seed);
  if (desc.family == Family::vector) {
    static_assert(kVecInPerThread == 2 + kVecAcc);
    gpu_ref::make_vector_inputs<kVecAcc>(dtype(desc), units, rng, p.input, p.output_bytes);
    return p;
  }
  const MmaShape& s = shape_of(desc);
  const auto L = matrix_layout(s, acc_of(desc));
  const MatrixValues v = matrix_values(desc, seed);
  p.input.assign(L.total, 0);
  p.output_bytes = units * L.out_per_unit;
  // The second B tile: -B for floating point (pairs of steps cancel exactly), B for integers (exact mod 2^32).
  const int second = integer_kernel(desc) ? 1 : -1;
  for (int i = 0; i < s.m * s.k; ++i) put_operand(p.input, L.a + i * s.a_bytes, desc, v.a[i]);
  for (int i = 0; i < s.n * s.k; ++i) {
    put_operand(p.input, L.b + i * s.a_bytes, desc, v.b[i]);
    put_operand(p.input, L.b2 + i * s.a_bytes, desc, second * v.b[i]);
  }
  for (std::size_t i = 0; i < v.c.size(); ++i) {
    const std::size_t off = L.c + i * s.c_bytes;
    if (s.c_bytes == 8) put(p.input, off, static_cast<double>(v.c[i]));
    else if (integer_kernel(desc)) put(p.input, off, static_cast<std::int32_t>(v.c[i]));
    else put(p.input, off, static_cast<float>(v.c[i]));
  }
  return p;
}

std::vector<std::uint8_t> expected_unit(const ComputeProblem& p, std::size_t u, std::uint64_t iterations) {
  const ComputeKernelDesc& d = *p.desc;
  // Operations applied to each accumulator: the loop's, plus the one after it.
  const std::uint64_t k = iterations * static_cast<std::uint64_t>(steps_of(d)) + 1;
  if (d.family == Family::vector) return gpu_ref::expected_vector_unit<kVecAcc>(dtype(d), p.input, u, k);
  const MmaShape& s = shape_of(d);
  const int acc = acc_of(d);
  // Rebuild the logical values from the encoded input (the seed is not kept).
  const auto L = matrix_layout(s, acc);
  auto operand = [&](std::size_t off) -> std::int64_t {
    const auto t = dtype(d);
    if (t == "fp16") return std::lround(from_half(get<std::uint16_t>(p.input, off)));
    if (t == "bf16") return std::lround(std::bit_cast<float>(static_cast<std::uint32_t>(get<std::uint16_t>(p.input, off)) << 16));
    if (t == "tf32") return std::lround(get<float>(p.input, off));
    if (t == "fp64") return std::llround(get<double>(p.input, off));
    if (t == "int8") return get<std::int8_t>(p.input, off);
    // FP8: decode the two formats generically.
    const auto b = get<std::uint8_t>(p.input, off);
    const int mbits = t == "fp8_e4m3" ? 3 : 2, bias = t == "fp8_e4m3" ? 7 : 15;
    const int e = (b & 0x7f) >> mbits, m = b & ((1 << mbits) - 1);
    const double mag = e == 0 ? 0.0 : std::ldexp(1.0 + m / static_cast<double>(1 << mbits), e - bias);
    return std::llround((b & 0x80) ? -mag : mag);
  };
  std::vector<std::uint8_t> out(L.out_per_unit);
  const bool integer = integer_kernel(d);
  for (int r = 0; r < s.m; ++r) {
    for (int c = 0; c < s.n; ++c) {
      std::int64_t ab = 0;
      for (int x = 0; x < s.k; ++x) {
        ab += operand(L.a + (static_cast<std::size_t>(r) * s.k + x) * s.a_bytes) *
              operand(L.b + (static_cast<std::size_t>(c) * s.k + x) * s.a_bytes);
      }
      const std::size_t idx = static_cast<std::size_t>(r) * s.n + c;
      if (integer) {
        std::uint32_t sum = 0;
        for (int t = 0; t < acc; ++t) {
          const auto c0 = get<std::uint32_t>(p.input, L.c + (t * s.m * s.n + idx) * 4);
          sum += c0 + static_cast<std::uint32_t>(k) * static_cast<std::uint32_t>(ab);
        }
        put(out, idx * 4, sum);
        continue;
      }
      double sum = 0;
      for (int t = 0; t < acc; ++t) {
        const std::size_t off = L.c + (t * s.m * s.n + idx) * s.c_bytes;
        sum += (s.c_bytes == 8 ? get<double>(p.input, off) : get<float>(p.input, off)) + static_cast<double>(ab);
      }
      if (s.c_bytes == 8) put(out, idx * 8, sum);
      else put(out, idx * 4, static_cast<float>(sum));
    }
  }
  return out;
}

std::optional<std::string> check_output(const ComputeProblem& p, const std::vector<std::uint8_t>& out,
                                        std::uint64_t iterations) {
  const ComputeKernelDesc& d = *p.desc;
  // Matrix kernels: one expected tile for every unit.
  return gpu_ref::compare_units(out, p.output_bytes, p.units, d.family == Family::vector,
                                d.threads_per_unit == 1 ? "thread" : d.threads_per_unit == 32 ? "warp" : "warpgroup",
                                [&](std::size_t u) { return expected_unit(p, u, iterations); });
}

}  // namespace probe::cuda
