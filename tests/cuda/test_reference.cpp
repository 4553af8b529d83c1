// The host side of CUDA verification, checked without a GPU: the inputs are exact in their types, and an
// emulation of what each kernel computes (every step, in the accumulator's precision) equals the closed-form
// expected result that the backend compares the GPU's output with, for several iteration counts.
#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstring>
#include <chrono>
#include <map>
#include <thread>

#include "cuda_kernels.hpp"
#include "fma_lanes.hpp"
#include "sustain.hpp"
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

// Decodes an operand: wide types from their bits, FP8 by reverse lookup among the integers it can hold exactly.
double decode(std::string_view t, const std::vector<std::uint8_t>& b, std::size_t off) {
  if (t == "tf32") return get<float>(b, off);
  if (t == "fp64") return get<double>(b, off);
  if (t == "int8") return get<std::int8_t>(b, off);
  if (t == "fp16") return from_half(get<std::uint16_t>(b, off));
  if (t == "bf16") return std::bit_cast<float>(static_cast<std::uint32_t>(get<std::uint16_t>(b, off)) << 16);
  for (int v = -16; v <= 16; ++v) {
    const auto f = static_cast<float>(v);
    if (t == "fp8_e4m3" && get<std::uint8_t>(b, off) == to_e4m3(f)) return v;
    if (t == "fp8_e5m2" && get<std::uint8_t>(b, off) == to_e5m2(f)) return v;
  }
  ADD_FAILURE() << "FP8 operand not an integer of magnitude <= 16";
  return 0;
}

// The vector kernels' addend and accumulators: integers with a fixed exponent (2^19 for fp32: 19 random mantissa
// bits), both signs; the emulation test proves the steps exact.
TEST(VectorOperands, Fp32ValuesHaveTheDocumentedExponent) {
  const ComputeKernelDesc& d = probe_cuda::kComputeKernels[1];
  ASSERT_EQ(std::string_view(d.id), "fma.fp32");
  const ComputeProblem p = make_problem(d, 32, 5);
  bool negative = false, positive = false;
  for (std::size_t u = 0; u < 32; ++u) {
    for (int i = 1; i < probe_cuda::kVecInPerThread; ++i) {
      const float v = get<float>(p.input, (u * probe_cuda::kVecInPerThread + static_cast<std::size_t>(i)) * 4);
      EXPECT_GE(std::fabs(v), 524288.0f);  // 2^19
      EXPECT_LT(std::fabs(v), 1048576.0f);
      (v < 0 ? negative : positive) = true;
    }
  }
  EXPECT_TRUE(negative && positive);
}

// The matrix operands keep every sum exact (gpu_ref::operand_range's bound, for this kernel's K) and are busy:
// fixed exponent, random sign, and each documented mantissa bit takes both values across the operand.
TEST(MatrixOperands, ExactForTheKernelsKAndBusyInTheirMantissas) {
  for (const ComputeKernelDesc& d : probe_cuda::kComputeKernels) {
    if (d.family == Family::vector) continue;
    const bool mma = d.family == Family::mma;
    const auto& s = mma ? probe_cuda::kMmaShapes[d.index] : probe_cuda::kWgShapes[d.index];
    const auto ra = probe::gpu_ref::operand_range(d.dtype, false), rb = probe::gpu_ref::operand_range(d.dtype, true);
    EXPECT_LT(s.k * ra.hi * rb.hi + 64, probe::gpu_ref::operand_sum_bound(d.dtype)) << d.id;
    const ComputeProblem p = make_problem(d, 1, 99);
    const auto L = probe_cuda::matrix_layout(s, mma ? probe_cuda::kMmaAcc : probe_cuda::kWgAcc);
    for (const bool b_op : {false, true}) {
      const std::size_t base = b_op ? L.b : L.a, count = static_cast<std::size_t>(b_op ? s.n : s.m) * s.k;
      const auto r = b_op ? rb : ra;
      std::uint64_t any = 0, all = ~std::uint64_t{0};
      bool negative = false, positive = false;
      for (std::size_t i = 0; i < count; ++i) {
        const double v = decode(d.dtype, p.input, base + i * s.a_bytes);
        ASSERT_EQ(v, std::floor(v)) << d.id;
        const auto m = static_cast<std::int64_t>(std::fabs(v));
        (v < 0 ? negative : positive) = true;
        if (std::string_view(d.dtype) == "int8") {
          EXPECT_NE(m, 0) << d.id;
          continue;
        }
        ASSERT_GE(m, r.lo) << d.id;
        ASSERT_LE(m, r.hi) << d.id;
        any |= static_cast<std::uint64_t>(m - r.lo);
        all &= static_cast<std::uint64_t>(m - r.lo);
      }
      EXPECT_TRUE(negative && positive) << d.id;
      if (std::string_view(d.dtype) == "int8") continue;
      const std::uint64_t bits = (std::uint64_t{1} << r.mantissa_bits) - 1;
      EXPECT_EQ(any & bits, bits) << d.id << (b_op ? " B" : " A") << ": a mantissa bit never set";
      EXPECT_EQ(all & bits, 0u) << d.id << (b_op ? " B" : " A") << ": a mantissa bit always set";
    }
  }
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

// The FP64 vector peak of B300 (cc 10.3) is about 1.2 TFLOPS, not GB100's 64 lanes per SM (about 37): 2 lanes.
TEST(FmaLanes, BlackwellUltraHasFewFp64Lanes) {
  using probe::cuda::fma_lanes_per_sm;
  EXPECT_EQ(fma_lanes_per_sm(100, "fp64"), 64);
  EXPECT_EQ(fma_lanes_per_sm(103, "fp64"), 2);
  EXPECT_EQ(fma_lanes_per_sm(103, "fp32"), 128);
  EXPECT_EQ(fma_lanes_per_sm(90, "fp64"), 64);
  EXPECT_EQ(fma_lanes_per_sm(89, "fp64"), 2);
  EXPECT_FALSE(fma_lanes_per_sm(75, "fp32").has_value());
  // The derived peak stays within the datasheet's order: 148 SMs x 2 lanes x 2 FLOP x 2.0 GHz = 1.18 TFLOPS.
  const double b300_fp64 = 148.0 * *fma_lanes_per_sm(103, "fp64") * 2 * 2.0e9;
  EXPECT_GT(b300_fp64, 0.8e12);
  EXPECT_LT(b300_fp64, 1.6e12);
}

// ---- The sustained phase's vendor-neutral part (probes/gpu/sustain.hpp) with a stand-in runner ----------------
namespace {
// Each run "takes" 2 ms of device time and 2 ms of wall time; verify fails when told to.
class StandInRunner final : public probe::SampleRunner {
 public:
  double run(std::uint64_t iterations) override {
    ++runs;
    last_iterations = iterations;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
    return 0.002;
  }
  std::optional<std::string> verify(std::uint64_t, bool final) override {
    ++verifies;
    finals += final ? 1 : 0;
    return fail ? std::optional<std::string>("unit 3 differs") : std::nullopt;
  }
  double work(std::uint64_t iterations) const override { return 1e6 * static_cast<double>(iterations); }
  int runs = 0, verifies = 0, finals = 0;
  std::uint64_t last_iterations = 0;
  bool fail = false;
};
}  // namespace

TEST(Sustain, RunsBackToBackForTheTimeThenVerifiesOnce) {
  using namespace probe::gpu_sustain;
  StandInRunner r;
  const SustainRun run = run_sustained(r, 7, 0.05, [] { return false; });
  EXPECT_GE(run.wall_s, 0.05);
  EXPECT_GE(r.runs, 2);
  EXPECT_EQ(run.launches, static_cast<std::uint64_t>(r.runs));
  EXPECT_NEAR(run.kernel_s, 0.002 * r.runs, 1e-12);
  EXPECT_EQ(r.last_iterations, 7u);
  EXPECT_EQ(r.verifies, 1);  // nothing checked in between: back to back
  EXPECT_EQ(r.finals, 1);
  EXPECT_FALSE(run.failure);
  EXPECT_FALSE(run.interrupted);
  // At least one launch even for a zero-length phase; a stop request ends it early.
  StandInRunner once;
  EXPECT_EQ(run_sustained(once, 1, 0, [] { return false; }).launches, 1u);
  StandInRunner stopped;
  const SustainRun s = run_sustained(stopped, 1, 60, [] { return true; });
  EXPECT_TRUE(s.interrupted);
  EXPECT_EQ(s.launches, 1u);
}

TEST(Sustain, FigureCheckAndPeakAtThePhasesClock) {
  using namespace probe::gpu_sustain;
  StandInRunner r;
  probe::Measurement m;
  m.status = probe::Status::ok;
  m.stats = probe::Stats::from_samples({1e12, 1e12, 1e12});
  m.conditions.clock_hz = 1.98e9;  // the sampling phase's clock
  probe::SustainedPhase p;
  p.core_clock_hz = probe::trace_of({1.7e9, 1.76e9, 1.8e9});
  const SustainRun run = run_sustained(r, 10, 0.01, [] { return false; });
  finish_sustained(m, p, run, r.work(10));
  ASSERT_TRUE(m.sustained);
  EXPECT_NEAR(m.sustained->value, 1e7 * static_cast<double>(run.launches) / run.kernel_s, 1);
  EXPECT_TRUE(m.sustained->verified_after);
  EXPECT_EQ(m.conditions.clock_hz, 1.98e9);  // the sampling figure keeps its own clock
  m.theoretical = 2e12;                      // at 1.98 GHz
  sustained_peak(m, true);
  EXPECT_NEAR(*m.sustained->theoretical, 2e12 * 1.76 / 1.98, 1);
  sustained_peak(m, false);  // memory: the same peak
  EXPECT_EQ(*m.sustained->theoretical, 2e12);
  // A wrong result after the phase fails the measurement.
  StandInRunner bad;
  bad.fail = true;
  probe::Measurement f = m;
  finish_sustained(f, p, run_sustained(bad, 1, 0, [] { return false; }), 1);
  EXPECT_EQ(f.status, probe::Status::failed);
  EXPECT_EQ(f.reason, "sustained phase: unit 3 differs");
  EXPECT_FALSE(f.sustained->verified_after);
}
