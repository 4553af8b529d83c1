#pragma once
// The command line's numeric values, parsed strictly: each function takes the text and the flag it came with
// and throws InputError "FLAG: 'TEXT' …" (exit status 2) for anything it cannot use. Strict grammars, not
// std::stod: stod accepts "inf", "nan", hex floats and leading blanks, and a cast of infinity to an integer is
// undefined.
#include <cstdint>
#include <string_view>

namespace probe {

// Sizes (--mem-size): at least 1 MiB, at most 2^48 bytes (256 TiB, above any node's memory): a larger value
// is a typo, and multiples of it (three arrays) must not overflow 64 bits.
inline constexpr std::uint64_t kMinSizeBytes = std::uint64_t{1} << 20;
inline constexpr std::uint64_t kMaxSizeBytes = std::uint64_t{1} << 48;

// DIGITS[.DIGITS][SUFFIX], SUFFIX one of B, K, KiB, M, MiB, G, GiB, T, TiB (powers of 1024); a fraction is
// rounded down to whole bytes. Returns bytes in [kMinSizeBytes, kMaxSizeBytes].
[[nodiscard]] std::uint64_t parse_size(std::string_view text, std::string_view flag);

// A finite decimal number (DIGITS[.DIGITS][e[+-]DIGITS], optional leading sign) in [min, max].
[[nodiscard]] double parse_number(std::string_view text, std::string_view flag, double min, double max);

// A whole number (DIGITS) in [min, max].
[[nodiscard]] std::int64_t parse_count(std::string_view text, std::string_view flag, std::int64_t min,
                                       std::int64_t max);

}  // namespace probe
