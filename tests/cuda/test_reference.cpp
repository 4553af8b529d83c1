// The host side of CUDA verification, checked without a GPU: the inputs are exact in their types, and an
// emulation of what each kernel computes (every step, in the accumulator's precision) equals the closed-form
// expected result that the backend compares the GPU's output with, for several iteration counts.
#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstring>
#include <map>

#include "cuda_kernels.hpp"
#include "reference.hpp"

namespace {

using namespace probe::cuda;
using probe_cuda::ComputeKernelDesc;
using probe_cuda::Family;

template <class T>
T get(const std::vector<std::uint8_t>& b, std::size_t off) {
  T v;
  std::memcpy(&v, b.data() + off, sizeof v);
  return v;
}
template <class T>
void put(std::vector<std::uint8_t>& b, std::size_t off, T v) {
  std::memcpy(b.data() + off, &v, sizeof v);
}

TEST(Encoding, SmallIntegersAreExact) {
  for (int v = -16; v <= 16; ++v) {
    EXPECT_EQ(from_half(to_half(static_cast<float>(v))), static_cast<float>(v));
  }
  EXPECT_EQ(to_half(1.0f), 0x3c00);
  EXPECT_EQ(to_half(-2.0f), 0xc000);
  EXPECT_EQ(to_bf16(1.0f), 0x3f80);
  EXPECT_EQ(to_e4m3(1.0f), 0x38);
  EXPECT_EQ(to_e4m3(3.0f), 0x44);
  EXPECT_EQ(to_e4m3(-2.0f), 0xc0);
  EXPECT_EQ(to_e5m2(1.0f), 0x3c);
  EXPECT_EQ(to_e5m2(3.0f), 0x42);
}

// Emulates one vector kernel thread step by step.
std::vector<std::uint8_t> emulate_vector(const ComputeProblem& p, std::size_t u, std::uint64_t iters) {
  const std::string_view t = p.desc->dtype;
  const std::uint64_t k = iters * probe_cuda::kVecSteps + 1;
  const std::size_t elem = t == "fp64" ? 8 : 4, base = u * probe_cuda::kVecInPerThread * elem;
  std::vector<std::uint8_t> out(elem);
  if (t == "int8") {
    const auto pw = get<std::uint32_t>(p.input, base), qw = get<std::uint32_t>(p.input, base + 4);
    std::uint32_t sum = 0;
    for (int a = 0; a < probe_cuda::kVecAcc; ++a) {
      std::uint32_t acc = get<std::uint32_t>(p.input, base + (2 + a) * 4);
      for (std::uint64_t s = 0; s < k; ++s) {
        for (int i = 0; i < 4; ++i) {
          acc += static_cast<std::uint32_t>(static_cast<std::int8_t>(pw >> (8 * i)) * static_cast<std::int8_t>(qw >> (8 * i)));
        }
      }
      sum += acc;
    }
    put(out, 0, sum);
    return out;
  }
  auto val = [&](int i) -> double {
    const std::size_t off = base + static_cast<std::size_t>(i) * elem;
    if (t == "fp64") return get<double>(p.input, off);
    if (t == "fp32") return get<float>(p.input, off);
    const auto w = get<std::uint32_t>(p.input, off);
    EXPECT_EQ(w >> 16, w & 0xffff) << "both lanes of a packed pair carry the same value";
    if (t == "fp16") return from_half(static_cast<std::uint16_t>(w));
    return std::bit_cast<float>(w << 16);
  };
  const double x = val(0), y = val(1);
  EXPECT_EQ(x, -1.0);
  double sum = 0;
  for (int a = 0; a < probe_cuda::kVecAcc; ++a) {
    double acc = val(2 + a);
    for (std::uint64_t s = 0; s < k; ++s) acc = t == "fp64" ? std::fma(acc, x, y) : std::fmaf(static_cast<float>(acc), static_cast<float>(x), static_cast<float>(y));
    sum += acc;
  }
  if (t == "fp64") put(out, 0, sum);
  else if (t == "fp32") put(out, 0, static_cast<float>(sum));
  else if (t == "fp16") put(out, 0, static_cast<std::uint32_t>(to_half(static_cast<float>(sum))) * 0x10001u);
  else put(out, 0, static_cast<std::uint32_t>(to_bf16(static_cast<float>(sum))) * 0x10001u);
  return out;
}

// Decodes an operand by reverse lookup among the small integers the generator draws.
double decode(std::string_view t, const std::vector<std::uint8_t>& b, std::size_t off) {
  if (t == "tf32") return get<float>(b, off);
  if (t == "fp64") return get<double>(b, off);
  if (t == "int8") return get<std::int8_t>(b, off);
  for (int v = -8; v <= 8; ++v) {
    const auto f = static_cast<float>(v);
    if (t == "fp16" && get<std::uint16_t>(b, off) == to_half(f)) return v;
    if (t == "bf16" && get<std::uint16_t>(b, off) == to_bf16(f)) return v;
    if (t == "fp8_e4m3" && get<std::uint8_t>(b, off) == to_e4m3(f)) return v;
    if (t == "fp8_e5m2" && get<std::uint8_t>(b, off) == to_e5m2(f)) return v;
  }
  ADD_FAILURE() << "operand not a small integer";
  return 0;
}

// Emulates one matrix unit: every step of every accumulator tile, alternating the two B tiles as the kernels do.
std::vector<std::uint8_t> emulate_matrix(const ComputeProblem& p, std::uint64_t iters) {
  const ComputeKernelDesc& d = *p.desc;
  const bool mma = d.family == Family::mma;
  const auto& s = mma ? probe_cuda::kMmaShapes[d.index] : probe_cuda::kWgShapes[d.index];
  const int acc = mma ? probe_cuda::kMmaAcc : probe_cuda::kWgAcc;
  const int steps = mma ? probe_cuda::kMmaSteps : probe_cuda::kWgSteps;
  const auto L = probe_cuda::matrix_layout(s, acc);
  const bool integer = std::string_view(d.dtype) == "int8";
  std::vector<std::uint8_t> out(L.out_per_unit);
  for (int r = 0; r < s.m; ++r) {
    for (int c = 0; c < s.n; ++c) {
      double ab[2] = {0, 0};
      for (int x = 0; x < s.k; ++x) {
        const double a = decode(d.dtype, p.input, L.a + (static_cast<std::size_t>(r) * s.k + x) * s.a_bytes);
        ab[0] += a * decode(d.dtype, p.input, L.b + (static_cast<std::size_t>(c) * s.k + x) * s.a_bytes);
        ab[1] += a * decode(d.dtype, p.input, L.b2 + (static_cast<std::size_t>(c) * s.k + x) * s.a_bytes);
      }
      const std::size_t idx = static_cast<std::size_t>(r) * s.n + c;
      std::uint32_t isum = 0;
      double fsum = 0;
      for (int t = 0; t < acc; ++t) {
        const std::size_t off = L.c + (t * s.m * s.n + idx) * s.c_bytes;
        if (integer) {
          std::uint32_t v = get<std::uint32_t>(p.input, off);
          for (std::uint64_t i = 0; i < iters; ++i) {
            for (int st = 0; st < steps; ++st) v += static_cast<std::uint32_t>(static_cast<std::int64_t>(ab[st & 1]));
          }
          v += static_cast<std::uint32_t>(static_cast<std::int64_t>(ab[0]));
          isum += v;
        } else {
          float v = s.c_bytes == 8 ? 0.0f : get<float>(p.input, off);
          double v64 = s.c_bytes == 8 ? get<double>(p.input, off) : 0.0;
          for (std::uint64_t i = 0; i < iters; ++i) {
            for (int st = 0; st < steps; ++st) {
              v += static_cast<float>(ab[st & 1]);
              v64 += ab[st & 1];
            }
          }
          v += static_cast<float>(ab[0]);
          v64 += ab[0];
          fsum += s.c_bytes == 8 ? v64 : v;
        }
      }
      if (integer) put(out, idx * 4, isum);
      else if (s.c_bytes == 8) put(out, idx * 8, fsum);
      else put(out, idx * 4, static_cast<float>(fsum));
    }
  }
  return out;
}

class EveryKernel : public ::testing::TestWithParam<std::size_t> {};

TEST_P(EveryKernel, EmulationMatchesTheClosedFormForAnyIterationCount) {
  const ComputeKernelDesc& d = probe_cuda::kComputeKernels[GetParam()];
  const std::size_t units = d.family == Family::vector ? 64 : 2;
  const ComputeProblem p = make_problem(d, units, 42);
  for (const std::uint64_t iters : {1ull, 2ull, 7ull}) {
    std::vector<std::uint8_t> out;
    for (std::size_t u = 0; u < units; ++u) {
      const auto want = expected_unit(p, u, iters);
      const auto got = d.family == Family::vector ? emulate_vector(p, u, iters) : emulate_matrix(p, iters);
      ASSERT_EQ(got, want) << d.id << " unit " << u << " iterations " << iters;
      out.insert(out.end(), got.begin(), got.end());
    }
    EXPECT_FALSE(check_output(p, out, iters)) << d.id;
    // A wrong word anywhere, or an unwritten (poisoned) unit, is a failure with its position.
    auto bad = out;
    bad[bad.size() / 2] ^= 0x10;
    EXPECT_TRUE(check_output(p, bad, iters)) << d.id;
    std::fill(bad.begin(), bad.begin() + static_cast<std::ptrdiff_t>(p.output_bytes / units), 0xA5);
    EXPECT_TRUE(check_output(p, bad, iters)) << d.id;
  }
  // The result changes with the data: a kernel that only copied its input would fail.
  if (d.family == Family::vector) {
    const auto want = expected_unit(p, 0, 1);
    EXPECT_NE(std::memcmp(want.data(), p.input.data() + 2 * want.size(), want.size()), 0);
  }
}

INSTANTIATE_TEST_SUITE_P(Cuda, EveryKernel, ::testing::Range<std::size_t>(0, probe_cuda::kComputeKernelCount),
                         [](const ::testing::TestParamInfo<std::size_t>& tp) {
                           std::string n = probe_cuda::kComputeKernels[tp.param].id;
                           for (char& c : n) {
                             if (c == '.') c = '_';
                           }
                           return n;
                         });

TEST(Integer, ExactModulo2To32ForLargeCounts) {
  const ComputeKernelDesc& d = probe_cuda::kComputeKernels[4];  // dot.int8
  ASSERT_EQ(std::string_view(d.id), "dot.int8");
  const ComputeProblem p = make_problem(d, 4, 7);
  // A count that wraps the 32-bit accumulator: the closed form and a different count disagree.
  EXPECT_NE(expected_unit(p, 0, 1'000'000'007ull), expected_unit(p, 0, 1'000'000'008ull));
}

TEST(Memory, TriadInputsAreExact) {
  for (std::size_t i = 0; i < 1000; ++i) {
    const float b = triad_value(1, 0, i), c = triad_value(1, 1, i);
    EXPECT_EQ(static_cast<double>(b + kTriadScalar * c), static_cast<double>(b) + 3.0 * c);
  }
  EXPECT_NE(memory_word(1, 0, 0), memory_word(1, 0, 1));
}

}  // namespace
