// Views of a report and the commands that read recorded reports: --format/--out, the HTML and Markdown printers
// (rendered by a real headless browser where one is installed), probe replay and probe compare.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "run_probe.hpp"
#include <regex>
#include <string>

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

using probe_test::Result;
using probe_test::slurp;

fs::path work_dir() { return probe_test::work_dir("views"); }

void write(const fs::path& p, const std::string& s) { probe_test::write_text(p, s); }

Result run(const std::string& cmdline) { return probe_test::run_command(cmdline, work_dir()); }
Result probe(const std::string& args) { return run(std::string(PROBE_EXE) + " " + args); }

using probe_test::validate;

// No address on any network: an evidence file must render offline, years later.
bool names_a_network_url(const std::string& s) {
  static const std::regex url(R"((https?|ftp|wss?):\/\/|\/\/[a-z0-9.-]+\.[a-z]{2,}\/)", std::regex::icase);
  return std::regex_search(s, url);
}

// One recorded report of this machine for every test here (a quick run of two kernels, ~5 s).
class Views : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    s_report = work_dir() / "recorded.json";
    const Result r = probe("--quick --no-plugins --kernels fma.fp32,mem.triad --json " + s_report.string());
    ASSERT_EQ(r.status, 0) << r.err;
  }
  static fs::path s_report;
};
fs::path Views::s_report;

// A copy of the built-in 2023 ruleset with 3A090.a.1's TPP threshold moved to `tpp`: "last month's report under
// a rules file with a changed threshold".
fs::path changed_rules(double tpp) {
  json r = json::parse(slurp(PROBE_RULES_2023));
  for (auto& c : r["clauses"]) {
    if (c["id"] == "3A090.a.1") c["when"]["value"] = tpp;
  }
  const fs::path p = work_dir() / "changed_rules.json";
  write(p, r.dump(1));
  return p;
}

}  // namespace

TEST(ViewsFormat, HelpDocumentsTheNewCommandsAndFlags) {
  const Result r = probe("--help");
  EXPECT_EQ(r.status, 0);
  for (const char* s : {"--out", "html", "md", "replay", "compare"}) EXPECT_NE(r.out.find(s), std::string::npos) << s;
}

TEST(ViewsFormat, UnknownFormatAndExtensionAreUsageErrorsNamingThem) {
  const fs::path d = work_dir();
  Result r = probe("classify --chip \"H100 SXM\" --format xml");
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.err.find("'xml'"), std::string::npos) << r.err;
  r = probe("classify --chip \"H100 SXM\" --out " + (d / "report.pdf").string());
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.err.find("report.pdf"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(d / "report.pdf"));
}

TEST(ViewsFormat, UnwritableOutIsRefusedBeforeAnythingIsMeasured) {
  const auto t0 = std::chrono::steady_clock::now();
  const Result r = probe("--no-plugins --out /nonexistent-dir/report.html");
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.err.find("/nonexistent-dir/report.html"), std::string::npos) << r.err;
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(5));  // nothing was measured
}

TEST(ViewsFormat, OutWritesEachFormatByItsExtension) {
  const fs::path d = work_dir();
  const Result r = probe("classify --chip \"H100 SXM\" --out " + (d / "c.html").string() + " --out " + (d / "c.md").string() +
                         " --out " + (d / "c.json").string() + " --out " + (d / "c.txt").string());
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(slurp(d / "c.html").rfind("<!DOCTYPE html>", 0), 0u);
  EXPECT_EQ(slurp(d / "c.md").rfind("# probe classify", 0), 0u);
  EXPECT_EQ(json::parse(slurp(d / "c.json"))["metrics"]["device_id"], "h100-sxm5-80gb");
  EXPECT_EQ(slurp(d / "c.txt"), r.out);  // standard output stays text
  for (const auto& e : fs::directory_iterator(d)) EXPECT_NE(e.path().filename().string().front(), '.') << e.path();
}

TEST(ViewsFormat, ClassifyHtmlIsSelfContainedAndShowsTheChart) {
  const Result r = probe("classify --chip \"H100 SXM\" --format html");
  ASSERT_EQ(r.status, 0) << r.err;
  const std::string& h = r.out;
  EXPECT_FALSE(names_a_network_url(h));
  EXPECT_EQ(h.find("<link"), std::string::npos);
  EXPECT_EQ(h.find("<img"), std::string::npos);
  EXPECT_EQ(h.find("<script>"), std::string::npos);  // the only script element is data
  EXPECT_NE(h.find("<script type=\"application/json\" id=\"probe-report-json\">"), std::string::npos);
  EXPECT_NE(h.find("<style>"), std::string::npos);
  EXPECT_NE(h.find("@media print"), std::string::npos);
  EXPECT_NE(h.find("class=\"region-chart\""), std::string::npos);
  // The regions come from the ruleset: every 2023 clause is drawn, and the thresholds are labelled.
  for (const char* s : {"3A090.a.1", "3A090.a.2", "3A090.b.1", "3A090.b.2", "outside 3A090.a/.b", "742.6(b)(10)(iii)(A)(1)",
                        ">4,800<", ">5.92<", ">21,000<", ">6,500<", "15,832", "19.45"}) {
    EXPECT_NE(h.find(s), std::string::npos) << s;
  }
}

TEST(ViewsFormat, ChartFollowsTheThresholdInTheRulesFile) {
  const Result r = probe("classify --chip \"H100 SXM\" --format html --ruleset us-2023-10-acr --rules " +
                         changed_rules(20000).string());
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find(">20,000<"), std::string::npos);
  // H100 SXM (TPP 15,832, PD 19.45) is now under a.1's line and sits in a.2: the regions are the file's.
  EXPECT_NE(r.out.find("Points: declared: 3A090.a.2"), std::string::npos);
  EXPECT_EQ(r.out.find("Points: declared: 3A090.a.1"), std::string::npos);
}

TEST(ViewsFormat, MarkdownCarriesTheTables) {
  const Result r = probe("classify --chip \"H100 SXM\" --format md");
  ASSERT_EQ(r.status, 0) << r.err;
  for (const char* s : {"| basis | TPP |", "| declared | 15,832 |", "### Position: TPP × PD", "3A090.a.1",
                        "| clause | kind | outcome |"}) {
    EXPECT_NE(r.out.find(s), std::string::npos) << s;
  }
}

TEST_F(Views, ReportFormatsEndToEnd) {
  const fs::path d = work_dir();
  const Result r = probe("replay " + s_report.string() + " --out " + (d / "r.html").string() + " --out " +
                         (d / "r.md").string() + " --out " + (d / "r.json").string());
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(validate(d / "r.json"), 0);
  const std::string h = slurp(d / "r.html");
  EXPECT_FALSE(names_a_network_url(h));
  EXPECT_NE(h.find("Device cpu0"), std::string::npos);
  EXPECT_NE(h.find("Dense rate per data type"), std::string::npos);
  EXPECT_NE(h.find("Memory bandwidth against peak"), std::string::npos);
  EXPECT_NE(h.find("signature</th><td>not checked (no statement beside the report)"), std::string::npos);
  EXPECT_NE(slurp(d / "r.md").find("## Device cpu0"), std::string::npos);
}

TEST_F(Views, EverythingInTheHtmlIsEscaped) {
  // A hostile host name and device name in a recorded report: shown as text, never as markup or script.
  json j = json::parse(slurp(s_report));
  j["inventory"]["hostname"] = "<script>alert(1)</script>";
  j["devices"][0]["name"] = "cpu & <b>\"bold\"</b>";
  const fs::path p = work_dir() / "hostile.json";
  write(p, j.dump());
  const Result r = probe("replay " + p.string() + " --format html");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out.find("<script>alert"), std::string::npos);
  EXPECT_EQ(r.out.find("<b>\"bold"), std::string::npos);
  EXPECT_NE(r.out.find("&lt;script&gt;alert(1)&lt;/script&gt;"), std::string::npos);
  EXPECT_NE(r.out.find("cpu &amp; &lt;b&gt;&quot;bold&quot;&lt;/b&gt;"), std::string::npos);
  EXPECT_NE(r.out.find("\\u003cscript\\u003ealert(1)\\u003c/script\\u003e"), std::string::npos);  // embedded JSON
  const Result m = probe("replay " + p.string() + " --format md");
  EXPECT_EQ(m.out.find("<script>"), std::string::npos);
}

TEST_F(Views, ReplayUnderTheSameRulesChangesNothing) {
  const Result r = probe("replay " + s_report.string());
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("No classification changed"), std::string::npos);
  EXPECT_NE(r.out.find("signature: not checked (no statement beside the report)"), std::string::npos);
}

TEST_F(Views, ReplayUnderAChangedThresholdShowsTheVerdictChangeAndWhy) {
  const fs::path out = work_dir() / "replayed.json";
  const Result r = probe("replay " + s_report.string() + " --rules " + changed_rules(0.001).string() +
                         " --ruleset us-2023-10-acr --json " + out.string());
  EXPECT_EQ(r.status, 1) << r.err;
  EXPECT_NE(r.out.find("3A090.a (3A090.a.1)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("3A090.a.1: TPP threshold 4,800 → 0.001"), std::string::npos) << r.out;
  ASSERT_EQ(validate(out), 0);
  const json j = json::parse(slurp(out));
  EXPECT_GE(j["replay"]["changed"].get<int>(), 1);
  EXPECT_EQ(j["replay"]["verdicts"][0]["status"], "changed");
  EXPECT_EQ(j["replay"]["verdicts"][0]["recorded"], "outside 3A090.a/.b");
  EXPECT_EQ(j["replay"]["signature"]["checked"], false);
}

TEST_F(Views, ReplayFindsAStatementBesideTheReport) {
  const fs::path d = work_dir() / "signed";
  fs::create_directories(d);
  fs::copy_file(s_report, d / "R.json", fs::copy_options::overwrite_existing);
  write(d / "R.json.intoto.json", "{}");
  const Result r = probe("replay " + (d / "R.json").string());
  EXPECT_EQ(r.status, 0) << r.err;
  // "{}" is no DSSE envelope: said so, naming the statement (signed statements: tests/evidence).
  EXPECT_NE(r.out.find("not checked (statement unusable: " + (d / "R.json.intoto.json").string()), std::string::npos) << r.out;
}

TEST_F(Views, ReplayRefusesAnotherSchemaVersionNamingTheFile) {
  for (const int version : {0, 2}) {
    json j = json::parse(slurp(s_report));
    j["schema_version"] = version;
    const fs::path p = work_dir() / ("v" + std::to_string(version) + ".json");
    write(p, j.dump());
    const Result r = probe("replay " + p.string());
    EXPECT_EQ(r.status, 2);
    EXPECT_NE(r.err.find(p.string()), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("schema version " + std::to_string(version)), std::string::npos) << r.err;
    EXPECT_EQ(r.out, "");
  }
}

TEST_F(Views, BadInputIsExit2NamingTheFileAndNothingHalfWritten) {
  const fs::path d = work_dir() / "bad";
  fs::create_directories(d);
  write(d / "broken.json", "{\"schema\": \"probe-report\", ");
  write(d / "other.json", "{\"rulesets\": []}");
  for (const std::string args : {"replay " + (d / "missing.json").string(), "replay " + (d / "broken.json").string(),
                                 "replay " + (d / "other.json").string(),
                                 "compare " + s_report.string() + " " + (d / "broken.json").string(),
                                 "compare " + (d / "missing.json").string() + " " + s_report.string()}) {
    const Result r = probe(args + " --out " + (d / "out.html").string());
    EXPECT_EQ(r.status, 2) << args;
    EXPECT_NE(r.err.find(d.string()), std::string::npos) << r.err;
  }
  std::size_t files = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(d)) ++files;
  EXPECT_EQ(files, 2u);  // the two inputs: no output, no temporary file
  EXPECT_EQ(probe("replay " + s_report.string() + " --out /nonexistent-dir/r.md").status, 2);
  EXPECT_EQ(probe("compare " + s_report.string() + " " + s_report.string() + " --rules x.json").status, 2);
}

TEST_F(Views, CompareARunWithItselfFindsNoRegression) {
  const Result r = probe("compare " + s_report.string() + " " + s_report.string());
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("No regression"), std::string::npos);
  EXPECT_NE(r.out.find("within noise"), std::string::npos);
  EXPECT_NE(r.out.find("cpu0  cpu0  id"), std::string::npos) << r.out;
}

TEST_F(Views, CompareFlagsADropBeyondTheNoiseFirstAndExits1) {
  // fma.fp32 with samples of a known spread (1 %: a busy test machine's own may be wide enough to hide anything),
  // then the same at half the rate (statistics are recomputed from the samples on reading).
  auto with_samples = [&](double scale, const std::string& name) {
    json j = json::parse(slurp(s_report));
    for (auto& m : j["devices"][0]["measurements"]) {
      if (m["kernel"]["id"] != "fma.fp32") continue;
      m["status"] = "ok";
      m["stats"]["samples"] = json::array({99e9 * scale, 100e9 * scale, 100e9 * scale, 101e9 * scale});
    }
    const fs::path p = work_dir() / name;
    write(p, j.dump());
    return p;
  };
  const fs::path base = with_samples(1.0, "base.json"), slow = with_samples(0.5, "slow.json");
  const fs::path out = work_dir() / "compare.json";
  const Result r = probe("compare " + base.string() + " " + slow.string() + " --out " + out.string() + " --format md");
  EXPECT_EQ(r.status, 1) << r.err;
  EXPECT_NE(r.out.find("1 regression(s)"), std::string::npos) << r.out;
  const json c = json::parse(slurp(out));
  EXPECT_EQ(c["schema"], "probe-compare");
  EXPECT_EQ(c["regressions"], 1);
  EXPECT_EQ(c["figures"][0]["kernel"], "fma.fp32");  // regressions first
  EXPECT_EQ(c["figures"][0]["verdict"], "regression");
  EXPECT_NEAR(c["figures"][0]["change"].get<double>(), -0.5, 1e-9);
  EXPECT_TRUE(c["base"]["run_id"].is_string()) << "the recorded run's id";
  const std::string check = std::string(PROBE_PYTHON3) + " " + PROBE_VALIDATOR + " " + PROBE_COMPARE_SCHEMA + " " + out.string();
  EXPECT_EQ(std::system(check.c_str()), 0) << "compare.json is valid against data/schema/compare.schema.json";
  // The other direction is an improvement, not a regression.
  EXPECT_EQ(probe("compare " + slow.string() + " " + base.string()).status, 0);
}

TEST_F(Views, CompareHtmlIsAValidPage) {
  const Result r = probe("compare " + s_report.string() + " " + s_report.string() + " --format html");
  EXPECT_EQ(r.status, 0);
  EXPECT_EQ(r.out.rfind("<!DOCTYPE html>", 0), 0u);
  EXPECT_NE(r.out.find("Figures (regressions first)"), std::string::npos);
  EXPECT_FALSE(names_a_network_url(r.out));
}

// A real browser: headless Chromium renders the file offline, as root, without a terminal or a GPU.
class Browser : public Views {
 protected:
  static std::string chromium() {
    const std::string c = PROBE_CHROMIUM;
    return !c.empty() && fs::exists(c) ? c : std::string();
  }
  static Result chrome(const std::string& args) {
    // A profile of its own: nothing read from or left in the user's.
    const fs::path profile = work_dir() / "chromium-profile";
    return run("timeout 120 " + chromium() + " --headless --no-sandbox --disable-gpu --no-first-run --no-default-browser-check "
               "--disable-extensions --disable-background-networking --user-data-dir=" + profile.string() + " " + args);
  }
};

TEST_F(Browser, RendersTheReportAndTheChipPages) {
  if (chromium().empty()) GTEST_SKIP() << "chromium is not installed (Debian package chromium; scripts/install-deps.sh)";
  const fs::path d = work_dir() / "browser";
  fs::create_directories(d);
  ASSERT_EQ(probe("replay " + s_report.string() + " --out " + (d / "report.html").string()).status, 0);
  ASSERT_EQ(probe("classify --chip \"H100 SXM\" --out " + (d / "h100.html").string()).status, 0);
  for (const auto& [page, must] : std::vector<std::pair<std::string, std::vector<std::string>>>{
           {"report.html", {"Device cpu0", "TPP", "3A090.a.1", "outside 3A090.a/.b", "Verdicts"}},
           {"h100.html", {"NVIDIA H100 SXM", "15,832", "3A090.a (3A090.a.1)", "Verdicts"}}}) {
    const fs::path html = d / page;
    EXPECT_FALSE(names_a_network_url(slurp(html)));
    const Result dom = chrome("--dump-dom file://" + html.string());
    ASSERT_EQ(dom.status, 0) << dom.err;
    for (const auto& s : must) EXPECT_NE(dom.out.find(s), std::string::npos) << page << ": " << s;
    EXPECT_NE(dom.out.find("<svg"), std::string::npos);
    const fs::path png = d / (page + ".png");
    const Result shot = chrome("--window-size=1200,1600 --screenshot=" + png.string() + " file://" + html.string());
    ASSERT_EQ(shot.status, 0) << shot.err;
    ASSERT_TRUE(fs::exists(png));
    // Not blank: the PNG decodes to many colours (a blank page is one).
    const Result colours = run(std::string(PROBE_PYTHON3) + " " + PROBE_PNG_COLOURS + " " + png.string());
    ASSERT_EQ(colours.status, 0) << colours.err;
    EXPECT_GT(std::stoi(colours.out), 16) << page;
  }
}
