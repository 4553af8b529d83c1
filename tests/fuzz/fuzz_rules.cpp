// libFuzzer harness: the rules-file reader (--rules FILE, data/rules/*.json) on arbitrary bytes.
// A well-formed ruleset is then evaluated on an empty and on a full set of metric values, rendered as text and
// JSON, and added to (and selected from) the built-in rule book: the engine and printers see every condition
// tree the reader accepts.
// The expected rejection is probe::InputError; anything else escaping (another exception, a crash, a sanitizer
// report) is a finding. Seeds: tests/fuzz/corpus/rules/. Run: bench/fuzz/run.sh rules
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "probe/error.hpp"
#include "rules.hpp"

namespace {

probe::rules::MetricValues full_values(bool node) {
  probe::rules::MetricValues values;
  double n = 1;
  for (const auto& info : probe::rules::metric_catalog()) {
    if (info.node != node) continue;
    probe::rules::MetricValue v;
    if (info.boolean) v.boolean = true;
    else v.number = n *= 7.5;  // distinct magnitudes, so comparisons go both ways across metrics
    v.basis = "fuzz";
    values.emplace(std::string(info.name), v);
  }
  return values;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  probe::rules::Ruleset rs;
  try {
    rs = probe::rules::parse_ruleset(text, "fuzz.json");
  } catch (const probe::InputError&) {
    return 0;  // rejected with a message naming the file and field: what the reader must do
  }
  const bool node = rs.scope == "node";
  (void)probe::rules::to_json(rs).dump();
  (void)probe::rules::render_rulesets(std::span<const probe::rules::Ruleset>(&rs, 1));
  for (const auto& values : {probe::rules::MetricValues{}, full_values(node)}) {
    const probe::rules::Verdict v = probe::rules::evaluate(rs, values, "fuzz0");
    (void)probe::rules::render_text(v);
    (void)probe::rules::to_json(v).dump();
  }
  probe::rules::RuleBook book = probe::rules::RuleBook::builtin();
  book.add(std::move(rs), /*replace=*/true);
  (void)book.select();
  (void)book.select_node();
  return 0;
}
