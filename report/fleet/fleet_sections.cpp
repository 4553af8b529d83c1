// The fleet report as the printers' neutral sections: the HTML and Markdown printers render them, so the fleet
// view writes no markup of its own and its chart is the node report's (regions.cpp, html_printer.cpp).
#include <fmt/format.h>

#include "fleet.hpp"
#include "regions.hpp"

namespace probe::fleet {
namespace {

using nlohmann::json;
using rules::format_number;

// The cap on per-node and per-device rows in HTML and Markdown: past it the JSON report holds the full list.
constexpr std::size_t kMaxRows = 2000;

std::string num(const json& v) { return v.is_number() ? format_number(v.get<double>()) : std::string("—"); }
std::string str(const json& v) { return v.is_string() ? v.get<std::string>() : std::string(); }

std::string versions_text(const json& values) {
  std::string out;
  for (const auto& v : values) out += fmt::format("{}{} ({})", out.empty() ? "" : "; ", str(v["value"]), num(v["count"]));
  return out;
}

// The basis a model's chart point stands on: the measured one where the fleet has it, else derived, else declared.
std::optional<std::pair<std::string, double>> median_of(const json& model, std::string_view metric) {
  for (const char* basis : {"measured", "derived", "declared"}) {
    for (const auto& f : model["figures"]) {
      if (str(f["name"]) == fmt::format("{} ({})", metric, basis)) return std::pair{std::string(basis), f["median"].get<double>()};
    }
  }
  return std::nullopt;
}

}  // namespace

std::vector<report::Section> fleet_sections(const json& fleet, std::span<const rules::Ruleset* const> rulesets) {
  std::vector<report::Section> out;
  const json& nodes = fleet["nodes"];
  const json& totals = fleet["totals"];

  report::Section summary;
  summary.title = "Fleet";
  summary.paragraphs.push_back(fmt::format(
      "{} node(s) found: {} measured, {} failed; {} device(s) in {} model(s). Runs from {} to {}. Merged by probe {} at {}.",
      num(nodes["found"]), num(nodes["measured"]), num(nodes["failed"]), num(totals["devices"]),
      fleet["models"].size(), str(fleet["span"]["first_started_at"]), str(fleet["span"]["last_finished_at"]),
      str(fleet["tool"]["version"]), str(fleet["generated_at"])));
  const json& sig = fleet["signatures"];
  summary.paragraphs.push_back(
      sig["checked"].get<std::size_t>() == 0
          ? std::string("Signatures: not checked (no --key given).")
          : fmt::format("Signatures: {} of {} checked verified; unsigned: {}; FAILED: {}.", num(sig["verified"]),
                        num(sig["checked"]), sig["unsigned"].empty() ? "none" : sig["unsigned"].dump(),
                        sig["failed"].empty() ? "none" : sig["failed"].dump()));
  for (const auto& f : fleet["flags"]) summary.paragraphs.push_back("Warning: " + str(f));

  report::Table tpp;
  tpp.caption = "Fleet totals: aggregate TPP per basis";
  tpp.header = {"basis", "aggregate TPP", "H100-equivalents"};
  for (const auto& t : totals["tpp"]) tpp.rows.push_back({str(t["basis"]), num(t["tpp"]), fmt::format("{:.1f}", t["h100_equivalents"].get<double>())});
  summary.paragraphs.push_back(str(totals["h100_note"]) + ".");
  summary.tables.push_back(std::move(tpp));
  report::Table cls;
  cls.caption = "Devices per classification (3A090 and the other device rulesets)";
  cls.header = {"ruleset", "classification", "devices"};
  for (const auto& c : totals["device_classifications"]) cls.rows.push_back({str(c["ruleset"]), str(c["classification"]), num(c["devices"])});
  summary.tables.push_back(std::move(cls));
  report::Table ncls;
  ncls.caption = "Nodes per classification (4A090)";
  ncls.header = {"ruleset", "classification", "nodes"};
  for (const auto& c : totals["node_classifications"]) ncls.rows.push_back({str(c["ruleset"]), str(c["classification"]), num(c["nodes"])});
  summary.tables.push_back(std::move(ncls));
  out.push_back(std::move(summary));

  // The outliers first: what an auditor (or an operator) acts on.
  report::Section outl;
  outl.title = "Outliers";
  outl.paragraphs.push_back(fmt::format(
      "A device is an outlier when a measured figure is more than {:.0f}% below its model's fleet median, or when it "
      "is above its declared peak.",
      fleet["outlier_margin"].get<double>() * 100));
  report::Table ot;
  ot.header = {"model", "host", "device", "serial", "figure", "value", "median", "why"};
  for (const auto& m : fleet["models"]) {
    for (const auto& o : m["outliers"]) {
      if (ot.rows.size() >= kMaxRows) break;
      ot.rows.push_back({str(m["model"]), str(o["host"]), str(o["device"]), str(o["serial"]), str(o["figure"]),
                         num(o["value"]), num(o["median"]), str(o["reason"])});
      ot.row_class.push_back("regression");
    }
  }
  if (ot.rows.empty()) outl.paragraphs.push_back("No outliers.");
  else outl.tables.push_back(std::move(ot));
  out.push_back(std::move(outl));

  // A table per model, and the chart with one point per model.
  report::Section models;
  models.title = "Models";
  std::vector<report::ChartPoint> points;
  for (const auto& m : fleet["models"]) {
    report::Table t;
    t.caption = fmt::format("{}: {} device(s), {} outlier(s)", str(m["model"]), num(m["devices"]), m["outliers"].size());
    t.header = {"figure", "unit", "devices", "min", "median", "max"};
    for (const auto& f : m["figures"]) {
      t.rows.push_back({str(f["name"]), str(f["unit"]), num(f["devices"]), num(f["min"]), num(f["median"]), num(f["max"])});
    }
    models.tables.push_back(std::move(t));
    if (const auto tpp_median = median_of(m, "TPP")) {
      const auto pd = median_of(m, "PD");
      points.push_back({fmt::format("{} ({} median, {} devices)", str(m["model"]), tpp_median->first, num(m["devices"])),
                        tpp_median->second, pd ? std::optional<double>(pd->second) : std::nullopt});
    }
  }
  if (const rules::Ruleset* r = report::find_ruleset_on(rulesets, "tpp", "pd", "classification"); r && !points.empty()) {
    rules::MetricValues fixed;
    // The stricter reading (a data-center part) where the fleet does not say: as the node report's chart does.
    fixed["datacenter"] = rules::MetricValue{std::nullopt, true, "assumed: a data-center part", false};
    models.charts.push_back({report::region_chart(*r, "tpp", "pd", "classification", fixed, points), points});
  }
  out.push_back(std::move(models));

  report::Section ns;
  ns.title = "Nodes";
  report::Table nt;
  nt.header = {"host", "status", "reason", "devices", "4A090", "signature", "probe", "kernel", "source"};
  for (const auto& n : nodes["list"]) {
    if (nt.rows.size() >= kMaxRows) {
      ns.paragraphs.push_back(fmt::format("The first {} nodes are shown (failed first); the JSON report lists all.", kMaxRows));
      break;
    }
    std::string verdicts;
    for (const auto& v : fleet["verdict_sets"][n["verdict_set"].get<std::size_t>()]) {
      verdicts += (verdicts.empty() ? "" : "; ") + str(v["classification"]);
    }
    nt.rows.push_back({str(n["host"]), str(n["status"]), str(n["reason"]), num(n["devices"]), verdicts,
                       str(n["signature"]), str(n["probe"]), str(n["kernel"]), str(n["source"])});
    nt.row_class.push_back(str(n["status"]) == "failed" ? "regression" : "");
  }
  ns.tables.push_back(std::move(nt));
  out.push_back(std::move(ns));

  report::Section drift;
  drift.title = "Versions and drift";
  report::Table vt;
  vt.header = {"kind", "values (nodes or devices)", "drift"};
  for (const auto& [kind, values] : fleet["versions"].items()) {
    vt.rows.push_back({kind, versions_text(values), values.size() > 1 ? "yes" : "no"});
    vt.row_class.push_back(values.size() > 1 ? "changed" : "");
  }
  drift.tables.push_back(std::move(vt));
  out.push_back(std::move(drift));

  report::Section ds;
  ds.title = "Devices";
  const json& devices = fleet["devices"];
  if (devices.size() > kMaxRows) {
    ds.paragraphs.push_back(fmt::format("{} devices: their classifications are counted above and listed one by one in "
                                        "the JSON report (devices[]).",
                                        devices.size()));
  } else {
    report::Table dt;
    dt.header = {"host", "device", "model", "serial", "status", "classifications"};
    for (const auto& d : devices) {
      std::string c;
      for (const auto& v : fleet["verdict_sets"][d["classification_set"].get<std::size_t>()]) c += fmt::format("{}{}: {}", c.empty() ? "" : "; ", str(v["ruleset"]), str(v["classification"]));
      dt.rows.push_back({str(d["host"]), str(d["id"]), str(d["model"]), str(d["serial"]), str(d["status"]), c});
    }
    ds.tables.push_back(std::move(dt));
  }
  out.push_back(std::move(ds));
  return out;
}

}  // namespace probe::fleet
