// The Markdown report: the HTML report's tables, for a ticket or a pull request. The charts become a table of
// where each basis sits among the ruleset's regions (the same engine evaluation the HTML chart draws).
#include <algorithm>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "printer.hpp"
#include "sustained_section.hpp"
#include "regions.hpp"

namespace probe::report {

std::string markdown_escape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (const char c : s) {
    switch (c) {
      case '\\': case '`': case '*': case '_': case '[': case ']': case '|': case '<': case '>': case '#':
        out += '\\';
        out += c;
        break;
      case '\n': case '\r': out += ' '; break;
      default: out += c;
    }
  }
  return out;
}

namespace {

using rules::format_number;

std::string md(std::string_view s) { return markdown_escape(s); }
std::string opt_num(const std::optional<double>& v, std::string_view unit = {}) {
  if (!v) return "—";
  return unit.empty() ? format_number(*v) : fmt::format("{} {}", format_number(*v), unit);
}

void table(std::string& out, const std::vector<std::string>& header, const std::vector<std::vector<std::string>>& rows) {
  out += "|";
  for (const auto& h : header) out += " " + md(h) + " |";
  out += "\n|";
  for (std::size_t i = 0; i < header.size(); ++i) out += "---|";
  out += "\n";
  for (const auto& r : rows) {
    out += "|";
    for (std::size_t i = 0; i < header.size(); ++i) out += " " + (i < r.size() ? md(r[i]) : std::string()) + " |";
    out += "\n";
  }
  out += "\n";
}

void sections(std::string& out, std::span<const Section> ss) {
  for (const auto& s : ss) {
    out += "## " + md(s.title) + "\n\n";
    for (const auto& p : s.paragraphs) out += md(p) + "\n\n";
    for (const auto& t : s.tables) {
      if (!t.caption.empty()) out += "**" + md(t.caption) + "**\n\n";
      std::vector<std::vector<std::string>> rows = t.rows;
      // The row class (regression, changed) is a column here: Markdown has no colour.
      if (std::any_of(t.row_class.begin(), t.row_class.end(), [](const std::string& c) { return !c.empty(); })) {
        std::vector<std::string> header{""};
        header.insert(header.end(), t.header.begin(), t.header.end());
        for (std::size_t i = 0; i < rows.size(); ++i) {
          rows[i].insert(rows[i].begin(), i < t.row_class.size() ? t.row_class[i] : std::string());
        }
        table(out, header, rows);
      } else {
        table(out, t.header, rows);
      }
    }
    for (const auto& dc : s.charts) {
      const RegionChart& c = dc.chart;
      std::vector<std::vector<std::string>> rows;
      for (const auto& p : dc.points) {
        rows.push_back({p.label, format_number(p.x), p.y ? format_number(*p.y) : "unknown",
                        p.y ? region_at(c, p.x, *p.y) : region_at_x(c, p.x)});
      }
      out += fmt::format("**Position: {} × {} ({} {})**\n\n", md(c.x_label), md(c.y_label), md(c.citation),
                         md(c.ruleset_id));
      table(out, {"point", c.x_label, c.y_label, "region"}, rows);
    }
  }
}

void metrics(std::string& out, const rules::DeviceMetrics& m) {
  out += "### Control parameters\n\n";
  if (m.chip) out += fmt::format("Chip database: {} ({})  \n", md(m.chip->display_name()), md(m.chip_match));
  out += fmt::format("Applicable die area: {} ({})  \nDesigned or marketed for data centers: {} ({})\n\n",
                     md(opt_num(m.die_area_mm2, "mm²")), md(m.die_area_source),
                     m.datacenter ? (*m.datacenter ? "yes" : "no") : "unknown", md(m.datacenter_source));
  std::vector<std::vector<std::string>> rows;
  for (const rules::BasisMetrics* b : {&m.declared, &m.derived, &m.measured}) {
    const std::string name(rules::to_string(b->basis));
    if (!b->available) {
      rows.push_back({name, "—", "—", "—", "—", "not available: " + b->unavailable_reason});
      continue;
    }
    std::vector<std::string> types;
    for (auto t : b->tpp_types) types.emplace_back(rules::to_string(t));
    std::vector<std::string> notes;
    for (const std::string* n : {&b->pd_note, &b->dram_note, &b->note}) {
      if (!n->empty()) notes.push_back(*n);
    }
    rows.push_back({name, opt_num(b->tpp), fmt::format("{}", fmt::join(types, ", ")), opt_num(b->pd),
                    opt_num(b->total_dram_bw_gbs, "GB/s"), fmt::format("{}", fmt::join(notes, "; "))});
  }
  table(out, {"basis", "TPP", "set by", "PD", "DRAM bandwidth", "note"}, rows);
  for (const auto& f : m.flags) out += fmt::format("- **{}** {}\n", md(f.severity), md(f.text));
  if (!m.flags.empty()) out += "\n";
}

void positions(std::string& out, const rules::DeviceMetrics& m, const Assessment& a) {
  for (const auto& dc : device_charts(m, a.device_rulesets())) {
    const RegionChart& c = dc.chart;
    out += fmt::format("### Position: {} × {} ({} {})\n\n", md(c.x_label), md(c.y_label), md(c.citation), md(c.ruleset_id));
    std::vector<std::vector<std::string>> rows;
    for (const auto& p : dc.points) {
      rows.push_back({p.label, format_number(p.x), p.y ? format_number(*p.y) : "unknown",
                      p.y                               ? region_at(c, p.x, *p.y)
                      : !region_at_x(c, p.x).empty() ? region_at_x(c, p.x) + " (at any " + c.y_label + ")"
                                                        : "— (" + c.y_label + " unknown)"});
    }
    table(out, {"basis", c.x_label, c.y_label, "region"}, rows);
    out += fmt::format("Thresholds from {}: {} at {}; {} at {}. {}.\n\n", md(c.ruleset_file), md(c.x_label),
                       md(fmt::format("{}", fmt::join(c.x_thresholds, ", "))), md(c.y_label),
                       md(fmt::format("{}", fmt::join(c.y_thresholds, ", "))), md(c.assumption));
  }
}

void measurements(std::string& out, const DeviceReport& d, const rules::DeviceMetrics* m) {
  std::vector<std::vector<std::string>> compute, memory;
  // 0: no declared DRAM bandwidth (a plain double: GCC 12 misjudges an optional here as maybe uninitialised).
  const double declared_bw = m && m->declared.available ? m->declared.total_dram_bw_gbs.value_or(0) : 0;
  for (const auto& x : d.measurements) {
    if (!x.ok()) {
      (x.spec.kind == KernelClass::compute ? compute : memory)
          .push_back({x.spec.id, std::string(to_string(x.status)), x.reason, "", "", ""});
      continue;
    }
    const std::string spread = fmt::format("{:.1f}%", 100 * x.stats.rel_spread);
    if (x.spec.kind == KernelClass::compute) {
      const std::string peak = x.above_theoretical ? "withheld"
                               : x.theoretical && *x.theoretical > 0 ? fmt::format("{:.1f}%", 100 * x.stats.median / *x.theoretical)
                                                                     : "—";
      compute.push_back({x.spec.id, x.variant, format_rate(x.stats.median, x.spec.unit, x.spec.dtype),
                         x.theoretical ? format_rate(*x.theoretical, x.spec.unit, x.spec.dtype) : "—", peak, spread});
    } else {
      const double gbs = x.stats.median / 1e9;
      // The peak: the declared DRAM bandwidth, else the kernel's own theoretical figure, else none (0).
      const double peak = declared_bw > 0 ? declared_bw : x.theoretical.value_or(0) / 1e9;
      memory.push_back({x.spec.id, x.variant, format_number(gbs) + " GB/s", peak > 0 ? format_number(peak) + " GB/s" : "—",
                        peak > 0 ? fmt::format("{:.1f}%", 100 * gbs / peak) : "—", spread});
    }
  }
  if (!compute.empty()) {
    out += "### Compute (dense)\n\n";
    table(out, {"kernel", "variant", "measured", "theoretical", "% peak", "spread"}, compute);
  }
  if (!memory.empty()) {
    out += "### Memory bandwidth against peak\n\n";
    table(out, {"kernel", "variant", "measured", "peak", "% of peak", "spread"}, memory);
    const std::vector<std::string> warnings = condition_warnings(d, KernelClass::memory);
    for (const auto& w : warnings) out += "- warning: " + md(w) + "\n";
    if (!warnings.empty()) out += "\n";
  }
}

void verdicts(std::string& out, std::span<const rules::Verdict> vs) {
  for (const auto& v : vs) {
    out += fmt::format("#### {} — {} [{}]: {}{}\n\n", md(v.citation), md(v.ruleset_id), md(rules::to_string(v.status)),
                       md(v.classification),
                       v.outcome == rules::Outcome::matched ? " (" + md(v.classification_clause) + ")" : std::string());
    std::vector<std::vector<std::string>> rows;
    for (const auto& c : v.clauses) {
      std::vector<std::string> comps;
      for (const auto& k : c.comparisons) comps.push_back(k.text);
      rows.push_back({c.clause_id, c.kind, std::string(rules::to_string(c.outcome)), fmt::format("{}", fmt::join(comps, "; ")),
                      c.explanation});
    }
    table(out, {"clause", "kind", "outcome", "comparisons (margin)", "explanation"}, rows);
    for (const auto& n : v.near_misses) out += "- just under a line: " + md(n) + "\n";
    for (const auto& q : v.quantities) out += "- " + md(q.text) + "\n";
    for (const auto& n : v.notes) out += "- " + md(n) + "\n";
    if (!v.near_misses.empty() || !v.quantities.empty() || !v.notes.empty()) out += "\n";
  }
}

class MarkdownPrinter final : public Printer {
 public:
  explicit MarkdownPrinter(PrintContext c) : m_ctx(std::move(c)) {}

  std::string render(const Report& r, const Assessment* a) const override {
    std::string out = "# " + md(m_ctx.title) + "\n\n";
    std::vector<std::vector<std::string>> head{{"tool", "probe " + r.tool_version}};
    if (!m_ctx.binary_sha256.empty()) head.push_back({"probe binary sha256 (this rendering)", m_ctx.binary_sha256});
    if (!m_ctx.run_binary_sha256.empty()) {
      head.push_back({"probe binary sha256 (the run, as signed)", m_ctx.run_binary_sha256});
    }
    if (!r.command.empty()) head.push_back({"command", r.command});
    if (!r.inventory.hostname.empty() || !r.started_at.empty()) {
      head.push_back({"run", fmt::format("{} {} → {}", r.inventory.hostname, r.started_at, r.finished_at)});
    }
    if (!r.run_id.empty()) head.push_back({"run id", r.run_id});
    if (!r.budget.empty()) head.push_back({"budget", r.budget});
    head.push_back({"status", r.status});
    head.push_back({"signature", m_ctx.signature});
    table(out, {"", ""}, head);
    if (a) {
      const nlohmann::json p = a->provenance_json();
      std::vector<std::vector<std::string>> rows;
      for (const auto& rs : p["rulesets"]) {
        rows.push_back({rs["id"].get<std::string>(), rs["citation"].get<std::string>(), rs["file"].get<std::string>(),
                        rs["sha256"].get<std::string>()});
      }
      rows.push_back({"chip database", "", p["chip_database"]["file"].get<std::string>(),
                      p["chip_database"]["sha256"].get<std::string>()});
      table(out, {"rules and data", "citation", "file", "sha256"}, rows);
    }
    sections(out, m_ctx.preamble);
    std::vector<const DeviceAssessment*> shown;
    for (const auto& d : r.devices) {
      const DeviceAssessment* da = a ? a->find(d.info.id) : nullptr;
      if (da) shown.push_back(da);
      device(out, &d, da, a);
    }
    if (a) {
      for (const auto& da : a->devices()) {
        if (std::find(shown.begin(), shown.end(), &da) == shown.end()) device(out, nullptr, &da, a);
      }
      if (!a->node().empty()) {
        out += "## Node (4A090)\n\n";
        for (const auto& u : a->unmeasured()) {
          out += "- " + md(u.label) + ": " +
                 md(u.non_processor ? u.not_counted + ": not counted"
                    : !u.assessed   ? std::string("not in the chip database: not assessed")
                                    : "not measured; declared TPP " + opt_num(u.assessed->metrics.declared.tpp)) + "\n";
        }
        if (!a->unmeasured().empty()) out += "\n";
        verdicts(out, a->node());
      }
    }
    if (!r.conventions.empty()) {
      out += "## Methods and conventions\n\n";
      std::vector<std::vector<std::string>> rows;
      for (const auto& c : r.conventions) rows.push_back({c.topic, c.text});
      table(out, {"topic", "convention"}, rows);
    }
    return out;
  }

  std::string render_sections(std::span<const Section> ss) const override {
    std::string out = "# " + md(m_ctx.title) + "\n\n";
    std::vector<std::vector<std::string>> head;
    if (!m_ctx.binary_sha256.empty()) head.push_back({"probe binary sha256", m_ctx.binary_sha256});
    head.push_back({"signature", m_ctx.signature});
    table(out, {"", ""}, head);
    sections(out, m_ctx.preamble);
    sections(out, ss);
    return out;
  }

 private:
  static void device(std::string& out, const DeviceReport* d, const DeviceAssessment* da, const Assessment* a) {
    const std::string id = d ? d->info.id : da->metrics.device_id;
    const std::string name = d ? d->info.name : da->metrics.device_name;
    out += "## Device " + md(id) + ": " + md(name) + "\n\n";
    if (d) {
      std::vector<std::vector<std::string>> rows{{"name", d->info.name}, {"vendor", d->info.vendor},
                                                 {"architecture", d->info.arch},
                                                 {"units", fmt::format("{} {}", d->info.units, d->info.unit_name)},
                                                 {"backend", d->info.backend}};
      if (d->info.pci) {
        rows.push_back({"PCI", fmt::format("{} {:04x}:{:04x}", d->info.pci->bus_id, d->info.pci->vendor_id, d->info.pci->device_id)});
      }
      for (const auto& [k, v] : d->info.properties) {
        if (k == "uuid" || k == "serial" || k == "identification") rows.push_back({k, v});
      }
      if (d->info.partial) rows.push_back({"partial", d->info.partial_reason});
      table(out, {"identity", ""}, rows);
    } else {
      out += "From the chip database alone: nothing was measured.\n\n";
    }
    if (da) {
      metrics(out, da->metrics);
      positions(out, da->metrics, *a);
    }
    if (d) measurements(out, *d, da ? &da->metrics : nullptr);
    if (const auto s = d ? sustained_section(*d) : std::nullopt) sections(out, std::span(&*s, 1));
    if (da) {
      out += "### Verdicts\n\n";
      verdicts(out, da->verdicts);
    }
  }

  PrintContext m_ctx;
};

}  // namespace

std::unique_ptr<Printer> make_markdown_printer(PrintContext context) {
  return std::make_unique<MarkdownPrinter>(std::move(context));
}

}  // namespace probe::report
