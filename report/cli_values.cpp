// Strict parsers for the command line's numeric values (cli_values.hpp).
#include "cli_values.hpp"

#include <array>
#include <charconv>
#include <cmath>
#include <limits>
#include <string>
#include <system_error>
#include <utility>

#include <fmt/format.h>

#include "probe/error.hpp"

namespace probe {
namespace {

bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }

// Shown in messages; a flag value may be anything, so it is cut short and stripped of control characters.
std::string shown(std::string_view text) {
  std::string out;
  for (const char c : text.substr(0, 64)) {
    out += static_cast<unsigned char>(c) < 0x20 || c == 0x7f ? '?' : c;
  }
  if (text.size() > 64) out += "…";
  return out;
}

}  // namespace

std::uint64_t parse_size(std::string_view text, std::string_view flag) {
  const auto not_a_size = [&] {
    return InputError(fmt::format("{}: '{}' is not a size (examples: 512M, 2G, 1073741824)", flag, shown(text)));
  };
  std::size_t i = 0;
  while (i < text.size() && is_digit(text[i])) ++i;
  const std::string_view whole = text.substr(0, i);
  std::string_view fraction;
  if (i < text.size() && text[i] == '.') {
    const std::size_t start = ++i;
    while (i < text.size() && is_digit(text[i])) ++i;
    fraction = text.substr(start, i - start);
    if (fraction.empty()) throw not_a_size();
  }
  if (whole.empty()) throw not_a_size();
  const std::string_view suffix = text.substr(i);
  static constexpr std::array<std::pair<std::string_view, unsigned>, 10> kSuffixes{{{"", 0},
                                                                                       {"B", 0},
                                                                                       {"K", 10},
                                                                                       {"KiB", 10},
                                                                                       {"M", 20},
                                                                                       {"MiB", 20},
                                                                                       {"G", 30},
                                                                                       {"GiB", 30},
                                                                                       {"T", 40},
                                                                                       {"TiB", 40}}};
  unsigned shift = 0;
  bool known = false;
  for (const auto& [s, sh] : kSuffixes) {
    if (suffix == s) {
      known = true;
      shift = sh;
    }
  }
  if (!known) {
    throw InputError(fmt::format("{}: unknown suffix '{}' in '{}' (use K, M, G or T)", flag, shown(suffix),
                                 shown(text)));
  }
  const auto too_large = [&] {
    return InputError(fmt::format("{}: '{}' is above the maximum of {} TiB", flag, shown(text), kMaxSizeBytes >> 40));
  };
  // Exact integer arithmetic, no floating point: the whole part (bounded before it can overflow) times the
  // unit, plus the fraction times the unit rounded down.
  std::uint64_t whole_value = 0;
  for (const char c : whole) {
    whole_value = whole_value * 10 + static_cast<unsigned>(c - '0');
    if (whole_value > kMaxSizeBytes) throw too_large();
  }
  if (whole_value > (kMaxSizeBytes >> shift)) throw too_large();
  std::uint64_t bytes = whole_value << shift;
  // floor(fraction × 2^shift) by doubling the decimal digits `shift` times, each carry out of the first digit
  // being one more bit of the result. Exact: k / 2^40 has at most 40 decimal places, so later digits cannot
  // move the floor.
  std::string digits(fraction.substr(0, 40));
  std::uint64_t fraction_bytes = 0;
  for (unsigned s = 0; s < shift; ++s) {
    int carry = 0;
    for (auto it = digits.rbegin(); it != digits.rend(); ++it) {
      const int d = (*it - '0') * 2 + carry;
      *it = static_cast<char>('0' + d % 10);
      carry = d / 10;
    }
    fraction_bytes = fraction_bytes * 2 + static_cast<std::uint64_t>(carry);
  }
  bytes += fraction_bytes;
  if (bytes > kMaxSizeBytes) throw too_large();
  if (bytes < kMinSizeBytes) throw InputError(fmt::format("{}: '{}' is below the minimum of 1M", flag, shown(text)));
  return static_cast<std::uint64_t>(bytes);
}

double parse_number(std::string_view text, std::string_view flag, double min, double max) {
  const auto not_a_number = [&] {
    return InputError(fmt::format("{}: '{}' is not a number", flag, shown(text)));
  };
  // The grammar first: from_chars alone would take "inf", "nan" and "1e999" (as infinity) too.
  std::size_t i = 0;
  if (i < text.size() && (text[i] == '+' || text[i] == '-')) ++i;
  const std::size_t digits_start = i;
  while (i < text.size() && is_digit(text[i])) ++i;
  std::size_t digits = i - digits_start;
  if (i < text.size() && text[i] == '.') {
    const std::size_t start = ++i;
    while (i < text.size() && is_digit(text[i])) ++i;
    digits += i - start;
  }
  if (digits == 0) throw not_a_number();
  if (i < text.size() && (text[i] == 'e' || text[i] == 'E')) {
    ++i;
    if (i < text.size() && (text[i] == '+' || text[i] == '-')) ++i;
    const std::size_t start = i;
    while (i < text.size() && is_digit(text[i])) ++i;
    if (i == start) throw not_a_number();
  }
  if (i != text.size()) throw not_a_number();
  // from_chars does not take a leading '+'.
  const std::string_view body = text.starts_with('+') ? text.substr(1) : text;
  double value = 0;
  const auto [end, ec] = std::from_chars(body.data(), body.data() + body.size(), value);
  if (ec == std::errc::result_out_of_range || (ec == std::errc{} && !std::isfinite(value))) {
    throw InputError(fmt::format("{}: '{}' is out of range ({} to {})", flag, shown(text), min, max));
  }
  if (ec != std::errc{} || end != body.data() + body.size()) throw not_a_number();
  if (!(value >= min && value <= max)) {
    throw InputError(fmt::format("{}: '{}' is out of range ({} to {})", flag, shown(text), min, max));
  }
  return value;
}

std::int64_t parse_count(std::string_view text, std::string_view flag, std::int64_t min, std::int64_t max) {
  std::int64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec == std::errc::result_out_of_range) {
    throw InputError(fmt::format("{}: '{}' is out of range ({} to {})", flag, shown(text), min, max));
  }
  if (ec != std::errc{} || end != text.data() + text.size() || text.empty()) {
    throw InputError(fmt::format("{}: '{}' is not a whole number", flag, shown(text)));
  }
  if (value < min || value > max) {
    throw InputError(fmt::format("{}: '{}' is out of range ({} to {})", flag, shown(text), min, max));
  }
  return value;
}

}  // namespace probe
