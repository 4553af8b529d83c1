// The HTML report: one self-contained file an auditor can mail and open years later. Inline CSS and SVG, no
// script and no font from anywhere, readable without JavaScript, printable; the report's JSON is embedded as
// data (application/json), never executed. Every value from the report or the data files is escaped.
#include <algorithm>
#include <cmath>
#include <fmt/format.h>
#include <map>
#include <nlohmann/json.hpp>

#include "json_io.hpp"
#include "printer.hpp"
#include "sustained_section.hpp"
#include "regions.hpp"

namespace probe::report {

std::string html_escape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (const char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

namespace {

using rules::format_number;

std::string esc(std::string_view s) { return html_escape(s); }
std::string opt_num(const std::optional<double>& v, std::string_view unit = {}) {
  if (!v) return "—";
  return unit.empty() ? format_number(*v) : fmt::format("{} {}", format_number(*v), unit);
}
// An id usable in an HTML id attribute: letters, digits, '-' only.
std::string anchor(std::string_view s) {
  std::string out;
  for (const char c : s) out += std::isalnum(static_cast<unsigned char>(c)) ? c : '-';
  return out;
}

constexpr const char* kStyle = R"(
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;margin:1.5em auto;max-width:72em;padding:0 1em;color:#1b1b1b;line-height:1.4}
h1{font-size:1.6em;margin-bottom:.2em}h2{font-size:1.3em;border-bottom:2px solid #ccc;margin-top:1.6em}h3{font-size:1.05em;margin-top:1.2em}
table{border-collapse:collapse;margin:.4em 0 1em;font-size:.9em}th,td{border:1px solid #ccc;padding:.2em .5em;text-align:left;vertical-align:top}
th{background:#f0f0f0}td.num{text-align:right;font-variant-numeric:tabular-nums}
table.kv th{width:14em}code,.mono{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:.9em;word-break:break-all}
.matched{background:#fde2e1}.not-matched{background:#fff}.not-evaluable{background:#f3f3f3;color:#555}
tr.regression{background:#fde2e1}tr.changed{background:#fff4d6}tr.improved{background:#e3f4e1}
.flag-red{color:#a00;font-weight:bold}.flag-warning{color:#8a5a00}.note{color:#555;font-size:.9em}
.verdict{font-weight:bold}svg{max-width:100%;height:auto;font-family:inherit}
figure{margin:.5em 0 1.2em}figcaption{font-size:.85em;color:#444;max-width:60em}
@media print{body{max-width:none;margin:0;font-size:10pt}h2{page-break-before:auto}section.device{page-break-inside:avoid}a{color:inherit;text-decoration:none}}
)";

// ───────────────────────────── SVG ─────────────────────────────

// Colours per region in the order labels first appear; the "otherwise" region is always pale.
constexpr const char* kRegionFills[] = {"#e8a0a0", "#f2c38a", "#f5dc8c", "#c9b3e0", "#a9cfe8", "#b8dcb0", "#e0b8cf"};
constexpr const char* kBasisColours[] = {"#1f5fbf", "#7b3fa0", "#111111"};  // declared, derived, measured

const char* basis_colour(std::string_view basis) {
  if (basis == "declared") return kBasisColours[0];
  if (basis == "derived") return kBasisColours[1];
  return kBasisColours[2];
}

std::string region_svg(const DeviceChart& dc) {
  const RegionChart& c = dc.chart;
  constexpr double W = 720, H = 420, L = 70, R = 20, T = 20, B = 50;
  const double pw = W - L - R, ph = H - T - B;
  auto sx = [&](double x) {
    return L + pw * (std::log10(std::clamp(x, c.x_min, c.x_max)) - std::log10(c.x_min)) /
                   (std::log10(c.x_max) - std::log10(c.x_min));
  };
  auto sy = [&](double y) {
    return T + ph - ph * (std::log10(std::clamp(y, c.y_min, c.y_max)) - std::log10(c.y_min)) /
                        (std::log10(c.y_max) - std::log10(c.y_min));
  };
  std::string s = fmt::format(
      R"(<svg viewBox="0 0 {} {}" width="{}" height="{}" role="img" aria-label="{}">)",
      W, H, W, H, esc(fmt::format("{} × {} regions of {}", c.x_label, c.y_label, c.ruleset_id)));
  std::map<std::string, std::string> fills;
  std::size_t next = 0;
  for (const auto& cell : c.cells) {
    if (fills.count(cell.label)) continue;
    fills[cell.label] = !cell.evaluable ? "#e4e4e4" : cell.otherwise ? "#f4f8f1" : kRegionFills[next++ % std::size(kRegionFills)];
  }
  // The regions are drawn in a nested viewport that clips them (and their labels) to the plot area.
  s += fmt::format(R"(<svg x="{0}" y="{1}" width="{2}" height="{3}" viewBox="{0} {1} {2} {3}" overflow="hidden">)", L, T, pw, ph);
  // The label of each region goes in its largest cell.
  std::map<std::string, std::pair<double, const RegionCell*>> biggest;
  for (const auto& cell : c.cells) {
    const double x0 = sx(cell.x0), x1 = sx(cell.x1), y0 = sy(cell.y1), y1 = sy(cell.y0);
    s += fmt::format(R"(<rect x="{:.1f}" y="{:.1f}" width="{:.1f}" height="{:.1f}" fill="{}" stroke="none"><title>{}</title></rect>)",
                     x0, y0, x1 - x0, y1 - y0, fills[cell.label], esc(cell.label));
    const double area = (x1 - x0) * (y1 - y0);
    auto& b = biggest[cell.label];
    if (area > b.first) b = {area, &cell};
  }
  for (const auto& [label, b] : biggest) {
    const RegionCell& cell = *b.second;
    const double cx = (sx(cell.x0) + sx(cell.x1)) / 2, cy = (sy(cell.y0) + sy(cell.y1)) / 2;
    s += fmt::format(R"(<text x="{:.1f}" y="{:.1f}" text-anchor="middle" font-size="12" fill="#333" class="region-label">{}</text>)",
                     cx, cy, esc(label));
  }
  s += "</svg>";
  // Thresholds from the rules file, labelled with their values.
  for (double t : c.x_thresholds) {
    s += fmt::format(R"(<line x1="{0:.1f}" x2="{0:.1f}" y1="{1:.1f}" y2="{2:.1f}" stroke="#777" stroke-dasharray="3,3"/>)", sx(t), T, T + ph);
    s += fmt::format(R"(<text x="{:.1f}" y="{:.1f}" font-size="10" text-anchor="middle" fill="#555">{}</text>)", sx(t), T + ph + 28, esc(format_number(t)));
  }
  for (double t : c.y_thresholds) {
    s += fmt::format(R"(<line x1="{0:.1f}" x2="{1:.1f}" y1="{2:.1f}" y2="{2:.1f}" stroke="#777" stroke-dasharray="3,3"/>)", L, L + pw, sy(t));
    s += fmt::format(R"(<text x="{:.1f}" y="{:.1f}" font-size="10" text-anchor="end" fill="#555">{}</text>)", L - 4, sy(t) + 3, esc(format_number(t)));
  }
  // Decades on both axes.
  for (double d = c.x_min; d <= c.x_max * 1.0001; d *= 10) {
    s += fmt::format(R"(<text x="{:.1f}" y="{:.1f}" font-size="10" text-anchor="middle" fill="#999">{}</text>)", sx(d), T + ph + 14, esc(format_number(d)));
  }
  for (double d = c.y_min; d <= c.y_max * 1.0001; d *= 10) {
    s += fmt::format(R"(<text x="{:.1f}" y="{:.1f}" font-size="10" text-anchor="start" fill="#999">{}</text>)", 2.0, sy(d) + 3, esc(format_number(d)));
  }
  s += fmt::format(R"(<rect x="{}" y="{}" width="{}" height="{}" fill="none" stroke="#333"/>)", L, T, pw, ph);
  s += fmt::format(R"(<text x="{:.1f}" y="{:.1f}" font-size="12" text-anchor="middle">{}</text>)", L + pw / 2, H - 6,
                   esc(fmt::format("{} (log scale)", c.x_label)));
  s += fmt::format(R"svg(<text x="14" y="{:.1f}" font-size="12" text-anchor="middle" transform="rotate(-90 14 {:.1f})">{}</text>)svg",
                   T + ph / 2, T + ph / 2,
                   esc(fmt::format("{}{} (log scale)", c.y_label, c.y_unit.empty() ? "" : ", " + c.y_unit)));
  // The device's points; a basis without the second metric is a line at its TPP.
  int row = 0;
  for (const auto& p : dc.points) {
    const char* colour = basis_colour(p.label);
    const double x = sx(p.x);
    std::string text = fmt::format("{} {} {}", p.label, c.x_label, format_number(p.x));
    if (p.y) {
      const double y = sy(*p.y);
      text += fmt::format(" · {} {}", c.y_label, format_number(*p.y));
      s += fmt::format(R"(<circle cx="{:.1f}" cy="{:.1f}" r="5" fill="{}" stroke="#fff" stroke-width="1.5" class="point"><title>{}</title></circle>)",
                       x, y, colour, esc(text));
      const bool left = x > L + pw * 0.6;
      s += fmt::format(R"(<text x="{:.1f}" y="{:.1f}" font-size="11" fill="{}" text-anchor="{}" class="point-label">{}</text>)",
                       left ? x - 8 : x + 8, y - 6 - 15 * row, colour, left ? "end" : "start", esc(text));
    } else {
      text += fmt::format(" ({} unknown)", c.y_label);
      s += fmt::format(R"(<line x1="{0:.1f}" x2="{0:.1f}" y1="{1:.1f}" y2="{2:.1f}" stroke="{3}" stroke-width="2" stroke-dasharray="6,3"><title>{4}</title></line>)",
                       x, T, T + ph, colour, esc(text));
      const bool left = x > L + pw * 0.6;
      s += fmt::format(R"(<text x="{:.1f}" y="{:.1f}" font-size="11" fill="{}" text-anchor="{}" class="point-label">{}</text>)",
                       left ? x - 4 : x + 4, T + 14 + 13 * row, colour, left ? "end" : "start", esc(text));
    }
    ++row;
  }
  s += "</svg>";
  return s;
}

struct Bar {
  std::string series;  // "measured", "theoretical", "declared", "peak"
  double value = 0;
  std::string text;
};
struct BarGroup {
  std::string name;
  std::vector<Bar> bars;
};

const char* series_colour(std::string_view s) {
  if (s == "measured") return "#111111";
  if (s == "declared") return "#1f5fbf";
  return "#7b3fa0";  // theoretical / derived / peak
}

std::string bar_svg(const std::vector<BarGroup>& groups, std::string_view aria) {
  double max = 0;
  std::size_t bars = 0;
  for (const auto& g : groups) {
    for (const auto& b : g.bars) max = std::max(max, b.value);
    bars += g.bars.size();
  }
  if (max <= 0 || bars == 0) return {};
  constexpr double W = 720, L = 150, R = 200, bar_h = 14, gap = 10;
  const double H = static_cast<double>(bars) * bar_h + static_cast<double>(groups.size()) * gap + 10;
  std::string s = fmt::format(R"(<svg viewBox="0 0 {} {:.0f}" width="{}" height="{:.0f}" role="img" aria-label="{}">)",
                              W, H, W, H, esc(aria));
  double y = 5;
  for (const auto& g : groups) {
    s += fmt::format(R"(<text x="{}" y="{:.1f}" font-size="11" text-anchor="end">{}</text>)", L - 6,
                     y + bar_h * static_cast<double>(g.bars.size()) / 2 + 4, esc(g.name));
    for (const auto& b : g.bars) {
      const double w = (W - L - R) * b.value / max;
      s += fmt::format(R"(<rect x="{}" y="{:.1f}" width="{:.1f}" height="{:.1f}" fill="{}"><title>{}</title></rect>)", L, y,
                       std::max(w, 1.0), bar_h - 2, series_colour(b.series), esc(b.series + ": " + b.text));
      s += fmt::format(R"(<text x="{:.1f}" y="{:.1f}" font-size="10">{}</text>)", L + w + 4, y + bar_h - 4,
                       esc(b.series + " " + b.text));
      y += bar_h;
    }
    y += gap;
  }
  s += "</svg>";
  return s;
}

// ───────────────────────────── tables ─────────────────────────────

void table(std::string& out, const Table& t) {
  out += "<table>";
  if (!t.caption.empty()) out += "<caption>" + esc(t.caption) + "</caption>";
  if (!t.header.empty()) {
    out += "<thead><tr>";
    for (const auto& h : t.header) out += "<th>" + esc(h) + "</th>";
    out += "</tr></thead>";
  }
  out += "<tbody>";
  for (std::size_t i = 0; i < t.rows.size(); ++i) {
    const std::string cls = i < t.row_class.size() && !t.row_class[i].empty() ? " class=\"" + esc(t.row_class[i]) + "\"" : "";
    out += "<tr" + cls + ">";
    for (const auto& c : t.rows[i]) out += "<td>" + esc(c) + "</td>";
    out += "</tr>";
  }
  out += "</tbody></table>\n";
}

void sections(std::string& out, std::span<const Section> ss) {
  for (const auto& s : ss) {
    out += "<section><h2>" + esc(s.title) + "</h2>\n";
    for (const auto& p : s.paragraphs) out += "<p>" + esc(p) + "</p>\n";
    for (const auto& t : s.tables) table(out, t);
    for (const auto& dc : s.charts) {
      out += "<figure class=\"region-chart\">" + region_svg(dc) + "<figcaption>" +
             esc(fmt::format("{} {}: {}", dc.chart.citation, dc.chart.ruleset_id, dc.chart.assumption)) +
             "</figcaption></figure>\n";
    }
    out += "</section>\n";
  }
}

void kv_row(std::string& out, std::string_view k, std::string_view v, bool mono = false) {
  out += fmt::format("<tr><th>{}</th><td{}>{}</td></tr>", esc(k), mono ? " class=\"mono\"" : "", esc(v));
}

std::string prop(const DeviceInfo& i, std::string_view key) {
  for (const auto& [k, v] : i.properties) {
    if (k == key) return v;
  }
  return {};
}

void identity(std::string& out, const DeviceReport& d) {
  const DeviceInfo& i = d.info;
  out += "<h3>Identity</h3><table class=\"kv identity\">";
  kv_row(out, "id", i.id);
  kv_row(out, "name", i.name);
  kv_row(out, "vendor", i.vendor);
  kv_row(out, "architecture", i.arch);
  kv_row(out, "units", fmt::format("{} {}", i.units, i.unit_name));
  kv_row(out, "backend", i.backend + " (" + i.kind + ")");
  if (i.pci) {
    kv_row(out, "PCI", fmt::format("{} {:04x}:{:04x} subsystem {:04x}:{:04x}", i.pci->bus_id, i.pci->vendor_id,
                                   i.pci->device_id, i.pci->subvendor_id, i.pci->subdevice_id), true);
  }
  for (const char* k : {"uuid", "serial", "board_part_number", "vbios", "driver", "identification"}) {
    if (const std::string v = prop(i, k); !v.empty()) kv_row(out, k, v, true);
  }
  if (i.partial) kv_row(out, "partial", i.partial_reason);
  out += "</table>\n";
  if (!i.properties.empty()) {
    out += "<details><summary>All recorded properties</summary><table class=\"kv\">";
    for (const auto& [k, v] : i.properties) kv_row(out, k, v);
    out += "</table></details>\n";
  }
}

void metrics_table(std::string& out, const rules::DeviceMetrics& m) {
  out += "<h3>Control parameters</h3>";
  out += "<table class=\"kv\">";
  if (m.chip) kv_row(out, "chip database entry", fmt::format("{} ({})", m.chip->display_name(), m.chip_match));
  kv_row(out, "applicable die area", fmt::format("{} ({})", opt_num(m.die_area_mm2, "mm²"), m.die_area_source));
  kv_row(out, "designed or marketed for data centers",
         fmt::format("{} ({})", m.datacenter ? (*m.datacenter ? "yes" : "no") : "unknown", m.datacenter_source));
  if (m.efficiency) kv_row(out, "efficiency (measured TPP ÷ declared, else derived, TPP)", fmt::format("{:.1f}%", *m.efficiency * 100));
  out += "</table>\n<table class=\"metrics\"><thead><tr><th>basis</th><th>TPP</th><th>set by</th><th>PD (TPP/mm²)</th>"
         "<th>DRAM bandwidth</th><th>HBM density</th><th>clock</th><th>note</th></tr></thead><tbody>";
  for (const rules::BasisMetrics* b : {&m.declared, &m.derived, &m.measured}) {
    const std::string name(rules::to_string(b->basis));
    if (!b->available) {
      out += fmt::format("<tr class=\"basis-{0}\"><td>{0}</td><td colspan=\"7\" class=\"note\">not available: {1}</td></tr>",
                         esc(name), esc(b->unavailable_reason));
      continue;
    }
    std::vector<std::string> types;
    for (auto t : b->tpp_types) {
      std::string item(rules::to_string(t));
      for (const auto& r : b->rates) {
        if (r.type == t && !r.kernel.empty()) item += " (" + r.kernel + ")";
      }
      if (std::find(types.begin(), types.end(), item) == types.end()) types.push_back(item);
    }
    std::vector<std::string> notes;
    for (const std::string* n : {&b->pd_note, &b->dram_note, &b->note, &b->clock_note}) {
      if (!n->empty()) notes.push_back(*n);
    }
    out += fmt::format("<tr class=\"basis-{}\"><td>{}</td><td class=\"num tpp\">{}</td><td>{}</td><td class=\"num\">{}</td>"
                       "<td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"note\">{}</td></tr>",
                       esc(name), esc(name), esc(opt_num(b->tpp)), esc(fmt::format("{}", fmt::join(types, ", "))),
                       esc(opt_num(b->pd)), esc(opt_num(b->total_dram_bw_gbs, "GB/s")),
                       esc(opt_num(b->hbm_bw_density, "GB/s/mm²")), esc(opt_num(b->clock_mhz, "MHz")),
                       esc(fmt::format("{}", fmt::join(notes, "; "))));
  }
  out += "</tbody></table>\n";
  if (!m.flags.empty()) {
    out += "<ul class=\"flags\">";
    for (const auto& f : m.flags) {
      out += fmt::format("<li class=\"flag-{}\">[{}] {}</li>", esc(f.severity), esc(f.severity), esc(f.text));
    }
    out += "</ul>\n";
  }
}

void charts(std::string& out, const rules::DeviceMetrics& m, const Assessment& a) {
  for (const auto& dc : device_charts(m, a.device_rulesets())) {
    const RegionChart& c = dc.chart;
    out += fmt::format("<h3>{} × {} ({} {})</h3><figure class=\"region-chart\">", esc(c.x_label), esc(c.y_label),
                       esc(c.citation), esc(c.ruleset_id));
    out += region_svg(dc);
    std::vector<std::string> where;
    for (const auto& p : dc.points) {
      where.push_back(p.y ? fmt::format("{}: {}", p.label, region_at(c, p.x, *p.y))
                          : !region_at_x(c, p.x).empty()
                              ? fmt::format("{}: {} (at any {}; TPP {})", p.label, region_at_x(c, p.x), c.y_label, format_number(p.x))
                              : fmt::format("{}: {} unknown, TPP {}", p.label, c.y_label, format_number(p.x)));
    }
    out += fmt::format("<figcaption>Regions of {} ({}, sha256 {}) evaluated by the rules engine at each cell between "
                       "the thresholds the file names; {}. Points: {}.</figcaption></figure>\n",
                       esc(c.ruleset_id), esc(c.ruleset_file), esc(c.ruleset_sha256.substr(0, 16)), esc(c.assumption),
                       esc(where.empty() ? std::string("no basis has a TPP") : fmt::format("{}", fmt::join(where, "; "))));
  }
}

void compute_section(std::string& out, const DeviceReport* d, const rules::DeviceMetrics* m) {
  // Per data type: measured vs theoretical (the derived basis) vs declared, in dense T(FL)OPS.
  if (m) {
    std::map<rules::PeakType, std::array<std::optional<double>, 3>> by_type;
    for (const rules::BasisMetrics* b : {&m->declared, &m->derived, &m->measured}) {
      if (!b->available) continue;
      for (const auto& r : b->rates) {
        auto& slot = by_type[r.type][static_cast<std::size_t>(b->basis)];
        slot = std::max(slot.value_or(0), r.tops);
      }
    }
    std::vector<BarGroup> groups;
    for (const auto& [type, v] : by_type) {
      BarGroup g{std::string(rules::to_string(type)), {}};
      if (v[2]) g.bars.push_back({"measured", *v[2], format_number(*v[2]) + " T/s"});
      if (v[1]) g.bars.push_back({"theoretical", *v[1], format_number(*v[1]) + " T/s"});
      if (v[0]) g.bars.push_back({"declared", *v[0], format_number(*v[0]) + " T/s"});
      groups.push_back(std::move(g));
    }
    const std::string svg = bar_svg(groups, "dense rate per data type: measured, theoretical, declared");
    if (!svg.empty()) {
      out += "<h3>Dense rate per data type</h3><figure class=\"dtype-bars\">" + svg +
             "<figcaption>Tera-operations per second (2 per multiply-add): measured (the best kernel of the type), "
             "theoretical (the derived basis: units × rate per clock × clock) and declared (the chip database's "
             "datasheet figure).</figcaption></figure>\n";
    }
  }
  if (!d) return;
  bool any = false;
  for (const auto& x : d->measurements) any |= x.spec.kind == KernelClass::compute;
  if (!any) return;
  out += "<table class=\"compute\"><thead><tr><th>kernel</th><th>variant</th><th>status</th><th>measured</th>"
         "<th>theoretical</th><th>% peak</th><th>spread</th><th>clock</th></tr></thead><tbody>";
  for (const auto& x : d->measurements) {
    if (x.spec.kind != KernelClass::compute) continue;
    if (!x.ok()) {
      out += fmt::format("<tr><td><code>{}</code></td><td>{}</td><td>{}</td><td colspan=\"5\">{}</td></tr>", esc(x.spec.id),
                         esc(x.variant), esc(to_string(x.status)), esc(x.reason));
      continue;
    }
    const std::string peak = x.above_theoretical ? "withheld"
                             : x.theoretical && *x.theoretical > 0 ? fmt::format("{:.1f}%", 100 * x.stats.median / *x.theoretical)
                                                                   : "—";
    out += fmt::format("<tr><td><code>{}</code></td><td>{}</td><td>ok</td><td class=\"num\">{}</td><td class=\"num\">{}</td>"
                       "<td class=\"num\">{}</td><td class=\"num\">{:.1f}%</td><td class=\"num\">{}</td></tr>",
                       esc(x.spec.id), esc(x.variant), esc(format_rate(x.stats.median, x.spec.unit, x.spec.dtype)),
                       esc(x.theoretical ? format_rate(*x.theoretical, x.spec.unit, x.spec.dtype) : "—"), esc(peak),
                       100 * x.stats.rel_spread,
                       esc(x.conditions.clock_hz > 0 ? fmt::format("{:.2f} GHz", x.conditions.clock_hz / 1e9) : "—"));
  }
  out += "</tbody></table>\n";
}

void memory_section(std::string& out, const DeviceReport& d, const rules::DeviceMetrics* m) {
  bool any = false;
  for (const auto& x : d.measurements) any |= x.spec.kind == KernelClass::memory;
  if (!any) return;
  // The peak a bandwidth is held against: the declared DRAM bandwidth, else the kernel's own theoretical figure.
  const std::optional<double> declared = m && m->declared.available ? m->declared.total_dram_bw_gbs : std::nullopt;
  std::vector<BarGroup> groups;
  out += "<h3>Memory bandwidth against peak</h3>";
  std::string rows;
  for (const auto& x : d.measurements) {
    if (x.spec.kind != KernelClass::memory) continue;
    if (!x.ok()) {
      rows += fmt::format("<tr><td><code>{}</code></td><td>{}</td><td colspan=\"4\">{}</td></tr>", esc(x.spec.id),
                          esc(to_string(x.status)), esc(x.reason));
      continue;
    }
    const double gbs = x.stats.median / 1e9;
    std::optional<double> peak = declared;
    std::string peak_from = "declared";
    if (!peak && x.theoretical) {
      peak = *x.theoretical / 1e9;
      peak_from = "theoretical";
    }
    BarGroup g{x.spec.id, {{"measured", gbs, format_number(gbs) + " GB/s"}}};
    if (peak) g.bars.push_back({peak_from, *peak, format_number(*peak) + " GB/s"});
    groups.push_back(std::move(g));
    rows += fmt::format("<tr><td><code>{}</code></td><td>ok</td><td class=\"num\">{}</td><td class=\"num\">{}</td>"
                        "<td class=\"num\">{}</td><td class=\"num\">{:.1f}%</td></tr>",
                        esc(x.spec.id), esc(format_number(gbs) + " GB/s"),
                        esc(peak ? format_number(*peak) + " GB/s (" + peak_from + ")" : "—"),
                        esc(peak && *peak > 0 ? fmt::format("{:.1f}%", 100 * gbs / *peak) : "—"), 100 * x.stats.rel_spread);
  }
  const std::string svg = bar_svg(groups, "memory bandwidth: measured and peak");
  if (!svg.empty()) {
    out += "<figure class=\"bw-bars\">" + svg +
           "<figcaption>STREAM counting (bytes the kernel names, no write-allocate); peak: the chip database's "
           "declared DRAM bandwidth where known, else none.</figcaption></figure>";
  }
  out += "<table class=\"memory\"><thead><tr><th>kernel</th><th>status</th><th>measured</th><th>peak</th><th>% of peak</th>"
         "<th>spread</th></tr></thead><tbody>" + rows + "</tbody></table>\n";
  for (const auto& w : condition_warnings(d, KernelClass::memory)) out += "<p class=\"flag-warning\">warning: " + esc(w) + "</p>";
}

void verdict_tables(std::string& out, std::span<const rules::Verdict> vs) {
  for (const auto& v : vs) {
    out += fmt::format("<div class=\"verdict-block\" id=\"verdict-{}-{}\"><h4>{} — {} [{}]</h4>", esc(anchor(v.subject)),
                       esc(anchor(v.ruleset_id)), esc(v.citation), esc(v.ruleset_id), esc(rules::to_string(v.status)));
    out += fmt::format("<p class=\"verdict\">→ {}{}</p>", esc(v.classification),
                       v.outcome == rules::Outcome::matched ? esc(" (" + v.classification_clause + ")") : std::string());
    out += "<table class=\"clauses\"><thead><tr><th>clause</th><th>kind</th><th>outcome</th><th>comparisons (value, "
           "threshold, margin)</th><th>explanation</th></tr></thead><tbody>";
    for (const auto& c : v.clauses) {
      std::vector<std::string> comps;
      for (const auto& k : c.comparisons) comps.push_back(k.text);
      const std::string cls = c.outcome == rules::Outcome::matched ? "matched"
                              : c.outcome == rules::Outcome::not_matched ? "not-matched" : "not-evaluable";
      out += fmt::format("<tr class=\"{}\"><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}{}</td></tr>", cls,
                         esc(c.clause_id), esc(c.kind), esc(rules::to_string(c.outcome)),
                         esc(fmt::format("{}", fmt::join(comps, "; "))), esc(c.explanation),
                         c.outcome == rules::Outcome::matched && c.kind != "classification" ? "<br><span class=\"note\">" + esc(c.effect) + "</span>" : "");
    }
    out += "</tbody></table>";
    for (const auto& n : v.near_misses) out += "<p class=\"flag-warning\">just under a line: " + esc(n) + "</p>";
    for (const auto& q : v.quantities) out += "<p class=\"note\">" + esc(q.text) + "</p>";
    for (const auto& n : v.notes) out += "<p class=\"note\">" + esc(n) + "</p>";
    out += "</div>\n";
  }
}

void conditions_table(std::string& out, const DeviceReport& d) {
  std::string rows;
  for (const auto& x : d.measurements) {
    if (!x.ok()) continue;
    const Conditions& c = x.conditions;
    std::vector<std::string> extra;
    for (const auto& [k, v] : c.notes) {
      if (k.find("power") != std::string::npos || k.find("temp") != std::string::npos || k.find("clock") != std::string::npos) {
        extra.push_back(k + " " + v);
      }
    }
    auto ghz = [](double hz) { return hz > 0 ? fmt::format("{:.3f}", hz / 1e9) : std::string("—"); };
    rows += fmt::format("<tr><td><code>{}</code></td><td class=\"num\">{}</td><td class=\"num\">{}–{}</td><td class=\"num\">{}</td>"
                        "<td>{}</td><td class=\"num\">{}</td><td class=\"num\">{:.2f}</td><td>{}</td><td>{}</td></tr>",
                        esc(x.spec.id), ghz(c.clock_hz), ghz(c.clock_hz_min), ghz(c.clock_hz_max), ghz(c.clock_hz_scalar),
                        esc(c.clock_source), c.threads, c.elapsed_s, esc(c.started_at),
                        esc(fmt::format("{}", fmt::join(extra, "; "))));
  }
  if (rows.empty()) return;
  out += "<details class=\"conditions\"><summary>Clocks, power and conditions per kernel</summary><table><thead><tr>"
         "<th>kernel</th><th>clock GHz</th><th>min–max GHz</th><th>scalar GHz</th><th>clock source</th><th>threads</th>"
         "<th>elapsed s</th><th>started</th><th>power, temperature</th></tr></thead><tbody>" + rows + "</tbody></table></details>\n";
}

void methods(std::string& out, const Report& r) {
  out += "<section id=\"methods\"><h2>Methods and conventions</h2><table class=\"kv\">";
  for (const auto& c : r.conventions) kv_row(out, c.topic, c.text);
  out += "</table>";
  std::string rows;
  for (const auto& d : r.devices) {
    for (const auto& m : d.measurements) {
      rows += fmt::format("<tr><td>{}</td><td><code>{}</code></td><td>{}</td><td>{}</td></tr>", esc(d.info.id), esc(m.spec.id),
                          esc(m.spec.counting), esc(m.theoretical_basis));
    }
  }
  if (!rows.empty()) {
    out += "<details><summary>How each kernel counts its work, and its theoretical peak</summary><table><thead><tr>"
           "<th>device</th><th>kernel</th><th>counting</th><th>theoretical basis</th></tr></thead><tbody>" + rows +
           "</tbody></table></details>";
  }
  out += "</section>\n";
}

// JSON inside <script type="application/json">: '<', '>' and '&' only occur inside strings, where \u escapes
// mean the same characters; so no "</script>" in the data can end the element.
std::string embed_json(std::string_view json_text) {
  std::string out;
  out.reserve(json_text.size());
  for (const char c : json_text) {
    if (c == '<') out += "\\u003c";
    else if (c == '>') out += "\\u003e";
    else if (c == '&') out += "\\u0026";
    else out += c;
  }
  return out;
}

class HtmlPrinter final : public Printer {
 public:
  explicit HtmlPrinter(PrintContext c) : m_ctx(std::move(c)) {}

  std::string render(const Report& r, const Assessment* a) const override {
    std::string out = begin(m_ctx.title);
    header(out, r, a);
    sections(out, m_ctx.preamble);
    if (r.status == "interrupted") {
      out += fmt::format("<p class=\"flag-red\">Interrupted by {}: {} kernel(s) not reached.</p>", esc(r.interrupted_by),
                         r.not_reached.size());
    }
    std::vector<const DeviceAssessment*> shown;
    for (const auto& d : r.devices) {
      const DeviceAssessment* da = a ? a->find(d.info.id) : nullptr;
      if (da) shown.push_back(da);
      device(out, &d, da, a);
    }
    // Assessed but not measured here: a chip of the database (classify --chip).
    if (a) {
      for (const auto& da : a->devices()) {
        if (std::find(shown.begin(), shown.end(), &da) == shown.end()) device(out, nullptr, &da, a);
      }
    }
    if (a) node(out, *a);
    if (!r.conventions.empty() || !r.devices.empty()) methods(out, r);
    out += "<section id=\"data\"><h2>Data</h2><p class=\"note\">The report's JSON is embedded in this file "
           "(element <code>probe-report-json</code>, type application/json) and is the record: this page is a view of it."
           "</p></section>\n";
    out += "<script type=\"application/json\" id=\"probe-report-json\">" +
           embed_json(m_ctx.embedded_json.empty() ? to_json_text(r, a) : m_ctx.embedded_json) + "</script>\n";
    out += "</body></html>\n";
    return out;
  }

  std::string render_sections(std::span<const Section> ss) const override {
    std::string out = begin(m_ctx.title);
    out += "<header><h1>" + esc(m_ctx.title) + "</h1><table class=\"kv\">";
    if (!m_ctx.binary_sha256.empty()) kv_row(out, "probe binary sha256", m_ctx.binary_sha256, true);
    kv_row(out, "signature", m_ctx.signature);
    out += "</table></header>\n";
    sections(out, m_ctx.preamble);
    sections(out, ss);
    if (!m_ctx.embedded_json.empty()) {
      out += "<script type=\"application/json\" id=\"probe-report-json\">" + embed_json(m_ctx.embedded_json) + "</script>\n";
    }
    out += "</body></html>\n";
    return out;
  }

 private:
  static std::string begin(std::string_view title) {
    return fmt::format("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                       "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
                       "<meta name=\"generator\" content=\"probe\"><title>{}</title><style>{}</style></head><body>\n",
                       esc(title), kStyle);
  }

  void header(std::string& out, const Report& r, const Assessment* a) const {
    out += "<header><h1>" + esc(m_ctx.title) + "</h1><table class=\"kv\" id=\"header\">";
    kv_row(out, "tool", "probe " + r.tool_version);
    if (!m_ctx.binary_sha256.empty()) kv_row(out, "probe binary sha256 (this rendering)", m_ctx.binary_sha256, true);
    if (!m_ctx.run_binary_sha256.empty()) {
      kv_row(out, "probe binary sha256 (the run, as signed)", m_ctx.run_binary_sha256, true);
    }
    if (!r.command.empty()) kv_row(out, "command", r.command, true);
    if (!r.inventory.hostname.empty() || !r.started_at.empty()) {
      kv_row(out, "run", fmt::format("{} {} → {}", r.inventory.hostname, r.started_at, r.finished_at));
    }
    if (!r.run_id.empty()) kv_row(out, "run id", r.run_id, true);
    if (!r.budget.empty()) kv_row(out, "budget", r.budget);
    kv_row(out, "status", r.status);
    kv_row(out, "signature", m_ctx.signature);
    out += "</table>\n";
    if (a) {
      const nlohmann::json p = a->provenance_json();
      out += "<table class=\"provenance\"><thead><tr><th>rules and data</th><th>citation</th><th>file</th><th>sha256</th></tr>"
             "</thead><tbody>";
      for (const auto& rs : p["rulesets"]) {
        out += fmt::format("<tr><td>{}</td><td>{}</td><td>{}</td><td class=\"mono\">{}</td></tr>",
                           esc(rs["id"].get<std::string>()), esc(rs["citation"].get<std::string>()),
                           esc(rs["file"].get<std::string>()), esc(rs["sha256"].get<std::string>()));
      }
      out += fmt::format("<tr><td>chip database</td><td></td><td>{}</td><td class=\"mono\">{}</td></tr>",
                         esc(p["chip_database"]["file"].get<std::string>()),
                         esc(p["chip_database"]["sha256"].get<std::string>()));
      out += "</tbody></table>\n";
    }
    out += "</header>\n";
  }

  static void device(std::string& out, const DeviceReport* d, const DeviceAssessment* da, const Assessment* a) {
    const std::string id = d ? d->info.id : da->metrics.device_id;
    const std::string name = d ? d->info.name : da->metrics.device_name;
    out += fmt::format("<section class=\"device\" id=\"device-{}\"><h2>Device {}: {}</h2>\n", esc(anchor(id)), esc(id), esc(name));
    if (d) {
      identity(out, *d);
    } else {
      out += "<p class=\"note\">From the chip database alone: nothing was measured.</p>";
    }
    if (da) {
      metrics_table(out, da->metrics);
      charts(out, da->metrics, *a);
    }
    compute_section(out, d, da ? &da->metrics : nullptr);
    if (d) memory_section(out, *d, da ? &da->metrics : nullptr);
    if (const auto s = d ? sustained_section(*d) : std::nullopt) sections(out, std::span(&*s, 1));
    if (da) {
      out += "<h3>Verdicts</h3>";
      verdict_tables(out, da->verdicts);
    }
    if (d) conditions_table(out, *d);
    out += "</section>\n";
  }

  static void node(std::string& out, const Assessment& a) {
    if (a.node().empty() && a.unmeasured().empty()) return;
    out += "<section id=\"node\"><h2>Node (4A090: computers containing 3A090 integrated circuits)</h2>";
    if (!a.unmeasured().empty()) {
      out += "<table><thead><tr><th>accelerator not measured</th><th>assessment</th></tr></thead><tbody>";
      for (const auto& u : a.unmeasured()) {
        std::string what = u.non_processor ? u.not_counted + ": not counted"
                           : !u.assessed   ? std::string("not in the chip database: not assessed")
                                           : "declared TPP " + opt_num(u.assessed->metrics.declared.tpp);
        out += "<tr><td>" + esc(u.label) + "</td><td>" + esc(what) + "</td></tr>";
      }
      out += "</tbody></table>";
    }
    verdict_tables(out, a.node());
    out += "</section>\n";
  }

  PrintContext m_ctx;
};

}  // namespace

std::unique_ptr<Printer> make_html_printer(PrintContext context) { return std::make_unique<HtmlPrinter>(std::move(context)); }

}  // namespace probe::report
