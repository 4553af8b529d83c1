// Chip database: the built-in file parses, every figure has a source, lookups by PCI id and by name.
#include <gtest/gtest.h>

#include "rules.hpp"

using namespace probe::rules;

TEST(ChipDatabase, BuiltinParsesWithTheRequiredChips) {
  const auto& db = ChipDatabase::builtin();
  for (const char* name : {"A100 SXM", "A100 PCIe", "A800", "H100 SXM", "H100 PCIe", "H800", "H200", "H20", "L40S", "L40",
                           "L20", "L4", "RTX 4090", "RTX 4090D", "B200", "MI250X", "MI300X", "MI325X", "Gaudi 2"}) {
    EXPECT_NE(db.find_name(name), nullptr) << name;
  }
  EXPECT_EQ(db.sha256().size(), 64u);
  EXPECT_NE(db.file_name().find("chips.json"), std::string::npos);
}

TEST(ChipDatabase, EveryKnownFigureNamesAKnownSource) {
  const auto& db = ChipDatabase::builtin();
  for (const auto& c : db.chips()) {
    for (const auto& [type, f] : c.peaks_tops) {
      if (f.known()) EXPECT_NE(db.find_source(f.source), nullptr) << c.id << " " << to_string(type);
      else EXPECT_FALSE(f.note.empty()) << c.id << " " << to_string(type);
    }
    for (const auto* f : {&c.clock_mhz, &c.die_area_mm2, &c.memory_bw_gbs, &c.io_bw_bidir_gbs}) {
      if (f->known()) EXPECT_NE(db.find_source(f->source), nullptr) << c.id;
      else EXPECT_FALSE(f->note.empty()) << c.id;
    }
  }
}

TEST(ChipDatabase, LookupByPciId) {
  const auto& db = ChipDatabase::builtin();
  ASSERT_NE(db.find_pci(0x10de, 0x2330), nullptr);
  EXPECT_EQ(db.find_pci(0x10de, 0x2330)->id, "h100-sxm5-80gb");
  EXPECT_EQ(db.find_pci(0x10de, 0x20b0)->id, "a100-sxm4-40gb");
  EXPECT_EQ(db.find_pci(0x1002, 0x74a1)->id, "mi300x");
  EXPECT_EQ(db.find_pci(0x10de, 0x26ba)->id, "l20");  // second device id of the same SKU
  EXPECT_EQ(db.find_pci(0x10de, 0xffff), nullptr);
  probe::PciId id;
  id.vendor_id = 0x10de;
  id.device_id = 0x2684;
  id.subvendor_id = 0x1043;  // a board partner's subsystem still finds the generic entry
  EXPECT_EQ(db.find_pci(id)->id, "rtx-4090");
}

// BMC display controllers: on the PCI bus as class 0x0300, not processors. Exact ids, each quoted from pci.ids.
TEST(ChipDatabase, NonProcessorsListTheBmcDisplayControllers) {
  const auto& db = ChipDatabase::builtin();
  const NonProcessor* ast = db.find_non_processor(0x1a03, 0x2000);
  ASSERT_NE(ast, nullptr);
  EXPECT_EQ(ast->name, "ASPEED Graphics Family");
  EXPECT_NE(ast->role.find("BMC display controller"), std::string::npos) << ast->role;
  EXPECT_NE(ast->pci_ids_text.find("2000  ASPEED Graphics Family"), std::string::npos) << ast->pci_ids_text;
  EXPECT_EQ(db.find_pci(0x1a03, 0x2000), nullptr) << "not a chip";
  // The Matrox G200 server variants pci.ids names: G200e, G200EV, G200eW, G200EH, G200eR2, G200eW3, G200eH3.
  for (int dev : {0x0522, 0x0530, 0x0532, 0x0533, 0x0534, 0x0536, 0x0538}) {
    EXPECT_NE(db.find_non_processor(0x102b, static_cast<std::uint16_t>(dev)), nullptr) << std::hex << dev;
  }
  // No vendor-wide rule: the desktop G200 (0520) and Matrox's JPEG2000 accelerator (4cdc) are not listed.
  EXPECT_EQ(db.find_non_processor(0x102b, 0x0520), nullptr);
  EXPECT_EQ(db.find_non_processor(0x102b, 0x4cdc), nullptr);
  for (const auto& n : db.non_processors()) {
    EXPECT_NE(db.find_source(n.pci_ids_source), nullptr) << n.name;
    for (const auto& r : n.references) EXPECT_NE(db.find_source(r), nullptr) << n.name << " " << r;
    EXPECT_EQ(db.find_pci(n.vendor, n.device), nullptr) << n.name;
  }
}

TEST(ChipDatabase, LookupByNameIsCaseAndSeparatorInsensitive) {
  const auto& db = ChipDatabase::builtin();
  for (const char* n : {"H100 SXM", "h100 sxm", "H100-SXM5-80GB", "NVIDIA H100 SXM", "nvidia h100 80gb hbm3", "h100-sxm5-80gb",
                        "H100_SXM5"}) {
    ASSERT_NE(db.find_name(n), nullptr) << n;
    EXPECT_EQ(db.find_name(n)->id, "h100-sxm5-80gb") << n;
  }
  EXPECT_EQ(db.find_name("RTX 4090 D")->id, "rtx-4090d");
  EXPECT_EQ(db.find_name("RTX 4090")->id, "rtx-4090");
  EXPECT_EQ(db.find_name("no such chip"), nullptr);
  EXPECT_EQ(db.find_name(""), nullptr);
}

TEST(ChipDatabase, DeviceInfoLookupPrefersPciThenName) {
  const auto& db = ChipDatabase::builtin();
  probe::DeviceInfo info;
  info.name = "NVIDIA H100 80GB HBM3";
  EXPECT_EQ(db.find(info)->id, "h100-sxm5-80gb");
  info.pci = probe::PciId{};
  info.pci->vendor_id = 0x1002;
  info.pci->device_id = 0x74a5;
  EXPECT_EQ(db.find(info)->id, "mi325x");
}

TEST(ChipDatabase, ArchitectureTables) {
  const auto& db = ChipDatabase::builtin();
  for (const char* a : {"ampere-ga100", "ada", "hopper", "blackwell", "cdna2", "cdna3", "gaudi2-mme"}) {
    EXPECT_NE(db.find_architecture(a), nullptr) << a;
  }
  EXPECT_EQ(db.find_architecture_for_device_arch("sm_90")->id, "hopper");
  EXPECT_EQ(db.find_architecture_for_device_arch("gfx942")->id, "cdna3");
  EXPECT_DOUBLE_EQ(*db.find_architecture("hopper")->ops_per_clock_per_unit.at(PeakType::fp8).value, 8192);
}
