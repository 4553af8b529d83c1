#pragma once
// One interface, one implementation per output format; chosen by --format or by the output file's extension.
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "assessment.hpp"
#include "report.hpp"

namespace probe::report {

class Printer {
 public:
  virtual ~Printer() = default;
  // `assessment`, when given, adds the control-parameter section (metrics and verdicts) of each device and
  // the node's verdicts.
  [[nodiscard]] virtual std::string render(const Report& report, const Assessment* assessment = nullptr) const = 0;
};

enum class Format { text, json };
[[nodiscard]] std::optional<Format> format_from_string(std::string_view s) noexcept;
[[nodiscard]] std::unique_ptr<Printer> make_printer(Format f);

// "114.7 GFLOP/s", "40.12 GB/s", "931 GOP/s"
[[nodiscard]] std::string format_rate(double value, Unit unit, DType dtype);
[[nodiscard]] std::string format_bytes(std::uint64_t bytes);

// The inventory section alone (probe --list).
[[nodiscard]] std::string render_inventory(const Report& report);

}  // namespace probe::report
