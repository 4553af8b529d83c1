#include "regions.hpp"

#include <algorithm>
#include <cmath>
#include <fmt/format.h>

namespace probe::report {
namespace {

bool mentions(const rules::Condition& c, std::string_view metric) {
  if (c.kind == rules::Condition::Kind::compare) return c.metric == metric;
  return std::any_of(c.children.begin(), c.children.end(), [&](const auto& k) { return mentions(k, metric); });
}

void thresholds_of(const rules::Condition& c, std::string_view metric, std::vector<double>& out) {
  if (c.kind == rules::Condition::Kind::compare && c.metric == metric && !c.boolean) out.push_back(c.threshold);
  for (const auto& k : c.children) thresholds_of(k, metric, out);
}

std::vector<double> sorted_unique(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  v.erase(std::unique(v.begin(), v.end()), v.end());
  v.erase(std::remove_if(v.begin(), v.end(), [](double d) { return !(d > 0) || !std::isfinite(d); }), v.end());
  return v;
}

// A round power of ten below/above every value, with room for the labels.
std::pair<double, double> axis(const std::vector<double>& values) {
  double lo = 1, hi = 10;
  if (!values.empty()) {
    lo = *std::min_element(values.begin(), values.end());
    hi = *std::max_element(values.begin(), values.end());
  }
  return {std::pow(10.0, std::floor(std::log10(lo / 2))), std::pow(10.0, std::ceil(std::log10(hi * 2)))};
}

std::string_view unit_of(std::string_view metric) {
  const rules::MetricInfo* m = rules::find_metric(metric);
  return m ? m->unit : std::string_view{};
}
std::string label_of(std::string_view metric) {
  const rules::MetricInfo* m = rules::find_metric(metric);
  return m ? std::string(m->label) : std::string(metric);
}

}  // namespace

const rules::Ruleset* find_ruleset_on(std::span<const rules::Ruleset* const> rulesets, std::string_view x_metric,
                                      std::string_view y_metric, std::string_view kind) {
  // In force first: the regions a reader is held to today.
  for (const bool in_force : {true, false}) {
    for (const rules::Ruleset* r : rulesets) {
      if (!r || (r->status == rules::RuleStatus::in_force) != in_force || r->scope != "device") continue;
      bool x = false, y = false;
      for (const auto& c : r->clauses) {
        if (c.kind != kind) continue;
        x |= mentions(c.when, x_metric);
        y |= mentions(c.when, y_metric);
      }
      if (x && y) return r;
    }
  }
  return nullptr;
}

RegionChart region_chart(const rules::Ruleset& ruleset, std::string_view x_metric, std::string_view y_metric,
                         std::string_view kind, const rules::MetricValues& fixed, std::span<const ChartPoint> points) {
  RegionChart chart;
  chart.ruleset_id = ruleset.id;
  chart.citation = ruleset.citation;
  chart.ruleset_file = ruleset.file_name;
  chart.ruleset_sha256 = ruleset.sha256;
  chart.x_metric = x_metric;
  chart.y_metric = y_metric;
  chart.x_label = label_of(x_metric);
  chart.y_label = label_of(y_metric);
  chart.x_unit = unit_of(x_metric);
  chart.y_unit = unit_of(y_metric);
  std::vector<double> xs, ys;
  for (const auto& c : ruleset.clauses) {
    thresholds_of(c.when, x_metric, xs);
    thresholds_of(c.when, y_metric, ys);
  }
  chart.x_thresholds = sorted_unique(xs);
  chart.y_thresholds = sorted_unique(ys);
  std::vector<double> xr = chart.x_thresholds, yr = chart.y_thresholds;
  for (const auto& p : points) {
    if (p.x > 0) xr.push_back(p.x);
    if (p.y && *p.y > 0) yr.push_back(*p.y);
  }
  std::tie(chart.x_min, chart.x_max) = axis(xr);
  std::tie(chart.y_min, chart.y_max) = axis(yr);

  std::vector<std::string> assumed;
  for (const auto& [name, v] : fixed) {
    if (name == x_metric || name == y_metric) continue;
    if (v.boolean) assumed.push_back(fmt::format("{} {} ({})", label_of(name), *v.boolean ? "yes" : "no", v.basis));
    else if (v.number) assumed.push_back(fmt::format("{} {} ({})", label_of(name), rules::format_number(*v.number), v.basis));
  }
  chart.assumption = assumed.empty() ? "no other metric fixed" : fmt::format("{}", fmt::join(assumed, "; "));

  // Between two thresholds nothing the ruleset compares changes: one evaluation at the cell's centre is exact.
  std::vector<double> xb{chart.x_min}, yb{chart.y_min};
  for (double t : chart.x_thresholds) xb.push_back(t);
  for (double t : chart.y_thresholds) yb.push_back(t);
  xb.push_back(chart.x_max);
  yb.push_back(chart.y_max);
  for (std::size_t i = 0; i + 1 < xb.size(); ++i) {
    for (std::size_t j = 0; j + 1 < yb.size(); ++j) {
      rules::MetricValues values = fixed;
      values[std::string(x_metric)] = rules::MetricValue{std::sqrt(xb[i] * xb[i + 1]), std::nullopt, "chart", false};
      values[std::string(y_metric)] = rules::MetricValue{std::sqrt(yb[j] * yb[j + 1]), std::nullopt, "chart", false};
      const rules::Verdict v = rules::evaluate(ruleset, values, "chart");
      RegionCell cell{xb[i], xb[i + 1], yb[j], yb[j + 1], {}, false, true};
      if (kind == "classification") {
        if (v.outcome == rules::Outcome::matched) cell.label = v.classification_clause;
        else if (v.outcome == rules::Outcome::not_evaluable) cell.evaluable = false;
      } else {
        for (const auto& c : v.clauses) {
          if (c.kind != kind) continue;
          if (c.outcome == rules::Outcome::matched) {
            cell.label = c.clause_id;
            break;
          }
          if (c.outcome == rules::Outcome::not_evaluable) cell.evaluable = false;
        }
        if (!cell.label.empty()) cell.evaluable = true;
      }
      if (cell.label.empty()) {
        cell.otherwise = true;
        cell.label = cell.evaluable ? ruleset.otherwise : "not evaluable";
      }
      chart.cells.push_back(std::move(cell));
    }
  }
  return chart;
}

std::vector<DeviceChart> device_charts(const rules::DeviceMetrics& m, std::span<const rules::Ruleset* const> rulesets) {
  std::vector<DeviceChart> out;
  rules::MetricValues fixed;
  // Note 2 turns on the data-center question: the regions drawn are those of this device's answer, or of a
  // data-center part (the stricter reading) where nobody answered it, and the chart says which.
  fixed["datacenter"] = m.datacenter ? rules::MetricValue{std::nullopt, *m.datacenter, m.datacenter_source, false}
                                     : rules::MetricValue{std::nullopt, true, "assumed: unknown for this device", false};
  auto points = [&](bool pd) {
    std::vector<ChartPoint> ps;
    for (const rules::BasisMetrics* b : {&m.declared, &m.derived, &m.measured}) {
      if (!b->available || !b->tpp) continue;
      ps.push_back(ChartPoint{std::string(rules::to_string(b->basis)), *b->tpp, pd ? b->pd : b->total_dram_bw_gbs});
    }
    return ps;
  };
  if (const rules::Ruleset* r = find_ruleset_on(rulesets, "tpp", "pd", "classification")) {
    auto ps = points(true);
    out.push_back(DeviceChart{region_chart(*r, "tpp", "pd", "classification", fixed, ps), ps});
  }
  if (const rules::Ruleset* r = find_ruleset_on(rulesets, "tpp", "total_dram_bw", "policy")) {
    // The policy box sits inside the classification: it needs the device's PD where the TPP alone does not decide.
    const rules::MetricValues assessed = rules::assessed_values(m);
    if (auto it = assessed.find("pd"); it != assessed.end() && it->second.number) fixed["pd"] = it->second;
    auto ps = points(false);
    out.push_back(DeviceChart{region_chart(*r, "tpp", "total_dram_bw", "policy", fixed, ps), ps});
  }
  return out;
}

std::string region_at(const RegionChart& chart, double x, double y) {
  // Cells are half-open towards their upper bound, as the ">=" thresholds of the rules are. The outer cells reach
  // past the axes (no threshold lies beyond them): a point off the axes is in the cell at the edge.
  x = std::clamp(x, chart.x_min, std::nextafter(chart.x_max, 0.0));
  y = std::clamp(y, chart.y_min, std::nextafter(chart.y_max, 0.0));
  for (const auto& c : chart.cells) {
    if (x >= c.x0 && x < c.x1 && y >= c.y0 && y < c.y1) return c.label;
  }
  return {};
}

std::string region_at_x(const RegionChart& chart, double x) {
  x = std::clamp(x, chart.x_min, std::nextafter(chart.x_max, 0.0));
  std::string label;
  for (const auto& c : chart.cells) {
    if (x < c.x0 || x >= c.x1) continue;
    if (!label.empty() && c.label != label) return {};
    label = c.label;
  }
  return label;
}

}  // namespace probe::report
