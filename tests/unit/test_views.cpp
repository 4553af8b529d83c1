// The printers' building blocks: escaping, formats by name and extension, and the region charts, which must
// come from the rules engine over the ruleset's own thresholds.
#include <gtest/gtest.h>

#include "printer.hpp"
#include "regions.hpp"
#include "rules.hpp"

using namespace probe;
using namespace probe::report;

TEST(Views, HtmlEscapeCoversEveryMarkupCharacter) {
  EXPECT_EQ(html_escape("<a href=\"x\">'&'</a>"), "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;");
  EXPECT_EQ(html_escape("TPP ≥ 4,800"), "TPP ≥ 4,800");
}

TEST(Views, MarkdownEscapeKeepsTablesIntact) {
  EXPECT_EQ(markdown_escape("a|b\nc *d* <e>"), "a\\|b c \\*d\\* \\<e\\>");
}

TEST(Views, FormatsByNameAndExtension) {
  EXPECT_EQ(format_from_string("md"), Format::markdown);
  EXPECT_EQ(format_from_string("html"), Format::html);
  EXPECT_FALSE(format_from_string("pdf"));
  EXPECT_EQ(format_from_path("r/R.HTML"), Format::html);
  EXPECT_EQ(format_from_path("R.md"), Format::markdown);
  EXPECT_EQ(format_from_path("R.txt"), Format::text);
  EXPECT_EQ(format_from_path("R.json"), Format::json);
  EXPECT_FALSE(format_from_path("R"));
  EXPECT_FALSE(format_from_path("R.pdf"));
}

namespace {
const rules::Ruleset& ruleset(std::string_view id) {
  const rules::Ruleset* r = rules::RuleBook::builtin().find(id);
  EXPECT_NE(r, nullptr) << id;
  return *r;
}
rules::MetricValues datacenter(bool yes) {
  return {{"datacenter", rules::MetricValue{std::nullopt, yes, "test", false}}};
}
}  // namespace

TEST(Views, RegionsOf2023AreTheEnginesClassification) {
  const auto chart = region_chart(ruleset("us-2023-10-acr"), "tpp", "pd", "classification", datacenter(true), {});
  EXPECT_EQ(chart.x_thresholds, (std::vector<double>{1600, 2400, 4800}));
  EXPECT_EQ(chart.y_thresholds, (std::vector<double>{1.6, 3.2, 5.92}));
  EXPECT_EQ(region_at(chart, 15832, 19.45), "3A090.a.1");  // H100 SXM
  EXPECT_EQ(region_at(chart, 1936, 6.59), "3A090.a.2");    // L4
  EXPECT_EQ(region_at(chart, 2897, 4.76), "3A090.b.1");    // L40
  EXPECT_EQ(region_at(chart, 2000, 4.0), "3A090.b.2");
  EXPECT_EQ(region_at(chart, 2368, 2.91), "outside 3A090.a/.b");  // H20
  EXPECT_EQ(region_at(chart, 4800, 1.0), "3A090.a.1");    // the line itself: >= holds
  EXPECT_EQ(region_at(chart, 4799.99, 1.0), "outside 3A090.a/.b");
  EXPECT_EQ(region_at_x(chart, 88), "outside 3A090.a/.b");  // a CPU without a die area: outside at any PD
  EXPECT_EQ(region_at_x(chart, 15832), "3A090.a.1");
  EXPECT_EQ(region_at_x(chart, 2000), "");  // depends on the PD
  // Every cell was classified: nothing is left to a metric the chart does not fix.
  for (const auto& c : chart.cells) EXPECT_TRUE(c.evaluable) << c.label;
}

TEST(Views, RegionsFollowTheDataCenterAnswer) {
  // Note 2: not designed for data centers and TPP < 4800 is outside 3A090, whatever the PD.
  const auto chart = region_chart(ruleset("us-2023-10-acr"), "tpp", "pd", "classification", datacenter(false), {});
  EXPECT_EQ(region_at(chart, 1936, 6.59), "outside 3A090.a/.b");
  EXPECT_EQ(region_at(chart, 15832, 19.45), "3A090.a.1");
}

TEST(Views, CaseByCaseBoxOf2026) {
  const rules::Ruleset& r = ruleset("us-2026-01-cn-case-by-case");
  rules::MetricValues fixed = datacenter(true);
  fixed["pd"] = rules::MetricValue{19.45, std::nullopt, "test", false};
  const std::vector<ChartPoint> points{{"declared", 15832, 4800.0}};
  const auto chart = region_chart(r, "tpp", "total_dram_bw", "policy", fixed, points);
  EXPECT_EQ(region_at(chart, 15832, 4800), "742.6(b)(10)(iii)(A)(1)");  // H200: case by case
  EXPECT_EQ(region_at(chart, 20919, 6000), "742.6(b)(10)(iii)(A)(1)");  // MI325X
  EXPECT_EQ(region_at(chart, 36000, 8000), "Presumption of denial");    // B200
  EXPECT_EQ(region_at(chart, 15832, 7000), "Presumption of denial");
  EXPECT_LE(chart.x_min, 1600);
  EXPECT_GE(chart.x_max, 21000);
  EXPECT_GE(chart.y_max, 6500);
}

TEST(Views, ChartsAreFoundByWhatTheClausesCompareNotByName) {
  std::vector<const rules::Ruleset*> sets;
  for (const auto& r : rules::RuleBook::builtin().all()) sets.push_back(&r);
  const rules::Ruleset* pd = find_ruleset_on(sets, "tpp", "pd", "classification");
  ASSERT_NE(pd, nullptr);
  EXPECT_EQ(pd->status, rules::RuleStatus::in_force);
  const rules::Ruleset* box = find_ruleset_on(sets, "tpp", "total_dram_bw", "policy");
  ASSERT_NE(box, nullptr);
  EXPECT_EQ(box->id, "us-2026-01-cn-case-by-case");
  EXPECT_EQ(find_ruleset_on(sets, "tpp", "io_bw_bidir", "policy"), nullptr);
}
