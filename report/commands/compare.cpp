// probe compare BASE.json NEW.json: a node against last month's run, a GPU against a golden run of its SKU.
// Devices are paired by UUID, then serial, then PCI bus id, then device id; kernels by id. Each figure's change
// is held against the spread of both runs; a drop beyond it is a regression, listed first, and the exit status 1.
#include <algorithm>
#include <cmath>
#include <fmt/format.h>

#include "commands.hpp"
#include "json_io.hpp"
#include "signature.hpp"
#include "probe/version.hpp"

namespace probe::cli {
namespace {

using nlohmann::json;
using rules::format_number;

// The noise rule: a change counts when it exceeds both runs' relative spreads (IQR / median) added together, and
// never when it is under this floor (repeat runs on an idle node differ by 1-2 %, spread or not).
constexpr double kNoiseFloor = 0.03;

std::string property(const DeviceInfo& i, std::string_view key) {
  for (const auto& [k, v] : i.properties) {
    if (k == key) return v;
  }
  return {};
}

struct Pair {
  const report::DeviceReport* base = nullptr;
  const report::DeviceReport* current = nullptr;
  std::string by;  // "uuid", "serial", "pci bus id", "id"
};

std::vector<Pair> pair_devices(const report::Report& base, const report::Report& current,
                               std::vector<const report::DeviceReport*>& base_only,
                               std::vector<const report::DeviceReport*>& current_only) {
  using Key = std::string (*)(const DeviceInfo&);
  const std::pair<const char*, Key> keys[] = {
      {"uuid", [](const DeviceInfo& i) { return property(i, "uuid"); }},
      {"serial", [](const DeviceInfo& i) { return property(i, "serial"); }},
      {"pci bus id", [](const DeviceInfo& i) { return i.pci ? i.pci->bus_id : std::string(); }},
      {"id", [](const DeviceInfo& i) { return i.id; }},
  };
  std::vector<bool> b_used(base.devices.size(), false), c_used(current.devices.size(), false);
  std::vector<Pair> pairs;
  for (const auto& [name, key] : keys) {
    for (std::size_t i = 0; i < base.devices.size(); ++i) {
      if (b_used[i]) continue;
      const std::string k = key(base.devices[i].info);
      if (k.empty()) continue;
      for (std::size_t j = 0; j < current.devices.size(); ++j) {
        if (c_used[j] || key(current.devices[j].info) != k) continue;
        b_used[i] = c_used[j] = true;
        pairs.push_back({&base.devices[i], &current.devices[j], name});
        break;
      }
    }
  }
  for (std::size_t i = 0; i < base.devices.size(); ++i) {
    if (!b_used[i]) base_only.push_back(&base.devices[i]);
  }
  for (std::size_t j = 0; j < current.devices.size(); ++j) {
    if (!c_used[j]) current_only.push_back(&current.devices[j]);
  }
  return pairs;
}

struct Figure {
  std::string device, kernel, unit;
  KernelSpec spec;
  std::optional<double> base, current, change, noise;
  std::string verdict;  // "regression", "improvement", "within noise", "failed now", "only in base", ...
  std::string note;
};

std::string rate(const Measurement& m) { return report::format_rate(m.stats.median, m.spec.unit, m.spec.dtype); }

}  // namespace

int run_compare(const CompareOptions& o, const Outputs& outputs) {
  const RecordedReport base = read_recorded_report(o.base);
  const RecordedReport current = read_recorded_report(o.current);
  const SignatureState base_sig = signature_state(o.base), current_sig = signature_state(o.current);

  std::vector<const report::DeviceReport*> base_only, current_only;
  const std::vector<Pair> pairs = pair_devices(base.report, current.report, base_only, current_only);

  std::vector<Figure> figures;
  for (const auto& p : pairs) {
    const std::string dev = p.base->info.id == p.current->info.id ? p.base->info.id
                                                                   : fmt::format("{} → {}", p.base->info.id, p.current->info.id);
    std::vector<bool> seen(p.current->measurements.size(), false);
    for (const auto& b : p.base->measurements) {
      Figure f{dev, b.spec.id, std::string(to_string(b.spec.unit)), b.spec, {}, {}, {}, {}, {}, {}};
      if (b.ok()) f.base = b.stats.median;
      const Measurement* c = nullptr;
      for (std::size_t j = 0; j < p.current->measurements.size(); ++j) {
        if (!seen[j] && p.current->measurements[j].spec.id == b.spec.id) {
          seen[j] = true;
          c = &p.current->measurements[j];
          break;
        }
      }
      if (!c) {
        f.verdict = "only in base";
        f.note = "not measured in the new run";
      } else {
        if (c->ok()) f.current = c->stats.median;
        if (b.ok() && c->ok()) {
          f.change = (c->stats.median - b.stats.median) / b.stats.median;
          f.noise = std::max(kNoiseFloor, b.stats.rel_spread + c->stats.rel_spread);
          f.verdict = *f.change < -*f.noise ? "regression" : *f.change > *f.noise ? "improvement" : "within noise";
          f.note = fmt::format("{} → {}", rate(b), rate(*c));
          if (b.variant != c->variant) f.note += fmt::format("; code path {} → {}", b.variant, c->variant);
        } else if (b.ok()) {
          f.verdict = "regression";  // it measured before and does not now
          f.note = fmt::format("{} now: {}", to_string(c->status), c->reason);
        } else if (c->ok()) {
          f.verdict = "improvement";
          f.note = fmt::format("{} before: {}", to_string(b.status), b.reason);
        } else {
          f.verdict = "not measured in either";
          f.note = fmt::format("{} / {}", to_string(b.status), to_string(c->status));
        }
      }
      figures.push_back(std::move(f));
    }
    for (std::size_t j = 0; j < p.current->measurements.size(); ++j) {
      if (seen[j]) continue;
      const Measurement& c = p.current->measurements[j];
      Figure f{dev, c.spec.id, std::string(to_string(c.spec.unit)), c.spec, {}, {}, {}, {}, "only in new", "not measured in the base run"};
      if (c.ok()) f.current = c.stats.median;
      figures.push_back(std::move(f));
    }
  }
  std::stable_sort(figures.begin(), figures.end(), [](const Figure& a, const Figure& b) {
    return (a.verdict == "regression") > (b.verdict == "regression");
  });
  const auto regressions = std::count_if(figures.begin(), figures.end(), [](const Figure& f) { return f.verdict == "regression"; });

  // ── the document ──
  const std::string rule = fmt::format(
      "A figure is a regression when the new median is below the base median by more than the sum of both runs' "
      "relative spreads (interquartile range ÷ median), and by at least {:.0f}%; or when a kernel that measured in "
      "the base run fails or is skipped in the new one. A rise beyond the same band is an improvement.",
      kNoiseFloor * 100);
  std::vector<report::Section> sections;
  report::Section head;
  head.title = "Compare";
  head.paragraphs.push_back(fmt::format("base: {} — probe {}, {} at {}; signature: {}", o.base, base.report.tool_version,
                                        base.report.inventory.hostname, base.report.started_at, base_sig.text));
  head.paragraphs.push_back(fmt::format("new: {} — probe {}, {} at {}; signature: {}", o.current,
                                        current.report.tool_version, current.report.inventory.hostname,
                                        current.report.started_at, current_sig.text));
  head.paragraphs.push_back("Rule: " + rule);
  head.paragraphs.push_back(regressions == 0 ? std::string("No regression.")
                                             : fmt::format("{} regression(s): exit status 1.", regressions));
  report::Table pt;
  pt.caption = "Devices paired";
  pt.header = {"base", "new", "paired by", "base name", "new name"};
  for (const auto& p : pairs) {
    pt.rows.push_back({p.base->info.id, p.current->info.id, p.by, p.base->info.name, p.current->info.name});
    pt.row_class.push_back(p.base->info.name != p.current->info.name ? "changed" : "");
  }
  for (const auto* d : base_only) {
    pt.rows.push_back({d->info.id, "—", "only in base", d->info.name, ""});
    pt.row_class.push_back("changed");
  }
  for (const auto* d : current_only) {
    pt.rows.push_back({"—", d->info.id, "only in new", "", d->info.name});
    pt.row_class.push_back("changed");
  }
  head.tables.push_back(std::move(pt));
  sections.push_back(std::move(head));

  report::Section fig;
  fig.title = "Figures (regressions first)";
  report::Table ft;
  ft.header = {"device", "kernel", "base", "new", "change", "noise band", "verdict", "note"};
  auto pct = [](const std::optional<double>& v, bool sign) {
    if (!v) return std::string("—");
    return sign ? fmt::format("{:+.1f}%", *v * 100) : fmt::format("±{:.1f}%", *v * 100);
  };
  auto value = [](const std::optional<double>& v, const KernelSpec& spec) {
    return v ? report::format_rate(*v, spec.unit, spec.dtype) : std::string("—");
  };
  for (const auto& f : figures) {
    ft.rows.push_back({f.device, f.kernel, value(f.base, f.spec), value(f.current, f.spec), pct(f.change, true),
                       pct(f.noise, false), f.verdict, f.note});
    ft.row_class.push_back(f.verdict == "regression" ? "regression" : f.verdict == "improvement" ? "improved" : "");
  }
  fig.tables.push_back(std::move(ft));
  sections.push_back(std::move(fig));

  // Valid against data/schema/compare.schema.json (its version is this one's).
  json doc = {{"schema", "probe-compare"},
              {"schema_version", 1},
              {"tool", {{"name", "probe"}, {"version", kVersion}}},
              {"rule", rule},
              {"noise_floor", kNoiseFloor},
              {"regressions", regressions}};
  auto side = [](const RecordedReport& r, const SignatureState& s) {
    return json{{"file", r.path},
                {"tool_version", r.report.tool_version},
                {"run_id", r.report.run_id.empty() ? json(nullptr) : json(r.report.run_id)},
                {"hostname", r.report.inventory.hostname},
                {"started_at", r.report.started_at},
                {"signature", {{"checked", s.checked}, {"held", s.held}, {"text", s.text}}}};
  };
  doc["base"] = side(base, base_sig);
  doc["new"] = side(current, current_sig);
  json jp = json::array();
  for (const auto& p : pairs) jp.push_back({{"base", p.base->info.id}, {"new", p.current->info.id}, {"paired_by", p.by}});
  for (const auto* d : base_only) jp.push_back({{"base", d->info.id}, {"new", nullptr}, {"paired_by", nullptr}});
  for (const auto* d : current_only) jp.push_back({{"base", nullptr}, {"new", d->info.id}, {"paired_by", nullptr}});
  doc["devices"] = jp;
  json jf = json::array();
  auto opt = [](const std::optional<double>& v) { return v ? json(*v) : json(nullptr); };
  for (const auto& f : figures) {
    jf.push_back({{"device", f.device}, {"kernel", f.kernel}, {"unit", f.unit}, {"base", opt(f.base)},
                  {"new", opt(f.current)}, {"change", opt(f.change)}, {"noise", opt(f.noise)}, {"verdict", f.verdict},
                  {"note", f.note}});
  }
  doc["figures"] = jf;
  const std::string json_text = doc.dump(2, ' ', false, json::error_handler_t::replace) + "\n";

  report::PrintContext ctx;
  ctx.title = fmt::format("probe compare {} {}", o.base, o.current);
  ctx.signature = fmt::format("base: {}; new: {}", base_sig.text, current_sig.text);
  ctx.embedded_json = json_text;
  emit_outputs(outputs, [&](report::Format f) {
    if (f == report::Format::json) return json_text;
    if (f != report::Format::text) ctx.binary_sha256 = binary_sha256();
    return report::make_printer(f, ctx)->render_sections(sections);
  });
  return regressions > 0 ? 1 : 0;
}

}  // namespace probe::cli
