// probe replay R.json: the recorded measurements assessed again under today's (or the given) rules and chip
// data, measuring nothing; each verdict set beside the recorded one, and for a change, the reason: a threshold,
// a value, a clause, the rules file's hash or the chip database's.
#include <cmath>
#include <fmt/format.h>
#include <map>

#include "commands.hpp"
#include "json_io.hpp"
#include "signature.hpp"
#include "probe/error.hpp"
#include "probe/input_file.hpp"
#include "probe/json_text.hpp"
#include "probe/version.hpp"

namespace probe::cli {
namespace {

using nlohmann::json;
using rules::format_number;

// Accessors for the recorded verdicts: the Report value does not hold them (they are recomputed on demand), so
// they are read here, each missing or mistyped field named.
const json& field(const json& j, std::string_view name, std::string_view where, std::string_view file) {
  if (!j.is_object() || !j.contains(std::string(name))) {
    throw InputError(fmt::format("{}: field '{}.{}': missing", file, where, name));
  }
  return j.at(std::string(name));
}
std::string text_field(const json& j, std::string_view name, std::string_view where, std::string_view file) {
  const json& v = field(j, name, where, file);
  if (v.is_null()) return {};
  if (!v.is_string()) throw InputError(fmt::format("{}: field '{}.{}': expected a string", file, where, name));
  return v.get<std::string>();
}

struct RecordedComparison {
  std::string metric;
  json threshold, value;
};
struct RecordedClause {
  std::string id, outcome;
  std::vector<RecordedComparison> comparisons;
};
struct RecordedVerdict {
  std::string subject, ruleset, classification, clause, outcome, rules_sha256;
  std::vector<RecordedClause> clauses;
};

RecordedVerdict read_verdict(const json& v, const std::string& where, std::string_view file) {
  RecordedVerdict r;
  r.subject = text_field(v, "subject", where, file);
  r.ruleset = text_field(v, "ruleset", where, file);
  r.classification = text_field(v, "classification", where, file);
  r.clause = text_field(v, "clause", where, file);
  r.outcome = text_field(v, "outcome", where, file);
  r.rules_sha256 = text_field(v, "rules_sha256", where, file);
  const json& clauses = field(v, "clauses", where, file);
  if (!clauses.is_array()) throw InputError(fmt::format("{}: field '{}.clauses': expected an array", file, where));
  for (std::size_t i = 0; i < clauses.size(); ++i) {
    const std::string cw = fmt::format("{}.clauses[{}]", where, i);
    RecordedClause c{text_field(clauses[i], "id", cw, file), text_field(clauses[i], "outcome", cw, file), {}};
    const json& comps = field(clauses[i], "comparisons", cw, file);
    if (!comps.is_array()) throw InputError(fmt::format("{}: field '{}.comparisons': expected an array", file, cw));
    for (std::size_t k = 0; k < comps.size(); ++k) {
      const std::string kw = fmt::format("{}.comparisons[{}]", cw, k);
      c.comparisons.push_back({text_field(comps[k], "metric", kw, file), field(comps[k], "threshold", kw, file),
                               field(comps[k], "value", kw, file)});
    }
    r.clauses.push_back(std::move(c));
  }
  return r;
}

// Every verdict the report recorded: per device, per assessed unmeasured accelerator, and the node's.
std::vector<RecordedVerdict> recorded_verdicts(const json& j, std::string_view file) {
  std::vector<RecordedVerdict> out;
  auto from_control = [&](const json& holder, const std::string& where) {
    if (!holder.is_object() || !holder.contains("control") || holder["control"].is_null()) return;
    const json& vs = field(holder["control"], "verdicts", where + ".control", file);
    if (!vs.is_array()) throw InputError(fmt::format("{}: field '{}.control.verdicts': expected an array", file, where));
    for (std::size_t i = 0; i < vs.size(); ++i) {
      out.push_back(read_verdict(vs[i], fmt::format("{}.control.verdicts[{}]", where, i), file));
    }
  };
  for (std::size_t i = 0; i < j["devices"].size(); ++i) from_control(j["devices"][i], fmt::format("devices[{}]", i));
  for (std::size_t i = 0; i < j["unmeasured"].size(); ++i) from_control(j["unmeasured"][i], fmt::format("unmeasured[{}]", i));
  if (j.contains("node_verdicts") && j["node_verdicts"].is_array()) {
    for (std::size_t i = 0; i < j["node_verdicts"].size(); ++i) {
      out.push_back(read_verdict(j["node_verdicts"][i], fmt::format("node_verdicts[{}]", i), file));
    }
  }
  return out;
}

std::string json_value_text(const json& v) {
  if (v.is_null()) return "unknown";
  if (v.is_boolean()) return v.get<bool>() ? "yes" : "no";
  if (v.is_number()) return format_number(v.get<double>());
  return v.dump();
}
bool same_value(const json& a, const json& b) {
  if (a.is_number() && b.is_number()) {
    const double x = a.get<double>(), y = b.get<double>();
    return std::abs(x - y) <= 1e-9 * std::max(std::abs(x), std::abs(y));
  }
  return a == b;
}
json threshold_json(const rules::Comparison& k) {
  return k.boolean_threshold ? json(*k.boolean_threshold) : json(k.threshold);
}
json value_json(const rules::Comparison& k) {
  if (k.boolean_value) return *k.boolean_value;
  return k.value ? json(*k.value) : json(nullptr);
}

// Why a verdict differs: thresholds and values of the comparisons, clauses added or removed, the files' hashes.
std::vector<std::string> reasons(const RecordedVerdict& old, const rules::Verdict& now, const std::string& old_chipdb,
                                 const std::string& new_chipdb) {
  std::vector<std::string> why;
  auto add = [&](std::string s) {
    if (std::find(why.begin(), why.end(), s) == why.end()) why.push_back(std::move(s));
  };
  for (const auto& c : now.clauses) {
    auto it = std::find_if(old.clauses.begin(), old.clauses.end(), [&](const RecordedClause& r) { return r.id == c.clause_id; });
    if (it == old.clauses.end()) {
      add(fmt::format("clause {} is new", c.clause_id));
      continue;
    }
    for (std::size_t k = 0; k < c.comparisons.size() && k < it->comparisons.size(); ++k) {
      const rules::Comparison& n = c.comparisons[k];
      const RecordedComparison& o = it->comparisons[k];
      if (o.metric != n.metric) continue;
      if (!same_value(o.threshold, threshold_json(n))) {
        add(fmt::format("{}: {} threshold {} → {}", c.clause_id, n.label, json_value_text(o.threshold),
                        json_value_text(threshold_json(n))));
      }
      if (!same_value(o.value, value_json(n))) {
        add(fmt::format("{} {} → {} ({})", n.label, json_value_text(o.value), json_value_text(value_json(n)),
                        n.basis.empty() ? "no basis" : n.basis));
      }
    }
  }
  for (const auto& r : old.clauses) {
    if (std::none_of(now.clauses.begin(), now.clauses.end(), [&](const rules::ClauseVerdict& c) { return c.clause_id == r.id; })) {
      add(fmt::format("clause {} was removed", r.id));
    }
  }
  if (old.rules_sha256 != now.rules_sha256) {
    add(fmt::format("rules file {}: sha256 {} → {}", now.ruleset_id, old.rules_sha256.substr(0, 12), now.rules_sha256.substr(0, 12)));
  }
  if (!old_chipdb.empty() && old_chipdb != new_chipdb) {
    add(fmt::format("chip database: sha256 {} → {}", old_chipdb.substr(0, 12), new_chipdb.substr(0, 12)));
  }
  return why;
}

std::string verdict_text(const std::string& classification, const std::string& clause) {
  return clause.empty() ? classification : fmt::format("{} ({})", classification, clause);
}

struct Change {
  std::string subject, ruleset, recorded, now, status;
  std::vector<std::string> why;
};

}  // namespace

RecordedReport read_recorded_report(const std::string& path) {
  return recorded_report_from_json(parse_json_text(read_input_file(path), path), path);
}

RecordedReport recorded_report_from_json(nlohmann::json j, const std::string& path) {
  RecordedReport r;
  r.path = path;
  r.json = std::move(j);
  // The schema first, with a message a person can act on: a report of another version is refused, not misread.
  if (!r.json.is_object() || !r.json.contains("schema") || r.json["schema"] != "probe-report") {
    throw InputError(fmt::format("{}: not a probe report (no \"schema\": \"probe-report\")", path));
  }
  const json& v = r.json.contains("schema_version") ? r.json["schema_version"] : json(nullptr);
  if (!v.is_number_integer()) throw InputError(fmt::format("{}: field 'schema_version': expected an integer", path));
  const std::string writer = r.json.contains("tool") && r.json["tool"].is_object() && r.json["tool"].contains("version") &&
                                     r.json["tool"]["version"].is_string()
                                 ? r.json["tool"]["version"].get<std::string>()
                                 : std::string("an unknown version");
  if (const int version = v.get<int>(); version != report::kSchemaVersion) {
    throw InputError(fmt::format(
        "{}: report schema version {} (written by probe {}); this probe {} reads schema version {} only and refuses "
        "other versions rather than misread them{}",
        path, version, writer, kVersion, report::kSchemaVersion,
        version > report::kSchemaVersion ? ": use a probe at least as new as the one that wrote it"
                                         : ": use the probe version that wrote it"));
  }
  r.report = report::report_from_json(r.json, path);
  return r;
}

int run_replay(const ReplayOptions& o, const Outputs& outputs) {
  const RecordedReport rec = read_recorded_report(o.report);
  const std::vector<RecordedVerdict> old = recorded_verdicts(rec.json, o.report);
  report::Assessment assessment(o.assessment);
  assessment.assess(rec.report);
  const SignatureState signature = signature_state(o.report);

  std::string old_chipdb;
  if (rec.json.contains("provenance") && rec.json["provenance"].is_object()) {
    old_chipdb = text_field(field(rec.json["provenance"], "chip_database", "provenance", o.report), "sha256",
                            "provenance.chip_database", o.report);
  }
  const std::string new_chipdb = assessment.chip_database().sha256();

  std::vector<std::pair<std::string, const rules::Verdict*>> now;
  for (const auto& d : assessment.devices()) {
    for (const auto& v : d.verdicts) now.emplace_back(d.metrics.device_id, &v);
  }
  for (const auto& u : assessment.unmeasured()) {
    if (!u.assessed) continue;
    for (const auto& v : u.assessed->verdicts) now.emplace_back(u.bus_id, &v);
  }
  for (const auto& v : assessment.node()) now.emplace_back("node", &v);

  std::vector<Change> changes;
  std::vector<bool> old_seen(old.size(), false);
  for (const auto& [subject, v] : now) {
    Change c{subject, v->ruleset_id, "—", verdict_text(v->classification, v->classification_clause), "new", {}};
    for (std::size_t i = 0; i < old.size(); ++i) {
      if (old_seen[i] || old[i].ruleset != v->ruleset_id || old[i].subject != v->subject) continue;
      old_seen[i] = true;
      const RecordedVerdict& r = old[i];
      c.recorded = verdict_text(r.classification, r.clause);
      const bool clauses_differ = r.clauses.size() != v->clauses.size() ||
                                  std::any_of(v->clauses.begin(), v->clauses.end(), [&](const rules::ClauseVerdict& cv) {
                                    auto it = std::find_if(r.clauses.begin(), r.clauses.end(),
                                                           [&](const RecordedClause& rc) { return rc.id == cv.clause_id; });
                                    return it == r.clauses.end() || it->outcome != rules::to_string(cv.outcome);
                                  });
      if (r.classification != v->classification || r.clause != v->classification_clause) c.status = "changed";
      else if (clauses_differ) c.status = "clauses changed";
      else c.status = "unchanged";
      c.why = reasons(r, *v, old_chipdb, new_chipdb);
      if (c.status == "unchanged" && c.why.empty()) c.why.push_back("same rules, same values");
      break;
    }
    if (c.status == "new") c.why.push_back("not in the recorded report (ruleset not selected or not known then)");
    changes.push_back(std::move(c));
  }
  for (std::size_t i = 0; i < old.size(); ++i) {
    if (old_seen[i]) continue;
    changes.push_back({old[i].subject, old[i].ruleset, verdict_text(old[i].classification, old[i].clause), "—",
                       "not re-evaluated", {"ruleset not selected now (--ruleset) or no longer known"}});
  }
  // Changes first: what the reader came for.
  std::stable_sort(changes.begin(), changes.end(), [](const Change& a, const Change& b) {
    auto rank = [](const Change& c) { return c.status == "changed" ? 0 : c.status == "clauses changed" ? 1 : c.status == "unchanged" ? 3 : 2; };
    return rank(a) < rank(b);
  });
  const auto changed = std::count_if(changes.begin(), changes.end(), [](const Change& c) { return c.status == "changed"; });

  report::Section section;
  section.title = "Replay";
  const report::Report& rep = rec.report;
  section.paragraphs.push_back(fmt::format(
      "Replay of {}: recorded by probe {} on {} at {}; assessed again by probe {} under the rules and chip data below, "
      "measuring nothing.",
      o.report, rep.tool_version, rep.inventory.hostname, rep.started_at, kVersion));
  section.paragraphs.push_back("signature: " + signature.text);
  if (!signature.run_binary_sha256.empty()) {
    section.paragraphs.push_back("measured by the probe binary of sha256 " + signature.run_binary_sha256 +
                                 " (as its statement names it; the header's binary is the one rendering this replay)");
  }
  section.paragraphs.push_back(changed == 0 ? std::string("No classification changed from the recorded one.")
                                            : fmt::format("{} classification(s) changed from the recorded ones.", changed));
  report::Table t;
  t.caption = "Verdicts: recorded and now";
  t.header = {"subject", "ruleset", "recorded", "now", "status", "why"};
  for (const auto& c : changes) {
    t.rows.push_back({c.subject, c.ruleset, c.recorded, c.now, c.status, fmt::format("{}", fmt::join(c.why, "; "))});
    t.row_class.push_back(c.status == "changed" ? "regression" : c.status == "unchanged" ? "" : "changed");
  }
  section.tables.push_back(std::move(t));

  json replay = {{"source", o.report},
                 {"recorded_tool_version", rep.tool_version},
                 {"replayed_by", kVersion},
                 {"signature", {{"checked", signature.checked}, {"held", signature.held}, {"text", signature.text},
                                {"statement", signature.statement ? json(signature.statement->string()) : json(nullptr)},
                                {"run_binary_sha256", signature.run_binary_sha256.empty()
                                                          ? json(nullptr)
                                                          : json(signature.run_binary_sha256)}}},
                 {"changed", changed}};
  json list = json::array();
  for (const auto& c : changes) {
    list.push_back({{"subject", c.subject}, {"ruleset", c.ruleset}, {"recorded", c.recorded}, {"now", c.now},
                    {"status", c.status}, {"why", c.why}});
  }
  replay["verdicts"] = list;
  json doc = report::to_json(rep, assessment);
  doc["replay"] = replay;
  const std::string json_text = doc.dump(2, ' ', false, json::error_handler_t::replace) + "\n";

  report::PrintContext ctx;
  ctx.title = fmt::format("probe replay of {}", o.report);
  ctx.signature = signature.text;
  ctx.run_binary_sha256 = signature.run_binary_sha256;
  ctx.preamble.push_back(section);
  ctx.embedded_json = json_text;
  emit_outputs(outputs, [&](report::Format f) {
    if (f == report::Format::json) return json_text;
    if (f != report::Format::text) ctx.binary_sha256 = binary_sha256();
    return report::make_printer(f, ctx)->render(rep, &assessment);
  });
  return changed > 0 ? 1 : 0;
}

}  // namespace probe::cli
