#include <gtest/gtest.h>

#include <fstream>

#include "kernels/cpu/cpu_kernels.hpp"
#include "probe/error.hpp"
#include "uarch.hpp"

using probe::InputError;
using probe::cpu::UarchTable;

namespace {
std::string error_of(const std::string& text) {
  try {
    (void)UarchTable::parse(text, "u.json");
  } catch (const InputError& e) {
    return e.what();
  }
  return "no error";
}
const char* kGood = R"({"schema":"probe-cpu-uarch/1","entries":[
  {"id":"zen4","name":"AMD Zen 4","vendor":"AuthenticAMD","family":25,"models":[[16,31]],
   "throughput":{"fma.fp64/avx512":{"per_cycle":1,"source":"s"}}}]})";
}  // namespace

TEST(Uarch, BuiltInTableParsesAndEveryKeyNamesACompiledKernel) {
  const auto& t = UarchTable::builtin();
  ASSERT_FALSE(t.entries().empty());
  for (const auto& u : t.entries()) {
    for (const auto& [key, th] : u.throughput) {
      bool found = false;
      for (const auto* k : probe::cpu::compute_kernel_variants()) {
        found |= key == std::string(k->id) + "/" + std::string(k->variant);
      }
      EXPECT_TRUE(found) << u.id << ": " << key << " names no compiled kernel variant";
      EXPECT_FALSE(th.source.empty());
    }
  }
  // The development machine type (Zen 4, family 25 model 17) is covered.
  const auto* z4 = t.find("AuthenticAMD", 25, 17);
  ASSERT_NE(z4, nullptr);
  EXPECT_EQ(z4->id, "zen4");
  EXPECT_EQ(t.find("GenuineIntel", 25, 17), nullptr);
}

TEST(Uarch, LookupByFamilyAndModelRange) {
  const auto t = UarchTable::parse(kGood, "u.json");
  EXPECT_NE(t.find("AuthenticAMD", 25, 16), nullptr);
  EXPECT_NE(t.find("AuthenticAMD", 25, 31), nullptr);
  EXPECT_EQ(t.find("AuthenticAMD", 25, 32), nullptr);
  EXPECT_EQ(t.find("AuthenticAMD", 26, 16), nullptr);
}

TEST(Uarch, MalformedFilesNameFileEntryAndField) {
  EXPECT_NE(error_of("{").find("u.json: not valid JSON"), std::string::npos);
  EXPECT_NE(error_of(R"({"schema":"other/1","entries":[]})").find("field 'schema'"), std::string::npos);
  std::string s = kGood;
  const std::string missing_source = std::string(kGood).replace(s.find(R"(,"source":"s")"), 13, "");
  const std::string e1 = error_of(missing_source);
  EXPECT_NE(e1.find("entry 'zen4'"), std::string::npos) << e1;
  EXPECT_NE(e1.find("throughput.fma.fp64/avx512.source"), std::string::npos) << e1;
  const std::string wrong_type = std::string(kGood).replace(s.find("25"), 2, "\"25\"");
  EXPECT_NE(error_of(wrong_type).find("field 'family': expected number"), std::string::npos) << error_of(wrong_type);
  const std::string dup = R"({"schema":"probe-cpu-uarch/1","entries":[
    {"id":"a","name":"A","vendor":"V","family":1,"models":[],"throughput":{}},
    {"id":"a","name":"A","vendor":"V","family":1,"models":[],"throughput":{}}]})";
  EXPECT_NE(error_of(dup).find("entry 'a', field 'id': duplicate id"), std::string::npos) << error_of(dup);
  const std::string no_id = R"({"schema":"probe-cpu-uarch/1","entries":[{"name":"A"}]})";
  EXPECT_NE(error_of(no_id).find("entry '#0', field 'id': missing"), std::string::npos) << error_of(no_id);
  const std::string bad_range = std::string(kGood).replace(s.find("[[16,31]]"), 9, "[[31,16]]");
  EXPECT_NE(error_of(bad_range).find("field 'models'"), std::string::npos);
  const std::string negative = std::string(kGood).replace(s.find("\"per_cycle\":1"), 13, "\"per_cycle\":-1");
  EXPECT_NE(error_of(negative).find("per_cycle"), std::string::npos);
}

TEST(Uarch, ConfirmedIsAnOptionalBoolean) {
  const std::string s = kGood;
  EXPECT_TRUE(UarchTable::parse(kGood, "u.json").entries()[0].throughput.at("fma.fp64/avx512").confirmed);
  const std::string presumed = std::string(kGood).replace(s.find(R"(,"source":"s")"), 13, R"(,"source":"s","confirmed":false)");
  EXPECT_FALSE(UarchTable::parse(presumed, "u.json").entries()[0].throughput.at("fma.fp64/avx512").confirmed);
  const std::string not_bool = std::string(kGood).replace(s.find(R"(,"source":"s")"), 13, R"(,"source":"s","confirmed":"no")");
  EXPECT_NE(error_of(not_bool).find("throughput.fma.fp64/avx512.confirmed"), std::string::npos) << error_of(not_bool);
}

TEST(Uarch, AmxRatesAreOneFullTileInstructionPer16Cycles) {
  // 16,384 FLOP (BF16) or 32,768 OP (INT8) per TDP* at 1/16 per cycle: 1024 FLOP and 2048 OP per cycle per core.
  const auto& t = UarchTable::builtin();
  const auto* spr = t.find("GenuineIntel", 6, 143);
  const auto* emr = t.find("GenuineIntel", 6, 207);
  const auto* gnr = t.find("GenuineIntel", 6, 173);
  ASSERT_NE(spr, nullptr);
  ASSERT_EQ(spr, emr);
  ASSERT_NE(gnr, nullptr);
  for (const auto* u : {spr, gnr}) {
    for (const char* key : {"amx.bf16/amx", "amx.int8/amx"}) {
      ASSERT_TRUE(u->throughput.count(key)) << u->id << " " << key;
      EXPECT_DOUBLE_EQ(u->throughput.at(key).per_cycle, 1.0 / 16) << u->id << " " << key;
    }
  }
  EXPECT_FALSE(spr->throughput.count("amx.fp16/amx")) << "Sapphire/Emerald Rapids have no AMX-FP16";
  EXPECT_FALSE(gnr->throughput.at("amx.fp16/amx").confirmed);
}
