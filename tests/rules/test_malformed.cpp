// Malformed rules and chip files: each kind of defect is an InputError naming the file, the entry and the field;
// no input, however broken, crashes or throws anything else.
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "probe/error.hpp"
#include "rules.hpp"

using namespace probe::rules;
using nlohmann::json;

namespace {

json good_rules() {
  return json::parse(R"({
    "schema_version": 1, "id": "test-rules", "title": "t", "citation": "1 FR 1", "effective": "2024-01-01",
    "status": "in_force", "scope": "device", "otherwise": "outside",
    "sources": {"S": {"title": "a source"}},
    "clauses": [
      {"id": "A", "title": "big", "kind": "classification", "eccn": "X.a", "effect": "e", "source": "S",
       "when": {"all_of": [{"metric": "tpp", "op": ">=", "value": 4800, "source": "S"},
                           {"metric": "datacenter", "op": "==", "value": true, "source": "S"}]}},
      {"id": "B", "title": "refers to A", "kind": "exception", "effect": "e", "source": "S",
       "when": {"not": {"clause": "A"}}}
    ]})");
}

json good_chips() {
  return json::parse(R"({
    "schema_version": 1,
    "sources": {"S": {"title": "a source"}},
    "architectures": [{"id": "arch", "name": "Arch", "unit_kind": "SM",
                       "reference_clock_mhz": {"value": 1000, "source": "S"},
                       "rates": {"fp16": {"value": 1024, "source": "S"}}}],
    "chips": [
      {"id": "chip-a", "vendor": "V", "name": "Chip A", "aliases": ["A1"], "architecture": "arch",
       "pci": [{"vendor": "1234", "device": "0001", "source": "S"}],
       "datacenter": {"value": true, "source": "S"}, "units": {"value": 10, "kind": "SM", "source": "S"},
       "clock_mhz": {"value": 1000, "source": "S"}, "peaks": {"fp16": {"value": 10.24, "source": "S"}},
       "memory": {"type": {"value": "HBM3", "source": "S"}, "capacity_gb": {"value": 80, "source": "S"},
                  "bandwidth_gbs": {"value": 3000, "source": "S"}},
       "die_area_mm2": {"value": 800, "source": "S"}, "hbm_area_mm2": {"value": null, "note": "unknown"},
       "io_bw_bidir_gbs": {"value": null, "note": "unknown"}},
      {"id": "chip-b", "vendor": "V", "name": "Chip B", "aliases": [], "architecture": null, "pci": [],
       "datacenter": {"value": false, "source": "S"}, "units": {"value": null, "kind": "SM", "note": "unknown"},
       "clock_mhz": {"value": null, "note": "unknown"}, "peaks": {},
       "memory": {"type": {"value": null, "note": "?"}, "capacity_gb": {"value": null, "note": "?"},
                  "bandwidth_gbs": {"value": null, "note": "?"}},
       "die_area_mm2": {"value": null, "note": "?"}, "hbm_area_mm2": {"value": null, "note": "?"},
       "io_bw_bidir_gbs": {"value": null, "note": "?"}}
    ]})");
}

// The error message, which must name all of `parts`.
void expect_rules_error(const json& j, std::initializer_list<std::string_view> parts) {
  try {
    (void)parse_ruleset(j.dump(), "my-rules.json");
    ADD_FAILURE() << "no error for " << j.dump();
  } catch (const probe::InputError& e) {
    std::string msg = e.what();
    EXPECT_NE(msg.find("my-rules.json"), std::string::npos) << msg;
    for (auto p : parts) EXPECT_NE(msg.find(p), std::string::npos) << "'" << p << "' not in: " << msg;
  }
}

void expect_chips_error(const json& j, std::initializer_list<std::string_view> parts) {
  try {
    (void)ChipDatabase::parse(j.dump(), "my-chips.json");
    ADD_FAILURE() << "no error for " << j.dump();
  } catch (const probe::InputError& e) {
    std::string msg = e.what();
    EXPECT_NE(msg.find("my-chips.json"), std::string::npos) << msg;
    for (auto p : parts) EXPECT_NE(msg.find(p), std::string::npos) << "'" << p << "' not in: " << msg;
  }
}

}  // namespace

TEST(MalformedRules, TheBaseIsValid) {
  auto rs = parse_ruleset(good_rules().dump(), "my-rules.json");
  EXPECT_EQ(rs.clauses.size(), 2u);
}

TEST(MalformedRules, BadJson) {
  try {
    (void)parse_ruleset("{\"id\": ", "my-rules.json");
    FAIL();
  } catch (const probe::InputError& e) {
    EXPECT_NE(std::string(e.what()).find("my-rules.json: not valid JSON"), std::string::npos) << e.what();
  }
}

TEST(MalformedRules, MissingField) {
  json j = good_rules();
  j["clauses"][0].erase("title");
  expect_rules_error(j, {"entry 'A'", "field 'title'", "missing"});
  j = good_rules();
  j.erase("citation");
  expect_rules_error(j, {"field 'citation'", "missing"});
  j = good_rules();
  j["clauses"][0]["when"]["all_of"][0].erase("op");
  expect_rules_error(j, {"entry 'A'", "field 'when.all_of[0].op'", "missing"});
}

TEST(MalformedRules, WrongType) {
  json j = good_rules();
  j["clauses"][0]["when"]["all_of"][0]["value"] = "4800";
  expect_rules_error(j, {"entry 'A'", "field 'when.all_of[0].value'", "expected a number"});
  j = good_rules();
  j["clauses"][0]["when"]["all_of"][1]["value"] = 1;
  expect_rules_error(j, {"entry 'A'", "field 'when.all_of[1].value'", "expected a boolean"});
  j = good_rules();
  j["clauses"] = json::object();
  expect_rules_error(j, {"field 'clauses'", "expected an array"});
  j = good_rules();
  j["effective"] = "Jan 2024";
  expect_rules_error(j, {"field 'effective'", "YYYY-MM-DD"});
}

TEST(MalformedRules, UnknownMetric) {
  json j = good_rules();
  j["clauses"][0]["when"]["all_of"][0]["metric"] = "tppp";
  expect_rules_error(j, {"entry 'A'", "field 'when.all_of[0].metric'", "unknown metric 'tppp'"});
  j = good_rules();
  j["clauses"][0]["when"]["all_of"][0]["metric"] = "devices_3a090_a";  // node metric in a device ruleset
  expect_rules_error(j, {"entry 'A'", "node-level"});
}

TEST(MalformedRules, UnknownOperator) {
  json j = good_rules();
  j["clauses"][0]["when"]["all_of"][0]["op"] = "=>";
  expect_rules_error(j, {"entry 'A'", "field 'when.all_of[0].op'", "unknown operator '=>'"});
  j = good_rules();
  j["clauses"][0]["when"]["all_of"][1]["op"] = ">=";
  expect_rules_error(j, {"entry 'A'", "boolean metric"});
}

TEST(MalformedRules, DuplicateId) {
  json j = good_rules();
  j["clauses"][1]["id"] = "A";
  expect_rules_error(j, {"entry 'A'", "field 'id'", "duplicate clause id"});
  RuleBook book = RuleBook::builtin();
  json dup = good_rules();
  dup["id"] = "us-2023-10-acr";
  try {
    book.add(parse_ruleset(dup.dump(), "my-rules.json"));
    FAIL();
  } catch (const probe::InputError& e) {
    EXPECT_NE(std::string(e.what()).find("duplicate ruleset id 'us-2023-10-acr'"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("my-rules.json"), std::string::npos) << e.what();
  }
}

TEST(MalformedRules, BadReferences) {
  json j = good_rules();
  j["clauses"][1]["when"] = {{"clause", "Z"}};
  expect_rules_error(j, {"entry 'B'", "field 'when.clause'", "unknown clause reference 'Z'"});
  j = good_rules();
  j["clauses"][0]["when"] = {{"clause", "B"}};  // forward reference: no cycles possible
  expect_rules_error(j, {"entry 'A'", "unknown clause reference 'B'"});
  j = good_rules();
  j["clauses"][0]["source"] = "NOPE";
  expect_rules_error(j, {"entry 'A'", "field 'source'", "unknown source key 'NOPE'"});
  j = good_rules();
  j["clauses"][0]["when"] = {{"all_of", json::array()}};
  expect_rules_error(j, {"entry 'A'", "empty list"});
  j = good_rules();
  j["clauses"][0]["when"] = {{"metric", "tpp"}, {"clause", "B"}};
  expect_rules_error(j, {"entry 'A'", "exactly one of"});
  j = good_rules();
  j["status"] = "maybe";
  expect_rules_error(j, {"field 'status'", "unknown status 'maybe'"});
  j = good_rules();
  j["clauses"][0].erase("eccn");
  expect_rules_error(j, {"entry 'A'", "field 'eccn'"});
}

TEST(MalformedChips, TheBaseIsValid) {
  auto db = ChipDatabase::parse(good_chips().dump(), "my-chips.json");
  EXPECT_EQ(db.chips().size(), 2u);
  EXPECT_EQ(db.find_name("a1")->id, "chip-a");
  auto m = chip_metrics(*db.find_name("Chip A"), db);
  EXPECT_NEAR(*m.declared.tpp, 10.24 * 16, 1e-9);
  EXPECT_NEAR(*m.derived.tpp, 10 * 1024 * 1e9 / 1e12 * 16, 1e-9);
  auto b = chip_metrics(*db.find_name("Chip B"), db);
  EXPECT_FALSE(b.declared.tpp);
}

TEST(MalformedChips, BadJson) {
  EXPECT_THROW((void)ChipDatabase::parse("[1, 2", "my-chips.json"), probe::InputError);
  EXPECT_THROW((void)ChipDatabase::parse("", "my-chips.json"), probe::InputError);
}

TEST(MalformedChips, MissingField) {
  json j = good_chips();
  j["chips"][0].erase("name");
  expect_chips_error(j, {"entry 'chip-a'", "field 'name'", "missing"});
  j = good_chips();
  j["chips"][0]["peaks"]["fp16"].erase("source");
  expect_chips_error(j, {"entry 'chip-a'", "field 'peaks.fp16.source'", "every figure needs a source"});
  j = good_chips();
  j["chips"][1]["clock_mhz"].erase("note");
  expect_chips_error(j, {"entry 'chip-b'", "field 'clock_mhz.note'", "unknown value needs a note"});
  j = good_chips();
  j.erase("chips");
  expect_chips_error(j, {"field 'chips'", "missing"});
}

TEST(MalformedChips, WrongType) {
  json j = good_chips();
  j["chips"][0]["units"]["value"] = "ten";
  expect_chips_error(j, {"entry 'chip-a'", "field 'units.value'", "expected a number"});
  j = good_chips();
  j["chips"][0]["units"]["value"] = 10.5;
  expect_chips_error(j, {"entry 'chip-a'", "field 'units.value'", "whole number"});
  j = good_chips();
  j["chips"][0]["datacenter"]["value"] = "yes";
  expect_chips_error(j, {"entry 'chip-a'", "field 'datacenter.value'", "expected a boolean"});
  j = good_chips();
  j["chips"][0]["pci"][0]["device"] = "12345";
  expect_chips_error(j, {"entry 'chip-a'", "field 'pci[0].device'", "4 hex digits"});
  j = good_chips();
  j["chips"][0]["die_area_mm2"]["value"] = -1;
  expect_chips_error(j, {"entry 'chip-a'", "field 'die_area_mm2.value'", "positive"});
}

TEST(MalformedChips, UnknownNames) {
  json j = good_chips();
  j["chips"][0]["peaks"]["fp12"] = {{"value", 1}, {"source", "S"}};
  expect_chips_error(j, {"entry 'chip-a'", "field 'peaks.fp12'", "unknown data type"});
  j = good_chips();
  j["chips"][0]["architecture"] = "nope";
  expect_chips_error(j, {"entry 'chip-a'", "field 'architecture'", "unknown architecture 'nope'"});
  j = good_chips();
  j["chips"][0]["clock_mhz"]["source"] = "Q";
  expect_chips_error(j, {"entry 'chip-a'", "field 'clock_mhz.source'", "unknown source key 'Q'"});
}

TEST(MalformedChips, DuplicateId) {
  json j = good_chips();
  j["chips"][1]["id"] = "chip-a";
  expect_chips_error(j, {"entry 'chip-a'", "duplicate id or name"});
  j = good_chips();
  j["chips"][1]["aliases"] = {"chip a"};  // names one chip only, whatever the case and separators
  expect_chips_error(j, {"entry 'chip-b'", "field 'aliases'", "already used by 'chip-a'"});
  j = good_chips();
  j["chips"][1]["pci"] = {{{"vendor", "1234"}, {"device", "0001"}, {"source", "S"}}};
  expect_chips_error(j, {"entry 'chip-b'", "field 'pci'", "duplicate PCI id 1234:0001"});
  j = good_chips();
  j["architectures"].push_back(j["architectures"][0]);
  expect_chips_error(j, {"entry 'arch'", "duplicate architecture id"});
}

// A good non_processors entry, to break one field at a time.
json good_non_processor() {
  return json::parse(R"({"vendor": "1a03", "device": "2000", "vendor_name": "ASPEED", "name": "ASPEED Graphics Family",
                         "role": "BMC display controller",
                         "pci_ids": {"source": "S", "text": "1a03  ASPEED Technology, Inc. / 2000  ASPEED Graphics Family"},
                         "references": ["S"]})");
}

json chips_with(std::initializer_list<json> non_processors) {
  json j = good_chips();
  j["non_processors"] = json::array();
  for (const auto& e : non_processors) j["non_processors"].push_back(e);
  return j;
}

TEST(MalformedChips, NonProcessorsGoodAndAbsentAreValid) {
  const auto db = ChipDatabase::parse(chips_with({good_non_processor()}).dump(), "my-chips.json");
  ASSERT_EQ(db.non_processors().size(), 1u);
  EXPECT_NE(db.find_non_processor(0x1a03, 0x2000), nullptr);
  EXPECT_EQ(ChipDatabase::parse(good_chips().dump(), "my-chips.json").non_processors().size(), 0u);  // optional
}

TEST(MalformedChips, BadNonProcessorsNameTheEntryAndField) {
  json j = good_chips();
  j["non_processors"] = json::object();
  expect_chips_error(j, {"non_processors", "expected an array"});

  json e = good_non_processor();
  e["device"] = "20000";
  expect_chips_error(chips_with({e}), {"non_processors[0].device", "4 hex digits"});
  e = good_non_processor();
  e.erase("vendor");
  expect_chips_error(chips_with({e}), {"non_processors[0]", "vendor", "missing"});
  e = good_non_processor();
  e.erase("pci_ids");
  expect_chips_error(chips_with({e}), {"entry 'non_processors 1a03:2000'", "field 'pci_ids'", "missing"});
  e = good_non_processor();
  e["pci_ids"]["source"] = "NOPE";
  expect_chips_error(chips_with({e}), {"non_processors 1a03:2000", "pci_ids.source", "unknown source key 'NOPE'"});
  e = good_non_processor();
  e["pci_ids"]["text"] = "ASPEED Graphics Family";
  expect_chips_error(chips_with({e}), {"non_processors 1a03:2000", "pci_ids.text", "does not quote"});
  e = good_non_processor();
  e["role"] = "";
  expect_chips_error(chips_with({e}), {"non_processors 1a03:2000", "field 'role'", "empty"});
  e = good_non_processor();
  e["name"] = 7;
  expect_chips_error(chips_with({e}), {"non_processors 1a03:2000", "field 'name'"});
  e = good_non_processor();
  e["references"] = json::array({"S", "ghost"});
  expect_chips_error(chips_with({e}), {"non_processors 1a03:2000", "references", "unknown source key 'ghost'"});
  // The same id twice, and an id that is also a chip's.
  expect_chips_error(chips_with({good_non_processor(), good_non_processor()}), {"non_processors 1a03:2000", "duplicate"});
  e = good_non_processor();
  e["vendor"] = "1234";
  e["device"] = "0001";
  e["pci_ids"]["text"] = "1234  V / 0001  Chip A";
  expect_chips_error(chips_with({e}), {"non_processors 1234:0001", "also the chip 'chip-a'"});
}

TEST(MalformedChips, MissingFileIsAnInputError) {
  EXPECT_THROW((void)ChipDatabase::load_file("/nonexistent/chips.json"), probe::InputError);
}

// Truncations and byte flips of the shipped files: every one parses or is an InputError, never a crash.
TEST(Robustness, TruncatedAndMangledFilesNeverCrash) {
  std::vector<std::filesystem::path> files = {std::filesystem::path(PROBE_RULES_DATA_DIR) / "chips.json"};
  for (const auto& e : std::filesystem::directory_iterator(std::filesystem::path(PROBE_RULES_DATA_DIR) / "rules")) files.push_back(e.path());
  int cases = 0;
  for (const auto& f : files) {
    std::string text;
    {
      std::ifstream in(f);
      text.assign(std::istreambuf_iterator<char>(in), {});
    }
    bool chips = f.filename() == "chips.json";
    auto attempt = [&](const std::string& t) {
      try {
        if (chips) (void)ChipDatabase::parse(t, f.string());
        else (void)parse_ruleset(t, f.string());
      } catch (const probe::InputError&) {
      }
      ++cases;
    };
    for (std::size_t cut = 0; cut < text.size(); cut += 211) attempt(text.substr(0, cut));
    const char flips[] = {'"', '}', ']', ',', '0', 'x', ':', '{', '-', 'n'};
    for (std::size_t i = 7, k = 0; i < text.size(); i += 157, ++k) {
      std::string t = text;
      t[i] = flips[k % sizeof flips];
      attempt(t);
    }
  }
  EXPECT_GT(cases, 500);
}
