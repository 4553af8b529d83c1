// Rules beyond the US and beyond one chip (issue 14): the chip database classified under the EU, UK, JP and KR
// rulesets, the Sec. 232 tariff bands, the SAFE Chips Act (proposed), APP per device and per node, the
// "supercomputer" share, and the reader's handling of thresholds that are not confirmed.
#include <algorithm>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "probe/error.hpp"
#include "rules.hpp"

using namespace probe::rules;

namespace {

const Ruleset& ruleset(const char* id) {
  const Ruleset* r = RuleBook::builtin().find(id);
  if (!r) throw std::runtime_error(std::string("no ruleset ") + id);
  return *r;
}

DeviceMetrics chip(const char* name, const Overrides& ov = {}) {
  const auto& db = ChipDatabase::builtin();
  const Chip* c = db.find_name(name);
  if (!c) throw std::runtime_error(std::string("no chip ") + name);
  return chip_metrics(*c, db, ov);
}

Verdict verdict(const char* rs, const char* name, const Overrides& ov = {}) {
  return evaluate(ruleset(rs), assessed_values(chip(name, ov)), name);
}

const ClauseVerdict& clause(const Verdict& v, std::string_view id) {
  for (const auto& c : v.clauses) {
    if (c.clause_id == id) return c;
  }
  throw std::runtime_error("no clause " + std::string(id));
}

bool contains(const std::string& s, std::string_view what) { return s.find(what) != std::string::npos; }

// One node of `n` copies of a chip, as the node report would build it.
std::vector<NodeMember> node_of(const char* name, int n, const Overrides& ov = {}) {
  const DeviceMetrics m = chip(name, ov);
  std::vector<const Ruleset*> device_sets = RuleBook::builtin().select();
  std::vector<NodeMember> out;
  for (int i = 0; i < n; ++i) {
    out.push_back(NodeMember{"gpu" + std::to_string(i), name, true, true, evaluate(device_sets, m), {}, assessed_values(m)});
  }
  return out;
}

constexpr const char* kEu = "eu-2025-2003-3a501";
constexpr const char* kTariff = "us-2026-01-sec232-tariff";
constexpr const char* kSafe = "us-safe-chips-s3374";
constexpr const char* kApp = "us-app-computers";

}  // namespace

// ───────────── EU 3A501.a.16: TPP >= 6,000, no PD test, no data-center carve-out ─────────────

TEST(Eu, H100Is3A501a16) {
  Verdict v = verdict(kEu, "H100 SXM");
  EXPECT_EQ(v.jurisdiction, "EU");
  EXPECT_EQ(v.classification, "3A501.a.16");
  EXPECT_TRUE(contains(v.summary, "TPP 15,832 ≥ 6,000"));
}

TEST(Eu, A100Is3A090aButNot3A501a16) {
  EXPECT_EQ(verdict("us-2023-10-acr", "A100 SXM").classification, "3A090.a");
  Verdict v = verdict(kEu, "A100 SXM");
  EXPECT_EQ(v.outcome, Outcome::not_matched);
  EXPECT_EQ(v.classification, "not 3A501.a.16");
  EXPECT_TRUE(contains(clause(v, "3A501.a.16").explanation, "TPP 4,992 is 16.8% under 6,000"));
}

TEST(Eu, Rtx4090DIsNot3A501a16) {
  // TPP ≈ 4,707 (derived: no datasheet TPP in the reference).
  Verdict v = verdict(kEu, "GeForce RTX 4090 D");
  EXPECT_EQ(v.classification, "not 3A501.a.16");
}

TEST(Eu, NoDataCenterCarveOut) {
  // The RTX 4090 (TPP 5,285) is 3A090.a under the US rule (NAC-eligible); under the EU rule it is below 6,000.
  // A consumer part above 6,000 stays 3A501.a.16: no Note 2 in the EU text.
  Overrides consumer;
  consumer.datacenter = false;
  EXPECT_EQ(verdict(kEu, "H100 SXM", consumer).classification, "3A501.a.16");
  EXPECT_EQ(verdict(kEu, "GeForce RTX 4090").classification, "not 3A501.a.16");
}

TEST(Eu, NodeIs4A507WhenItHoldsA3A501a16Chip) {
  std::vector<const Ruleset*> node_sets = {&ruleset("eu-2025-2003-4a507-node")};
  auto h100 = node_of("H100 SXM", 8);
  auto vs = evaluate_node(node_sets, std::span<const NodeMember>(h100));
  ASSERT_EQ(vs.size(), 1u);
  EXPECT_EQ(vs[0].classification, "4A507");
  auto a100 = node_of("A100 SXM", 8);
  vs = evaluate_node(node_sets, std::span<const NodeMember>(a100));
  EXPECT_EQ(vs[0].classification, "not 4A507: the node contains no 3A501.a.16 IC");
}

// ───────────── UK / JP / KR: shipped with the gap shown ─────────────

TEST(NotConfirmed, UkJpKrAreNotEvaluableAndSaySo) {
  for (const char* id : {"uk-2025-1197", "jp-2025-etco", "kr-2025-strategic-items"}) {
    SCOPED_TRACE(id);
    Verdict v = verdict(id, "H100 SXM");
    EXPECT_EQ(v.outcome, Outcome::not_evaluable);
    EXPECT_TRUE(contains(v.summary, "threshold not confirmed")) << v.summary;
    EXPECT_FALSE(contains(v.summary, "missing threshold")) << v.summary;
    for (const auto& c : v.clauses) {
      for (const auto& k : c.comparisons) {
        EXPECT_FALSE(k.unconfirmed.empty());
        EXPECT_EQ(k.result, Truth::unknown);
      }
    }
    auto j = to_json(v);
    EXPECT_TRUE(j["clauses"][0]["comparisons"][0]["threshold"].is_null());
    EXPECT_TRUE(j["clauses"][0]["comparisons"][0].contains("unconfirmed"));
  }
}

TEST(NotConfirmed, AnUnevaluableUkVerdictDoesNotMakeThe4A090CountALowerBound) {
  // The 4A090 count rests on the 3A090 rulesets only; a UK gap says nothing about it.
  std::vector<const Ruleset*> node_sets = {&ruleset("us-4a090-node")};
  auto members = node_of("A100 SXM", 2);
  for (auto& m : members) m.verdicts.push_back(evaluate(ruleset("uk-2025-1197"), m.values, m.subject));
  auto vs = evaluate_node(node_sets, std::span<const NodeMember>(members));
  EXPECT_EQ(vs[0].classification, "4A090.a");
  EXPECT_TRUE(vs[0].notes.empty());
}

// ───────────── Sec. 232 tariff bands (strict bounds) ─────────────

TEST(Tariff, H200IsInsideBand1AndH100Outside) {
  Verdict h200 = verdict(kTariff, "H200 SXM");  // TPP 15,832, DRAM 4,800 GB/s
  EXPECT_EQ(h200.classification, "inside tariff band 1 (9903.79.01)");
  Verdict h100 = verdict(kTariff, "H100 SXM");  // DRAM 3,350 GB/s
  EXPECT_EQ(h100.classification, "outside tariff bands 1 and 2 (9903.79.01)");
  EXPECT_EQ(clause(h100, "band 2").outcome, Outcome::not_matched);  // TPP decides it, the unconfirmed bound is moot
}

TEST(Tariff, Band2TurnsOnABandwidthNotConfirmed) {
  Verdict v = verdict(kTariff, "Instinct MI325X");  // TPP 20,919 inside 20,800..21,100; DRAM 6,000 GB/s
  EXPECT_EQ(clause(v, "band 2").outcome, Outcome::not_evaluable);
  EXPECT_TRUE(contains(clause(v, "band 2").explanation, "threshold not confirmed")) << clause(v, "band 2").explanation;
  EXPECT_EQ(v.classification, "not evaluable");
}

TEST(Tariff, BoundsAreStrict) {
  const Ruleset& rs = ruleset(kTariff);
  auto at = [&](double tpp, double bw) {
    MetricValues values{{"tpp", {tpp, std::nullopt, "test", false}}, {"total_dram_bw", {bw, std::nullopt, "test", false}}};
    return evaluate(rs, values).classification;
  };
  EXPECT_EQ(at(14000, 4800), "outside tariff bands 1 and 2 (9903.79.01)");
  EXPECT_EQ(at(14000.5, 4800), "inside tariff band 1 (9903.79.01)");
  EXPECT_EQ(at(17500, 4800), "outside tariff bands 1 and 2 (9903.79.01)");
  EXPECT_EQ(at(15000, 4500), "outside tariff bands 1 and 2 (9903.79.01)");
  EXPECT_EQ(at(15000, 5000), "outside tariff bands 1 and 2 (9903.79.01)");
}

// ───────────── SAFE Chips Act: proposed, evaluated only when asked ─────────────

TEST(Safe, ProposedIsNotInTheDefaultSelection) {
  EXPECT_EQ(ruleset(kSafe).status, RuleStatus::proposed);
  for (const Ruleset* r : RuleBook::builtin().select()) EXPECT_NE(r->id, kSafe);
  std::vector<std::string> ids = {kSafe};
  ASSERT_EQ(RuleBook::builtin().select(ids).size(), 1u);
  EXPECT_TRUE(contains(render_text(verdict(kSafe, "H100 SXM")), "proposed (not law)"));
}

TEST(Safe, H20IsCaughtByBandwidthNotTpp) {
  Verdict v = verdict(kSafe, "H20");  // TPP 2,368, PD 2.91, DRAM 4,000 GB/s
  EXPECT_EQ(clause(v, "TPP >= 4,800").outcome, Outcome::not_matched);
  EXPECT_EQ(clause(v, "TPP >= 2,400 and PD >= 1.6").outcome, Outcome::not_matched);
  EXPECT_EQ(clause(v, "TPP >= 1,600 and PD >= 3.2").outcome, Outcome::not_matched);
  EXPECT_EQ(clause(v, "DRAM >= 4,100 GB/s").outcome, Outcome::not_matched);  // 4,000 is 2.4% under
  // No interconnect figure in the database for the H20: the two interconnect lines say so.
  EXPECT_EQ(clause(v, "interconnect >= 1,100 GB/s").outcome, Outcome::not_evaluable);
  EXPECT_TRUE(contains(clause(v, "interconnect >= 1,100 GB/s").explanation, "not measured yet"));
}

TEST(Safe, InterconnectComesFromTheChipDatabaseWithItsBasis) {
  Verdict v = verdict(kSafe, "H200 SXM");  // DRAM 4,800 + NVLink 900 = 5,700
  EXPECT_EQ(clause(v, "DRAM >= 4,100 GB/s").outcome, Outcome::matched);
  EXPECT_EQ(clause(v, "interconnect >= 1,100 GB/s").outcome, Outcome::not_matched);
  const auto& sum = clause(v, "DRAM + interconnect >= 5,000 GB/s");
  EXPECT_EQ(sum.outcome, Outcome::matched);
  EXPECT_TRUE(contains(sum.comparisons.front().basis, "NVL-HOPPER")) << sum.comparisons.front().basis;
  EXPECT_TRUE(contains(sum.comparisons.front().basis, "not measured yet"));
}

// ───────────── APP (Weighted TeraFLOPS), per device and per node ─────────────

TEST(App, H100DeviceIsBelow4A003bAtEitherWeight) {
  Verdict v = verdict(kApp, "H100 SXM");  // FP64 (tensor) 67 TFLOPS: 20.1 WT at W 0.3, 60.3 WT at W 0.9
  EXPECT_EQ(clause(v, "4A003.b").outcome, Outcome::not_matched);
  EXPECT_TRUE(contains(clause(v, "4A003.b").explanation, "APP (W = 0.3) 20.1 WT")) << clause(v, "4A003.b").explanation;
  EXPECT_TRUE(contains(clause(v, "4A003.b").explanation, "not confirmed against the text"));
  // 24 WT lies between 20.1 and 60.3: whether it is a vector processor decides, and is asked for.
  EXPECT_EQ(clause(v, "4D001/4E001 (24 WT)").outcome, Outcome::not_evaluable);
  EXPECT_TRUE(contains(clause(v, "4D001/4E001 (24 WT)").explanation, "--vector-processor"));
  Overrides not_vector;
  not_vector.vector_processor = false;
  EXPECT_EQ(clause(verdict(kApp, "H100 SXM", not_vector), "4D001/4E001 (24 WT)").outcome, Outcome::not_matched);
  Overrides vector;
  vector.vector_processor = true;
  EXPECT_EQ(clause(verdict(kApp, "H100 SXM", vector), "4D001/4E001 (24 WT)").outcome, Outcome::matched);
}

TEST(App, EightH100NodeIs4A003bWhateverTheWeight) {
  std::vector<const Ruleset*> node_sets = {&ruleset("us-app-node")};
  auto members = node_of("H100 SXM", 8);  // 8 × 67 = 536 TFLOPS FP64: 160.8 WT at W 0.3
  auto vs = evaluate_node(node_sets, std::span<const NodeMember>(members));
  ASSERT_EQ(vs.size(), 1u);
  EXPECT_EQ(vs[0].classification, "4A003.b");
  EXPECT_TRUE(contains(vs[0].summary, "160.8 WT")) << vs[0].summary;
  auto values = node_values(std::span<const NodeMember>(members));
  EXPECT_DOUBLE_EQ(*values.at("node_fp64_tflops").number, 536);
  EXPECT_FALSE(values.at("node_fp64_tflops").lower_bound);
}

// ───────────── "Supercomputer": a system test, the node's share ─────────────

TEST(Supercomputer, ANodeIsAShareAndTheEnvelopeIsAnInput) {
  std::vector<const Ruleset*> node_sets = {&ruleset("us-supercomputer-node")};
  auto members = node_of("H100 SXM", 8);
  auto vs = evaluate_node(node_sets, std::span<const NodeMember>(members));
  EXPECT_EQ(vs[0].outcome, Outcome::not_matched);  // 536 TFLOPS FP64 is far under 100 PF, envelope or not
  EXPECT_TRUE(contains(vs[0].summary, "186")) << vs[0].summary;  // 100,000 / 536 = 186.6 nodes like this one
  // The hook the fleet report will use: the same function over every node's members. 200 such nodes cross the
  // FP64 line; the envelope then decides, and without it the verdict says what is missing.
  std::vector<NodeMember> fleet;
  for (int i = 0; i < 200; ++i) {
    auto n = node_of("H100 SXM", 8);
    fleet.insert(fleet.end(), n.begin(), n.end());
  }
  vs = evaluate_node(node_sets, std::span<const NodeMember>(fleet));
  EXPECT_EQ(vs[0].outcome, Outcome::not_evaluable);
  EXPECT_TRUE(contains(vs[0].summary, "--envelope-ft3")) << vs[0].summary;
  vs = evaluate_node(node_sets, std::span<const NodeMember>(fleet), 20000.0);
  EXPECT_EQ(vs[0].classification, "supercomputer (772.1)");
  vs = evaluate_node(node_sets, std::span<const NodeMember>(fleet), 50000.0);
  EXPECT_EQ(vs[0].outcome, Outcome::not_matched);
}

// ───────────── the reader: unconfirmed thresholds, secondary ones, scale ─────────────

namespace {
std::string rule_with(const std::string& leaf) {
  return R"({"schema_version": 1, "id": "x", "jurisdiction": "EU", "title": "t", "citation": "c", "effective": "2030-01-01",
    "status": "proposed", "scope": "device", "otherwise": "no", "sources": {"S": {"title": "s"}},
    "clauses": [{"id": "a", "title": "a", "kind": "classification", "eccn": "A", "effect": "e", "source": "S",
                 "when": )" + leaf + "}]}";
}
}  // namespace

TEST(Reader, UnconfirmedConfirmedScaleAndJurisdiction) {
  Ruleset ok = parse_ruleset(rule_with(R"({"metric": "tpp", "op": ">=", "source": "S", "unconfirmed": "not read"})"), "t.json");
  EXPECT_EQ(ok.jurisdiction, "EU");
  EXPECT_EQ(ok.status, RuleStatus::proposed);
  EXPECT_EQ(ok.clauses[0].when.unconfirmed, "not read");
  Ruleset sec = parse_ruleset(
      rule_with(R"({"metric": "fp64_peak", "op": ">", "value": 70, "scale": 0.3, "label": "APP", "unit": "WT", "confirmed": false, "source": "S"})"),
      "t.json");
  EXPECT_FALSE(sec.clauses[0].when.confirmed);
  EXPECT_DOUBLE_EQ(sec.clauses[0].when.scale, 0.3);
  // A guessed number next to "unconfirmed", an empty reason, "confirmed": true, a bad scale, a bad jurisdiction.
  for (const std::string& bad :
       {rule_with(R"({"metric": "tpp", "op": ">=", "value": 6000, "source": "S", "unconfirmed": "not read"})"),
        rule_with(R"({"metric": "tpp", "op": ">=", "source": "S", "unconfirmed": ""})"),
        rule_with(R"({"metric": "tpp", "op": ">=", "value": 1, "source": "S", "confirmed": true})"),
        rule_with(R"({"metric": "tpp", "op": ">=", "value": 1, "source": "S", "scale": 0})"),
        rule_with(R"({"metric": "datacenter", "op": "==", "value": true, "source": "S", "scale": 2})")}) {
    EXPECT_THROW((void)parse_ruleset(bad, "bad.json"), probe::InputError) << bad;
  }
  std::string lower = rule_with(R"({"metric": "tpp", "op": ">=", "value": 1, "source": "S"})");
  lower.replace(lower.find("\"EU\""), 4, "\"eu\"");
  try {
    (void)parse_ruleset(lower, "bad.json");
    FAIL() << "lower-case jurisdiction accepted";
  } catch (const probe::InputError& e) {
    EXPECT_TRUE(contains(e.what(), "bad.json")) << e.what();
    EXPECT_TRUE(contains(e.what(), "jurisdiction")) << e.what();
  }
}

TEST(Select, JurisdictionsNarrowTheDefault) {
  const RuleBook& book = RuleBook::builtin();
  std::vector<std::string> eu = {"EU"};
  auto sets = book.select({}, eu);
  ASSERT_EQ(sets.size(), 1u);
  EXPECT_EQ(sets[0]->id, kEu);
  auto node = book.select_node({}, eu);
  ASSERT_EQ(node.size(), 1u);
  EXPECT_EQ(node[0]->id, "eu-2025-2003-4a507-node");
  EXPECT_EQ(book.jurisdictions(true), (std::vector<std::string>{"EU", "JP", "KR", "UK", "US"}));
}

// ───────────── the IC classifications a node counts, decided once for the count and the printers ─────────────

TEST(IcClass, H100CountsAs3A090aAnd3A501a16AndNothingElse) {
  const DeviceMetrics m = chip("H100 SXM");
  const std::vector<Verdict> vs = evaluate(RuleBook::builtin().select(), m);
  const auto ics = ic_classifications(vs);
  std::vector<std::string> names;
  for (const auto& c : ics) names.push_back(c.classification);
  EXPECT_NE(std::find(names.begin(), names.end(), "3A090.a"), names.end());
  EXPECT_NE(std::find(names.begin(), names.end(), "3A501.a.16"), names.end());
  for (const auto& c : ics) {
    EXPECT_FALSE(c.rulesets.empty()) << c.classification;
    EXPECT_FALSE(contains(c.classification, "tariff")) << c.classification;
    EXPECT_FALSE(contains(c.classification, "S.3374")) << c.classification;
  }
  // Every 3A090.a verdict is listed under the one entry, with the ruleset that gave it.
  const auto a = std::find_if(ics.begin(), ics.end(), [](const auto& c) { return c.classification == "3A090.a"; });
  ASSERT_NE(a, ics.end());
  EXPECT_NE(std::find(a->rulesets.begin(), a->rulesets.end(), "us-2023-10-acr"), a->rulesets.end());
}

TEST(IcClass, OnlyMatchedControlClassificationsCount) {
  Verdict v;
  v.outcome = Outcome::matched;
  v.classification = "3A090.c";
  EXPECT_EQ(ic_class(v), IcClass::none);  // HBM is not a 3A090 IC for the node count
  v.classification = "3A090";
  EXPECT_EQ(ic_class(v), IcClass::us_3a090);
  v.classification = "3A090.b";
  EXPECT_EQ(ic_class(v), IcClass::us_3a090_b);
  v.classification = "3A501.a.16 (UK)";
  EXPECT_EQ(ic_class(v), IcClass::a3501_a16);
  v.classification = "inside tariff band 1 (9903.79.01)";
  EXPECT_EQ(ic_class(v), IcClass::none);
  v.classification = "3A090.a";
  v.outcome = Outcome::not_matched;
  EXPECT_EQ(ic_class(v), IcClass::none);
  v.outcome = Outcome::not_evaluable;
  EXPECT_EQ(ic_class(v), IcClass::none);
}
