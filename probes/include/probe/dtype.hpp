#pragma once
// Data types measured by probe, with the operand bit length that TPP multiplies by.
#include <cstdint>
#include <optional>
#include <string_view>

namespace probe {

enum class DType : std::uint8_t { fp64, fp32, tf32, fp16, bf16, fp8_e4m3, fp8_e5m2, int8, int4, fp4, none };

// Operand width of a multiply (TPP counts the width of the inputs, not of the accumulator).
[[nodiscard]] constexpr int bit_length(DType t) noexcept {
  switch (t) {
    case DType::fp64: return 64;
    case DType::fp32: return 32;
    case DType::tf32: return 32;  // TF32 operands occupy 32-bit registers; the rules count 32 unless told otherwise
    case DType::fp16:
    case DType::bf16: return 16;
    case DType::fp8_e4m3:
    case DType::fp8_e5m2:
    case DType::int8: return 8;
    case DType::int4:
    case DType::fp4: return 4;
    case DType::none: return 0;
  }
  return 0;
}

[[nodiscard]] constexpr std::string_view to_string(DType t) noexcept {
  switch (t) {
    case DType::fp64: return "fp64";
    case DType::fp32: return "fp32";
    case DType::tf32: return "tf32";
    case DType::fp16: return "fp16";
    case DType::bf16: return "bf16";
    case DType::fp8_e4m3: return "fp8_e4m3";
    case DType::fp8_e5m2: return "fp8_e5m2";
    case DType::int8: return "int8";
    case DType::int4: return "int4";
    case DType::fp4: return "fp4";
    case DType::none: return "none";
  }
  return "none";
}

[[nodiscard]] constexpr std::optional<DType> dtype_from_string(std::string_view s) noexcept {
  for (auto t : {DType::fp64, DType::fp32, DType::tf32, DType::fp16, DType::bf16, DType::fp8_e4m3, DType::fp8_e5m2,
                 DType::int8, DType::int4, DType::fp4, DType::none}) {
    if (to_string(t) == s) return t;
  }
  return std::nullopt;
}

}  // namespace probe
