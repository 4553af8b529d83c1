// The host side of HIP verification, checked without a GPU: the MFMA operand layouts cover every matrix element
// once, the small-integer encodings round-trip, and a step-by-step emulation of each kernel (every FMA/MFMA in the
// kernel's order, in the accumulator's type) equals the closed-form expected result for several iteration counts.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <set>

#include "hip_kernels.hpp"
#include "reference.hpp"

namespace {

using namespace probe::hip;
using probe_hip::ComputeKernelDesc;
using probe_hip::Family;
using probe_hip::kWave;

template <class T>
T get(const std::vector<std::uint8_t>& b, std::size_t off) {
  T v;
  std::memcpy(&v, b.data() + off, sizeof v);
  return v;
}

TEST(Layout, EveryMatrixElementOnce) {
  for (const auto& s : probe_hip::kMfmaShapes) {
    std::set<std::pair<int, int>> a, b, d;
    for (int l = 0; l < kWave; ++l) {
      for (int j = 0; j < s.a_per_lane(); ++j) {
        const auto ea = mfma_a_element(s, l, j), eb = mfma_b_element(s, l, j);
        EXPECT_TRUE(ea.row < s.m && ea.col < s.k && eb.row < s.k && eb.col < s.n);
        a.insert({ea.row, ea.col});
        b.insert({eb.row, eb.col});
      }
      for (int r = 0; r < s.c_per_lane(); ++r) {
        const auto e = mfma_d_element(s, l, r);
        EXPECT_TRUE(e.row < s.m && e.col < s.n);
        d.insert({e.row, e.col});
      }
    }
    EXPECT_EQ(a.size(), static_cast<std::size_t>(s.m * s.k));
    EXPECT_EQ(b.size(), static_cast<std::size_t>(s.k * s.n));
    EXPECT_EQ(d.size(), static_cast<std::size_t>(s.m * s.n));
  }
}

TEST(Encoding, SmallIntegersRoundTrip) {
  for (int v = -64; v <= 64; ++v) {
    if (v == 0) continue;
    EXPECT_EQ(from_half(to_half(static_cast<float>(v))), static_cast<float>(v));
    if (std::abs(v) <= 15) {
      EXPECT_EQ(from_e4m3_fnuz(to_e4m3_fnuz(static_cast<float>(v))), static_cast<float>(v)) << v;
    }
  }
  EXPECT_EQ(to_e4m3_fnuz(1.0f), 0x40);  // FNUZ: bias 8
}

// The MFMA operands keep every sum exact for this kernel's K (gpu_ref::operand_range's bound).
TEST(Encoding, MatrixOperandRangesAreExactForEveryMfmaK) {
  for (const auto& d : probe_hip::kComputeKernels) {
    if (d.family != Family::mfma) continue;
    const auto& s = probe_hip::kMfmaShapes[d.index];
    const auto ra = probe::gpu_ref::operand_range(d.dtype, false), rb = probe::gpu_ref::operand_range(d.dtype, true);
    EXPECT_LT(s.k * ra.hi * rb.hi + 64, probe::gpu_ref::operand_sum_bound(d.dtype)) << d.id;
    for (const auto& r : {ra, rb}) {
      if (std::string(d.dtype) == "int8") continue;
      const auto f = static_cast<float>(r.hi);
      if (std::string(d.dtype) == "fp16") {
        EXPECT_EQ(from_half(to_half(f)), f) << d.id;
      }
      if (std::string(d.dtype) == "fp8_e4m3") {
        EXPECT_EQ(from_e4m3_fnuz(to_e4m3_fnuz(f)), f) << d.id;
      }
    }
  }
}

// Emulates an MFMA kernel on the logical matrices: every MFMA of every tile, B and the second tile alternating.
std::vector<double> emulate_mfma(const ComputeProblem& p, std::uint64_t iterations, bool integer) {
  const ComputeKernelDesc& d = *p.desc;
  const auto& s = probe_hip::kMfmaShapes[d.index];
  const auto L = probe_hip::mfma_layout(s);
  auto operand = [&](std::size_t off) -> double {
    const std::string t = d.dtype;
    if (t == "fp64") return get<double>(p.input, off);
    if (t == "fp32") return get<float>(p.input, off);
    if (t == "fp16") return from_half(get<std::uint16_t>(p.input, off));
    if (t == "bf16") {
      const std::uint32_t w = static_cast<std::uint32_t>(get<std::uint16_t>(p.input, off)) << 16;
      float f;
      std::memcpy(&f, &w, 4);
      return f;
    }
    if (t == "fp8_e4m3") return from_e4m3_fnuz(get<std::uint8_t>(p.input, off));
    return get<std::int8_t>(p.input, off);
  };
  std::vector<double> A(s.m * s.k), B(s.k * s.n), B2(s.k * s.n);
  for (int l = 0; l < kWave; ++l) {
    for (int j = 0; j < s.a_per_lane(); ++j) {
      const std::size_t off = (static_cast<std::size_t>(l) * s.a_per_lane() + j) * s.ab_bytes;
      const auto ea = mfma_a_element(s, l, j), eb = mfma_b_element(s, l, j);
      A[ea.row * s.k + ea.col] = operand(L.a + off);
      B[eb.row * s.n + eb.col] = operand(L.b + off);
      B2[eb.row * s.n + eb.col] = operand(L.b2 + off);
    }
  }
  const int regs = s.c_per_lane();
  std::vector<double> out(static_cast<std::size_t>(kWave) * regs, 0);
  for (int t = 0; t < probe_hip::kMfmaAcc; ++t) {
    std::vector<double> C(s.m * s.n);
    std::vector<std::uint32_t> Ci(s.m * s.n);
    for (int l = 0; l < kWave; ++l) {
      for (int r = 0; r < regs; ++r) {
        const auto e = mfma_d_element(s, l, r);
        const std::size_t off = L.c + ((static_cast<std::size_t>(t) * kWave + l) * regs + r) * s.c_bytes;
        if (integer) Ci[e.row * s.n + e.col] = get<std::uint32_t>(p.input, off);
        else C[e.row * s.n + e.col] = s.c_bytes == 8 ? get<double>(p.input, off) : get<float>(p.input, off);
      }
    }
    auto mfma = [&](const std::vector<double>& b) {
      for (int i = 0; i < s.m; ++i) {
        for (int n = 0; n < s.n; ++n) {
          double ab = 0;
          for (int k = 0; k < s.k; ++k) ab += A[i * s.k + k] * b[k * s.n + n];
          if (integer) Ci[i * s.n + n] += static_cast<std::uint32_t>(static_cast<std::int64_t>(ab));
          else C[i * s.n + n] = s.c_bytes == 8 ? C[i * s.n + n] + ab : static_cast<float>(C[i * s.n + n] + ab);
        }
      }
    };
    for (std::uint64_t i = 0; i < iterations; ++i)
      for (int st = 0; st < probe_hip::kMfmaSteps; ++st) mfma(st % 2 == 0 ? B : B2);
    mfma(B);
    for (int l = 0; l < kWave; ++l) {
      for (int r = 0; r < regs; ++r) {
        const auto e = mfma_d_element(s, l, r);
        const std::size_t idx = static_cast<std::size_t>(l) * regs + r;
        if (integer) out[idx] = static_cast<double>(static_cast<std::uint32_t>(static_cast<std::uint32_t>(out[idx]) + Ci[e.row * s.n + e.col]));
        else out[idx] += C[e.row * s.n + e.col];
      }
    }
  }
  return out;
}

TEST(Reference, MfmaEmulationMatchesClosedForm) {
  for (const auto& d : probe_hip::kComputeKernels) {
    if (d.family != Family::mfma) continue;
    const bool integer = std::string(d.dtype) == "int8";
    const ComputeProblem p = make_problem(d, 2, 0x5eed0000u + d.index);
    const auto& s = probe_hip::kMfmaShapes[d.index];
    for (std::uint64_t it : {0ull, 1ull, 3ull}) {
      const auto want = expected_unit(p, 0, it);
      const auto emu = emulate_mfma(p, it, integer);
      for (std::size_t i = 0; i < emu.size(); ++i) {
        double w;
        if (integer) w = get<std::uint32_t>(want, i * 4);
        else w = s.c_bytes == 8 ? get<double>(want, i * 8) : get<float>(want, i * 4);
        ASSERT_EQ(w, emu[i]) << d.id << " iterations " << it << " element " << i;
      }
      std::vector<std::uint8_t> out(p.output_bytes);
      for (std::size_t u = 0; u < p.units; ++u) std::memcpy(out.data() + u * want.size(), want.data(), want.size());
      EXPECT_FALSE(check_output(p, out, it).has_value());
      out[5] ^= 1;
      EXPECT_TRUE(check_output(p, out, it).has_value());
    }
  }
}

TEST(Reference, VectorEmulationMatchesClosedForm) {
  for (const auto& d : probe_hip::kComputeKernels) {
    if (d.family != Family::vector) continue;
    const std::string t = d.dtype;
    const ComputeProblem p = make_problem(d, 4, 0x5eed0000u + d.index);
    const std::size_t elem = t == "fp64" ? 8 : 4;
    for (std::uint64_t it : {0ull, 1ull, 5ull}) {
      for (std::size_t u = 0; u < p.units; ++u) {
        const std::size_t base = u * probe_hip::kVecInPerThread * elem;
        const auto want = expected_unit(p, u, it);
        const std::uint64_t steps = it * probe_hip::kVecSteps + 1;
        if (t == "int8") {
          const auto pw = get<std::uint32_t>(p.input, base), qw = get<std::uint32_t>(p.input, base + 4);
          std::uint32_t sum = 0;
          for (int a = 0; a < probe_hip::kVecAcc; ++a) {
            std::uint32_t acc = get<std::uint32_t>(p.input, base + (2 + a) * 4);
            for (std::uint64_t s = 0; s < steps; ++s)
              for (int i = 0; i < 4; ++i)
                acc += static_cast<std::uint32_t>(static_cast<std::int8_t>(pw >> (8 * i)) * static_cast<std::int8_t>(qw >> (8 * i)));
            sum += acc;
          }
          EXPECT_EQ(sum, get<std::uint32_t>(want, 0));
          continue;
        }
        auto value = [&](int i) -> double {
          const std::size_t off = base + static_cast<std::size_t>(i) * elem;
          if (t == "fp64") return get<double>(p.input, off);
          if (t == "fp32") return get<float>(p.input, off);
          return from_half(static_cast<std::uint16_t>(get<std::uint32_t>(p.input, off)));
        };
        double sum = 0;
        for (int a = 0; a < probe_hip::kVecAcc; ++a) {
          double acc = value(2 + a);
          for (std::uint64_t s = 0; s < steps; ++s) acc = std::fma(acc, value(0), value(1));
          sum += acc;
        }
        double w = t == "fp64" ? get<double>(want, 0)
                   : t == "fp32" ? get<float>(want, 0)
                                 : from_half(static_cast<std::uint16_t>(get<std::uint32_t>(want, 0)));
        EXPECT_EQ(w, sum) << d.id << " unit " << u;
      }
    }
  }
}

}  // namespace
