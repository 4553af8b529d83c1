// The one "never above its own peak without saying so" check, shared by every backend (measure_safely runs it
// after any device's measure()), so a CPU and a GPU plugin are judged by the same rule.
#include <cmath>
#include <fmt/format.h>

#include "probe/measurement.hpp"

namespace probe {

std::optional<AboveTheoretical> check_above_theoretical(const Measurement& m, std::string_view device_kind,
                                                        double tolerance) {
  if (!m.ok() || !m.theoretical || !(*m.theoretical > 0) || !std::isfinite(m.stats.median)) return std::nullopt;
  const double spread = std::isfinite(m.stats.rel_spread) ? std::max(0.0, m.stats.rel_spread) : 0.0;
  const double ratio = m.stats.median / *m.theoretical;
  if (!(ratio > 1 + tolerance + spread)) return std::nullopt;
  // The CPU's theoretical peak is cores × a per-cycle table × a measured clock; a GPU plugin's is units × a
  // per-unit rate × a clock. Either way the measured, verified figure is not what is wrong.
  const std::string what = device_kind == "cpu" ? "the per-cycle table or the clock is wrong for this CPU"
                                                : "the per-unit rate table or the clock is wrong for this device";
  return AboveTheoretical{ratio, tolerance, spread,
                          fmt::format("measured above theoretical ({:.0f}% of it, beyond its {:.1f}% spread + {:.0f}% "
                                      "tolerance): {}",
                                      ratio * 100, spread * 100, tolerance * 100, what)};
}

}  // namespace probe
