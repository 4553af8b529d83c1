// The one rules engine: every ruleset, device or node level, is evaluated here from its conditions in data.
// Three-valued (Kleene) logic: a comparison on an unknown metric is unknown, and a clause that depends on it is
// "not evaluable" with the missing input named, never silently false.
#include <algorithm>
#include <cmath>
#include <set>

#include <fmt/format.h>

#include "rules.hpp"

namespace probe::rules {

namespace {

std::string_view op_symbol(CompareOp op) {
  switch (op) {
    case CompareOp::ge: return "≥";
    case CompareOp::gt: return ">";
    case CompareOp::lt: return "<";
    case CompareOp::le: return "≤";
    case CompareOp::eq: return "=";
  }
  return "≥";
}

// Why a metric can be missing, and what input would supply it.
std::string missing_reason(std::string_view metric) {
  if (metric == "tpp") return "tpp: no declared, derived or measured rate";
  if (metric == "pd") return "pd: die area unknown: PD not computed (give --die-area MM2)";
  if (metric == "hbm_bw_density") return "hbm_bw_density: HBM stack/package area unknown";
  if (metric == "total_dram_bw") return "total_dram_bw: memory bandwidth unknown";
  if (metric == "io_bw_bidir") return "io_bw_bidir: aggregate bidirectional I/O bandwidth unknown (not in the chip database)";
  if (metric == "interconnect_bw" || metric == "dram_plus_interconnect_bw") {
    return fmt::format("{}: interconnect bandwidth not in the chip database (NVLink/xGMI is not measured yet)", metric);
  }
  if (metric == "fp64_peak" || metric == "fp32_peak") return fmt::format("{}: no declared, derived or measured rate", metric);
  if (metric == "vector_processor" || metric == "node_vector_processor") {
    return fmt::format("{}: whether it is a vector processor (APP weight 0.9, else 0.3) is unknown (give --vector-processor yes|no)", metric);
  }
  if (metric == "envelope_ft3") return "envelope_ft3: the system's envelope is an input (give --envelope-ft3 FT3)";
  if (metric == "datacenter") return "datacenter: whether it is designed or marketed for data centers is unknown (give --datacenter yes|no)";
  return fmt::format("{}: unknown", metric);
}

std::string with_unit(double v, std::string_view unit) {
  return unit.empty() ? format_number(v) : fmt::format("{} {}", format_number(v), unit);
}

Truth kleene_and(Truth a, Truth b) {
  if (a == Truth::no || b == Truth::no) return Truth::no;
  if (a == Truth::unknown || b == Truth::unknown) return Truth::unknown;
  return Truth::yes;
}
Truth kleene_or(Truth a, Truth b) {
  if (a == Truth::yes || b == Truth::yes) return Truth::yes;
  if (a == Truth::unknown || b == Truth::unknown) return Truth::unknown;
  return Truth::no;
}
Outcome outcome_of_truth(Truth t) {
  return t == Truth::yes ? Outcome::matched : t == Truth::no ? Outcome::not_matched : Outcome::not_evaluable;
}
Truth kleene_not(Truth a) { return a == Truth::yes ? Truth::no : a == Truth::no ? Truth::yes : Truth::unknown; }

struct Evaluator {
  const MetricValues& values;
  std::map<std::string, Truth> clause_results;
  std::map<std::string, std::vector<std::string>> clause_missing;  // what made an earlier clause unknown
  std::vector<Comparison>* comparisons = nullptr;
  std::vector<std::string>* missing = nullptr;
  std::vector<std::string>* refs = nullptr;  // "Note 2 matched": clause references met on the way

  Comparison compare(const Condition& c) {
    Comparison cmp;
    const MetricInfo* info = find_metric(c.metric);
    cmp.metric = c.metric;
    cmp.label = !c.label.empty() ? c.label : info ? std::string(info->label) : c.metric;
    const std::string_view metric_unit = info ? info->unit : std::string_view{};
    const std::string_view unit = c.unit.empty() ? metric_unit : std::string_view(c.unit);  // a scaled metric's own unit (WT)
    cmp.op = c.op;
    cmp.threshold = c.threshold;
    cmp.boolean_threshold = c.boolean;
    cmp.source = c.source;
    cmp.note = c.note;
    cmp.unconfirmed = c.unconfirmed;
    cmp.confirmed = c.confirmed;
    cmp.scale = c.scale;
    auto it = values.find(c.metric);
    if (!c.unconfirmed.empty()) {
      // No threshold to compare with: the gap is shown, never filled with a guess.
      cmp.result = Truth::unknown;
      if (it != values.end() && it->second.number) {
        cmp.value = *it->second.number * c.scale;
        cmp.basis = it->second.basis;
      }
      cmp.text = fmt::format("{}{} {} ?: threshold not confirmed ({}: {})", cmp.label,
                             cmp.value ? " " + with_unit(*cmp.value, unit) : std::string(), op_symbol(c.op), c.source, c.unconfirmed);
      return cmp;
    }
    if (c.boolean) {
      if (it == values.end() || !it->second.boolean) {
        cmp.result = Truth::unknown;
        cmp.text = fmt::format("{}: unknown (needs {})", cmp.label, *c.boolean ? "yes" : "no");
        return cmp;
      }
      cmp.boolean_value = it->second.boolean;
      cmp.basis = it->second.basis;
      cmp.result = *it->second.boolean == *c.boolean ? Truth::yes : Truth::no;
      cmp.text = fmt::format("{}: {} ({}{})", cmp.label, *cmp.boolean_value ? "yes" : "no",
                             cmp.result == Truth::yes ? "as required: " : "needs ", *c.boolean ? "yes" : "no");
      return cmp;
    }
    if (it == values.end() || !it->second.number) {
      cmp.result = Truth::unknown;
      cmp.text = fmt::format("{} unknown (needs {} {})", cmp.label, op_symbol(c.op), with_unit(c.threshold, unit));
      return cmp;
    }
    double v = *it->second.number * c.scale;
    cmp.value = v;
    cmp.basis = it->second.basis;
    bool ok = false;
    switch (c.op) {
      case CompareOp::ge: ok = v >= c.threshold; break;
      case CompareOp::gt: ok = v > c.threshold; break;
      case CompareOp::lt: ok = v < c.threshold; break;
      case CompareOp::le: ok = v <= c.threshold; break;
      case CompareOp::eq: ok = v == c.threshold; break;
    }
    cmp.result = ok ? Truth::yes : Truth::no;
    // A lower bound that fails a "greater" test proves nothing: the true value may still pass.
    if (!ok && it->second.lower_bound && (c.op == CompareOp::ge || c.op == CompareOp::gt)) cmp.result = Truth::unknown;
    if (c.threshold != 0) cmp.margin = (v - c.threshold) / std::abs(c.threshold);
    std::string value_text = with_unit(v, unit);
    std::string thr_text = with_unit(c.threshold, unit);
    bool upward = c.op == CompareOp::ge || c.op == CompareOp::gt;
    if (ok) {
      cmp.text = fmt::format("{} {} {} {}", cmp.label, value_text, op_symbol(c.op), thr_text);
      if (cmp.margin) {
        cmp.text += upward ? fmt::format(" (margin {})", format_percent(*cmp.margin))
                           : fmt::format(" ({} under)", format_percent(-*cmp.margin).substr(1));
      }
    } else {
      double dist = cmp.margin ? std::abs(*cmp.margin) : 0;
      cmp.near_miss = cmp.margin && dist <= kNearMiss;
      if (upward) {
        cmp.text = fmt::format("{} {} is {} under {} (needs {} {})", cmp.label, value_text, format_percent(dist).substr(1),
                               thr_text, op_symbol(c.op), format_number(c.threshold));
      } else {
        cmp.text = fmt::format("{} {} is {} over {} (needs {} {})", cmp.label, value_text,
                               dist == 0 ? std::string("0%") : format_percent(dist).substr(1), thr_text, op_symbol(c.op),
                               format_number(c.threshold));
      }
      if (cmp.result == Truth::unknown) cmp.text += " (a lower bound: not conclusive)";
    }
    if (c.scale != 1) {
      cmp.text += fmt::format(" [{} × {} {}]", format_number(c.scale), info ? info->label : c.metric, with_unit(*it->second.number, metric_unit));
    }
    if (!c.confirmed) cmp.text += fmt::format(" [threshold from {}, not confirmed against the text]", c.source);
    return cmp;
  }

  Truth eval(const Condition& c) {
    switch (c.kind) {
      case Condition::Kind::compare: {
        Comparison cmp = compare(c);
        Truth t = cmp.result;
        if (t == Truth::unknown && missing && !c.unconfirmed.empty()) {
          std::string why = fmt::format("threshold not confirmed ({}: {})", c.source, c.unconfirmed);
          if (std::find(missing->begin(), missing->end(), why) == missing->end()) missing->push_back(why);
        } else if (t == Truth::unknown && missing && !cmp.value && !cmp.boolean_value) {
          std::string why = missing_reason(c.metric);
          if (std::find(missing->begin(), missing->end(), why) == missing->end()) missing->push_back(why);
        }
        if (comparisons) comparisons->push_back(std::move(cmp));
        return t;
      }
      case Condition::Kind::clause: {
        auto it = clause_results.find(c.clause_id);
        Truth t = it == clause_results.end() ? Truth::unknown : it->second;
        if (refs) refs->push_back(fmt::format("{} {}", c.clause_id, to_string(outcome_of_truth(t))));
        if (t == Truth::unknown && missing) {
          for (const auto& m : clause_missing[c.clause_id]) {
            if (std::find(missing->begin(), missing->end(), m) == missing->end()) missing->push_back(m);
          }
        }
        return t;
      }
      case Condition::Kind::negation: return kleene_not(eval(c.children.at(0)));
      case Condition::Kind::all_of: {
        Truth t = Truth::yes;
        for (const auto& ch : c.children) t = kleene_and(t, eval(ch));  // no short cut: every comparison is shown
        return t;
      }
      case Condition::Kind::any_of: {
        Truth t = Truth::no;
        for (const auto& ch : c.children) t = kleene_or(t, eval(ch));
        return t;
      }
    }
    return Truth::unknown;
  }
};

Outcome outcome_of(Truth t) { return outcome_of_truth(t); }

std::string join(const std::vector<std::string>& parts, std::string_view sep) {
  std::string out;
  for (const auto& p : parts) {
    if (!out.empty()) out += sep;
    out += p;
  }
  return out;
}

}  // namespace

Verdict evaluate(const Ruleset& rs, const MetricValues& values, std::string_view subject) {
  Verdict v;
  v.ruleset_id = rs.id;
  v.ruleset_title = rs.title;
  v.citation = rs.citation;
  v.effective = rs.effective;
  v.status = rs.status;
  v.jurisdiction = rs.jurisdiction;
  v.subject = std::string(subject);
  v.rules_sha256 = rs.sha256;

  Evaluator ev{values, {}, {}, nullptr, nullptr, nullptr};
  for (const auto& cl : rs.clauses) {
    ClauseVerdict cv;
    cv.clause_id = cl.id;
    cv.title = cl.title;
    cv.kind = cl.kind;
    cv.eccn = cl.eccn;
    cv.effect = cl.effect;
    ev.comparisons = &cv.comparisons;
    ev.missing = &cv.missing;
    std::vector<std::string> refs;
    ev.refs = &refs;
    Truth t = ev.eval(cl.when);
    ev.clause_results[cl.id] = t;
    ev.clause_missing[cl.id] = cv.missing;
    cv.outcome = outcome_of(t);
    std::vector<std::string> parts;
    for (const auto& c : cv.comparisons) {
      if ((cv.outcome == Outcome::matched && c.result == Truth::yes) || (cv.outcome == Outcome::not_matched && c.result == Truth::no) ||
          (cv.outcome == Outcome::not_evaluable && c.result == Truth::unknown)) {
        parts.push_back(c.text);
      }
    }
    switch (cv.outcome) {
      case Outcome::matched:
        if (parts.empty()) parts = refs;
        cv.explanation = parts.empty() ? fmt::format("→ {}", cl.id) : fmt::format("{} → {}", join(parts, " and "), cl.id);
        break;
      case Outcome::not_matched:
        if (!refs.empty()) parts.push_back(fmt::format("depends on {}", join(refs, ", ")));
        cv.explanation = fmt::format("not {}: {}", cl.id, join(parts, "; "));
        break;
      case Outcome::not_evaluable: {
        bool gap = std::any_of(cv.comparisons.begin(), cv.comparisons.end(), [](const Comparison& c) { return !c.unconfirmed.empty(); });
        // An unconfirmed threshold is a gap in the sources, not a missing input: it is named as such.
        cv.explanation = fmt::format("{} not evaluable: {}{}", cl.id, gap ? "" : "missing ",
                                     cv.missing.empty() ? std::string("a clause it depends on") : join(cv.missing, "; "));
        break;
      }
        break;
    }
    if (cv.outcome != Outcome::matched) {
      for (const auto& c : cv.comparisons) {
        if (!c.near_miss) continue;
        std::string line = fmt::format("{} ({})", c.text, cl.id);
        if (std::find(v.near_misses.begin(), v.near_misses.end(), line) == v.near_misses.end()) v.near_misses.push_back(line);
      }
    }
    v.clauses.push_back(std::move(cv));
  }

  // The classification: the first matching classification clause, in file order.
  bool any_classification = false, any_unknown = false;
  std::vector<std::string> missing;
  for (const auto& cv : v.clauses) {
    if (cv.kind != "classification") continue;
    any_classification = true;
    if (cv.outcome == Outcome::matched) {
      v.classification = cv.eccn;
      v.classification_clause = cv.clause_id;
      v.outcome = Outcome::matched;
      break;
    }
    if (cv.outcome == Outcome::not_evaluable) {
      any_unknown = true;
      for (const auto& m : cv.missing) {
        if (std::find(missing.begin(), missing.end(), m) == missing.end()) missing.push_back(m);
      }
    }
  }
  if (any_classification && v.classification.empty()) {
    v.outcome = any_unknown ? Outcome::not_evaluable : Outcome::not_matched;
    v.classification = any_unknown ? "not evaluable" : rs.otherwise;
  }
  if (!any_classification) v.outcome = Outcome::not_matched;

  for (const auto& q : rs.quantities) {
    QuantityResult qr{q.id, q.title, q.value, q.unit, std::nullopt, q.result_unit, {}};
    auto it = values.find(q.per_metric);
    if (it != values.end() && it->second.number && *it->second.number > 0) {
      qr.result = q.value / *it->second.number;
      qr.text = fmt::format("{}: {} {} = {} {} at {} {}", q.title, format_number(q.value), q.unit, format_number(std::floor(*qr.result)),
                            q.result_unit, find_metric(q.per_metric) ? find_metric(q.per_metric)->label : q.per_metric,
                            format_number(*it->second.number));
    } else {
      qr.text = fmt::format("{}: {} {} ({} unknown)", q.title, format_number(q.value), q.unit, q.per_metric);
    }
    v.quantities.push_back(std::move(qr));
  }

  // One line: the classification with the deciding comparison, then whatever else matched.
  std::string head = fmt::format("{} ({}, {})", rs.citation, rs.id, to_string(rs.status));
  std::string body;
  if (v.outcome == Outcome::matched) {
    auto it = std::find_if(v.clauses.begin(), v.clauses.end(), [&](const ClauseVerdict& c) { return c.clause_id == v.classification_clause; });
    body = it->explanation;
  } else if (v.outcome == Outcome::not_evaluable && any_classification) {
    bool gap = std::any_of(missing.begin(), missing.end(), [](const std::string& m) { return m.rfind("threshold not confirmed", 0) == 0; });
    body = fmt::format("not evaluable: {}{}", gap ? "" : "missing ", join(missing, "; "));
  } else if (any_classification) {
    body = rs.otherwise;
  }
  std::vector<std::string> extra;
  for (const auto& cv : v.clauses) {
    if (cv.kind != "classification" && cv.outcome == Outcome::matched) extra.push_back(fmt::format("{}: {}", cv.clause_id, cv.effect));
  }
  for (const auto& n : v.near_misses) extra.push_back(n);
  v.summary = head + ": " + body;
  if (!extra.empty()) v.summary += (body.empty() ? "" : "; ") + join(extra, "; ");
  return v;
}

std::vector<Verdict> evaluate(std::span<const Ruleset* const> rulesets, const DeviceMetrics& m) {
  MetricValues values = assessed_values(m);
  std::vector<Verdict> out;
  for (const Ruleset* rs : rulesets) {
    if (rs && rs->scope == "device") out.push_back(evaluate(*rs, values, m.device_id));
  }
  return out;
}

namespace {

// What the 4A090 count rests on: per member, whether its verdicts make it a 3A090.a / .b IC.
struct NodeCount {
  double a = 0, b = 0, any = 0, not_evaluable = 0;
  double eu_a16 = 0, eu_not_evaluable = 0;  // 3A501.a.16 (EU 2025/2003), for 4A507
  double fp64 = 0, fp32 = 0;             // sums of the members' FP64 / FP32 peaks (TFLOPS)
  std::size_t fp64_missing = 0, fp32_missing = 0;  // assessed members without the figure: the sums are lower bounds
  std::vector<std::string> declared;     // on the bus, counted from the chip database: "label (3A090.a)"
  std::vector<std::string> unassessed;   // labels of members neither measured nor in the chip database
  std::vector<std::string> not_counted;  // "0000:03:00.0 ASPEED Graphics Family (pci 1a03:2000): BMC display …"
  std::size_t members = 0, measured = 0;
  [[nodiscard]] bool lower_bound() const noexcept { return not_evaluable > 0 || !unassessed.empty(); }
};

NodeCount count_node(std::span<const NodeMember> members) {
  NodeCount n;
  for (const auto& mem : members) {
    if (!mem.not_counted.empty()) {
      n.not_counted.push_back(fmt::format("{}: {}", mem.label.empty() ? mem.subject : mem.label, mem.not_counted));
      continue;
    }
    ++n.members;
    if (!mem.assessed) {
      n.unassessed.push_back(mem.label.empty() ? mem.subject : mem.label);
      continue;
    }
    n.measured += mem.measured ? 1 : 0;
    bool is_a = false, is_b = false, is_any = false, has_unknown = false, is_a16 = false;
    auto add = [&](const char* metric, double& sum, std::size_t& missing) {
      auto it = mem.values.find(metric);
      if (it != mem.values.end() && it->second.number) sum += *it->second.number;
      else ++missing;
    };
    add("fp64_peak", n.fp64, n.fp64_missing);
    add("fp32_peak", n.fp32, n.fp32_missing);
    bool eu_unknown = false;
    for (const auto& v : mem.verdicts) {
      switch (ic_class(v)) {
        case IcClass::us_3a090_a: is_a = is_any = true; break;
        case IcClass::us_3a090_b: is_b = is_any = true; break;
        case IcClass::us_3a090: is_any = true; break;
        case IcClass::a3501_a16: is_a16 = is_a16 || v.jurisdiction == "EU"; break;
        case IcClass::none: break;
      }
      // Only a ruleset that can classify 3A090 (or 3A501.a.16) makes its count uncertain: a tariff band or a
      // UK threshold not confirmed says nothing about 4A090.
      auto classifies = [&](std::string_view prefix) {
        return std::any_of(v.clauses.begin(), v.clauses.end(), [&](const ClauseVerdict& c) { return c.eccn.rfind(prefix, 0) == 0; });
      };
      const bool us = v.jurisdiction == "US", eu = v.jurisdiction == "EU";
      if (v.outcome == Outcome::not_evaluable && us && classifies("3A090")) has_unknown = true;
      if (v.outcome == Outcome::not_evaluable && eu && classifies("3A501.a.16")) eu_unknown = true;
    }
    n.a += is_a ? 1 : 0;
    n.eu_a16 += is_a16 ? 1 : 0;
    n.eu_not_evaluable += (!is_a16 && eu_unknown) ? 1 : 0;
    n.b += (is_b && !is_a) ? 1 : 0;
    n.any += is_any ? 1 : 0;
    n.not_evaluable += (!is_a && has_unknown) ? 1 : 0;
    if (!mem.measured) {
      n.declared.push_back(fmt::format("{}: {}", mem.label.empty() ? mem.subject : mem.label,
                                       is_a ? "3A090.a" : is_b ? "3A090.b" : has_unknown ? "not evaluable" : "not 3A090"));
    }
  }
  return n;
}

std::vector<NodeMember> members_of(std::span<const std::vector<Verdict>> device_verdicts) {
  std::vector<NodeMember> out;
  for (const auto& v : device_verdicts) out.push_back(NodeMember{v.empty() ? std::string() : v.front().subject, {}, true, true, v, {}});
  return out;
}

}  // namespace

IcClass ic_class(const Verdict& v) noexcept {
  if (v.outcome != Outcome::matched) return IcClass::none;
  const std::string_view c = v.classification;
  if (c.starts_with("3A090.a")) return IcClass::us_3a090_a;
  if (c.starts_with("3A090.b")) return IcClass::us_3a090_b;
  if (c.starts_with("3A090.c")) return IcClass::none;  // HBM: not a 3A090 IC for the node count
  if (c.starts_with("3A090")) return IcClass::us_3a090;
  if (c.starts_with("3A501.a.16")) return IcClass::a3501_a16;
  return IcClass::none;
}

std::vector<IcClassification> ic_classifications(std::span<const Verdict> verdicts) {
  std::vector<IcClassification> out;
  for (const auto& v : verdicts) {
    if (ic_class(v) == IcClass::none) continue;
    auto it = std::find_if(out.begin(), out.end(), [&](const auto& c) { return c.classification == v.classification; });
    if (it == out.end()) it = out.insert(out.end(), {v.classification, {}});
    it->rulesets.push_back(v.ruleset_id);
  }
  return out;
}

MetricValues node_values(std::span<const NodeMember> members, std::optional<double> envelope_ft3) {
  const NodeCount n = count_node(members);
  const bool lb = n.lower_bound();
  std::string basis = fmt::format("{} device(s)' verdicts", n.members - n.unassessed.size());
  if (!n.declared.empty()) basis += fmt::format(" ({} from the chip database, not measured)", n.declared.size());
  if (n.not_evaluable > 0) basis += fmt::format("; {} not evaluable: a lower bound", n.not_evaluable);
  if (!n.unassessed.empty()) basis += fmt::format("; {} accelerator(s) not assessed: a lower bound", n.unassessed.size());
  MetricValues v;
  v["devices_3a090_a"] = {n.a, std::nullopt, basis, lb};
  v["devices_3a090_b"] = {n.b, std::nullopt, basis, lb};
  v["devices_3a090"] = {n.any, std::nullopt, basis, lb};
  // Every processor on the node, assessed or not: an accelerator that could not be assessed is still there.
  v["devices"] = {static_cast<double>(n.members), std::nullopt, basis, false};
  v["devices_3a501_a16"] = {n.eu_a16, std::nullopt, basis, n.eu_not_evaluable > 0 || !n.unassessed.empty()};
  // The node's peaks: the sum over its members; a member without the figure (or not assessed) makes a lower bound.
  const std::size_t fp_unassessed = n.unassessed.size();
  auto sum_basis = [&](std::size_t missing) {
    std::string b = fmt::format("sum over {} device(s)", n.members - fp_unassessed - missing);
    if (missing + fp_unassessed > 0) b += fmt::format("; {} without the figure: a lower bound", missing + fp_unassessed);
    return b;
  };
  if (n.members > 0) {
    v["node_fp64_tflops"] = {n.fp64, std::nullopt, sum_basis(n.fp64_missing), n.fp64_missing + fp_unassessed > 0};
    v["node_fp32_tflops"] = {n.fp32, std::nullopt, sum_basis(n.fp32_missing), n.fp32_missing + fp_unassessed > 0};
  }
  // Vector processors only if every member says so; any member known not to be one: no (one W per rule line).
  {
    bool all_yes = n.members > 0, any_no = false;
    for (const auto& mem : members) {
      if (!mem.not_counted.empty()) continue;
      auto it = mem.values.find("vector_processor");
      bool known = it != mem.values.end() && it->second.boolean;
      all_yes = all_yes && known && *it->second.boolean;
      any_no = any_no || (known && !*it->second.boolean);
    }
    if (all_yes || any_no) v["node_vector_processor"] = {std::nullopt, all_yes, "--vector-processor", false};
  }
  if (envelope_ft3) v["envelope_ft3"] = {envelope_ft3, std::nullopt, "--envelope-ft3", false};
  return v;
}

MetricValues node_values(std::span<const std::vector<Verdict>> device_verdicts) {
  const auto members = members_of(device_verdicts);
  return node_values(std::span<const NodeMember>(members));
}

std::vector<Verdict> evaluate_node(std::span<const Ruleset* const> node_rulesets, std::span<const NodeMember> members,
                                   std::optional<double> envelope_ft3) {
  const MetricValues values = node_values(members, envelope_ft3);
  const NodeCount n = count_node(members);
  // What the count rests on, said in the verdict itself: devices counted without being measured, and a count
  // that is only a lower bound ("at least N ...; M accelerators not assessed: ...").
  std::vector<std::string> notes;
  if (!n.declared.empty()) {
    notes.push_back(fmt::format("{} accelerator(s) on the PCI bus counted from the chip database by PCI id (declared "
                                "basis, not measured): {}",
                                n.declared.size(), join(n.declared, ", ")));
  }
  if (n.lower_bound()) {
    std::string lb = fmt::format("at least {} 3A090.a and {} 3A090.b device(s) in the node", format_number(n.a), format_number(n.b));
    if (n.not_evaluable > 0) lb += fmt::format("; {} device(s) not evaluable under the device rulesets", format_number(n.not_evaluable));
    if (!n.unassessed.empty()) {
      lb += fmt::format("; {} accelerator(s) not assessed: {}", n.unassessed.size(), join(n.unassessed, "; "));
    }
    notes.push_back(std::move(lb));
  }
  if (!n.not_counted.empty()) {
    notes.push_back(fmt::format("{} PCI device(s) not counted, not processors: {}", n.not_counted.size(),
                                join(n.not_counted, "; ")));
  }
  std::vector<Verdict> out;
  for (const Ruleset* rs : node_rulesets) {
    if (!rs || rs->scope != "node") continue;
    Verdict v = evaluate(*rs, values, "node");
    // A node verdict is read from its summary line: the quantities (a node's share of a system line) go in it,
    // and so does a weighted figure (the node's APP) when it is under its line.
    for (const auto& q : v.quantities) v.summary += "; " + q.text;
    if (v.outcome != Outcome::matched) {
      for (const auto& cv : v.clauses) {
        bool weighted = std::any_of(cv.comparisons.begin(), cv.comparisons.end(), [](const Comparison& c) { return c.scale != 1; });
        if (cv.kind == "classification" && weighted) v.summary += "; " + cv.explanation;
      }
    }
    v.notes = notes;
    if (!notes.empty()) {
      if (v.outcome == Outcome::not_evaluable) {
        // The engine's "missing ..." names no input here: the counts are known, only incomplete.
        v.summary = fmt::format("{} ({}, {}): not evaluable: {}", rs->citation, rs->id, to_string(rs->status), join(notes, "; "));
      } else {
        v.summary += "; " + join(notes, "; ");
      }
    }
    out.push_back(std::move(v));
  }
  return out;
}

std::vector<Verdict> evaluate_node(std::span<const Ruleset* const> node_rulesets, std::span<const std::vector<Verdict>> device_verdicts) {
  const auto members = members_of(device_verdicts);
  return evaluate_node(node_rulesets, std::span<const NodeMember>(members));
}

}  // namespace probe::rules
