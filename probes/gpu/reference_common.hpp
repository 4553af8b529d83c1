#pragma once
// The parts of the host references that are the same for the CUDA and HIP backends (probes/cuda/reference.cpp,
// probes/hip/reference.cpp): bit encodings of small exact values, byte-buffer access, the random multiplicands,
// the memory kernels' array contents and the unit-by-unit comparison of a kernel's output with its expected bytes.
// Pure C++ (no GPU runtime): unit-tested with each backend's reference.
#include <bit>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <fmt/format.h>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "../../kernels/common/gpu_hash.hpp"

namespace probe::gpu_ref {

// A float with `mbits` mantissa bits and exponent bias `bias`, for exactly representable normal values.
inline std::uint32_t encode(float v, int ebits, int mbits, int bias) {
  if (v == 0) return 0;
  const std::uint32_t sign = v < 0 ? 1u : 0u;
  int e = 0;
  const float m = std::frexp(std::fabs(v), &e);  // v = m·2^e, m in [0.5, 1)
  const int exp = e - 1 + bias;
  const auto mant = static_cast<std::uint32_t>(std::lround((m * 2 - 1) * static_cast<float>(1 << mbits)));
  return (sign << (ebits + mbits)) | (static_cast<std::uint32_t>(exp) << mbits) | mant;
}

template <class T>
void put(std::vector<std::uint8_t>& buf, std::size_t offset, T v) {
  std::memcpy(buf.data() + offset, &v, sizeof v);
}
template <class T>
T get(const std::vector<std::uint8_t>& buf, std::size_t offset) {
  T v;
  std::memcpy(&v, buf.data() + offset, sizeof v);
  return v;
}

// Multiplicands of the matrix (tensor core) kernels. Low-entropy data such as zeros or small integers makes the
// multipliers toggle less, draws less power and can hold a higher clock than real work (a figure inflated by our
// inputs), so the operands are busy where it costs power: a random sign, a fixed exponent per operand and random
// mantissa bits (integers in [lo, hi], hi = 2·lo − 1, whose bits below the leading one are the mantissa). They stay
// integers small enough that every product, partial sum and accumulator value is exact in any summation order,
// also with truncating tensor-core adders: K·hi_a·hi_b + 64 (the largest initial accumulator) < 2^21 for FP32
// accumulation, so that even the element-wise sum of 8 tiles stays below 2^24; < 2^13 for FP8, whose Hopper
// accumulation keeps about 14 bits; < 2^50 for FP64. Checked for every kernel's K by the backends' unit tests.
struct OperandRange {
  std::int64_t lo, hi;
  int mantissa_bits;  // random mantissa bits of the type's stored ones
};
[[nodiscard]] inline OperandRange operand_range(std::string_view t, bool b_operand) {
  if (t == "fp16") return b_operand ? OperandRange{128, 255, 7} : OperandRange{256, 511, 8};  // of 10
  if (t == "bf16") return {128, 255, 7};                                                      // of 7: all
  if (t == "tf32") return b_operand ? OperandRange{128, 255, 7} : OperandRange{512, 1023, 9};  // of 10
  if (t == "fp32") return b_operand ? OperandRange{128, 255, 7} : OperandRange{1024, 2047, 10};  // of 23
  if (t == "fp64") return {std::int64_t{1} << 23, (std::int64_t{1} << 24) - 1, 23};           // of 52
  if (t == "fp8_e4m3") return {8, 15, 3};                                                     // of 3: all
  if (t == "fp8_e5m2") return {4, 7, 2};                                                      // of 2: all
  return {1, 128, 7};  // int8: every non-zero value in [-128, 127]
}
// The accumulation bound the ranges keep to (exclusive), by A/B type.
[[nodiscard]] inline std::int64_t operand_sum_bound(std::string_view t) {
  if (t == "fp64") return std::int64_t{1} << 50;
  if (t == "fp8_e4m3" || t == "fp8_e5m2") return std::int64_t{1} << 13;
  return std::int64_t{1} << 21;
}
[[nodiscard]] inline std::int64_t matrix_operand(std::mt19937_64& rng, std::string_view t, bool b_operand) {
  const OperandRange r = operand_range(t, b_operand);
  if (t == "int8") {
    std::uniform_int_distribution<int> d(-128, 126);
    const int v = d(rng);
    return v >= 0 ? v + 1 : v;  // -128 … -1, 1 … 127
  }
  std::uniform_int_distribution<std::int64_t> d(r.lo, r.hi);
  std::bernoulli_distribution s(0.5);
  const std::int64_t v = d(rng);
  return s(rng) ? v : -v;
}

// Bit encodings of small exactly representable values.
[[nodiscard]] inline std::uint16_t to_half(float v) { return static_cast<std::uint16_t>(encode(v, 5, 10, 15)); }
[[nodiscard]] inline std::uint16_t to_bf16(float v) {
  return static_cast<std::uint16_t>(std::bit_cast<std::uint32_t>(v) >> 16);
}
[[nodiscard]] inline float from_half(std::uint16_t h) {
  const int e = (h >> 10) & 0x1f, m = h & 0x3ff;
  const float sign = (h & 0x8000) ? -1.0f : 1.0f;
  if (e == 0) return sign * std::ldexp(static_cast<float>(m), -24);
  return sign * std::ldexp(1.0f + static_cast<float>(m) / 1024.0f, e - 15);
}

// Deterministic content of the memory kernels' arrays: word i of array `which` (kernels/common/gpu_hash.hpp, the
// same source the device fill and check kernels compile).
[[nodiscard]] inline std::uint32_t memory_word(std::uint64_t seed, int which, std::size_t i) {
  return probe_gpu_hash::memory_word(seed, which, i);
}
// Triad's fp32 inputs: small integers, so a = b + 3·c is exact.
[[nodiscard]] inline float triad_value(std::uint64_t seed, int which, std::size_t i) {
  return probe_gpu_hash::triad_value(seed, which, i);
}
inline constexpr float kTriadScalar = 3.0f;

// The vector FMA/dot kernels (kernels/common/gpu_vector_body.hpp, the same for both backends), Acc accumulators
// per thread, input layout per thread [p, q, acc0 .. acc(Acc-1)] of `t` ("fp64", "fp32", "fp16", "bf16" packed in
// both halves of a 32-bit word; "int8": random 32-bit words). Floating point: p = x = -1 (the multiplier), q = y
// (the addend), accumulators with y ≠ 2·acc so that the result y - acc differs from the input. y and the
// accumulators are integers of magnitude [2^e, 2^(e+1)) with a random sign, e as large as exactness allows: with
// S significand bits, |y − acc| < 2^(e+2) and the sum of the Acc chains < Acc·2^(e+2) ≤ 2^S, so e = S − 2 − log2(Acc)
// (fp64 48, fp32 19, fp16 6, bf16 3 random mantissa bits for Acc = 8): busy mantissas, every step exact.
template <int Acc>
void make_vector_inputs(std::string_view t, std::size_t units, std::mt19937_64& rng, std::vector<std::uint8_t>& input,
                        std::size_t& output_bytes) {
  constexpr int kInPerThread = 2 + Acc;
  const std::size_t elem = t == "fp64" ? 8 : 4;
  input.resize(units * kInPerThread * elem);
  output_bytes = units * elem;
  const int significand = t == "fp64" ? 53 : t == "fp32" ? 24 : t == "fp16" ? 11 : 8;
  const int e = significand - 2 - static_cast<int>(std::bit_width(static_cast<unsigned>(Acc - 1)));
  std::uniform_int_distribution<std::int64_t> magnitude(std::int64_t{1} << e, (std::int64_t{2} << e) - 1);
  std::bernoulli_distribution sign(0.5);
  auto draw = [&] {
    const std::int64_t v = magnitude(rng);
    return sign(rng) ? v : -v;
  };
  for (std::size_t u = 0; u < units; ++u) {
    const std::size_t base = u * kInPerThread * elem;
    if (t == "int8") {
      std::uniform_int_distribution<std::uint32_t> w;
      for (int i = 0; i < kInPerThread; ++i) put(input, base + i * elem, w(rng));
      continue;
    }
    const std::int64_t y = draw();
    std::int64_t acc[Acc];
    for (std::int64_t& a : acc) {
      do a = draw(); while (2 * a == y);
    }
    auto store = [&](int i, std::int64_t v) {
      const std::size_t off = base + static_cast<std::size_t>(i) * elem;
      const auto f = static_cast<float>(v);
      if (t == "fp64") put(input, off, static_cast<double>(v));
      else if (t == "fp32") put(input, off, f);
      else if (t == "fp16") put(input, off, static_cast<std::uint32_t>(to_half(f)) * 0x10001u);
      else put(input, off, static_cast<std::uint32_t>(to_bf16(f)) * 0x10001u);  // bf16: both lanes
    };
    store(0, -1);
    store(1, y);
    for (int i = 0; i < Acc; ++i) store(2 + i, acc[i]);
  }
}

// The expected output of thread `u` of a vector kernel when each accumulator had `k` operations applied (the
// loop's, plus the one after it).
template <int Acc>
std::vector<std::uint8_t> expected_vector_unit(std::string_view t, const std::vector<std::uint8_t>& input,
                                               std::size_t u, std::uint64_t k) {
  constexpr int kInPerThread = 2 + Acc;
  const std::size_t elem = t == "fp64" ? 8 : 4;
  const std::size_t base = u * kInPerThread * elem;
  std::vector<std::uint8_t> out(elem);
  if (t == "int8") {
    const auto pw = get<std::uint32_t>(input, base), qw = get<std::uint32_t>(input, base + 4);
    std::int32_t dot = 0;
    for (int i = 0; i < 4; ++i) {
      dot += static_cast<std::int8_t>(pw >> (8 * i)) * static_cast<std::int8_t>(qw >> (8 * i));
    }
    std::uint32_t sum = 0;
    for (int a = 0; a < Acc; ++a) {
      sum += get<std::uint32_t>(input, base + (2 + a) * elem) +
             static_cast<std::uint32_t>(k) * static_cast<std::uint32_t>(dot);
    }
    put(out, 0, sum);
    return out;
  }
  // Floating point: k is odd, so every chain ends at y - acc (pairs of steps are identities).
  auto value = [&](int i) -> double {
    const std::size_t off = base + static_cast<std::size_t>(i) * elem;
    if (t == "fp64") return get<double>(input, off);
    if (t == "fp32") return get<float>(input, off);
    const auto w = static_cast<std::uint16_t>(get<std::uint32_t>(input, off));
    if (t == "fp16") return from_half(w);
    return std::bit_cast<float>(static_cast<std::uint32_t>(w) << 16);
  };
  double sum = 0;
  for (int a = 0; a < Acc; ++a) sum += value(1) - value(2 + a);
  if (t == "fp64") put(out, 0, sum);
  else if (t == "fp32") put(out, 0, static_cast<float>(sum));
  else if (t == "fp16") put(out, 0, static_cast<std::uint32_t>(to_half(static_cast<float>(sum))) * 0x10001u);
  else put(out, 0, static_cast<std::uint32_t>(to_bf16(static_cast<float>(sum))) * 0x10001u);
  return out;
}

// Compares the output of `units` units (output_bytes in all) with expected(u), the expected bytes of unit u;
// `per_unit` false: every unit has expected(0) (matrix kernels: one problem shared by every unit). Describes the
// first mismatch, naming a unit with unit_word.
template <class Expected>
std::optional<std::string> compare_units(const std::vector<std::uint8_t>& out, std::size_t output_bytes,
                                         std::size_t units, bool per_unit, const char* unit_word, Expected expected) {
  if (out.size() != output_bytes) return fmt::format("output has {} bytes, expected {}", out.size(), output_bytes);
  std::vector<std::uint8_t> shared;
  if (!per_unit) shared = expected(std::size_t{0});
  const std::size_t per = output_bytes / units;
  for (std::size_t u = 0; u < units; ++u) {
    const std::vector<std::uint8_t> want = per_unit ? expected(u) : shared;
    if (std::memcmp(want.data(), out.data() + u * per, per) != 0) {
      std::size_t i = 0;
      while (i < per && want[i] == out[u * per + i]) ++i;
      const std::size_t w = i / 4 * 4;
      std::uint32_t got_w = 0, want_w = 0;
      std::memcpy(&got_w, out.data() + u * per + w, 4);
      std::memcpy(&want_w, want.data() + w, 4);
      return fmt::format("unit {} of {} ({}), byte {}: got 0x{:08x}, expected 0x{:08x}", u, units, unit_word, w,
                         got_w, want_w);
    }
  }
  return std::nullopt;
}

}  // namespace probe::gpu_ref
