// Rulesets: the published classifications, explanations with margins and near misses, the rule book, the
// node-level 4A090 line, and the boundaries of every comparison of every clause, generated from the data.
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <set>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "probe/error.hpp"
#include "rules.hpp"

using namespace probe::rules;

namespace {

const Ruleset& ruleset(const char* id) {
  static const RuleBook book = RuleBook::builtin();
  const Ruleset* r = book.find(id);
  if (!r) throw std::runtime_error(std::string("no ruleset ") + id);
  return *r;
}

Verdict verdict(const char* rs, const char* chip_name, const Overrides& ov = {}) {
  const auto& db = ChipDatabase::builtin();
  auto m = chip_metrics(*db.find_name(chip_name), db, ov);
  return evaluate(ruleset(rs), assessed_values(m), chip_name);
}

const ClauseVerdict& clause(const Verdict& v, std::string_view id) {
  for (const auto& c : v.clauses) {
    if (c.clause_id == id) return c;
  }
  throw std::runtime_error("no clause " + std::string(id));
}

constexpr const char* k2023 = "us-2023-10-acr";

// The 4A090 line alone (the other node rulesets have their own tests in test_jurisdictions.cpp).
std::vector<const Ruleset*> node_4a090() { return {&ruleset("us-4a090-node")}; }

}  // namespace

TEST(Verdicts, A100Is3A090a) {
  auto v = verdict(k2023, "A100 SXM");
  EXPECT_EQ(v.classification, "3A090.a");
  EXPECT_EQ(v.classification_clause, "3A090.a.1");
  EXPECT_EQ(clause(v, "3A090.a.2").outcome, Outcome::matched);  // PD 6.04 ≥ 5.92 as well
}

TEST(Verdicts, H100ExplainsItsMargin) {
  auto v = verdict(k2023, "H100 SXM");
  EXPECT_EQ(v.classification, "3A090.a");
  const auto& a1 = clause(v, "3A090.a.1");
  EXPECT_EQ(a1.explanation, "TPP 15,832 ≥ 4,800 (margin +230%) → 3A090.a.1");
  ASSERT_EQ(a1.comparisons.size(), 1u);
  EXPECT_NEAR(*a1.comparisons[0].margin, 15832.0 / 4800 - 1, 1e-9);
  EXPECT_EQ(a1.comparisons[0].source, "CN-HW");
  EXPECT_NE(v.summary.find("3A090.a.1"), std::string::npos);
  EXPECT_NE(render_text(v).find("+230%"), std::string::npos);
}

TEST(Verdicts, Rtx4090Is3A090aButNacEligible) {
  auto v = verdict(k2023, "RTX 4090");
  EXPECT_EQ(v.classification, "3A090.a");
  EXPECT_EQ(clause(v, "NAC/ACA (3A090.a)").outcome, Outcome::matched);
  EXPECT_EQ(clause(v, "Note 2").outcome, Outcome::not_matched);
}

TEST(Verdicts, Rtx4090DIsOutsideAndJustUnder) {
  auto v = verdict(k2023, "RTX 4090D");
  EXPECT_EQ(v.outcome, Outcome::not_matched);
  EXPECT_EQ(v.classification, "outside 3A090.a/.b");
  EXPECT_EQ(clause(v, "Note 2").outcome, Outcome::matched);
  ASSERT_FALSE(v.near_misses.empty());
  EXPECT_NE(v.near_misses[0].find("TPP 4,707 is 1.9% under 4,800"), std::string::npos) << v.near_misses[0];
  // Marketed for data centers it would be 3A090.a.2 (PD 7.74).
  Overrides dc;
  dc.datacenter = true;
  EXPECT_EQ(verdict(k2023, "RTX 4090D", dc).classification_clause, "3A090.a.2");
}

TEST(Verdicts, H20IsOutside3A090Under2023) {
  auto v = verdict(k2023, "H20");
  EXPECT_EQ(v.outcome, Outcome::not_matched);
  EXPECT_EQ(clause(v, "3A090.b.1").outcome, Outcome::not_matched);
  EXPECT_EQ(clause(v, "3A090.b.2").outcome, Outcome::not_matched);
  EXPECT_NE(clause(v, "3A090.b.1").explanation.find("TPP 2,368 is 1.3% under 2,400"), std::string::npos)
      << clause(v, "3A090.b.1").explanation;
}

TEST(Verdicts, ReferenceClasses2023) {
  EXPECT_EQ(verdict(k2023, "L4").classification_clause, "3A090.a.2");
  EXPECT_EQ(verdict(k2023, "L40").classification_clause, "3A090.b.1");
  EXPECT_EQ(verdict(k2023, "L20").outcome, Outcome::not_matched);
  EXPECT_EQ(clause(verdict(k2023, "L40"), "NAC/ACA (3A090.b)").outcome, Outcome::matched);
  for (const char* c : {"A800", "H800", "H200", "L40S", "B200", "MI250X", "MI300X", "Gaudi 2"}) {
    EXPECT_EQ(verdict(k2023, c).classification_clause, "3A090.a.1") << c;
  }
}

TEST(Verdicts, NotEvaluableNamesTheMissingInput) {
  // No datacenter input, TPP below 4800 and PD over 5.92: Note 2 decides, and nobody said.
  MetricValues values;
  values["tpp"] = {3000.0, std::nullopt, "given", false};
  values["pd"] = {7.0, std::nullopt, "given", false};
  auto v = evaluate(ruleset(k2023), values);
  EXPECT_EQ(v.outcome, Outcome::not_evaluable);
  EXPECT_EQ(v.classification, "not evaluable");
  EXPECT_NE(v.summary.find("--datacenter"), std::string::npos) << v.summary;
  // Gaudi 3's die area is unknown but TPP alone decides.
  EXPECT_EQ(verdict(k2023, "Gaudi 3").classification_clause, "3A090.a.1");
}

TEST(Verdicts, Rule2022NeedsTheIoRate) {
  EXPECT_EQ(verdict("us-2022-10-acr", "A100 SXM").classification, "3A090");
  auto a800 = verdict("us-2022-10-acr", "A800");
  EXPECT_EQ(a800.outcome, Outcome::not_evaluable);
  EXPECT_NE(a800.summary.find("io_bw_bidir"), std::string::npos);
  Overrides ov;
  ov.io_bw_bidir_gbs = 400;
  EXPECT_EQ(verdict("us-2022-10-acr", "A800", ov).outcome, Outcome::not_matched);
}

TEST(Verdicts, Rule2026CaseByCase) {
  const char* id = "us-2026-01-cn-case-by-case";
  EXPECT_EQ(clause(verdict(id, "H200"), "742.6(b)(10)(iii)(A)(1)").outcome, Outcome::matched);
  EXPECT_EQ(clause(verdict(id, "MI325X"), "742.6(b)(10)(iii)(A)(1)").outcome, Outcome::matched);
  EXPECT_EQ(clause(verdict(id, "B200"), "Presumption of denial").outcome, Outcome::matched);
  EXPECT_EQ(clause(verdict(id, "H20"), "742.6(b)(10)(iii)(A)(1)").outcome, Outcome::not_matched);  // not 3A090
}

TEST(Verdicts, HbmRuleLeavesLogicIcsToTpp) {
  Overrides ov;
  ov.hbm_area_mm2 = 500;
  auto v = verdict("us-2024-12-hbm", "H100 SXM", ov);
  EXPECT_EQ(v.outcome, Outcome::not_matched);
  EXPECT_EQ(clause(v, "3A090.c").outcome, Outcome::not_matched);
  MetricValues hbm_stack;
  hbm_stack["hbm_bw_density"] = {2.5, std::nullopt, "given", false};
  hbm_stack["main_function_logic"] = {std::nullopt, false, "given", false};
  auto s = evaluate(ruleset("us-2024-12-hbm"), hbm_stack);
  EXPECT_EQ(s.classification, "3A090.c");
  EXPECT_EQ(clause(s, "License Exception HBM").outcome, Outcome::matched);
}

TEST(Verdicts, DiffusionIsRescindedButEvaluable) {
  auto v = verdict("us-2025-01-ai-diffusion", "H100 SXM");
  EXPECT_EQ(v.status, RuleStatus::rescinded);
  EXPECT_EQ(v.classification, "3A090.a");
  ASSERT_EQ(v.quantities.size(), 2u);
  EXPECT_NEAR(*v.quantities[0].result, 26900000.0 / 15832, 1e-6);  // ≈ 1,699 H100 per customer-year
  EXPECT_NE(render_text(v).find("rescinded"), std::string::npos);
}

TEST(Verdicts, JsonOfAVerdict) {
  auto j = to_json(verdict(k2023, "H100 SXM"));
  EXPECT_EQ(j["classification"], "3A090.a");
  EXPECT_EQ(j["clause"], "3A090.a.1");
  EXPECT_EQ(j["rules_sha256"].get<std::string>().size(), 64u);
  EXPECT_EQ(j["clauses"][1]["comparisons"][0]["threshold"].get<double>(), 4800);
}

TEST(Node, ContainsA3A090aDevice) {
  const auto& db = ChipDatabase::builtin();
  RuleBook book = RuleBook::builtin();
  auto sets = book.select();
  std::vector<std::vector<Verdict>> devices;
  devices.push_back(evaluate(sets, chip_metrics(*db.find_name("H100 SXM"), db)));
  devices.push_back(evaluate(sets, chip_metrics(*db.find_name("L20"), db)));
  auto node = evaluate_node(node_4a090(), devices);
  ASSERT_EQ(node.size(), 1u);
  EXPECT_EQ(node[0].classification, "4A090.a");
  EXPECT_EQ(node[0].subject, "node");

  std::vector<std::vector<Verdict>> only_l40;
  only_l40.push_back(evaluate(sets, chip_metrics(*db.find_name("L40"), db)));
  EXPECT_EQ(evaluate_node(node_4a090(), only_l40)[0].classification, "4A090.b");

  std::vector<std::vector<Verdict>> only_h20;
  only_h20.push_back(evaluate(sets, chip_metrics(*db.find_name("H20"), db)));
  EXPECT_EQ(evaluate_node(node_4a090(), only_h20)[0].outcome, Outcome::not_matched);
}

TEST(Node, AnUnevaluableDeviceMakesTheCountALowerBound) {
  RuleBook book = RuleBook::builtin();
  MetricValues unknown_dc;
  unknown_dc["tpp"] = {3000.0, std::nullopt, "given", false};
  unknown_dc["pd"] = {7.0, std::nullopt, "given", false};
  std::vector<std::vector<Verdict>> devices = {{evaluate(ruleset(k2023), unknown_dc)}};
  auto node = evaluate_node(node_4a090(), devices);
  EXPECT_EQ(node[0].outcome, Outcome::not_evaluable);
}

TEST(Node, UnmeasuredMembersCountOnTheDeclaredBasisAndUnknownOnesMakeALowerBound) {
  const auto& db = ChipDatabase::builtin();
  RuleBook book = RuleBook::builtin();
  auto sets = book.select();
  // An 8-GPU node whose CUDA plugin failed: the CPU measured, eight H100 on the bus from the chip database.
  std::vector<NodeMember> members;
  MetricValues cpu;
  cpu["tpp"] = {7.5, std::nullopt, "derived", false};
  cpu["datacenter"] = {std::nullopt, true, "given", false};
  members.push_back(NodeMember{"cpu0", "cpu0", true, true, {evaluate(ruleset(k2023), cpu, "cpu0")}, {}});
  for (int i = 0; i < 8; ++i) {
    auto m = chip_metrics(*db.find_pci(0x10de, 0x2330), db);
    members.push_back(NodeMember{fmt::format("0000:{:02x}:00.0", i), fmt::format("0000:{:02x}:00.0 NVIDIA H100 SXM", i), false,
                                 true, evaluate(sets, m), {}});
  }
  auto node = evaluate_node(node_4a090(), std::span<const NodeMember>(members));
  ASSERT_EQ(node.size(), 1u);
  EXPECT_EQ(node[0].classification, "4A090.a");
  EXPECT_NE(node[0].summary.find("3A090.a devices in the node 8 ≥ 1"), std::string::npos) << node[0].summary;
  EXPECT_NE(node[0].summary.find("8 accelerator(s) on the PCI bus counted from the chip database by PCI id (declared basis, "
                                 "not measured)"),
            std::string::npos)
      << node[0].summary;
  EXPECT_EQ(node[0].summary.find("at least"), std::string::npos);

  // One accelerator nobody knows: the count is a lower bound; it still proves 4A090.a, and says so.
  members.push_back(NodeMember{"0000:65:00.0", "0000:65:00.0 1e52:0001 (not in the chip database)", false, false, {}, {}});
  node = evaluate_node(node_4a090(), std::span<const NodeMember>(members));
  EXPECT_EQ(node[0].classification, "4A090.a");
  EXPECT_NE(node[0].summary.find("at least 8 3A090.a and 0 3A090.b device(s) in the node; 1 accelerator(s) not assessed: "
                                 "0000:65:00.0 1e52:0001 (not in the chip database)"),
            std::string::npos)
      << node[0].summary;
  EXPECT_TRUE(node_values(std::span<const NodeMember>(members)).at("devices_3a090_a").lower_bound);

  // Only the CPU and the unknown accelerator: no longer "not 4A090", but not evaluable, at least 0.
  std::vector<NodeMember> few{members.front(), members.back()};
  node = evaluate_node(node_4a090(), std::span<const NodeMember>(few));
  EXPECT_EQ(node[0].outcome, Outcome::not_evaluable);
  EXPECT_NE(node[0].summary.find("not evaluable: at least 0 3A090.a and 0 3A090.b device(s) in the node; 1 accelerator(s) "
                                 "not assessed"),
            std::string::npos)
      << node[0].summary;
  EXPECT_EQ(node_values(std::span<const NodeMember>(few)).at("devices").number, 2.0);
}

// A BMC's display controller (class 0x0300, in the chip database's non_processors) is named, not counted, and
// does not make the count a lower bound; an unknown accelerator next to it still does.
TEST(Node, NonProcessorsAreNamedNotCounted) {
  RuleBook book = RuleBook::builtin();
  std::vector<NodeMember> members;
  MetricValues cpu;
  cpu["tpp"] = {7.5, std::nullopt, "derived", false};
  cpu["datacenter"] = {std::nullopt, true, "given", false};
  members.push_back(NodeMember{"cpu0", "cpu0", true, true, {evaluate(ruleset(k2023), cpu, "cpu0")}, {}});
  NodeMember bmc{"0000:03:00.0", "0000:03:00.0 ASPEED Graphics Family (pci 1a03:2000)", false, false, {}, {}};
  bmc.not_counted = "BMC display controller, not a processor";
  members.push_back(bmc);
  auto node = evaluate_node(node_4a090(), std::span<const NodeMember>(members));
  ASSERT_EQ(node.size(), 1u);
  EXPECT_EQ(node[0].outcome, Outcome::not_matched) << node[0].summary;
  EXPECT_EQ(node[0].summary.find("at least"), std::string::npos) << node[0].summary;
  EXPECT_NE(node[0].summary.find("1 PCI device(s) not counted, not processors: 0000:03:00.0 ASPEED Graphics Family (pci "
                                 "1a03:2000): BMC display controller, not a processor"),
            std::string::npos)
      << node[0].summary;
  const auto values = node_values(std::span<const NodeMember>(members));
  EXPECT_EQ(values.at("devices").number, 1.0);
  EXPECT_FALSE(values.at("devices_3a090_a").lower_bound);

  members.push_back(NodeMember{"0000:65:00.0", "0000:65:00.0 1d22:3684 (not in the chip database)", false, false, {}, {}});
  node = evaluate_node(node_4a090(), std::span<const NodeMember>(members));
  EXPECT_EQ(node[0].outcome, Outcome::not_evaluable) << node[0].summary;
  EXPECT_NE(node[0].summary.find("at least 0 3A090.a and 0 3A090.b device(s) in the node; 1 accelerator(s) not assessed: "
                                 "0000:65:00.0 1d22:3684"),
            std::string::npos)
      << node[0].summary;
  EXPECT_EQ(node_values(std::span<const NodeMember>(members)).at("devices").number, 2.0);
}

TEST(RuleBook, ListSelectAndDefaults) {
  RuleBook book = RuleBook::builtin();
  EXPECT_EQ(book.all().size(), 16u);
  std::set<std::string> in_force;
  std::vector<std::string> us = {"US"};
  for (const auto* r : book.select({}, us)) in_force.insert(r->id);
  EXPECT_EQ(in_force, (std::set<std::string>{"us-2023-10-acr", "us-2024-12-hbm", "us-2026-01-cn-case-by-case",
                                             "us-2026-01-sec232-tariff", "us-app-computers"}));
  std::vector<std::string> ids = {"us-2025-01-ai-diffusion"};
  ASSERT_EQ(book.select(ids).size(), 1u);
  // The node lines follow whatever device rulesets were chosen, in their jurisdictions: 4A090, APP, supercomputer.
  EXPECT_EQ(book.select_node(ids).size(), 3u);
  std::vector<std::string> bad = {"us-1999"};
  EXPECT_THROW((void)book.select(bad), probe::InputError);
  std::string list = render_rulesets(book.all());
  EXPECT_NE(list.find("rescinded"), std::string::npos);
  EXPECT_NE(list.find("91 FR 1684"), std::string::npos);
  // Dated rulesets by date, undated ones (a text whose date is not confirmed) last.
  EXPECT_TRUE(std::is_sorted(book.all().begin(), book.all().end(), [](const Ruleset& a, const Ruleset& b) {
    if (a.effective.empty() != b.effective.empty()) return b.effective.empty();
    return a.effective < b.effective;
  }));
  auto prov = provenance_json(ChipDatabase::builtin(), book.select({}, us));
  EXPECT_EQ(prov["chip_database"]["sha256"].get<std::string>().size(), 64u);
  EXPECT_EQ(prov["rulesets"].size(), 5u);
}

TEST(RuleBook, UserFileOverridesOrAdds) {
  auto path = std::filesystem::temp_directory_path() / "probe_test_user_rules.json";
  {
    std::ofstream out(path);
    out << R"({"schema_version": 1, "id": "my-rule", "title": "t", "citation": "none", "effective": "2030-01-01",
      "status": "in_force", "scope": "device", "otherwise": "fine",
      "sources": {"ME": {"title": "me"}},
      "clauses": [{"id": "big", "title": "TPP >= 100", "kind": "classification", "eccn": "BIG", "effect": "big",
                   "source": "ME", "when": {"metric": "tpp", "op": ">=", "value": 100, "source": "ME"}}]})";
  }
  RuleBook book = RuleBook::builtin();
  book.add(load_ruleset_file(path));
  EXPECT_NE(book.find("my-rule"), nullptr);
  EXPECT_THROW(book.add(load_ruleset_file(path)), probe::InputError);
  book.add(load_ruleset_file(path), true);
  EXPECT_EQ(book.all().size(), 17u);
  std::filesystem::remove(path);
  EXPECT_THROW((void)load_ruleset_file(path), probe::InputError);
}

// ───────────── boundaries of every comparison of every clause of every ruleset, from the data ─────────────

namespace {

struct Cmp {
  std::string metric;
  CompareOp op;
  double threshold;
  double scale = 1;  // the metric is multiplied by this before the comparison (APP's W)
};

// The comparisons with a threshold: an unconfirmed one has none (checked to be not evaluable instead).
void collect(const Condition& c, std::vector<Cmp>& out) {
  if (c.kind == Condition::Kind::compare && !c.boolean && c.unconfirmed.empty()) out.push_back({c.metric, c.op, c.threshold, c.scale});
  for (const auto& ch : c.children) collect(ch, out);
}

bool has_unconfirmed(const Condition& c) {
  if (c.kind == Condition::Kind::compare && !c.unconfirmed.empty()) return true;
  return std::any_of(c.children.begin(), c.children.end(), has_unconfirmed);
}

double nudge(double thr, int side) {  // side -1 just under, 0 at, +1 just over
  double d = thr == 0 ? 1e-6 : std::abs(thr) * 1e-6;
  return thr + side * d;
}

// Every assignment of the ruleset's metrics to values around its thresholds (booleans both ways), with
// `fixed` metric pinned; calls f for each.
void each_assignment(const Ruleset& rs, const std::string& fixed, double fixed_value,
                     const std::function<void(const MetricValues&)>& f) {
  std::map<std::string, std::vector<double>> numeric;
  std::set<std::string> booleans;
  for (const auto& cl : rs.clauses) {
    std::function<void(const Condition&)> walk = [&](const Condition& c) {
      if (c.kind == Condition::Kind::compare && c.unconfirmed.empty()) {
        if (c.boolean) booleans.insert(c.metric);
        else for (int s : {-1, 0, 1}) numeric[c.metric].push_back(nudge(c.threshold, s) / c.scale);
      }
      for (const auto& ch : c.children) walk(ch);
    };
    walk(cl.when);
  }
  numeric[fixed] = {fixed_value};
  std::vector<std::pair<std::string, std::vector<double>>> axes(numeric.begin(), numeric.end());
  std::vector<std::string> bools(booleans.begin(), booleans.end());
  MetricValues values;
  std::function<void(std::size_t)> rec = [&](std::size_t i) {
    if (i < axes.size()) {
      for (double v : axes[i].second) {
        values[axes[i].first] = {v, std::nullopt, "test", false};
        rec(i + 1);
      }
      return;
    }
    std::size_t j = i - axes.size();
    if (j < bools.size()) {
      for (bool b : {false, true}) {
        values[bools[j]] = {std::nullopt, b, "test", false};
        rec(i + 1);
      }
      return;
    }
    f(values);
  };
  rec(0);
}

bool expected_at(CompareOp op, int side) {
  switch (op) {
    case CompareOp::ge: return side >= 0;
    case CompareOp::gt: return side > 0;
    case CompareOp::lt: return side < 0;
    case CompareOp::le: return side <= 0;
    case CompareOp::eq: return side == 0;
  }
  return false;
}

}  // namespace

class Boundaries : public ::testing::TestWithParam<std::string> {};

TEST_P(Boundaries, EveryComparisonIsExactAndDecisive) {
  RuleBook book = RuleBook::builtin();
  const Ruleset& rs = *book.find(GetParam());
  int checked = 0;
  int unconfirmed = 0;
  for (const auto& cl : rs.clauses) {
    std::vector<Cmp> cmps;
    collect(cl.when, cmps);
    const bool gap = has_unconfirmed(cl.when);
    if (gap && cmps.empty()) {
      // Nothing but unconfirmed thresholds: not evaluable whatever the device, and the gap is named.
      for (double tpp : {0.0, 4800.0, 1e6}) {
        MetricValues values{{"tpp", {tpp, std::nullopt, "test", false}}};
        const Verdict v = evaluate(rs, values);
        const auto& cv = *std::find_if(v.clauses.begin(), v.clauses.end(), [&](const ClauseVerdict& c) { return c.clause_id == cl.id; });
        EXPECT_EQ(cv.outcome, Outcome::not_evaluable) << cl.id;
        EXPECT_NE(cv.explanation.find("threshold not confirmed"), std::string::npos) << cv.explanation;
      }
      ++unconfirmed;
      continue;
    }
    for (const auto& cmp : cmps) {
      SCOPED_TRACE(rs.id + " / " + cl.id + " / " + cmp.metric + " " + std::string(to_string(cmp.op)) + " " +
                   format_number(cmp.threshold));
      // 1. The engine compares exactly: at, just under and just over the threshold.
      for (int side : {-1, 0, 1}) {
        bool seen = false;
        each_assignment(rs, cmp.metric, nudge(cmp.threshold, side) / cmp.scale, [&](const MetricValues& values) {
          if (seen) return;
          seen = true;
          Verdict v = evaluate(rs, values);
          const auto& cv = *std::find_if(v.clauses.begin(), v.clauses.end(), [&](const ClauseVerdict& c) { return c.clause_id == cl.id; });
          auto it = std::find_if(cv.comparisons.begin(), cv.comparisons.end(), [&](const Comparison& c) {
            return c.metric == cmp.metric && c.op == cmp.op && c.threshold == cmp.threshold && c.scale == cmp.scale;
          });
          ASSERT_NE(it, cv.comparisons.end());
          EXPECT_EQ(it->result == Truth::yes, expected_at(cmp.op, side)) << "side " << side;
          EXPECT_NE(it->result, Truth::unknown);
        });
      }
      // 2. The threshold decides the clause somewhere: some assignment of the other metrics makes the clause's
      //    outcome follow this comparison across its threshold, "at" falling on the side the operator says.
      bool decisive = false;
      std::map<int, std::vector<Outcome>> outcomes;
      for (int side : {-1, 0, 1}) {
        each_assignment(rs, cmp.metric, nudge(cmp.threshold, side) / cmp.scale, [&](const MetricValues& values) {
          Verdict v = evaluate(rs, values);
          for (const auto& c : v.clauses) {
            if (c.clause_id == cl.id) outcomes[side].push_back(c.outcome);
          }
        });
      }
      // "at" belongs to the side whose result it shares: over for >= and <, under for > and <=.
      bool at_is_over_side = expected_at(cmp.op, 0) == expected_at(cmp.op, 1);
      for (std::size_t i = 0; i < outcomes[0].size(); ++i) {
        Outcome under = outcomes[-1][i], at = outcomes[0][i], over = outcomes[1][i];
        // Beside an unconfirmed threshold a line can only decide between "no" and "not evaluable".
        if (under == over || (!gap && (under == Outcome::not_evaluable || over == Outcome::not_evaluable))) continue;
        if (at == (at_is_over_side ? over : under)) decisive = true;
      }
      EXPECT_TRUE(decisive) << "no assignment where this threshold decides the clause";
      ++checked;
    }
  }
  EXPECT_GT(checked + unconfirmed, 0);
}

// Generated from the built-in rule book: a new data/rules/*.json file is covered without touching this test.
std::vector<std::string> builtin_ids() {
  std::vector<std::string> ids;
  for (const auto& r : RuleBook::builtin().all()) ids.push_back(r.id);
  return ids;
}

INSTANTIATE_TEST_SUITE_P(AllRulesets, Boundaries, ::testing::ValuesIn(builtin_ids()),
                         [](const auto& p) {
                           std::string s = p.param;
                           std::replace(s.begin(), s.end(), '-', '_');
                           return s;
                         });

TEST(Boundaries, TheBuiltinRuleBookHasEveryInstrument) {
  std::set<std::string> citations;
  for (const auto& r : RuleBook::builtin().all()) citations.insert(r.citation);
  EXPECT_EQ(citations, (std::set<std::string>{"87 FR 62186", "88 FR 73458", "89 FR 96790", "90 FR 4544", "91 FR 1684",
                                              "Delegated Regulation (EU) 2025/2003", "SI 2025/1197",
                                              "Cabinet Order of 2025-03-25 (Export Trade Control Order)",
                                              "Public Notice on Trade of Strategic Items (36th amendment, 2025-02-28)",
                                              "HTSUS 9903.79.01, US note 39(b)", "S.3374 (119th Congress)",
                                              "15 CFR 774 Supp. 1 (4A003, 4D001, 4E001)",
                                              "15 CFR 772.1 ('supercomputer'), 15 CFR 744.23"}));
  std::set<std::string> jurisdictions;
  for (const auto& r : RuleBook::builtin().all()) jurisdictions.insert(r.jurisdiction);
  EXPECT_EQ(jurisdictions, (std::set<std::string>{"US", "EU", "UK", "JP", "KR"}));
}
