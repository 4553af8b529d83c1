// data/cpu_uarch.json: well-formed, every key names a compiled kernel variant, every figure has a source,
// and model ranges do not overlap (the backend takes the first match).
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>
#include <utility>

#include "kernels/cpu/cpu_kernels.hpp"

namespace probe::cpu {
namespace {

using nlohmann::json;

json load() {
  std::ifstream in(PROBE_CPU_UARCH_JSON);
  EXPECT_TRUE(in) << "cannot open " << PROBE_CPU_UARCH_JSON;
  std::stringstream ss;
  ss << in.rdbuf();
  return json::parse(ss.str());
}

TEST(CpuUarchJson, ParsesWithTheExpectedSchema) {
  const json doc = load();
  EXPECT_EQ(doc.at("schema").get<std::string>(), "probe-cpu-uarch/1");
  EXPECT_FALSE(doc.at("description").get<std::string>().empty());
  EXPECT_GE(doc.at("entries").size(), 8U);
}

TEST(CpuUarchJson, EveryKeyIsARealKernelWithASource) {
  std::set<std::string> known;
  for (const ComputeKernelInfo* k : compute_kernel_variants()) {
    known.insert(std::string(k->id) + "/" + std::string(k->variant));
  }
  std::set<std::string> ids;
  const json doc = load();  // keep it alive: a range-for over load().at(...) would dangle
  for (const json& e : doc.at("entries")) {
    const auto id = e.at("id").get<std::string>();
    EXPECT_TRUE(ids.insert(id).second) << "duplicate id " << id;
    EXPECT_FALSE(e.at("name").get<std::string>().empty()) << id;
    const auto vendor = e.at("vendor").get<std::string>();
    EXPECT_TRUE(vendor == "AuthenticAMD" || vendor == "GenuineIntel") << id;
    EXPECT_TRUE(e.at("family").is_number_integer()) << id;
    ASSERT_FALSE(e.at("models").empty()) << id;
    for (const json& r : e.at("models")) {
      ASSERT_EQ(r.size(), 2U) << id;
      EXPECT_LE(r[0].get<int>(), r[1].get<int>()) << id;
      EXPECT_GE(r[0].get<int>(), 0) << id;
      EXPECT_LE(r[1].get<int>(), 255) << id;
    }
    ASSERT_FALSE(e.at("throughput").empty()) << id;
    for (const auto& [k, t] : e.at("throughput").items()) {
      EXPECT_TRUE(known.count(k)) << id << ": '" << k << "' is not a compiled kernel id/variant";
      EXPECT_GT(t.at("per_cycle").get<double>(), 0) << id << " " << k;
      EXPECT_FALSE(t.at("source").get<std::string>().empty()) << id << " " << k;
    }
  }
}

// Two entries may share a model number only where their features tell them apart (Skylake-SP/Cascade Lake and
// Cooper Lake are both model 85): one requires a feature the other forbids.
bool separated_by_features(const json& a, const json& b) {
  auto has = [](const json& e, const char* field, const json& name) {
    if (!e.contains(field)) return false;
    for (const json& n : e.at(field)) {
      if (n == name) return true;
    }
    return false;
  };
  for (const auto& [x, y] : {std::pair{&a, &b}, std::pair{&b, &a}}) {
    if (!x->contains("requires")) continue;
    for (const json& r : x->at("requires")) {
      if (has(*y, "forbids", r)) return true;
    }
  }
  return false;
}

TEST(CpuUarchJson, ModelRangesDoNotOverlapUnlessFeaturesSeparateThem) {
  const json entries = load().at("entries");
  for (std::size_t i = 0; i < entries.size(); ++i) {
    for (std::size_t j = i + 1; j < entries.size(); ++j) {
      const json &a = entries[i], &b = entries[j];
      if (a.at("vendor") != b.at("vendor") || a.at("family") != b.at("family")) continue;
      for (const json& ra : a.at("models")) {
        for (const json& rb : b.at("models")) {
          const bool overlap = ra[0].get<int>() <= rb[1].get<int>() && rb[0].get<int>() <= ra[1].get<int>();
          EXPECT_FALSE(overlap && !separated_by_features(a, b))
              << a.at("id") << " " << ra << " overlaps " << b.at("id") << " " << rb;
        }
      }
    }
  }
}

TEST(CpuUarchJson, Zen4MatchesTheTeamMachineAndItsMeasuredRates) {
  // The team's VMs: AuthenticAMD family 25 model 17 (toolchain.md §1); §7 measured 1 zmm FMA per cycle.
  const json doc = load();
  for (const json& e : doc.at("entries")) {
    if (e.at("vendor") != "AuthenticAMD" || e.at("family") != 25) continue;
    for (const json& r : e.at("models")) {
      if (r[0].get<int>() <= 17 && 17 <= r[1].get<int>()) {
        EXPECT_EQ(e.at("id"), "zen4");
        EXPECT_EQ(e.at("throughput").at("fma.fp64/avx512").at("per_cycle").get<double>(), 1.0);
        EXPECT_EQ(e.at("throughput").at("fma.fp64/avx2").at("per_cycle").get<double>(), 2.0);
        return;
      }
    }
  }
  FAIL() << "no entry covers AuthenticAMD family 25 model 17";
}

}  // namespace
}  // namespace probe::cpu
