#include "reference.hpp"

#include <bit>
#include <cmath>
#include <cstring>
#include <fmt/format.h>
#include <random>
#include <string_view>

namespace probe::hip {
namespace {

using probe_hip::ComputeKernelDesc;
using probe_hip::Family;
using probe_hip::kMfmaAcc;
using probe_hip::kMfmaShapes;
using probe_hip::kMfmaSteps;
using probe_hip::kVecAcc;
using probe_hip::kVecInPerThread;
using probe_hip::kVecSteps;
using probe_hip::kWave;
using probe_hip::MfmaShape;

using gpu_ref::encode;
using gpu_ref::get;
using gpu_ref::put;

std::string_view dtype(const ComputeKernelDesc& d) { return d.dtype; }
bool integer_kernel(const ComputeKernelDesc& d) { return dtype(d) == "int8"; }
const MfmaShape& shape_of(const ComputeKernelDesc& d) { return kMfmaShapes[d.index]; }

void put_operand(std::vector<std::uint8_t>& buf, std::size_t off, const ComputeKernelDesc& d, std::int64_t v) {
  const auto t = dtype(d);
  const auto f = static_cast<float>(v);
  if (t == "fp16") put(buf, off, to_half(f));
  else if (t == "bf16") put(buf, off, to_bf16(f));
  else if (t == "fp32") put(buf, off, f);
  else if (t == "fp64") put(buf, off, static_cast<double>(v));
  else if (t == "fp8_e4m3") put(buf, off, to_e4m3_fnuz(f));
  else put(buf, off, static_cast<std::int8_t>(v));
}

std::int64_t get_operand(const std::vector<std::uint8_t>& buf, std::size_t off, const ComputeKernelDesc& d) {
  const auto t = dtype(d);
  if (t == "fp16") return std::lround(from_half(get<std::uint16_t>(buf, off)));
  if (t == "bf16") return std::lround(std::bit_cast<float>(static_cast<std::uint32_t>(get<std::uint16_t>(buf, off)) << 16));
  if (t == "fp32") return std::lround(get<float>(buf, off));
  if (t == "fp64") return std::llround(get<double>(buf, off));
  if (t == "fp8_e4m3") return std::lround(from_e4m3_fnuz(get<std::uint8_t>(buf, off)));
  return get<std::int8_t>(buf, off);
}

}  // namespace

std::uint8_t to_e4m3_fnuz(float v) { return static_cast<std::uint8_t>(encode(v, 4, 3, 8)); }
float from_e4m3_fnuz(std::uint8_t b) {
  const int e = (b & 0x7f) >> 3, m = b & 7;
  const float mag = e == 0 ? std::ldexp(static_cast<float>(m) / 8.0f, -7) : std::ldexp(1.0f + static_cast<float>(m) / 8.0f, e - 8);
  return (b & 0x80) ? -mag : mag;
}

// CDNA single-block MFMA layouts (AMD matrix instruction calculator): A row = lane % M, its K slice = lane / M;
// B column = lane % N; D column = lane % N, rows in groups of 4 registers, 64/N lane groups per 4-row block.
RowCol mfma_a_element(const MfmaShape& s, int lane, int j) { return {lane % s.m, (lane / s.m) * s.a_per_lane() + j}; }
RowCol mfma_b_element(const MfmaShape& s, int lane, int j) { return {(lane / s.n) * s.b_per_lane() + j, lane % s.n}; }
RowCol mfma_d_element(const MfmaShape& s, int lane, int r) {
  return {(r / 4) * (4 * (kWave / s.n)) + (lane / s.n) * 4 + r % 4, lane % s.n};
}

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
  const MfmaShape& s = shape_of(desc);
  const auto L = probe_hip::mfma_layout(s);
  p.input.assign(L.total, 0);
  p.output_bytes = units * L.out_per_unit;
  const int second = integer_kernel(desc) ? 1 : -1;
  const int per = s.a_per_lane();
  for (int l = 0; l < kWave; ++l) {
    for (int j = 0; j < per; ++j) {
      const std::size_t off = (static_cast<std::size_t>(l) * per + j) * s.ab_bytes;
      // Busy mantissas, exact sums: gpu_ref::operand_range.
      put_operand(p.input, L.a + off, desc, gpu_ref::matrix_operand(rng, dtype(desc), false));
      const std::int64_t b = gpu_ref::matrix_operand(rng, dtype(desc), true);
      put_operand(p.input, L.b + off, desc, b);
      put_operand(p.input, L.b2 + off, desc, second * b);
    }
  }
  std::uniform_int_distribution<std::int64_t> c_float(-64, 64), c_int(-(1 << 20), 1 << 20);
  const std::size_t n_c = static_cast<std::size_t>(kMfmaAcc) * kWave * s.c_per_lane();
  for (std::size_t i = 0; i < n_c; ++i) {
    const std::size_t off = L.c + i * s.c_bytes;
    if (s.c_bytes == 8) put(p.input, off, static_cast<double>(c_float(rng)));
    else if (integer_kernel(desc)) put(p.input, off, static_cast<std::int32_t>(c_int(rng)));
    else put(p.input, off, static_cast<float>(c_float(rng)));
  }
  return p;
}

std::vector<std::uint8_t> expected_unit(const ComputeProblem& p, std::size_t u, std::uint64_t iterations) {
  const ComputeKernelDesc& d = *p.desc;
  if (d.family == Family::vector) {
    return gpu_ref::expected_vector_unit<kVecAcc>(dtype(d), p.input, u, iterations * kVecSteps + 1);
  }
  const std::uint64_t k = iterations * kMfmaSteps + 1;
  const MfmaShape& s = shape_of(d);
  const auto L = probe_hip::mfma_layout(s);
  // The logical A (M×K) and B (K×N) from the fragments.
  std::vector<std::int64_t> A(static_cast<std::size_t>(s.m) * s.k), B(static_cast<std::size_t>(s.k) * s.n);
  const int per = s.a_per_lane();
  for (int l = 0; l < kWave; ++l) {
    for (int j = 0; j < per; ++j) {
      const std::size_t off = (static_cast<std::size_t>(l) * per + j) * s.ab_bytes;
      const RowCol a = mfma_a_element(s, l, j), b = mfma_b_element(s, l, j);
      A[static_cast<std::size_t>(a.row) * s.k + a.col] = get_operand(p.input, L.a + off, d);
      B[static_cast<std::size_t>(b.row) * s.n + b.col] = get_operand(p.input, L.b + off, d);
    }
  }
  std::vector<std::uint8_t> out(L.out_per_unit);
  const int regs = s.c_per_lane();
  for (int l = 0; l < kWave; ++l) {
    for (int r = 0; r < regs; ++r) {
      const RowCol e = mfma_d_element(s, l, r);
      std::int64_t ab = 0;
      for (int x = 0; x < s.k; ++x) ab += A[static_cast<std::size_t>(e.row) * s.k + x] * B[static_cast<std::size_t>(x) * s.n + e.col];
      const std::size_t idx = static_cast<std::size_t>(l) * regs + r;
      const std::size_t tile = static_cast<std::size_t>(kWave) * regs;
      if (integer_kernel(d)) {
        std::uint32_t sum = 0;
        for (int t = 0; t < kMfmaAcc; ++t) {
          sum += get<std::uint32_t>(p.input, L.c + (t * tile + idx) * 4) + static_cast<std::uint32_t>(k) * static_cast<std::uint32_t>(ab);
        }
        put(out, idx * 4, sum);
        continue;
      }
      double sum = 0;  // floating point: B/-B pairs cancel, one extra MFMA with B: every tile ends at C + AB
      for (int t = 0; t < kMfmaAcc; ++t) {
        const std::size_t off = L.c + (t * tile + idx) * s.c_bytes;
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
  return gpu_ref::compare_units(out, p.output_bytes, p.units, d.family == Family::vector,
                                d.threads_per_unit == 1 ? "thread" : "wavefront",
                                [&](std::size_t u) { return expected_unit(p, u, iterations); });
}

}  // namespace probe::hip
