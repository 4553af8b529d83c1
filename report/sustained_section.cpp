#include "sustained_section.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

namespace probe::report {
namespace {

std::string ghz(const SensorTrace& t) {
  if (t.samples == 0) return "—";
  return fmt::format("{:.3f} / {:.3f} / {:.3f}", t.min / 1e9, t.median / 1e9, t.max / 1e9);
}

}  // namespace

std::optional<Section> sustained_section(const DeviceReport& d) {
  Table t;
  t.header = {"kernel", "measured", "% peak", "s (launches)", "verified", "SM clock GHz min/med/max",
              "mem clock GHz med", "power W med/max", "temp °C max", "clock events", "throttled by"};
  std::string sensors;
  for (const auto& m : d.measurements) {
    if (!m.sustained) continue;
    const SustainedPhase& p = *m.sustained;
    if (sensors.empty()) sensors = p.sensors;
    // % of the peak at this phase's own clock.
    const std::string peak = p.theoretical && *p.theoretical > 0 ? fmt::format("{:.1f}%", 100 * p.value / *p.theoretical)
                                                                 : "—";
    t.rows.push_back({m.spec.id, format_rate(p.value, m.spec.unit, m.spec.dtype), peak,
                      fmt::format("{:.1f} ({})", p.kernel_s, p.launches), p.verified_after ? "after: exact" : "FAILED",
                      ghz(p.core_clock_hz),
                      p.memory_clock_hz.samples ? fmt::format("{:.3f}", p.memory_clock_hz.median / 1e9) : "—",
                      p.power_w.samples ? fmt::format("{:.0f} / {:.0f}", p.power_w.median, p.power_w.max) : "—",
                      p.temperature_c.samples ? fmt::format("{:.0f}", p.temperature_c.max) : "—",
                      p.clock_event_reasons.empty() ? "none" : fmt::format("{}", fmt::join(p.clock_event_reasons, ", ")),
                      p.throttled_by.empty() ? "no" : fmt::format("{}", fmt::join(p.throttled_by, ", "))});
    t.row_class.push_back(p.throttled_by.empty() && p.verified_after ? "" : "regression");
  }
  if (t.rows.empty()) return std::nullopt;
  Section s;
  s.title = "Sustained phase (kernel back to back; figure = work / device time of the launches)";
  s.paragraphs.push_back(fmt::format(
      "sensors: {}; % peak against the peak at the phase's median core clock; 'throttled by' omits benign reasons (GPU idle, "
      "application clocks, a software power cap with the clock at >= 80% of its maximum)",
      sensors));
  s.tables.push_back(std::move(t));
  return s;
}

}  // namespace probe::report
