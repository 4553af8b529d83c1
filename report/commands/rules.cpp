// probe rules and probe rules --check FILE: the rulesets known, and a rules file tried on the chip database.
#include <algorithm>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <iostream>
#include <span>

#include "cli.hpp"
#include "json_io.hpp"
#include "options.hpp"
#include "printer.hpp"
#include "probe/engine.hpp"
#include "probe/error.hpp"
#include "probe/version.hpp"

namespace probe::cli {
namespace {

// probe rules --check FILE: the file through the same reader as --rules (exit 2 with file, entry and field when
// wrong), then through the engine: evaluated on every chip of the database (device scope) or on one node holding
// each chip (node scope), so a rule written the day it is published can be tried before a report is replayed.
int run_rules_check(const Options& o, const report::AssessmentOptions& a, const Outputs& outputs) {
  rules::Ruleset rs = rules::load_ruleset_file(o.check_file);
  const rules::ChipDatabase& db = a.chipdb_file ? rules::ChipDatabase::load_file(*a.chipdb_file) : rules::ChipDatabase::builtin();
  std::string text = fmt::format("{}: ok: ruleset '{}' [{}] {} ({}), {} clause(s), status {}, scope {}, sha256 {}\n", o.check_file,
                                 rs.id, rs.jurisdiction, rs.citation, rs.effective.empty() ? "no effective date" : rs.effective,
                                 rs.clauses.size(), rules::to_string(rs.status), rs.scope, rs.sha256);
  nlohmann::json verdicts = nlohmann::json::array();
  report::Table table;
  table.header = {"chip", "clause", "outcome"};
  const rules::Ruleset* one[] = {&rs};
  for (const auto& chip : db.chips()) {
    rules::DeviceMetrics m = rules::chip_metrics(chip, db, a.overrides);
    std::vector<rules::Verdict> vs;
    if (rs.scope == "device") {
      vs = rules::evaluate(one, m);
    } else {
      std::vector<rules::NodeMember> members{rules::NodeMember{m.device_id, m.device_name, true, true, {}, {}, rules::assessed_values(m)}};
      members.front().verdicts = rules::evaluate(rules::RuleBook::builtin().select(), m);
      vs = rules::evaluate_node(one, std::span<const rules::NodeMember>(members), a.overrides.envelope_ft3);
      for (auto& v : vs) v.subject = chip.id;
    }
    for (const auto& v : vs) {
      text += fmt::format("  {:<24} {}\n", chip.name, v.outcome == rules::Outcome::matched ? v.classification
                                                         : v.classification.empty() ? std::string(rules::to_string(v.outcome))
                                                                                    : v.classification);
      verdicts.push_back(rules::to_json(v));
      table.rows.push_back({chip.name, v.classification_clause, v.summary});
    }
  }
  report::Section section;
  section.title = fmt::format("{}: ruleset '{}' ({})", o.check_file, rs.id, rs.citation);
  section.tables.push_back(std::move(table));
  const std::vector<report::Section> sections{section};
  emit(outputs, text,
       nlohmann::json{{"check", {{"file", o.check_file}, {"ok", true}, {"ruleset", rules::to_json(rs)}, {"verdicts", verdicts}}}},
       [&](report::Format f) {
         return report::make_printer(f, print_context("probe rules --check", f))->render_sections(sections);
       });
  return kExitOk;
}

}  // namespace

// probe rules: every ruleset the book holds, with its status and the hash of its file.
int run_rules(const Options& o, const Outputs& outputs) {
  report::AssessmentOptions a = assessment_options(o);
  a.all_rulesets_by_default = true;
  if (!o.check_file.empty()) return run_rules_check(o, a, outputs);
  report::Assessment assessment(a);
  const auto& book = assessment.rule_book();
  nlohmann::json doc = nlohmann::json::array();
  for (const auto& r : book.all()) doc.push_back(rules::to_json(r));
  std::vector<rules::Ruleset> shown;
  for (const auto& r : book.all()) {
    if (a.jurisdictions.empty() || std::find(a.jurisdictions.begin(), a.jurisdictions.end(), r.jurisdiction) != a.jurisdictions.end()) {
      shown.push_back(r);
    }
  }
  const std::string heading = fmt::format(
      "Jurisdictions: {} (in force: {}); default selection: every ruleset in force, proposed ones only by --ruleset ID\n",
      fmt::join(book.jurisdictions(), ", "), fmt::join(book.jurisdictions(true), ", "));
  report::Section section;
  section.title = "Rulesets";
  report::Table t;
  t.header = {"id", "jurisdiction", "citation", "effective", "status", "title", "file", "sha256"};
  for (const auto& r : shown) {
    t.rows.push_back({r.id, r.jurisdiction, r.citation, r.effective, std::string(rules::to_string(r.status)), r.title,
                      r.file_name, r.sha256});
  }
  section.tables.push_back(std::move(t));
  const std::vector<report::Section> sections{section};
  emit(outputs, heading + rules::render_rulesets(shown),
       nlohmann::json{{"rulesets", doc}, {"jurisdictions", book.jurisdictions()}}, [&](report::Format f) {
         return report::make_printer(f, print_context("probe rules", f))->render_sections(sections);
       });
  return kExitOk;
}

}  // namespace probe::cli
