#pragma once
// Where a device sits among a ruleset's regions: the plane of two metrics (TPP × performance density, TPP ×
// DRAM bandwidth) cut by the thresholds the ruleset's conditions name, each cell classified by the rules engine
// itself. No boundary lives in C++: change a threshold in the rules file and the chart follows.
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "rules.hpp"

namespace probe::report {

struct RegionCell {
  double x0 = 0, x1 = 0, y0 = 0, y1 = 0;  // metric units; the outer cells reach the axis ends
  std::string label;                      // the clause that holds there ("3A090.a.2"), or the ruleset's otherwise
  bool otherwise = false;                 // no clause of interest holds
  bool evaluable = true;                  // false: depends on a metric the chart does not fix
};

struct RegionChart {
  std::string ruleset_id, citation, ruleset_file, ruleset_sha256;
  std::string x_metric, y_metric, x_label, y_label, x_unit, y_unit;
  double x_min = 0, x_max = 0, y_min = 0, y_max = 0;  // logarithmic axes
  std::vector<double> x_thresholds, y_thresholds;
  std::vector<RegionCell> cells;
  std::string assumption;  // what the cells assume of the metrics not on the axes
};

struct ChartPoint {
  std::string label;  // "declared", "derived", "measured"
  double x = 0;
  std::optional<double> y;  // unknown: drawn as a line at x
};

// The ruleset among `rulesets` whose clauses of `kind` ("classification", "policy") compare both metrics;
// nullptr when none does.
[[nodiscard]] const rules::Ruleset* find_ruleset_on(std::span<const rules::Ruleset* const> rulesets,
                                                    std::string_view x_metric, std::string_view y_metric,
                                                    std::string_view kind);

// The chart of `ruleset` on x_metric × y_metric. Each cell is labelled with the first matched clause of `kind`
// (policy charts) or the classification clause (kind "classification"); `fixed` gives the other metrics
// (datacenter, pd). The axes span every threshold and point, with a margin.
[[nodiscard]] RegionChart region_chart(const rules::Ruleset& ruleset, std::string_view x_metric,
                                       std::string_view y_metric, std::string_view kind,
                                       const rules::MetricValues& fixed, std::span<const ChartPoint> points);

// The charts of one device: TPP × performance density under the first ruleset whose classification clauses
// compare both (the 3A090.a/.b regions), and TPP × total DRAM bandwidth under the first whose policy clauses do
// (the 2026 case-by-case box). Points: the device's declared, derived and measured bases that have a TPP.
struct DeviceChart {
  RegionChart chart;
  std::vector<ChartPoint> points;
};
[[nodiscard]] std::vector<DeviceChart> device_charts(const rules::DeviceMetrics& m,
                                                     std::span<const rules::Ruleset* const> rulesets);

// The label of the cell holding (x, y); a point beyond the axes belongs to the cell at the edge.
[[nodiscard]] std::string region_at(const RegionChart& chart, double x, double y);

// The label at x whatever the second metric (a basis without PD: TPP 88 is outside 3A090 at any density);
// empty when the column holds more than one region.
[[nodiscard]] std::string region_at_x(const RegionChart& chart, double x);

}  // namespace probe::report
