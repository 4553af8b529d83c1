// Text and JSON for metrics, verdicts and rulesets.
#include <algorithm>
#include <cmath>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "rules.hpp"

namespace probe::rules {

using nlohmann::json;

std::string format_number(double v) {
  if (!std::isfinite(v)) return fmt::format("{}", v);
  double a = std::abs(v);
  std::string s;
  if (a >= 1000) {
    s = fmt::format("{:.0f}", std::abs(v));
    for (int i = static_cast<int>(s.size()) - 3; i > 0; i -= 3) s.insert(static_cast<std::size_t>(i), ",");
    return v < 0 ? "-" + s : s;
  }
  if (a >= 100) s = fmt::format("{:.1f}", v);
  else if (a >= 1 || a == 0) s = fmt::format("{:.2f}", v);
  else s = fmt::format("{:.3g}", v);
  if (s.find('.') != std::string::npos && s.find('e') == std::string::npos) {
    while (s.back() == '0') s.pop_back();
    if (s.back() == '.') s.pop_back();
  }
  return s;
}

std::string format_percent(double fraction) {
  double p = fraction * 100;
  if (std::abs(p) >= 99.95) return fmt::format("{:+.0f}%", p);
  return fmt::format("{:+.1f}%", p);
}

namespace {

std::string opt_number(const std::optional<double>& v, std::string_view unit = {}) {
  if (!v) return "—";
  return unit.empty() ? format_number(*v) : fmt::format("{} {}", format_number(*v), unit);
}

// The type(s) that set the TPP, each with the kernel behind it where there is one: "fp16: fma.fp16".
std::string types_text(const BasisMetrics& b) {
  std::string out;
  for (auto t : b.tpp_types) {
    std::string item(to_string(t));
    for (const auto& r : b.rates) {
      if (r.type == t && !r.kernel.empty()) {
        item += ": " + r.kernel;
        break;
      }
    }
    out += (out.empty() ? "" : ", ") + item;
  }
  return out;
}

json opt(const std::optional<double>& v) { return v ? json(*v) : json(nullptr); }
json opt(const std::optional<bool>& v) { return v ? json(*v) : json(nullptr); }
json opt_text(const std::string& s) { return s.empty() ? json(nullptr) : json(s); }

std::string basis_line(const BasisMetrics& b) {
  std::string name(to_string(b.basis));
  if (!b.available) return fmt::format("  {:<9} not available: {}\n", name, b.unavailable_reason);
  std::string line = fmt::format("  {:<9} TPP {}", name, opt_number(b.tpp));
  if (b.tpp) line += fmt::format(" ({})", types_text(b));
  line += fmt::format(" · PD {}", b.pd ? format_number(*b.pd) : std::string("— (") + b.pd_note + ")");
  if (b.pd && !b.pd_note.empty()) line += fmt::format(" ({})", b.pd_note);
  line += fmt::format(" · DRAM {}", opt_number(b.total_dram_bw_gbs, "GB/s"));
  if (b.hbm_bw_density) line += fmt::format(" · HBM {} GB/s/mm²", format_number(*b.hbm_bw_density));
  line += "\n";
  if (!b.note.empty()) line += fmt::format("            {}\n", b.note);
  if (b.basis == Basis::measured && b.total_dram_bw_gbs) line += fmt::format("            DRAM: {}\n", b.dram_note);
  return line;
}

}  // namespace

std::string render_text(const DeviceMetrics& m) {
  std::string out = fmt::format("{}: {}", m.device_id, m.device_name);
  if (m.chip) out += fmt::format(" — chip database: {} ({})", m.chip->display_name(), m.chip_match);
  out += "\n";
  if (m.partial) out += fmt::format("  PARTIAL: TPP of what is visible, not the whole chip's{}\n", m.partial_reason.empty() ? "" : " (" + m.partial_reason + ")");
  out += fmt::format("  applicable die area: {} ({}); designed or marketed for data centers: {} ({})\n",
                     opt_number(m.die_area_mm2, "mm²"), m.die_area_source,
                     m.datacenter ? (*m.datacenter ? "yes" : "no") : "unknown", m.datacenter_source);
  if (m.interconnect_bw_gbs) out += fmt::format("  interconnect: {} GB/s ({})\n", format_number(*m.interconnect_bw_gbs), m.interconnect_source);
  for (const BasisMetrics* b : {&m.declared, &m.derived, &m.measured}) out += basis_line(*b);
  for (const auto& f : m.flags) {
    out += fmt::format("  {} {}\n", f.severity == "red" ? "[RED FLAG]" : f.severity == "warning" ? "[warning]" : "[note]", f.text);
  }
  return out;
}

std::string render_text(const Verdict& v) {
  std::string out = fmt::format("{} — {} [{}{}]\n", v.citation, v.ruleset_id, to_string(v.status),
                                v.status == RuleStatus::rescinded  ? ": for reference only"
                                : v.status == RuleStatus::proposed ? ": what it would do if enacted"
                                                                   : "");
  if (v.outcome == Outcome::matched) {
    out += fmt::format("  → {} ({})\n", v.classification, v.classification_clause);
  } else {
    out += fmt::format("  → {}\n", v.classification.empty() ? std::string(to_string(v.outcome)) : v.classification);
  }
  for (const auto& c : v.clauses) {
    const char* mark = c.outcome == Outcome::matched ? "✓" : c.outcome == Outcome::not_matched ? "·" : "?";
    out += fmt::format("    {} {:<22} {}\n", mark, c.clause_id, c.explanation);
    if (c.outcome == Outcome::matched && c.kind != "classification") out += fmt::format("      {}\n", c.effect);
  }
  for (const auto& n : v.near_misses) out += fmt::format("    just under a line: {}\n", n);
  for (const auto& q : v.quantities) out += fmt::format("    {}\n", q.text);
  return out;
}

// Grouped by jurisdiction (US first, then alphabetically), each under a heading when there is more than one.
std::string render_text(std::span<const Verdict> vs) {
  std::vector<std::string> order;
  for (const auto& v : vs) {
    if (std::find(order.begin(), order.end(), v.jurisdiction) == order.end()) order.push_back(v.jurisdiction);
  }
  // US first (the instruments most reports are read for), then the others alphabetically.
  std::sort(order.begin(), order.end(), [](const std::string& a, const std::string& b) {
    return (a == "US") != (b == "US") ? a == "US" : a < b;
  });
  std::string out;
  for (const auto& j : order) {
    if (order.size() > 1) out += fmt::format("[{}]\n", j);
    for (const auto& v : vs) {
      if (v.jurisdiction == j) out += render_text(v);
    }
  }
  return out;
}

std::string render_rulesets(std::span<const Ruleset> rulesets) {
  std::string out;
  for (const auto& r : rulesets) {
    out += fmt::format("{:<4} {:<28} {:<24} effective {:<10}  {:<18} {}\n", r.jurisdiction, r.id, r.citation,
                       r.effective.empty() ? std::string("n/c") : r.effective,
                       to_string(r.status), r.title);
  }
  return out;
}

namespace {
json basis_json(const BasisMetrics& b) {
  json j;
  j["available"] = b.available;
  j["unavailable_reason"] = opt_text(b.unavailable_reason);
  j["tpp"] = opt(b.tpp);
  json types = json::array();
  for (auto t : b.tpp_types) types.push_back(std::string(to_string(t)));
  j["tpp_set_by"] = types;
  j["pd"] = opt(b.pd);
  j["pd_note"] = opt_text(b.pd_note);
  j["hbm_bw_density"] = opt(b.hbm_bw_density);
  j["hbm_note"] = opt_text(b.hbm_note);
  j["total_dram_bw_gbs"] = opt(b.total_dram_bw_gbs);
  j["dram_note"] = opt_text(b.dram_note);
  j["clock_mhz"] = opt(b.clock_mhz);
  j["clock_note"] = opt_text(b.clock_note);
  j["note"] = opt_text(b.note);
  json rates = json::array();
  for (const auto& r : b.rates) {
    rates.push_back({{"type", std::string(to_string(r.type))}, {"tops", r.tops}, {"bits", r.bits}, {"tpp", r.tpp}, {"from", r.from},
                     {"kernel", opt_text(r.kernel)}, {"clock_mhz", opt(r.clock_mhz)}});
  }
  j["rates"] = rates;
  return j;
}

json values_json(const MetricValues& values) {
  json j = json::object();
  for (const auto& [name, v] : values) {
    json e;
    e["value"] = v.boolean ? json(*v.boolean) : opt(v.number);
    e["basis"] = v.basis;
    if (v.lower_bound) e["lower_bound"] = true;
    j[name] = e;
  }
  return j;
}
}  // namespace

json to_json(const DeviceMetrics& m) {
  json j;
  j["device_id"] = m.device_id;
  j["device_name"] = m.device_name;
  if (m.chip) {
    j["chip"] = {{"id", m.chip->id}, {"vendor", m.chip->vendor}, {"name", m.chip->name}, {"match", m.chip_match}};
  } else {
    j["chip"] = nullptr;
  }
  j["partial"] = m.partial;
  j["partial_reason"] = opt_text(m.partial_reason);
  j["die_area_mm2"] = opt(m.die_area_mm2);
  j["die_area_source"] = opt_text(m.die_area_source);
  j["datacenter"] = opt(m.datacenter);
  j["datacenter_source"] = opt_text(m.datacenter_source);
  j["io_bw_bidir_gbs"] = opt(m.io_bw_bidir_gbs);
  if (m.interconnect_bw_gbs) j["interconnect_bw_gbs"] = *m.interconnect_bw_gbs;
  j["hbm_area_mm2"] = opt(m.hbm_area_mm2);
  j["bases"] = {{"declared", basis_json(m.declared)}, {"derived", basis_json(m.derived)}, {"measured", basis_json(m.measured)}};
  j["efficiency"] = opt(m.efficiency);
  json flags = json::array();
  for (const auto& f : m.flags) flags.push_back({{"id", f.id}, {"severity", f.severity}, {"text", f.text}, {"value", opt(f.value)}});
  j["flags"] = flags;
  j["assessed"] = values_json(assessed_values(m));
  return j;
}

json to_json(const Verdict& v) {
  json j;
  j["ruleset"] = v.ruleset_id;
  j["jurisdiction"] = v.jurisdiction;
  j["title"] = v.ruleset_title;
  j["citation"] = v.citation;
  j["effective"] = v.effective;
  j["status"] = std::string(to_string(v.status));
  j["subject"] = v.subject;
  j["classification"] = v.classification;
  j["clause"] = opt_text(v.classification_clause);
  j["outcome"] = std::string(to_string(v.outcome));
  j["summary"] = v.summary;
  j["rules_sha256"] = v.rules_sha256;
  j["near_misses"] = v.near_misses;
  j["notes"] = v.notes;
  json clauses = json::array();
  for (const auto& c : v.clauses) {
    json cj;
    cj["id"] = c.clause_id;
    cj["title"] = c.title;
    cj["kind"] = c.kind;
    cj["eccn"] = opt_text(c.eccn);
    cj["effect"] = c.effect;
    cj["outcome"] = std::string(to_string(c.outcome));
    cj["explanation"] = c.explanation;
    cj["missing"] = c.missing;
    json comps = json::array();
    for (const auto& k : c.comparisons) {
      json kj;
      kj["metric"] = k.metric;
      kj["op"] = std::string(to_string(k.op));
      kj["threshold"] = !k.unconfirmed.empty() ? json(nullptr) : k.boolean_threshold ? json(*k.boolean_threshold) : json(k.threshold);
      if (!k.unconfirmed.empty()) kj["unconfirmed"] = k.unconfirmed;
      if (!k.confirmed) kj["confirmed"] = false;
      if (k.scale != 1) kj["scale"] = k.scale;
      kj["value"] = k.boolean_value ? json(*k.boolean_value) : opt(k.value);
      kj["basis"] = opt_text(k.basis);
      kj["result"] = k.result == Truth::yes ? json(true) : k.result == Truth::no ? json(false) : json(nullptr);
      kj["margin"] = opt(k.margin);
      kj["near_miss"] = k.near_miss;
      kj["source"] = k.source;
      kj["text"] = k.text;
      comps.push_back(kj);
    }
    cj["comparisons"] = comps;
    clauses.push_back(cj);
  }
  j["clauses"] = clauses;
  json qs = json::array();
  for (const auto& q : v.quantities) {
    qs.push_back({{"id", q.id}, {"title", q.title}, {"value", q.value}, {"unit", q.unit}, {"result", opt(q.result)},
                  {"result_unit", q.result_unit}, {"text", q.text}});
  }
  j["quantities"] = qs;
  return j;
}

json to_json(const Ruleset& r) {
  return {{"id", r.id},           {"title", r.title},         {"citation", r.citation},
          {"fr_doc", opt_text(r.fr_doc)}, {"effective", r.effective}, {"published", opt_text(r.published)},
          {"status", std::string(to_string(r.status))},  {"status_note", opt_text(r.status_note)},
          {"scope", r.scope},     {"jurisdiction", r.jurisdiction}, {"file", r.file_name}, {"sha256", r.sha256}};
}

json provenance_json(const ChipDatabase& db, std::span<const Ruleset* const> rulesets) {
  json j;
  j["chip_database"] = {{"file", db.file_name()}, {"sha256", db.sha256()}};
  json rs = json::array();
  for (const Ruleset* r : rulesets) {
    if (r) rs.push_back({{"id", r->id}, {"citation", r->citation}, {"file", r->file_name}, {"sha256", r->sha256}});
  }
  j["rulesets"] = rs;
  return j;
}

}  // namespace probe::rules
