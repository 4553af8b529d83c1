// Runs the built probe as a user would and checks exit statuses, messages and reports.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "run_probe.hpp"
#include <string>

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

using probe_test::Result;
using probe_test::slurp;

fs::path work_dir() { return probe_test::work_dir("cli"); }

// Runs probe with the arguments (shell-quoted by the caller where needed); stdin is /dev/null, as in CI.
Result probe(const std::string& args) { return probe_test::run_command(std::string(PROBE_EXE) + " " + args, work_dir()); }

using probe_test::validate;

const json* measurement(const json& report, const std::string& device, const std::string& kernel) {
  for (const auto& d : report["devices"]) {
    if (d["id"] != device) continue;
    for (const auto& m : d["measurements"]) {
      if (m["kernel"]["id"] == kernel) return &m;
    }
  }
  return nullptr;
}

}  // namespace

TEST(Cli, VersionEqualsTheCMakeProjectVersion) {
  const Result r = probe("--version");
  EXPECT_EQ(r.status, 0);
  EXPECT_EQ(r.out, std::string("probe ") + PROBE_PROJECT_VERSION + "\n");
}

TEST(Cli, HelpDocumentsExitStatusesAndFlags) {
  const Result r = probe("--help");
  EXPECT_EQ(r.status, 0);
  for (const char* s : {"Exit status", "--report", "--list", "--quick", "--thorough", "--json", "--format",
                        "--kernels", "--device", "--cpu-isa", "--threads", "--mem-size", "--plugin-dir",
                        "--no-plugins", "--topology", "--no-progress", "--version", "--cpu-description",
                        "describe-cpu"}) {
    EXPECT_NE(r.out.find(s), std::string::npos) << s;
  }
}

struct UsageCase {
  const char* args;
  const char* message;  // a piece of the one-line error
  friend void PrintTo(const UsageCase& c, std::ostream* os) { *os << c.args; }
};

class CliUsage : public ::testing::TestWithParam<UsageCase> {};

TEST_P(CliUsage, ExitsTwoWithAOneLineMessage) {
  const auto& c = GetParam();
  const Result r = probe("--no-plugins " + std::string(c.args));
  EXPECT_EQ(r.status, 2) << c.args << "\n" << r.err;
  EXPECT_NE(r.err.find(c.message), std::string::npos) << c.args << " gave: " << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  EXPECT_TRUE(r.out.empty()) << r.out;
}

INSTANTIATE_TEST_SUITE_P(
    Errors, CliUsage,
    ::testing::Values(UsageCase{"--bogus", "--bogus"}, UsageCase{"--quick --thorough", "excludes"},
                      UsageCase{"--report --list", "exclude each other"},
                      UsageCase{"--format xml", "--format: 'xml' is not one of text, json"},
                      UsageCase{"--cpu-isa neon", "--cpu-isa: 'neon'"}, UsageCase{"--threads 0", "--threads"},
                      UsageCase{"--threads many", "--threads"}, UsageCase{"--mem-size 12X", "--mem-size: unknown suffix"},
                      UsageCase{"--mem-size 1K", "below the minimum"},
                      UsageCase{"--kernels 'nothing.*'", "--kernels: 'nothing.*' matches no kernel"},
                      UsageCase{"--device gpu9", "--device: 'gpu9' matches no device"},
                      UsageCase{"--json /nonexistent/dir/r.json --kernels fma.fp64 --quick", "/nonexistent/dir/r.json"},
                      UsageCase{"--json /tmp --list", "--json /tmp: is a folder, not a file"},
                      UsageCase{"rules --json /nonexistent/dir/r.json", "--json /nonexistent/dir/r.json: cannot write"},
                      UsageCase{"classify --chip 'H100 SXM' --json /nonexistent/r.json", "--json /nonexistent/r.json"},
                      UsageCase{"--topology /nonexistent/topo.xml --list", "/nonexistent/topo.xml"},
                      UsageCase{"--topology " PROBE_MALFORMED_XML " --list", "malformed.xml"},
                      UsageCase{"--json", "--json"}, UsageCase{"extra", "extra"},
                      UsageCase{"--ruleset nope --list", "unknown ruleset 'nope' (known: "},
                      UsageCase{"--rules /nonexistent/rules.json --list", "/nonexistent/rules.json"},
                      UsageCase{"--rules " PROBE_BAD_RULES " --list", "bad_rules.json"},
                      UsageCase{"--chipdb /nonexistent/chips.json --list", "/nonexistent/chips.json"},
                      UsageCase{"--chipdb " PROBE_BAD_CHIPS " --list", "bad_chips.json"},
                      UsageCase{"--datacenter maybe --list", "--datacenter: 'maybe' is not yes or no"},
                      UsageCase{"--die-area -3 --list", "--die-area"}, UsageCase{"classify", "--chip is required"},
                      UsageCase{"classify --chip Z9000", "--chip: 'Z9000' is not in"},
                      UsageCase{"rules --quick", "measures nothing"},
                      UsageCase{"--list --cpu-description /nonexistent/cpu.json", "/nonexistent/cpu.json"},
                      UsageCase{"--list --cpu-description " PROBE_BAD_CPU,
                                "unknown_feature.json: entry 'features #2', field 'features': unknown feature "
                                "'avx512_magic'"},
                      UsageCase{"describe-cpu --list", "describe-cpu measures nothing"},
                      UsageCase{"rules --check " PROBE_BAD_RULES, "bad_rules.json"},
                      UsageCase{"rules --check /nonexistent/rules.json", "/nonexistent/rules.json"},
                      UsageCase{"--jurisdiction XX --list", "--jurisdiction: no ruleset for 'XX' (known: EU, JP, KR, UK, US)"},
                      UsageCase{"--envelope-ft3 -1 --list", "--envelope-ft3"},
                      UsageCase{"--vector-processor maybe --list", "--vector-processor: 'maybe' is not yes or no"}),
    [](const ::testing::TestParamInfo<UsageCase>& info) {
      std::string name;
      for (const char* p = info.param.args; *p && name.size() < 40; ++p) {
        name += std::isalnum(static_cast<unsigned char>(*p)) ? *p : '_';
      }
      return std::to_string(info.index) + "_" + name;
    });

TEST(Cli, HelpStatesEveryExitStatus) {
  const Result r = probe("--help");
  for (const char* s : {"0  success", "1  a measurement failed", "2  usage or input error", "3  internal error"}) {
    EXPECT_NE(r.out.find(s), std::string::npos) << s;
  }
}

// A thorough run of every memory kernel takes minutes; an unwritable --json must stop it before the first one.
TEST(Cli, UnwritableJsonIsRefusedBeforeAnythingIsMeasured) {
  const auto t0 = std::chrono::steady_clock::now();
  const Result r = probe("--no-plugins --thorough --kernels 'mem.*' --json /nonexistent/dir/r.json");
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_EQ(r.status, 2) << r.err;
  EXPECT_NE(r.err.find("--json /nonexistent/dir/r.json: cannot write"), std::string::npos) << r.err;
  EXPECT_LT(s, 20.0) << "the memory kernels were measured before the output path was checked";
  EXPECT_TRUE(r.out.empty());
}

TEST(Cli, NoPluginsWithPluginDirIsAUsageError) {
  const Result r = probe("--no-plugins --plugin-dir /tmp");
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.err.find("excludes"), std::string::npos) << r.err;
}

TEST(Cli, QuickReportEndToEndOnThisMachine) {
  const fs::path json_file = work_dir() / "quick.json";
  const Result r = probe("--report --quick --no-plugins --json " + json_file.string());
  ASSERT_EQ(r.status, 0) << r.err << r.out;
  for (const char* s : {"Node", "Device cpu0", "FP64 FMA", "FP32 FMA", "Triad", "Copy", "with write-allocate",
                        "Conventions", "STREAM"}) {
    EXPECT_NE(r.out.find(s), std::string::npos) << s << "\n" << r.out;
  }
  EXPECT_TRUE(r.err.empty()) << "stderr is not a terminal: no progress line expected, got: " << r.err;
  ASSERT_EQ(validate(json_file), 0);
  const json j = json::parse(slurp(json_file));
  EXPECT_EQ(j["tool"]["version"], PROBE_PROJECT_VERSION);
  EXPECT_EQ(j["budget"], "quick");
  for (const char* k : {"fma.fp64", "fma.fp32", "mem.read", "mem.write", "mem.write.nt", "mem.copy", "mem.copy.nt",
                        "mem.triad", "mem.triad.nt"}) {
    const json* m = measurement(j, "cpu0", k);
    ASSERT_NE(m, nullptr) << k;
    EXPECT_EQ((*m)["status"], "ok") << k << ": " << (*m)["reason"];
    EXPECT_GT((*m)["value"].get<double>(), 0) << k;
    EXPECT_GE((*m)["stats"]["samples"].size(), 2u) << k;
    EXPECT_GT((*m)["conditions"]["clock_hz"].get<double>(), 0) << k;
  }
  // Every kernel appears, measured or skipped with a reason: never silently absent.
  for (const char* k : {"fma.fp16", "dot.bf16", "dot.int8", "amx.bf16", "amx.int8", "amx.fp16"}) {
    const json* m = measurement(j, "cpu0", k);
    ASSERT_NE(m, nullptr) << k;
    if ((*m)["status"] != "ok") EXPECT_FALSE((*m)["reason"].get<std::string>().empty()) << k;
  }
}

TEST(Cli, JsonToStandardOutputIsValid) {
  const Result r = probe("--quick --no-plugins --format json --kernels fma.fp32,mem.copy.nt --mem-size 64M");
  ASSERT_EQ(r.status, 0) << r.err;
  const fs::path f = work_dir() / "stdout.json";
  std::ofstream(f) << r.out;
  EXPECT_EQ(validate(f), 0);
  const json j = json::parse(r.out);
  ASSERT_EQ(j["devices"].size(), 1u);
  EXPECT_EQ(j["devices"][0]["measurements"].size(), 2u);  // the filter selected two kernels
}

TEST(Cli, ListMeasuresNothing) {
  const Result r = probe("--list --no-plugins");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("cpu0"), std::string::npos);
  EXPECT_NE(r.out.find("fma.fp64"), std::string::npos);
  EXPECT_NE(r.out.find("Backends"), std::string::npos);
  const Result j = probe("--list --no-plugins --format json");
  ASSERT_EQ(j.status, 0);
  const json doc = json::parse(j.out);
  EXPECT_TRUE(doc["devices"][0]["measurements"].empty());
}

TEST(Cli, PluginDeviceThatThrowsIsAFailedLineAndTheRestIsMeasured) {
  const fs::path json_file = work_dir() / "plugin.json";
  const Result r = probe(std::string("--quick --kernels fma.fp32 --plugin-dir ") + PROBE_GOOD_PLUGINS + " --json " +
                         json_file.string());
  EXPECT_EQ(r.status, 1) << r.err << r.out;  // a measurement failed
  ASSERT_EQ(validate(json_file), 0);
  const json j = json::parse(slurp(json_file));
  const json* cpu = measurement(j, "cpu0", "fma.fp32");
  ASSERT_NE(cpu, nullptr);
  EXPECT_EQ((*cpu)["status"], "ok");
  const json* f0 = measurement(j, "fake0", "fma.fp32");
  ASSERT_NE(f0, nullptr);
  EXPECT_EQ((*f0)["status"], "ok");
  const json* f1 = measurement(j, "fake1", "fma.fp32");
  ASSERT_NE(f1, nullptr);
  EXPECT_EQ((*f1)["status"], "failed");
  EXPECT_NE((*f1)["reason"].get<std::string>().find("fake device exploded"), std::string::npos);
  EXPECT_TRUE(j["any_failed"].get<bool>());
  EXPECT_NE(r.out.find("FAILED"), std::string::npos);
}

TEST(Cli, BrokenPluginsAreReportedNeverFatal) {
  const fs::path json_file = work_dir() / "broken.json";
  const Result r = probe(std::string("--list --plugin-dir ") + PROBE_BROKEN_PLUGINS + " --json " + json_file.string());
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("not loaded"), std::string::npos) << r.out;
  ASSERT_EQ(validate(json_file), 0);
  const json j = json::parse(slurp(json_file));
  int refused = 0;
  for (const auto& p : j["plugins"]) refused += p["loaded"].get<bool>() ? 0 : 1;
  EXPECT_GE(refused, 6);
  EXPECT_EQ(j["devices"][0]["id"], "cpu0");
}

TEST(Cli, AcceleratorWithoutRuntimeAppearsAsNotMeasured) {
  const fs::path json_file = work_dir() / "xml.json";
  const Result r = probe(std::string("--list --no-plugins --topology ") + PROBE_GPU_NODE_XML + " --json " +
                         json_file.string());
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("not measured: no runtime"), std::string::npos) << r.out;
  ASSERT_EQ(validate(json_file), 0);
  const json j = json::parse(slurp(json_file));
  ASSERT_GE(j["unmeasured"].size(), 1u);
  EXPECT_EQ(j["unmeasured"][0]["pci"]["vendor_id"], "10de");
  EXPECT_TRUE(j["devices"].empty());  // the CPU of another node is not measured here
}

// A two-socket node with an H100 SXM and an MI300X on the bus and no GPU runtime: the node verdict counts both
// from the chip database by PCI id instead of reading "no 3A090 device".
TEST(Cli, UnmeasuredAcceleratorsCountInTheNodeVerdict) {
  const fs::path json_file = work_dir() / "xml_node.json";
  const Result r = probe(std::string("--no-plugins --topology ") + PROBE_GPU_NODE_XML + " --json " + json_file.string());
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("H100 SXM (pci 10de:2330): not measured; declared TPP 15,832"), std::string::npos) << r.out;
  ASSERT_EQ(validate(json_file), 0);
  const json j = json::parse(slurp(json_file));
  ASSERT_FALSE(j["node_verdicts"].empty());
  const json& node = j["node_verdicts"][0];
  EXPECT_EQ(node["classification"], "4A090.a") << node["summary"];
  const std::string summary = node["summary"].get<std::string>();
  EXPECT_NE(summary.find("2 accelerator(s) on the PCI bus counted from the chip database by PCI id"), std::string::npos)
      << summary;
  EXPECT_NE(r.out.find(summary), std::string::npos) << r.out;
  for (const auto& u : j["unmeasured"]) EXPECT_FALSE(u["control"].is_null()) << u["pci"];
}

// A node with an H100 and the BMC's ASPEED VGA (1a03:2000, class 0x0300): the H100 counts on the declared basis,
// the ASPEED is named as a BMC display controller and not counted, and the verdict is not a lower bound. With an
// accelerator not in the chip database added, the count is a lower bound again.
TEST(Cli, BmcDisplayControllerIsNotCountedInTheNodeVerdict) {
  const fs::path json_file = work_dir() / "xml_bmc.json";
  const Result r = probe(std::string("--no-plugins --topology ") + PROBE_BMC_NODE_XML + " --json " + json_file.string());
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("  0000:03:00.0 ASPEED Graphics Family (pci 1a03:2000): BMC display controller (ASPEED "
                       "AST2400/AST2500/AST2600 server management SoCs), not a processor (chips.json (built-in) "
                       "non_processors; sources: PCIIDS-2023, ASPEED-AST2600, LINUX-AST): not counted\n"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("H100 SXM (pci 10de:2330): not measured; declared TPP 15,832"), std::string::npos) << r.out;
  ASSERT_EQ(validate(json_file), 0);
  const json j = json::parse(slurp(json_file));
  const json& node = j["node_verdicts"][0];
  EXPECT_EQ(node["classification"], "4A090.a") << node["summary"];
  const std::string summary = node["summary"].get<std::string>();
  EXPECT_EQ(summary.find("at least"), std::string::npos) << summary;
  EXPECT_EQ(summary.find("not evaluable"), std::string::npos) << summary;
  EXPECT_NE(summary.find("1 accelerator(s) on the PCI bus counted from the chip database by PCI id (declared basis, not "
                         "measured): 0000:18:00.0 NVIDIA H100 SXM (pci 10de:2330): 3A090.a"),
            std::string::npos)
      << summary;
  EXPECT_NE(summary.find("1 PCI device(s) not counted, not processors: 0000:03:00.0 ASPEED Graphics Family (pci 1a03:2000)"),
            std::string::npos)
      << summary;
  ASSERT_EQ(j["unmeasured"].size(), 2u);
  EXPECT_EQ(j["unmeasured"][0]["non_processor"]["counted"], false);
  EXPECT_TRUE(j["unmeasured"][1]["non_processor"].is_null());

  const fs::path json2 = work_dir() / "xml_bmc_unknown.json";
  const Result r2 = probe(std::string("--no-plugins --topology ") + PROBE_BMC_UNKNOWN_NODE_XML + " --json " + json2.string());
  ASSERT_EQ(r2.status, 0) << r2.err;
  ASSERT_EQ(validate(json2), 0);
  const json j2 = json::parse(slurp(json2));
  const std::string s2 = j2["node_verdicts"][0]["summary"].get<std::string>();
  EXPECT_EQ(j2["node_verdicts"][0]["classification"], "4A090.a") << s2;  // the H100 alone decides it
  EXPECT_NE(s2.find("at least 1 3A090.a and 0 3A090.b device(s) in the node; 1 accelerator(s) not assessed: 0000:65:00.0 "
                    "1d22:3684 Kunlun AI Accelerator"),
            std::string::npos)
      << s2;
  EXPECT_NE(s2.find("not counted, not processors: 0000:03:00.0 ASPEED"), std::string::npos) << s2;
  EXPECT_NE(r2.out.find("0000:65:00.0 1d22:3684 Kunlun AI Accelerator: not measured and not in the chip database: not "
                        "assessed"),
            std::string::npos)
      << r2.out;
}

// A progress line on stderr only when stderr is a terminal: script(1) gives probe a pseudo-terminal.
TEST(Cli, ProgressLineOnlyOnATerminal) {
  if (std::system("command -v script >/dev/null 2>&1") != 0) GTEST_SKIP() << "script(1) not installed";
  const fs::path out = work_dir() / "tty.txt";
  const std::string cmd = std::string("script -qec '") + PROBE_EXE +
                          " --quick --no-plugins --kernels fma.fp64 >/dev/null' /dev/null > " + out.string() +
                          " 2>&1 </dev/null";
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  const std::string tty = slurp(out);
  EXPECT_NE(tty.find("probe [1/1] cpu0 fma.fp64"), std::string::npos) << tty;
  EXPECT_NE(tty.find("\r\033[K"), std::string::npos);
  const Result quiet = probe("--quick --no-plugins --kernels fma.fp64 --no-progress");
  EXPECT_EQ(quiet.status, 0);
  EXPECT_TRUE(quiet.err.empty()) << quiet.err;
}

TEST(Cli, ClassifyExplainsTheVerdictFromTheChipDatabase) {
  const Result r = probe("classify --chip 'H100 SXM'");
  ASSERT_EQ(r.status, 0) << r.err;
  for (const char* s : {"TPP 15,832", "PD 19.45", "derived", "1830 MHz", "TPP 15,832 ≥ 4,800 (margin +230%) → 3A090.a.1",
                        "88 FR 73458", "91 FR 1684", "4A090"}) {
    EXPECT_NE(r.out.find(s), std::string::npos) << s << "\n" << r.out;
  }
  const Result j = probe("classify --chip 'RTX 4090 D' --format json --datacenter no --ruleset us-2023-10-acr");
  ASSERT_EQ(j.status, 0) << j.err;
  const json doc = json::parse(j.out);
  ASSERT_EQ(doc["verdicts"].size(), 1u);
  EXPECT_EQ(doc["verdicts"][0]["ruleset"], "us-2023-10-acr");
  EXPECT_FALSE(doc["verdicts"][0]["near_misses"].empty());  // TPP 4,707 just under 4,800
  EXPECT_EQ(doc["metrics"]["datacenter"], false);
  EXPECT_EQ(doc["provenance"]["chip_database"]["sha256"].get<std::string>().size(), 64u);
}

TEST(Cli, RulesListsEveryRulesetWithItsStatus) {
  const Result r = probe("rules");
  ASSERT_EQ(r.status, 0) << r.err;
  for (const char* s : {"us-2022-10-acr", "us-2023-10-acr", "us-2024-12-hbm", "us-2025-01-ai-diffusion",
                        "us-2026-01-cn-case-by-case", "us-4a090-node", "rescinded", "superseded", "in force"}) {
    EXPECT_NE(r.out.find(s), std::string::npos) << s;
  }
  const Result j = probe("rules --format json");
  ASSERT_EQ(j.status, 0);
  EXPECT_GE(json::parse(j.out)["rulesets"].size(), 6u);
}

// Issue 14: verdicts grouped by jurisdiction, the tariff band and APP; EU only on request; a bill only by id.
TEST(Cli, ClassifyShowsEveryJurisdictionTheTariffBandAndApp) {
  const Result r = probe("classify --chip 'H100 SXM'");
  ASSERT_EQ(r.status, 0) << r.err;
  for (const char* s : {"[US]", "[EU]", "[UK]", "[JP]", "[KR]", "TPP 15,832 ≥ 6,000 (margin +164%) → 3A501.a.16",
                        "outside tariff bands 1 and 2", "APP (W = 0.3) 20.1 WT", "threshold not confirmed", "→ 4A507",
                        "interconnect: 900 GB/s"}) {
    EXPECT_NE(r.out.find(s), std::string::npos) << s << "\n" << r.out;
  }
  EXPECT_EQ(r.out.find("S.3374"), std::string::npos) << "a bill is evaluated only when asked for";
  const Result eu = probe("classify --chip 'A100 SXM' --jurisdiction eu");
  ASSERT_EQ(eu.status, 0) << eu.err;
  EXPECT_NE(eu.out.find("not 3A501.a.16"), std::string::npos) << eu.out;
  EXPECT_EQ(eu.out.find("88 FR 73458"), std::string::npos) << eu.out;
  const Result safe = probe("classify --chip 'H200 SXM' --ruleset us-safe-chips-s3374");
  ASSERT_EQ(safe.status, 0) << safe.err;
  EXPECT_NE(safe.out.find("proposed (not law)"), std::string::npos) << safe.out;
  EXPECT_NE(safe.out.find("caught by S.3374"), std::string::npos) << safe.out;
}

TEST(Cli, RulesCheckValidatesAUsersFileAndListsJurisdictions) {
  const fs::path file = work_dir() / "my_rule.json";
  {
    std::ofstream out(file);
    out << R"({"schema_version": 1, "id": "my-eu-draft", "jurisdiction": "EU", "title": "t", "citation": "draft",
      "status": "proposed", "scope": "device", "otherwise": "below", "sources": {"ME": {"title": "me"}},
      "clauses": [{"id": "big", "title": "TPP >= 10000", "kind": "classification", "eccn": "BIG", "effect": "big",
                   "source": "ME", "when": {"metric": "tpp", "op": ">=", "value": 10000, "source": "ME"}}]})";
  }
  const Result r = probe("rules --check " + file.string());
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("ok: ruleset 'my-eu-draft' [EU]"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("BIG"), std::string::npos) << r.out;     // H100: TPP 15,832
  EXPECT_NE(r.out.find("below"), std::string::npos) << r.out;   // A100: TPP 4,992
  const Result list = probe("rules");
  ASSERT_EQ(list.status, 0) << list.err;
  EXPECT_NE(list.out.find("Jurisdictions: EU, JP, KR, UK, US"), std::string::npos) << list.out;
  EXPECT_NE(list.out.find("proposed (not law)"), std::string::npos) << list.out;
}

TEST(Cli, ReportCarriesControlParametersOnThreeBasesAndProvenance) {
  const fs::path json_file = work_dir() / "control.json";
  const Result r = probe("--quick --no-plugins --kernels 'dot.int8,fma.fp64,mem.triad.nt' --mem-size 64M --json " +
                         json_file.string());
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("Control parameters"), std::string::npos);
  EXPECT_NE(r.out.find("88 FR 73458"), std::string::npos);
  ASSERT_EQ(validate(json_file), 0);
  const json j = json::parse(slurp(json_file));
  const json& c = j["devices"][0]["control"];
  for (const char* b : {"declared", "derived", "measured"}) EXPECT_TRUE(c["metrics"]["bases"].contains(b)) << b;
  EXPECT_GT(c["metrics"]["bases"]["measured"]["tpp"].get<double>(), 0);
  EXPECT_GT(c["metrics"]["bases"]["measured"]["total_dram_bw_gbs"].get<double>(), 0);
  EXPECT_FALSE(c["verdicts"].empty());
  EXPECT_FALSE(j["node_verdicts"].empty());
  EXPECT_EQ(j["provenance"]["chip_database"]["sha256"].get<std::string>().size(), 64u);
  EXPECT_FALSE(j["provenance"]["rulesets"].empty());
}

// A recorded CPU description: identified from evidence, listed with its rates, nothing measured on it.
TEST(Cli, ListsAMaskedGuestFromItsRecordedDescription) {
  const fs::path json_file = work_dir() / "masked.json";
  const Result r = probe(std::string("--list --no-plugins --cpu-description ") + PROBE_CPU_DESCRIPTIONS +
                         "/intel-masked-guest-model-167.json --json " + json_file.string());
  ASSERT_EQ(r.status, 0) << r.err;
  for (const char* s :
       {"identification: intel-sapphire-rapids", "identification_method: features (model treated as masked)",
        "contradiction: CPUID model 167 (Rocket Lake) contradicts AMX-TILE, AVX512-BF16, AVX512-FP16: model treated "
        "as masked",
        "evidence: AMX-TILE present: a Sapphire Rapids-or-later server part",
        "rate fma.fp64: avx512 (vfmadd213pd zmm): 2/cycle × 16 FLOP = 32 FLOP/cycle/core; 2 cores: 64 GFLOP/s per GHz",
        "fma_units_512bit: not run: a recorded description is not measured"}) {
    EXPECT_NE(r.out.find(s), std::string::npos) << s << "\n" << r.out;
  }
  ASSERT_EQ(validate(json_file), 0);
  const json j = json::parse(slurp(json_file));
  ASSERT_EQ(j["devices"].size(), 1u);
  EXPECT_EQ(j["devices"][0]["arch"], "intel-sapphire-rapids");
}

TEST(Cli, ReportWithADescriptionMeasuresNothingOnTheCpu) {
  const Result r = probe(std::string("--quick --no-plugins --kernels fma.fp64 --format json --cpu-description ") +
                         PROBE_CPU_DESCRIPTIONS + "/amd-zen4-epyc-vm.json");
  ASSERT_EQ(r.status, 0) << r.err;
  const json j = json::parse(r.out);
  const json* m = measurement(j, "cpu0", "fma.fp64");
  ASSERT_NE(m, nullptr);
  EXPECT_EQ((*m)["status"], "skipped");
  EXPECT_NE((*m)["reason"].get<std::string>().find("nothing is measured"), std::string::npos);
}

TEST(Cli, DescribeCpuRoundTripsThroughTheParser) {
  const Result out = probe("describe-cpu");
  ASSERT_EQ(out.status, 0) << out.err;
  const json d = json::parse(out.out);
  EXPECT_EQ(d["schema"], "probe-cpu-description/1");
  EXPECT_EQ(d["vendor"].get<std::string>().size(), 12u);
  const fs::path file = work_dir() / "this_cpu.json";
  const Result w = probe("describe-cpu --json " + file.string());
  ASSERT_EQ(w.status, 0) << w.err;
  EXPECT_TRUE(w.out.empty());
  const std::string schema_check = std::string(PROBE_PYTHON3) + " " + PROBE_VALIDATOR + " " +
                                   PROBE_CPU_DESCRIPTION_SCHEMA + " " + file.string();
  EXPECT_EQ(std::system(schema_check.c_str()), 0);
  const Result l = probe("--list --no-plugins --cpu-description " + file.string());
  ASSERT_EQ(l.status, 0) << l.err;
  EXPECT_NE(l.out.find("identification_method: "), std::string::npos) << l.out;
  EXPECT_NE(l.out.find("evidence: CPUID: " + d["vendor"].get<std::string>()), std::string::npos) << l.out;
}
