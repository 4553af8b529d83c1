// dot.int8: vpdpbusd (u8 × s8, four products summed into each int32 lane, wrapping) on 12 independent
// accumulators.
//   avx512 (AVX512_VNNI): 12 × vpdpbusd zmm per iteration; 16 lanes × 4 products × 2 OP (multiply + add) =
//     128 OP per instruction, 1536 OP per iteration.
//   avx2 (AVX-VNNI, the VEX form on Alder Lake and later, Zen 5; not Zen 4): 12 × {vex} vpdpbusd ymm;
//     8 lanes × 4 × 2 = 64 OP per instruction, 768 OP per iteration.
// Exact verification: the operands are constant, so each lane gains the same S = Σ of its 4 u8·s8 products
// every iteration and acc_n = acc_0 + n·S (mod 2^32).
#include <cstddef>

#include "kernels/cpu/compute_impl.hpp"

namespace probe::cpu::detail {
namespace {

constexpr int kProductsPerLane = 4;
constexpr int kOpPerProduct = 2;  // multiply + add
constexpr int kDotPerIteration = kAccumulators;

template <int Lanes>
struct alignas(64) In {
  std::uint32_t acc[kAccumulators][Lanes];
  std::uint8_t a[kProductsPerLane * Lanes];  // unsigned bytes
  std::int8_t b[kProductsPerLane * Lanes];   // signed bytes
};
template <int Lanes>
struct alignas(64) Out {
  std::uint32_t acc[kAccumulators][Lanes];
};
static_assert(offsetof(In<16>, a) == 12 * 64 && offsetof(In<16>, b) == 13 * 64);
static_assert(offsetof(In<8>, a) == 12 * 32 && offsetof(In<8>, b) == 13 * 32);

}  // namespace
}  // namespace probe::cpu::detail

#define DOT_ZMM(i) "vpdpbusd %%zmm13, %%zmm12, %%zmm" #i "\n\t"  // zmm_i += u8 zmm12(a) · s8 zmm13(b)
#define DOT_YMM(i) "%{vex%} vpdpbusd %%ymm13, %%ymm12, %%ymm" #i "\n\t"  // VEX (AVX-VNNI), not EVEX; %{ %} are literal braces

extern "C" {
__attribute__((noinline, used)) void probe_cpu_dot_int8_avx512(const void* in, void* out,
                                                               std::uint64_t iterations) noexcept {
  PROBE_ASM_ACC_LOOP(zmm, 64, DOT_ZMM);
}
__attribute__((noinline, used)) void probe_cpu_dot_int8_avx2(const void* in, void* out,
                                                             std::uint64_t iterations) noexcept {
  PROBE_ASM_ACC_LOOP(ymm, 32, DOT_YMM);
}
}

namespace probe::cpu::detail {
namespace {

template <int Lanes>
class DotInt8Kernel final : public ComputeKernel {
 public:
  DotInt8Kernel(const ComputeKernelInfo& info, LoopFn loop) noexcept : m_info(info), m_loop(loop) {}
  [[nodiscard]] const ComputeKernelInfo& info() const noexcept override { return m_info; }

  void prepare(std::uint64_t seed) override {
    SplitMix64 rng(seed);
    for (int l = 0; l < Lanes; ++l) {
      std::int32_t s = 0;
      do {  // S == 0 would leave the lane unchanged and hide a loop that does nothing
        s = 0;
        for (int k = 0; k < kProductsPerLane; ++k) {
          const int i = kProductsPerLane * l + k;
          m_in.a[i] = static_cast<std::uint8_t>(rng.next());
          m_in.b[i] = static_cast<std::int8_t>(static_cast<std::uint8_t>(rng.next()));
          s += static_cast<std::int32_t>(m_in.a[i]) * static_cast<std::int32_t>(m_in.b[i]);
        }
      } while (s == 0);
      m_step[l] = static_cast<std::uint32_t>(s);
      for (int a = 0; a < kAccumulators; ++a) m_in.acc[a][l] = static_cast<std::uint32_t>(rng.next());
    }
    m_out = Out<Lanes>{};
  }

  void run(std::uint64_t iterations) noexcept override { m_loop(&m_in, &m_out, iterations); }

  [[nodiscard]] std::optional<std::string> verify(std::uint64_t iterations) const override {
    int bad = 0;
    std::string first;
    const auto n = static_cast<std::uint32_t>(iterations);  // everything is mod 2^32
    for (int a = 0; a < kAccumulators; ++a) {
      for (int l = 0; l < Lanes; ++l) {
        const std::uint32_t want = m_in.acc[a][l] + n * m_step[l];
        const std::uint32_t got = m_out.acc[a][l];
        if (want != got && bad++ == 0) {
          first = "accumulator " + std::to_string(a) + " lane " + std::to_string(l) + ": got " +
                  std::to_string(static_cast<std::int32_t>(got)) + ", expected " +
                  std::to_string(static_cast<std::int32_t>(want));
        }
      }
    }
    if (bad == 0) return std::nullopt;
    return std::string(m_info.id) + "/" + std::string(m_info.variant) + " after " + std::to_string(iterations) +
           " iterations: " + std::to_string(bad) + " of " + std::to_string(kAccumulators * Lanes) +
           " lanes differ from the host reference; first: " + first;
  }

  void inject_error() noexcept override { m_out.acc[kAccumulators / 2][Lanes - 1] ^= 1U; }

 private:
  const ComputeKernelInfo& m_info;
  LoopFn m_loop;
  In<Lanes> m_in{};
  Out<Lanes> m_out{};
  std::uint32_t m_step[Lanes]{};
};

constexpr int kZmmLanes = 16;
constexpr int kYmmLanes = 8;
using ZmmKernel = DotInt8Kernel<kZmmLanes>;
using YmmKernel = DotInt8Kernel<kYmmLanes>;

const ComputeKernelInfo& avx512_info() {
  static constexpr ComputeKernelInfo k{
      "dot.int8",       "avx512", Isa::avx512, DType::int8, "vpdpbusd zmm", kDotPerIteration,
      kZmmLanes * kProductsPerLane * kOpPerProduct,
      "2 OP per u8·s8 product (multiply + add), 4 products per int32 lane, 16 lanes: 128 OP per instruction"};
  return k;
}
const ComputeKernelInfo& avx2_info() {
  static constexpr ComputeKernelInfo k{
      "dot.int8",       "avx2", Isa::avx2, DType::int8, "{vex} vpdpbusd ymm", kDotPerIteration,
      kYmmLanes * kProductsPerLane * kOpPerProduct,
      "2 OP per u8·s8 product (multiply + add), 4 products per int32 lane, 8 lanes: 64 OP per instruction"};
  return k;
}

bool avx512_supported(const CpuFeatures& f) noexcept { return f.avx512f && f.avx512_vnni; }
// AVX-VNNI only: a CPU with AVX512_VNNI but not AVX-VNNI (Zen 4, Ice Lake) faults on the VEX encoding.
bool avx2_supported(const CpuFeatures& f) noexcept { return f.avx2 && f.avx_vnni; }

}  // namespace

std::span<const ComputeEntry> dot_int8_entries() {
  static const ComputeEntry entries[] = {
      PROBE_COMPUTE_ENTRY(avx512_info, ZmmKernel, probe_cpu_dot_int8_avx512, avx512_supported),
      PROBE_COMPUTE_ENTRY(avx2_info, YmmKernel, probe_cpu_dot_int8_avx2, avx2_supported),
  };
  return entries;
}

}  // namespace probe::cpu::detail
