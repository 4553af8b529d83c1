#pragma once
// The sustained phase of a device's measurements (Measurement::sustained) as a neutral Section: one row per
// kernel with the figure over the phase, its % of the theoretical peak, the clock/power/temperature traces and
// the clock event reasons. Every printer renders it with its own Section renderer.
#include <optional>

#include "printer.hpp"
#include "report.hpp"

namespace probe::report {

// nullopt when no measurement of `d` has a sustained phase.
[[nodiscard]] std::optional<Section> sustained_section(const DeviceReport& d);

}  // namespace probe::report
