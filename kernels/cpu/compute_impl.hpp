#pragma once
// Host side of the compute kernels: operand drawing and the exact host references. The asm loops live in the
// kernel files; this header is shared by them (baseline TUs only, see detail.hpp).
//
// Every asm loop has the signature loop(in, out, n): it loads 12 accumulators and the operand vectors from `in`
// (accumulator i at byte i*V, operands at 12*V and 13*V, V = vector bytes), runs n iterations, and stores the
// 12 accumulators to `out`. So every run(n) starts from the same initial values.
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <sstream>
#include <string>
#include <type_traits>

#include "kernels/cpu/detail.hpp"

namespace probe::cpu::detail {

using LoopFn = void (*)(const void* in, void* out, std::uint64_t iterations) noexcept;

// A registry entry whose audited symbol is, by construction, the name of the loop function the kernel calls.
#define PROBE_COMPUTE_ENTRY(INFO_FN, KERNEL, LOOP_FN, SUPPORTED)                                   \
  ::probe::cpu::detail::ComputeEntry {                                                              \
    &INFO_FN(), #LOOP_FN, SUPPORTED,                                                                \
        [] { return std::unique_ptr<::probe::cpu::ComputeKernel>(new KERNEL(INFO_FN(), LOOP_FN)); } \
  }

// ---- IEEE binary16 helpers (the fp16 kernel's host reference; no native fp16 arithmetic on the host) ----

[[nodiscard]] inline double fp16_to_double(std::uint16_t h) noexcept {
  const int exp = (h >> 10) & 0x1f;
  const int man = h & 0x3ff;
  double v = 0;
  if (exp == 0) {
    v = std::ldexp(static_cast<double>(man), -24);
  } else if (exp == 31) {
    v = man ? NAN : INFINITY;
  } else {
    v = std::ldexp(static_cast<double>(man | 0x400), exp - 25);
  }
  return (h & 0x8000) ? -v : v;
}

// Round to nearest, ties to even (the hardware's default); handles subnormals and overflow to infinity.
[[nodiscard]] inline std::uint16_t double_to_fp16(double d) noexcept {
  const std::uint16_t sign = std::signbit(d) ? 0x8000 : 0;
  double a = std::fabs(d);
  if (std::isnan(d)) return static_cast<std::uint16_t>(sign | 0x7e00);
  if (a >= 65520.0) return static_cast<std::uint16_t>(sign | 0x7c00);  // rounds past the largest finite (65504)
  int e = 0;
  (void)std::frexp(a, &e);  // a = f·2^e, f in [0.5, 1)
  // Quantum (ulp) of the fp16 result: 2^(e-11) for normals, 2^-24 for subnormals.
  const int q = e - 11 < -24 ? -24 : e - 11;
  const double scaled = std::ldexp(a, -q);        // exact: only shifts the exponent
  const double r = std::nearbyint(scaled);        // default rounding mode: to nearest even
  const double v = std::ldexp(r, q);
  // Re-encode v (exactly representable now; rounding may have carried into the next binade).
  if (v == 0) return sign;
  int ve = 0;
  (void)std::frexp(v, &ve);
  if (ve - 1 < -14) {  // subnormal: value = man · 2^-24
    return static_cast<std::uint16_t>(sign | static_cast<std::uint16_t>(std::ldexp(v, 24)));
  }
  if (ve - 1 > 15) return static_cast<std::uint16_t>(sign | 0x7c00);
  const auto man = static_cast<std::uint32_t>(std::ldexp(v, 11 - ve)) & 0x3ffU;  // 11 significant bits, drop the hidden one
  return static_cast<std::uint16_t>(sign | static_cast<std::uint32_t>(ve - 1 + 15) << 10 | man);
}

// ---- FMA-style recurrence x <- f(x, m, c), contracting (|m| <= 0.95) --------------------------------------

// Reference steps. The host computes exactly what the hardware computes: one IEEE rounding for a fused
// multiply-add, two for mul then add (this library is built with -ffp-contract=off so mul+add stays two ops).
struct Fp64Fused {
  using Elem = double;
  static Elem step(Elem x, Elem m, Elem c) noexcept { return std::fma(x, m, c); }
  static Elem from_double(double d) noexcept { return d; }
};
struct Fp64MulAdd {
  using Elem = double;
  static Elem step(Elem x, Elem m, Elem c) noexcept {
    const Elem p = x * m;
    return p + c;
  }
  static Elem from_double(double d) noexcept { return d; }
};
struct Fp32Fused {
  using Elem = float;
  static Elem step(Elem x, Elem m, Elem c) noexcept { return std::fma(x, m, c); }
  static Elem from_double(double d) noexcept { return static_cast<float>(d); }
};
struct Fp32MulAdd {
  using Elem = float;
  static Elem step(Elem x, Elem m, Elem c) noexcept {
    const Elem p = x * m;
    return p + c;
  }
  static Elem from_double(double d) noexcept { return static_cast<float>(d); }
};
// binary16 stored as its bits. x·m (11×11 significant bits) and the sum with c are exact in double for the
// magnitudes drawn here (|x| in [0.1, 40], |c| in [0.5, 2), same sign), so rounding that double once to fp16
// is exactly the single rounding of a fused multiply-add.
struct Fp16Fused {
  using Elem = std::uint16_t;
  static Elem step(Elem x, Elem m, Elem c) noexcept {
    return double_to_fp16(fp16_to_double(x) * fp16_to_double(m) + fp16_to_double(c));
  }
  static Elem from_double(double d) noexcept { return double_to_fp16(d); }
};

template <class Elem>
[[nodiscard]] std::string show(Elem v) {
  std::ostringstream s;
  if constexpr (std::is_same_v<Elem, std::uint16_t>) {
    s << fp16_to_double(v);
  } else {
    s.precision(17);
    s << static_cast<double>(v);
  }
  s << " (0x" << std::hex << static_cast<std::uint64_t>(bits_of(v)) << ")";
  return s.str();
}

// The recurrence becomes periodic once it has contracted to within rounding of its fixed point (a few hundred
// iterations for m <= 0.95). The reference iterates until x_i == x_{i-p} for some p <= kMaxPeriod, then
// answers any n by index arithmetic: n >= start gives cycle[(n - start) mod period].
template <class Traits>
class FmaReference {
 public:
  using Elem = typename Traits::Elem;
  static constexpr int kMaxPeriod = 8;
  static constexpr std::uint32_t kMaxSteps = 200000;

  // False if no short cycle appeared within kMaxSteps (the caller draws other operands).
  bool build(Elem x0, Elem m, Elem c) noexcept {
    m_x0 = x0;
    m_m = m;
    m_c = c;
    std::array<Elem, 16> hist{};  // x_{i-15} .. x_i, indexed by i mod 16
    hist[0] = x0;
    Elem x = x0;
    for (std::uint32_t i = 1; i <= kMaxSteps; ++i) {
      x = Traits::step(x, m, c);
      for (std::uint32_t p = 1; p <= kMaxPeriod && p <= i; ++p) {
        if (bits_of(x) == bits_of(hist[(i - p) & 15])) {
          m_start = i - p;
          m_period = p;
          for (std::uint32_t j = 0; j < p; ++j) m_cycle[j] = hist[(m_start + j) & 15];
          return true;
        }
      }
      hist[i & 15] = x;
    }
    return false;
  }

  [[nodiscard]] Elem at(std::uint64_t n) const noexcept {
    if (n >= m_start) return m_cycle[(n - m_start) % m_period];
    Elem x = m_x0;
    for (std::uint64_t i = 0; i < n; ++i) x = Traits::step(x, m_m, m_c);
    return x;
  }
  [[nodiscard]] std::uint32_t start() const noexcept { return m_start; }

 private:
  Elem m_x0{}, m_m{}, m_c{};
  std::uint32_t m_start = 0, m_period = 1;
  std::array<Elem, kMaxPeriod> m_cycle{};
};

template <class Traits, int Lanes>
class FmaKernel final : public ComputeKernel {
 public:
  using Elem = typename Traits::Elem;
  struct alignas(64) In {
    Elem acc[kAccumulators][Lanes];
    Elem m[Lanes];
    Elem c[Lanes];
  };
  struct alignas(64) Out {
    Elem acc[kAccumulators][Lanes];
  };

  FmaKernel(const ComputeKernelInfo& info, LoopFn loop) noexcept : m_info(info), m_loop(loop) {}

  [[nodiscard]] const ComputeKernelInfo& info() const noexcept override { return m_info; }

  void prepare(std::uint64_t seed) override {
    SplitMix64 rng(seed);
    for (int l = 0; l < Lanes; ++l) draw_lane(rng, l);
    m_out = Out{};
  }

  void run(std::uint64_t iterations) noexcept override { m_loop(&m_in, &m_out, iterations); }

  [[nodiscard]] std::optional<std::string> verify(std::uint64_t iterations) const override {
    int bad = 0;
    std::string first;
    for (int a = 0; a < kAccumulators; ++a) {
      for (int l = 0; l < Lanes; ++l) {
        const Elem want = m_ref[a][l].at(iterations);
        const Elem got = m_out.acc[a][l];
        if (bits_of(want) != bits_of(got)) {
          if (bad++ == 0) {
            first = "accumulator " + std::to_string(a) + " lane " + std::to_string(l) + ": got " + show(got) +
                    ", expected " + show(want);
          }
        }
      }
    }
    if (bad == 0) return std::nullopt;
    return std::string(m_info.id) + "/" + std::string(m_info.variant) + " after " + std::to_string(iterations) +
           " iterations: " + std::to_string(bad) + " of " + std::to_string(kAccumulators * Lanes) +
           " lanes differ from the host reference; first: " + first;
  }

  void inject_error() noexcept override {
    auto b = bits_of(m_out.acc[kAccumulators / 2][Lanes - 1]);
    b ^= 1U;  // one ulp: verification is exact, so even the smallest error must show
    m_out.acc[kAccumulators / 2][Lanes - 1] = std::bit_cast<Elem>(b);
  }

 private:
  void draw_lane(SplitMix64& rng, int l) {
    for (;;) {
      const double sign = (rng.next() & 1) ? -1.0 : 1.0;
      const Elem m = Traits::from_double(rng.uniform(0.5, 0.95));
      const Elem c = Traits::from_double(sign * rng.uniform(0.5, 2.0));
      bool ok = true;
      for (int a = 0; a < kAccumulators && ok; ++a) {
        // Same sign as c: x stays away from zero (no subnormal or cancellation questions), distinct per acc.
        const Elem x0 = Traits::from_double(sign * rng.uniform(0.1, 40.0));
        m_in.acc[a][l] = x0;
        ok = m_ref[a][l].build(x0, m, c);
      }
      if (ok) {
        m_in.m[l] = m;
        m_in.c[l] = c;
        return;
      }
    }
  }

  const ComputeKernelInfo& m_info;
  LoopFn m_loop;
  In m_in{};
  Out m_out{};
  FmaReference<Traits> m_ref[kAccumulators][Lanes];
};

// Test hook: AMX kernel `id` ("amx.bf16", "amx.fp16", "amx.int8") driven by `loop`, a software emulation of
// the tile instructions over the same memory layout (tile configuration, then 4 accumulator, 2 A and 2 B tiles
// of 1 KiB each; 4 accumulator tiles out), so the host reference of a kernel this CPU cannot run is still
// exercised. Needs no tile permission. nullptr for an unknown id.
[[nodiscard]] std::unique_ptr<ComputeKernel> make_amx_kernel_for_test(std::string_view id, LoopFn loop);

}  // namespace probe::cpu::detail
