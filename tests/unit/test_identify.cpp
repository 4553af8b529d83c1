// CPU identification from evidence: recorded descriptions of real CPUs (tests/data/cpus) identified against the
// built-in data/cpu_uarch.json, the empirical FMA-unit cross-check (with a fake counter), malformed descriptions
// and tables, and what holds on every x86-64 CPU live.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "cpu_backend.hpp"
#include "cpu_description.hpp"
#include "identify.hpp"
#include "probe/error.hpp"
#include "probe/inventory.hpp"
#include "uarch.hpp"

using namespace probe;
using namespace probe::cpu;

namespace {

std::string path_of(const std::string& name) { return std::string(PROBE_CPU_DESCRIPTIONS) + "/" + name + ".json"; }

CpuDescription load(const std::string& name) { return load_cpu_description(path_of(name)); }

Identification identify_file(const std::string& name) { return identify(load(name).cpu, UarchTable::builtin()); }

std::string all(const std::vector<std::string>& lines) {
  std::string s;
  for (const auto& l : lines) s += l + "\n";
  return s;
}

struct Expected {
  const char* file;
  const char* entry;  // "" = none
  IdMethod method;
  const char* key;           // a rate to check
  double per_cycle;          // 0 = unknown
  const char* contradiction; // a piece of a contradiction line, or ""
  const char* evidence;      // a piece of an evidence line, or ""
  friend void PrintTo(const Expected& e, std::ostream* os) { *os << e.file; }
};

class RecordedCpu : public ::testing::TestWithParam<Expected> {};

TEST_P(RecordedCpu, IsIdentifiedFromEvidenceWithItsPerCycleRate) {
  const Expected& x = GetParam();
  const CpuDescription d = load(x.file);
  const Identification id = identify(d.cpu, UarchTable::builtin());
  const std::string text = all(id.evidence) + all(id.contradictions) + all(id.undecided);
  if (*x.entry) {
    ASSERT_NE(id.entry, nullptr) << text;
    EXPECT_EQ(id.entry->id, x.entry) << text;
  } else {
    EXPECT_EQ(id.entry, nullptr) << text;
  }
  EXPECT_EQ(id.method, x.method) << text;
  const RateLookup r = per_cycle_rate(id, d.cpu, x.key);
  if (x.per_cycle > 0) {
    ASSERT_TRUE(r.per_cycle) << r.unknown_reason;
    EXPECT_EQ(*r.per_cycle, x.per_cycle);
    EXPECT_FALSE(r.source.empty());
  } else {
    EXPECT_FALSE(r.per_cycle) << x.key;
    EXPECT_NE(r.unknown_reason.find("unknown"), std::string::npos) << r.unknown_reason;
  }
  if (*x.contradiction) {
    EXPECT_NE(all(id.contradictions).find(x.contradiction), std::string::npos) << text;
  } else {
    EXPECT_TRUE(id.contradictions.empty()) << text;
  }
  if (*x.evidence) EXPECT_NE(text.find(x.evidence), std::string::npos) << text;
  EXPECT_FALSE(id.evidence.empty());
}

INSTANTIATE_TEST_SUITE_P(
    Cpus, RecordedCpu,
    ::testing::Values(
        Expected{"amd-zen2-epyc-7742", "zen2", IdMethod::table_match, "fma.fp64/avx2", 2, "", "has AVX2, CLWB"},
        Expected{"amd-zen3-epyc-7763", "zen3", IdMethod::table_match, "fma.fp64/avx2", 2, "", "has VAES"},
        Expected{"amd-zen4-epyc-vm", "zen4", IdMethod::table_match, "fma.fp64/avx512", 1, "", "hypervisor bit set"},
        Expected{"amd-zen5-epyc-9575f", "zen5", IdMethod::table_match, "fma.fp64/avx512", 2, "",
                 "has AVX512F, AVX512-VP2INTERSECT"},
        // Silver and Gold share model 85 and every CPUID feature: the table cannot decide their zmm rate.
        Expected{"intel-skylake-sp-silver-4114", "intel-skylake-sp", IdMethod::table_match, "fma.fp64/avx512", 0, "",
                 "one or two 512-bit FMA units"},
        Expected{"intel-skylake-sp-gold-6148", "intel-skylake-sp", IdMethod::table_match, "fma.fp64/avx512", 0, "",
                 "CPUID cannot tell them apart"},
        Expected{"intel-skylake-sp-gold-6148", "intel-skylake-sp", IdMethod::table_match, "fma.fp64/avx2", 2, "", ""},
        Expected{"intel-cooper-lake-8380h", "intel-cooper-lake", IdMethod::table_match, "fma.fp64/avx512", 2, "",
                 "not intel-skylake-sp (same model): AVX512-BF16"},
        Expected{"intel-icelake-sp-8380", "intel-icelake-sp", IdMethod::table_match, "fma.fp32/avx512", 2, "", ""},
        Expected{"intel-sapphire-rapids-8480", "intel-sapphire-rapids", IdMethod::table_match, "fma.fp64/avx512", 2,
                 "", "model 143 (Sapphire Rapids)"},
        Expected{"intel-emerald-rapids-vm", "intel-sapphire-rapids", IdMethod::table_match, "fma.fp64/avx512", 2, "",
                 "model 207 (Emerald Rapids)"},
        Expected{"intel-granite-rapids-6980p", "intel-granite-rapids", IdMethod::table_match, "fma.fp64/avx512", 2, "",
                 "model 173 (Granite Rapids)"},
        Expected{"intel-raptor-lake-i9-13900k", "intel-alderlake-client", IdMethod::table_match, "fma.fp64/avx2", 2,
                 "", "model 183 (Raptor Lake)"},
        Expected{"intel-raptor-lake-i9-13900k", "intel-alderlake-client", IdMethod::table_match, "fma.fp64/avx512", 0,
                 "", ""},
        // Issue 9: model 167 is Rocket Lake's number, but the features say a Sapphire Rapids-or-later server.
        Expected{"intel-masked-guest-model-167", "intel-sapphire-rapids", IdMethod::features_masked,
                 "fma.fp64/avx512", 2, "CPUID model 167 (Rocket Lake) contradicts AMX-TILE",
                 "AMX-TILE present: a Sapphire Rapids-or-later server part"},
        Expected{"intel-future-family-19", "", IdMethod::none, "fma.fp64/avx512", 0, "",
                 "AVX10.2 suggests Diamond Rapids or later"}),
    [](const ::testing::TestParamInfo<Expected>& info) {
      std::string n = std::to_string(info.index) + "_";
      for (const char* p = info.param.file; *p; ++p) n += std::isalnum(static_cast<unsigned char>(*p)) ? *p : '_';
      return n;
    });

TEST(Identify, MaskedGuestStatesEveryContradictionAndWhatCannotBeDecided) {
  const Identification id = identify_file("intel-masked-guest-model-167");
  const std::string c = all(id.contradictions);
  EXPECT_NE(c.find("CPUID model 167 (Rocket Lake) contradicts AMX-TILE, AVX512-BF16, AVX512-FP16: model treated as "
                   "masked"),
            std::string::npos)
      << c;
  EXPECT_NE(c.find("L3 480 MiB is more than any"), std::string::npos) << c;  // beyond Emerald Rapids' 320 MB
  EXPECT_NE(all(id.undecided).find("Sapphire vs Emerald Rapids"), std::string::npos);
  EXPECT_EQ(to_string(id.method), "features (model treated as masked)");
}

TEST(Identify, AllRecordedDescriptionsAreShipped) {
  int n = 0;
  for (const auto& e : std::filesystem::directory_iterator(PROBE_CPU_DESCRIPTIONS)) {
    if (e.path().extension() != ".json") continue;
    ++n;
    EXPECT_NO_THROW((void)load_cpu_description(e.path().string())) << e.path();
  }
  EXPECT_GE(n, 13);
}

class FakeCounter final : public FmaUnitCounter {
 public:
  explicit FakeCounter(FmaUnitCheck c) : m_check(std::move(c)) {}
  FmaUnitCheck count(const CpuFeatures&) override { return m_check; }

 private:
  FmaUnitCheck m_check;
};

FmaUnitCheck check_with_ratio(double ratio, std::string_view vendor) {
  FmaUnitTiming t;
  t.fma_only_s = 1.0;
  t.fma_and_permute_s = ratio;
  t.iterations = 1;
  return interpret_fma_units(t, vendor);
}

TEST(FmaUnits, RatioIsInterpretedOnlyOnIntelAndAwayFromTheThreshold) {
  EXPECT_EQ(check_with_ratio(2.0, "GenuineIntel").units, 2);
  EXPECT_EQ(check_with_ratio(1.02, "GenuineIntel").units, 1);
  EXPECT_EQ(check_with_ratio(1.5, "GenuineIntel").units, 0);  // too close to decide
  EXPECT_NE(check_with_ratio(1.5, "GenuineIntel").summary.find("not conclusive"), std::string::npos);
  // Zen 4's 1 zmm FMA/cycle on 256-bit pipes: whatever the ratio, never a unit count.
  for (double r : {1.0, 1.4, 2.0}) {
    const FmaUnitCheck c = check_with_ratio(r, "AuthenticAMD");
    EXPECT_EQ(c.units, 0) << r;
    EXPECT_NE(c.summary.find("not conclusive"), std::string::npos) << c.summary;
  }
}

TEST(FmaUnits, EmpiricalCountDecidesSkylakeSpSilverVsGold) {
  for (auto [file, units] : {std::pair{"intel-skylake-sp-silver-4114", 1}, std::pair{"intel-skylake-sp-gold-6148", 2}}) {
    const CpuDescription d = load(file);
    Identification id = identify(d.cpu, UarchTable::builtin());
    cross_check_fma_units(id, check_with_ratio(units == 2 ? 2.0 : 1.0, "GenuineIntel"));
    const RateLookup r = per_cycle_rate(id, d.cpu, "fma.fp64/avx512");
    ASSERT_TRUE(r.per_cycle) << r.unknown_reason;
    EXPECT_EQ(*r.per_cycle, units) << file;
    EXPECT_TRUE(r.empirical);
    EXPECT_TRUE(id.contradictions.empty()) << all(id.contradictions);
    // A check that is not conclusive leaves it unknown, and says why.
    Identification id2 = identify(d.cpu, UarchTable::builtin());
    cross_check_fma_units(id2, check_with_ratio(1.5, "GenuineIntel"));
    const RateLookup r2 = per_cycle_rate(id2, d.cpu, "fma.fp64/avx512");
    EXPECT_FALSE(r2.per_cycle);
    EXPECT_NE(r2.unknown_reason.find("was not conclusive"), std::string::npos) << r2.unknown_reason;
  }
}

TEST(FmaUnits, DisagreementWithTheTableIsAContradictionButNeverOnZen4) {
  Identification spr = identify_file("intel-sapphire-rapids-8480");
  cross_check_fma_units(spr, check_with_ratio(1.0, "GenuineIntel"));
  ASSERT_EQ(spr.contradictions.size(), 1u);
  EXPECT_NE(spr.contradictions[0].find("contradicts data/cpu_uarch.json's 2 zmm FMA per cycle"), std::string::npos)
      << spr.contradictions[0];
  Identification agree = identify_file("intel-emerald-rapids-vm");
  cross_check_fma_units(agree, check_with_ratio(2.0, "GenuineIntel"));
  EXPECT_TRUE(agree.contradictions.empty());
  EXPECT_NE(all(agree.evidence).find("agrees with data/cpu_uarch.json"), std::string::npos);
  // Zen 4: the ratio (whatever it is) is not conclusive; the table's 1 per cycle stands.
  const CpuDescription z4 = load("amd-zen4-epyc-vm");
  Identification zen4 = identify(z4.cpu, UarchTable::builtin());
  cross_check_fma_units(zen4, check_with_ratio(1.0, "AuthenticAMD"));
  EXPECT_TRUE(zen4.contradictions.empty()) << all(zen4.contradictions);
  EXPECT_NE(all(zen4.evidence).find("not conclusive"), std::string::npos);
  EXPECT_EQ(*per_cycle_rate(zen4, z4.cpu, "fma.fp64/avx512").per_cycle, 1.0);
}

TEST(Identify, RatePropertiesGivePerCoreAndPerGhzFigures) {
  const CpuDescription d = load("intel-emerald-rapids-vm");
  const Identification id = identify(d.cpu, UarchTable::builtin());
  const auto props = rate_properties(id, d.cpu, d.cores_per_package, Isa::avx512);
  std::string fp64;
  for (const auto& [k, v] : props) {
    if (k == "rate fma.fp64") fp64 = v;
  }
  EXPECT_NE(fp64.find("32 FLOP/cycle/core; 2 cores: 64 GFLOP/s per GHz"), std::string::npos) << fp64;
  // Under an ISA cap the avx2 variant's rate is given.
  for (const auto& [k, v] : rate_properties(id, d.cpu, 2, Isa::avx2)) {
    if (k == "rate fma.fp64") EXPECT_NE(v.find("avx2 (vfmadd213pd ymm): 2/cycle × 8 FLOP = 16 FLOP/cycle/core"), std::string::npos) << v;
  }
}

// --- the description format ---

std::string error_of(const std::string& text) {
  try {
    (void)parse_cpu_description(text, "d.json");
  } catch (const InputError& e) {
    return e.what();
  }
  return "no error";
}

std::string slurp(const std::string& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST(CpuDescriptionFormat, RoundTripsThroughTheParser) {
  for (const auto& e : std::filesystem::directory_iterator(PROBE_CPU_DESCRIPTIONS)) {
    const CpuDescription a = load_cpu_description(e.path().string());
    const CpuDescription b = parse_cpu_description(to_json_text(a), "again.json");
    EXPECT_EQ(to_json_text(a), to_json_text(b)) << e.path();
    EXPECT_EQ(a.cpu.caches, b.cpu.caches);
    EXPECT_EQ(feature_names(a.cpu), feature_names(b.cpu));
  }
}

TEST(CpuDescriptionFormat, MalformedInputNamesFileEntryAndField) {
  const std::string good = slurp(path_of("intel-sapphire-rapids-8480"));
  auto with = [&](const std::string& from, const std::string& to) {
    std::string s = good;
    const auto at = s.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    return s.replace(at, from.size(), to);
  };
  EXPECT_NE(error_of("{").find("d.json: not valid JSON"), std::string::npos);
  std::string e = error_of(with("\"amx_tile\"", "\"amx_tiles\""));
  EXPECT_NE(e.find("d.json: entry 'features #"), std::string::npos) << e;
  EXPECT_NE(e.find("field 'features': unknown feature 'amx_tiles'"), std::string::npos) << e;
  e = error_of(with("\"model\": 143", "\"model\": \"143\""));
  EXPECT_NE(e.find("entry '(top)', field 'model': expected an integer"), std::string::npos) << e;
  e = error_of(with("\"model\": 143,", ""));
  EXPECT_NE(e.find("field 'model': missing"), std::string::npos) << e;
  e = error_of(with("\"type\": \"data\"", "\"type\": \"victim\""));
  EXPECT_NE(e.find("entry 'caches #0', field 'type'"), std::string::npos) << e;
  e = error_of(with("probe-cpu-description/1", "probe-cpu-description/9"));
  EXPECT_NE(e.find("field 'schema'"), std::string::npos) << e;
  e = error_of(with("\"hypervisor\": false", "\"hypervisor\": false, \"colour\": 1"));
  EXPECT_NE(e.find("field 'colour': unknown field"), std::string::npos) << e;
  e = error_of(with("\"threads_per_package\": 112", "\"threads_per_package\": 3"));
  EXPECT_NE(e.find("field 'threads_per_package'"), std::string::npos) << e;
  try {
    (void)load_cpu_description("/nonexistent/cpu.json");
    ADD_FAILURE() << "no error";
  } catch (const InputError& x) {
    EXPECT_NE(std::string(x.what()).find("/nonexistent/cpu.json"), std::string::npos);
  }
}

TEST(CpuDescriptionFormat, SchemaListsExactlyTheFeatureNames) {
  const auto schema = nlohmann::json::parse(slurp(PROBE_CPU_DESCRIPTION_SCHEMA));
  std::set<std::string> in_schema, in_code;
  for (const auto& n : schema["properties"]["features"]["items"]["enum"]) in_schema.insert(n.get<std::string>());
  for (const auto& f : feature_flags()) in_code.insert(std::string(f.name));
  EXPECT_EQ(in_schema, in_code);
}

TEST(UarchEvidence, UnknownFeatureNamesAndEntriesAreErrors) {
  auto error = [](const std::string& text) {
    try {
      (void)UarchTable::parse(text, "u.json");
    } catch (const InputError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  const std::string entry = R"({"id":"x","name":"X","vendor":"GenuineIntel","family":6,"models":[[1,1]],)"
                            R"("throughput":{"fma.fp64/avx2":{"per_cycle":2,"source":"s"}},)";
  std::string e = error(R"({"schema":"probe-cpu-uarch/1","entries":[)" + entry + R"("requires":["amx_tyle"]}]})");
  EXPECT_NE(e.find("u.json: entry 'x', field 'requires': unknown feature 'amx_tyle'"), std::string::npos) << e;
  e = error(R"({"schema":"probe-cpu-uarch/1","entries":[)" + entry + R"("forbids":[3]}]})");
  EXPECT_NE(e.find("entry 'x', field 'forbids'"), std::string::npos) << e;
  e = error(R"({"schema":"probe-cpu-uarch/1","entries":[)" + entry +
            R"("requires":["avx512f"],"forbids":["avx512f"]}]})");
  EXPECT_NE(e.find("'avx512f' is also required"), std::string::npos) << e;
  e = error(R"({"schema":"probe-cpu-uarch/1","entries":[)" + entry + R"("l3_max_mib":{"value":3}}]})");
  EXPECT_NE(e.find("field 'l3_max_mib.source'"), std::string::npos) << e;
  e = error(R"({"schema":"probe-cpu-uarch/1","entries":[)" + entry + R"("model_names":{"2":"Y"}}]})");
  EXPECT_NE(e.find("field 'model_names.2'"), std::string::npos) << e;
  e = error(R"({"schema":"probe-cpu-uarch/1","entries":[)" + entry.substr(0, entry.size() - 1) +
            R"(}],"feature_order":{"source":"s","rules":[{"vendor":"GenuineIntel","feature":"amx_tile",)"
            R"("generation":"G","entry":"nope"}]}})");
  EXPECT_NE(e.find("entry 'feature_order.rules #0', field 'entry': no entry with id 'nope'"), std::string::npos) << e;
  // The built-in table's evidence names are all known (parse would have thrown) and its order has rules.
  EXPECT_GE(UarchTable::builtin().feature_order().size(), 8u);
}

// --- the live CPU: only what holds on every x86-64 ---

TEST(IdentifyLive, EveryX86CpuGetsEvidenceAndAMethod) {
  const CpuFeatures f = detect_features();
  const Identification id = identify(f, UarchTable::builtin());
  ASSERT_FALSE(id.evidence.empty());
  EXPECT_NE(id.evidence[0].find("CPUID: " + f.vendor), std::string::npos);
  EXPECT_EQ(id.entry != nullptr, id.method != IdMethod::none);
  EXPECT_TRUE(f.sse2);
  for (const CpuCache& c : f.caches) {
    EXPECT_GE(c.level, 1);
    EXPECT_GT(c.size_bytes, 0u);
    EXPECT_GE(c.shared_by, 1);
  }
}

TEST(IdentifyLive, DescribeThisCpuRoundTrips) {
  const Topology topo;
  const CpuDescription d = describe_this_cpu(topo.inventory(), "test");
  const CpuDescription back = parse_cpu_description(to_json_text(d), "live.json");
  EXPECT_EQ(to_json_text(back), to_json_text(d));
  EXPECT_EQ(back.cpu.vendor, d.cpu.vendor);
  EXPECT_EQ(back.cpu.model, d.cpu.model);
  EXPECT_GE(back.cores_per_package, 1);
}

TEST(IdentifyLive, BackendRecordsTheIdentificationAndTheFmaCheck) {
  auto topo = std::make_shared<const Topology>();
  FmaUnitCheck fake;
  fake.summary = "not run: a fake counter";
  auto backend = make_cpu_backend(topo, CpuOptions{}, std::make_unique<FakeCounter>(fake));
  auto devices = backend->devices();
  ASSERT_FALSE(devices.empty());
  std::set<std::string> keys;
  std::string fma;
  for (const auto& [k, v] : devices[0]->info().properties) {
    keys.insert(k);
    if (k == "evidence" && v.find("512-bit FMA units") != std::string::npos) fma = v;
  }
  for (const char* k : {"identification", "identification_method", "evidence", "rate fma.fp64"}) {
    EXPECT_TRUE(keys.count(k)) << k;
  }
  EXPECT_NE(fma.find("not run: a fake counter"), std::string::npos) << fma;
}

TEST(IdentifyLive, TheRealFmaUnitCountNeedsAvx512) {
  const CpuFeatures f = detect_features();
  const FmaUnitCheck c = make_fma_unit_counter()->count(f);
  if (!f.avx512f) {
    EXPECT_FALSE(c.ran);
    GTEST_SKIP() << "AVX-512 is not usable on this CPU: the empirical count does not run";
  }
  ASSERT_TRUE(c.ran);
  // Not a speed assertion: adding 12 permutes can neither speed the loop up much nor more than quadruple it
  // (a busy machine adds noise).
  EXPECT_GT(c.timing.ratio(), 0.8) << c.summary;
  EXPECT_LT(c.timing.ratio(), 4.0) << c.summary;
  if (f.vendor != "GenuineIntel") EXPECT_EQ(c.units, 0);
}

}  // namespace
