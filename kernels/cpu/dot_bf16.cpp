// dot.bf16, AVX-512 BF16: one loop iteration = 12 × vdpbf16ps zmm on 12 independent accumulators.
//   Each fp32 lane gets two bf16 products: 16 lanes × 2 products × 2 FLOP (multiply + add) = 64 FLOP per
//   instruction, 768 FLOP per iteration.
//
// Exact verification. vdpbf16ps computes acc += a_odd·b_odd + a_even·b_even (round to nearest even, denormals
// flushed; the order of the two adds is not guaranteed across CPUs). The operands make every step exact, so
// neither rounding nor order matters:
//   - accumulators stay in [512, 1024) where the fp32 ulp is 2^-14, and are multiples of 2^-14;
//   - per lane one product is p1 = x·y with bf16 x, y in ±[1, 2) (multiple of 2^-14, |p1| < 4, exact), the
//     other p0 = (-x)·y' with y' the bf16 neighbour of y, so the net drift per iteration is d = x·(y - y') =
//     ∓x·2^-7, |d| < 2^-6, a multiple of 2^-14;
//   - the loop runs in chunks of at most kChunk = 2^13 iterations, each chunk restarting from acc_0 in
//     [648, 888]: |drift| < 2^13·2^-6 = 128 and |p| < 4, so every intermediate stays in [516, 1020).
// Hence after the last chunk of n_last iterations, acc == acc_0 + n_last·d exactly.
#include <algorithm>
#include <cstddef>

#include "kernels/cpu/compute_impl.hpp"

namespace probe::cpu::detail {
namespace {

constexpr int kVectorBytes = 64;
constexpr int kLanes = kVectorBytes / 4;      // fp32 accumulator lanes
constexpr int kProductsPerLane = 2;           // bf16 pairs per fp32 lane
constexpr int kFlopPerProduct = 2;            // multiply + add
constexpr int kDotPerIteration = kAccumulators;
constexpr std::uint64_t kChunk = 1ULL << 13;  // keeps the accumulators in their binade (see above)

struct alignas(64) In {
  float acc[kAccumulators][kLanes];
  std::uint16_t a[2 * kLanes];  // bf16 bits
  std::uint16_t b[2 * kLanes];
};
struct alignas(64) Out {
  float acc[kAccumulators][kLanes];
};
static_assert(offsetof(In, a) == 12 * kVectorBytes && offsetof(In, b) == 13 * kVectorBytes);

}  // namespace
}  // namespace probe::cpu::detail

#define DOT(i) "vdpbf16ps %%zmm13, %%zmm12, %%zmm" #i "\n\t"  // zmm_i += pairs of zmm12(a) · zmm13(b)

extern "C" __attribute__((noinline, used)) void probe_cpu_dot_bf16_avx512(const void* in, void* out,
                                                                          std::uint64_t iterations) noexcept {
  PROBE_ASM_ACC_LOOP(zmm, 64, DOT);
}

namespace probe::cpu::detail {
namespace {

[[nodiscard]] double bf16_to_double(std::uint16_t h) noexcept {
  return static_cast<double>(std::bit_cast<float>(static_cast<std::uint32_t>(h) << 16));
}

class DotBf16Kernel final : public ComputeKernel {
 public:
  DotBf16Kernel(const ComputeKernelInfo& info, LoopFn loop) noexcept : m_info(info), m_loop(loop) {}
  [[nodiscard]] const ComputeKernelInfo& info() const noexcept override { return m_info; }

  void prepare(std::uint64_t seed) override {
    SplitMix64 rng(seed);
    for (int l = 0; l < kLanes; ++l) {
      // bf16 in ±[1, 2): exponent 127, random 7-bit mantissa.
      const auto x = static_cast<std::uint16_t>((rng.next() & 1) << 15 | 0x3f80 | rng.below(128));
      const auto y = static_cast<std::uint16_t>((rng.next() & 1) << 15 | 0x3f80 | rng.below(128));
      // The neighbour of y inside the binade: next one up unless the mantissa is all ones.
      const auto y_next = static_cast<std::uint16_t>((y & 0x7f) == 0x7f ? y - 1 : y + 1);
      const auto neg_x = static_cast<std::uint16_t>(x ^ 0x8000);
      // Which slot (even/odd bf16 of the lane) holds which product is random too.
      const int s1 = static_cast<int>(rng.next() & 1);
      m_in.a[2 * l + s1] = x;
      m_in.b[2 * l + s1] = y;
      m_in.a[2 * l + 1 - s1] = neg_x;
      m_in.b[2 * l + 1 - s1] = y_next;
      m_drift[l] = bf16_to_double(x) * bf16_to_double(y) + bf16_to_double(neg_x) * bf16_to_double(y_next);
      for (int a = 0; a < kAccumulators; ++a) {
        // A multiple of 2^-14 in [648, 888).
        m_in.acc[a][l] = static_cast<float>(648.0 + static_cast<double>(rng.below(240U << 14)) * 0x1p-14);
      }
    }
    m_out = Out{};
  }

  void run(std::uint64_t iterations) noexcept override {
    std::uint64_t left = iterations;
    do {
      const std::uint64_t n = std::min(left, kChunk);
      m_loop(&m_in, &m_out, n);
      left -= n;
    } while (left > 0);
  }

  [[nodiscard]] std::optional<std::string> verify(std::uint64_t iterations) const override {
    const std::uint64_t n_last = iterations == 0 ? 0 : (iterations - 1) % kChunk + 1;
    int bad = 0;
    std::string first;
    for (int a = 0; a < kAccumulators; ++a) {
      for (int l = 0; l < kLanes; ++l) {
        // Exact in double and in float (see the top of this file).
        const auto want = static_cast<float>(static_cast<double>(m_in.acc[a][l]) +
                                             static_cast<double>(n_last) * m_drift[l]);
        const float got = m_out.acc[a][l];
        if (bits_of(want) != bits_of(got) && bad++ == 0) {
          first = "accumulator " + std::to_string(a) + " lane " + std::to_string(l) + ": got " + show(got) +
                  ", expected " + show(want);
        }
      }
    }
    if (bad == 0) return std::nullopt;
    return std::string(m_info.id) + "/" + std::string(m_info.variant) + " after " + std::to_string(iterations) +
           " iterations (last chunk " + std::to_string(n_last) + "): " + std::to_string(bad) + " of " +
           std::to_string(kAccumulators * kLanes) + " lanes differ from the host reference; first: " + first;
  }

  void inject_error() noexcept override {
    float& v = m_out.acc[kAccumulators / 2][kLanes - 1];
    v = std::bit_cast<float>(bits_of(v) ^ 1U);
  }

 private:
  const ComputeKernelInfo& m_info;
  LoopFn m_loop;
  In m_in{};
  Out m_out{};
  double m_drift[kLanes]{};
};

const ComputeKernelInfo& info() {
  static constexpr ComputeKernelInfo k{
      "dot.bf16",       "avx512", Isa::avx512, DType::bf16, "vdpbf16ps zmm", kDotPerIteration,
      kLanes * kProductsPerLane * kFlopPerProduct,
      "2 FLOP per bf16 product (multiply + add), 2 products per fp32 lane, 16 lanes: 64 FLOP per instruction"};
  return k;
}

bool supported(const CpuFeatures& f) noexcept { return f.avx512f && f.avx512_bf16; }

}  // namespace

std::span<const ComputeEntry> dot_bf16_entries() {
  static const ComputeEntry entries[] = {
      PROBE_COMPUTE_ENTRY(info, DotBf16Kernel, probe_cpu_dot_bf16_avx512, supported),
  };
  return entries;
}

}  // namespace probe::cpu::detail
