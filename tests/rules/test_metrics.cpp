// Published chip figures as test vectors; the derived basis and its flags; the measured basis from synthetic
// Measurement records (partial devices, measured above declared).
#include <algorithm>

#include <fmt/format.h>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "report.hpp"
#include "rules.hpp"

using namespace probe::rules;

namespace {

const Chip& chip(const char* name) {
  const Chip* c = ChipDatabase::builtin().find_name(name);
  if (!c) throw std::runtime_error(std::string("no chip ") + name);
  return *c;
}

DeviceMetrics declared(const char* name, const Overrides& ov = {}) { return chip_metrics(chip(name), ChipDatabase::builtin(), ov); }

bool has_flag(const DeviceMetrics& m, std::string_view id) {
  return std::any_of(m.flags.begin(), m.flags.end(), [&](const Flag& f) { return f.id == id; });
}

probe::Measurement compute(std::string id, probe::DType dtype, double ops_per_s) {
  probe::Measurement m;
  m.spec.id = std::move(id);
  m.spec.dtype = dtype;
  m.spec.unit = probe::Unit::ops_per_s;
  m.spec.kind = probe::KernelClass::compute;
  m.status = probe::Status::ok;
  m.stats = probe::Stats{};
  m.stats.samples = {ops_per_s, ops_per_s, ops_per_s};
  m.stats.median = ops_per_s;
  return m;
}

probe::Measurement memory(std::string id, double bytes_per_s) {
  probe::Measurement m = compute(std::move(id), probe::DType::none, bytes_per_s);
  m.spec.unit = probe::Unit::bytes_per_s;
  m.spec.kind = probe::KernelClass::memory;
  return m;
}

}  // namespace

TEST(Metrics, A100) {
  auto m = declared("A100 SXM");
  ASSERT_TRUE(m.declared.tpp);
  EXPECT_NEAR(*m.declared.tpp, 4992, 0.5);
  // TF32 156 × 32, FP16/BF16 312 × 16 and INT8 624 × 8 all give 4,992: all are named.
  EXPECT_EQ(m.declared.tpp_types, (std::vector<PeakType>{PeakType::tf32, PeakType::fp16, PeakType::bf16, PeakType::int8}));
  EXPECT_NEAR(*m.declared.pd, 6.04, 0.01);
  EXPECT_NEAR(*m.derived.tpp, 4990, 1.5);  // 108 × 4096 × 1.41 GHz × 8
  EXPECT_FALSE(has_flag(m, "derived_vs_declared"));
}

TEST(Metrics, H100SxmDeclaredAndDerived) {
  auto m = declared("H100 SXM");
  EXPECT_NEAR(*m.declared.tpp, 15832, 0.5);
  EXPECT_NEAR(*m.declared.pd, 19.45, 0.01);
  // fp8 and int8 tie: both are named.
  EXPECT_EQ(m.declared.tpp_types.size(), 2u);
  EXPECT_NEAR(*m.derived.tpp, 15831, 1.0);
  EXPECT_DOUBLE_EQ(*m.derived.clock_mhz, 1830);
  EXPECT_NE(m.derived.note.find("1830 MHz"), std::string::npos);  // the clock is always named
  EXPECT_FALSE(has_flag(m, "derived_vs_declared"));
}

TEST(Metrics, H100SxmAtMaxBoostClockIsFlagged) {
  Overrides ov;
  ov.derive_clock_mhz = 1980;
  auto m = declared("H100 SXM", ov);
  EXPECT_NEAR(*m.derived.tpp, 17128, 2);
  ASSERT_TRUE(has_flag(m, "derived_vs_declared"));
  auto f = std::find_if(m.flags.begin(), m.flags.end(), [](const Flag& x) { return x.id == "derived_vs_declared"; });
  EXPECT_NEAR(*f->value, 0.082, 0.001);
  EXPECT_NE(f->text.find("+8.2%"), std::string::npos) << f->text;
}

TEST(Metrics, PublishedTppVectors) {
  EXPECT_NEAR(*declared("RTX 4090").declared.tpp, 5285, 1);
  EXPECT_NEAR(*declared("RTX 4090D").declared.tpp, 4707, 1);
  EXPECT_NEAR(*declared("MI300X").declared.tpp, 20919, 1);
  EXPECT_NEAR(*declared("MI325X").declared.tpp, 20919, 1);
  EXPECT_NEAR(*declared("MI250X").declared.tpp, 6128, 1);
  EXPECT_NEAR(*declared("L4").declared.tpp, 1936, 1);
  EXPECT_NEAR(*declared("L40S").declared.tpp, 5864, 1);
  EXPECT_NEAR(*declared("B200").declared.tpp, 36000, 1);
  EXPECT_NEAR(*declared("B300").declared.tpp, 56000, 1);
  EXPECT_EQ(declared("B300").declared.tpp_types, std::vector<PeakType>{PeakType::fp4});
  EXPECT_NEAR(*declared("Gaudi 2").declared.tpp, 6920, 1);
  EXPECT_NEAR(*declared("Gaudi 2").derived.tpp, 6921, 2);
  auto h20 = declared("H20");
  EXPECT_NEAR(*h20.declared.tpp, 2368, 0.5);
  EXPECT_NEAR(*h20.declared.pd, 2.91, 0.01);
}

TEST(Metrics, FusedSkusAreFlagged) {
  auto h20 = declared("H20");
  EXPECT_TRUE(has_flag(h20, "derived_vs_declared"));
  EXPECT_TRUE(has_flag(h20, "clock_fallback"));  // H20's own tensor clock is unknown: the Hopper one is named
  EXPECT_NEAR(*h20.derived.tpp, 78 * 8192 * 1.83e9 / 1e12 * 8, 1);
  EXPECT_TRUE(has_flag(declared("L20"), "derived_vs_declared"));
  EXPECT_FALSE(has_flag(declared("RTX 4090"), "derived_vs_declared"));
  EXPECT_FALSE(has_flag(declared("MI300X"), "derived_vs_declared"));
}

TEST(Metrics, UnknownDieAreaMeansNoPd) {
  auto g3 = declared("Gaudi 3");
  EXPECT_TRUE(g3.declared.tpp);
  EXPECT_FALSE(g3.declared.pd);
  EXPECT_EQ(g3.declared.pd_note, "die area unknown: PD not computed");
  Overrides ov;
  ov.die_area_mm2 = 1000;
  auto with = declared("Gaudi 3", ov);
  EXPECT_NEAR(*with.declared.pd, *with.declared.tpp / 1000, 1e-9);
  EXPECT_EQ(with.die_area_source, "--die-area");
}

TEST(Metrics, BlackwellHasNoDerivedBasis) {
  auto b = declared("B200");
  EXPECT_FALSE(b.derived.available);
  EXPECT_FALSE(b.derived.unavailable_reason.empty());
}

TEST(Metrics, MeasuredCpuPartialDevice) {
  probe::report::DeviceReport dev;
  dev.info.id = "cpu0";
  dev.info.kind = "cpu";
  dev.info.name = "Some Server CPU";
  dev.info.units = 8;
  dev.info.unit_name = "cores";
  dev.info.partial = true;
  dev.info.partial_reason = "a VM's 8 visible cores";
  dev.measurements = {compute("fma.fp64", probe::DType::fp64, 2e12), compute("fma.fp32", probe::DType::fp32, 3e12),
                      compute("dot.int8", probe::DType::int8, 8e12), memory("mem.copy", 100e9),
                      memory("mem.triad", 120e9), memory("mem.read", 200e9)};
  probe::Measurement failed = compute("dot.bf16", probe::DType::bf16, 1e15);
  failed.status = probe::Status::failed;  // never a number
  dev.measurements.push_back(failed);

  auto m = device_metrics(dev, ChipDatabase::builtin());
  EXPECT_EQ(m.chip, nullptr);
  EXPECT_TRUE(m.partial);
  EXPECT_TRUE(has_flag(m, "partial"));
  EXPECT_TRUE(has_flag(m, "not_in_database"));
  ASSERT_TRUE(m.measured.tpp);
  EXPECT_NEAR(*m.measured.tpp, 128, 1e-9);  // fp64: 2 TFLOPS × 64 bits beats fp32 96 and int8 64
  EXPECT_EQ(m.measured.tpp_types, std::vector<PeakType>{PeakType::fp64});
  EXPECT_NEAR(*m.measured.total_dram_bw_gbs, 120, 1e-9);  // best of copy/triad, named
  EXPECT_NE(m.measured.dram_note.find("mem.triad"), std::string::npos);
  EXPECT_EQ(m.measured.pd_note, "die area unknown: PD not computed");
  EXPECT_FALSE(m.declared.available);
  EXPECT_FALSE(m.derived.available);

  auto v = assessed_values(m);
  EXPECT_NEAR(*v.at("tpp").number, 128, 1e-9);
  EXPECT_NE(v.at("tpp").basis.find("measured"), std::string::npos);
  EXPECT_FALSE(v.contains("pd"));
  EXPECT_NE(render_text(m).find("PARTIAL"), std::string::npos);
}

TEST(Metrics, MeasuredAboveDeclaredIsARedFlagAndWins) {
  probe::report::DeviceReport dev;
  dev.info.id = "cuda0";
  dev.info.name = "NVIDIA H100 80GB HBM3";
  dev.info.arch = "sm_90";
  dev.info.units = 132;
  dev.info.pci = probe::PciId{"0000:17:00.0", 0x10de, 0x2330, 0x10de, 0x16c1};
  dev.measurements = {compute("tensor.fp8.wgmma", probe::DType::fp8_e4m3, 2100e12),
                      compute("tensor.bf16.wgmma", probe::DType::bf16, 794.5e12)};
  auto m = device_metrics(dev, ChipDatabase::builtin());
  ASSERT_NE(m.chip, nullptr);
  EXPECT_EQ(m.chip_match, "pci 10de:2330");
  EXPECT_NEAR(*m.measured.tpp, 16800, 1e-6);
  EXPECT_TRUE(has_flag(m, "measured_above_declared"));
  auto v = assessed_values(m);
  EXPECT_NEAR(*v.at("tpp").number, 16800, 1e-6);
  EXPECT_NE(v.at("tpp").basis.find("above declared"), std::string::npos);
}

TEST(Metrics, EfficiencyBelowDeclared) {
  probe::report::DeviceReport dev;
  dev.info.id = "cuda0";
  dev.info.name = "H100 SXM";
  dev.measurements = {compute("tensor.fp8.wgmma", probe::DType::fp8_e4m3, 1402.6e12)};
  auto m = device_metrics(dev, ChipDatabase::builtin());
  EXPECT_FALSE(has_flag(m, "measured_above_declared"));
  ASSERT_TRUE(m.efficiency);
  EXPECT_NEAR(*m.efficiency, 1402.6 / 1979, 1e-6);
  EXPECT_NEAR(*assessed_values(m).at("tpp").number, 15832, 0.5);  // declared stands when measured is lower
}

TEST(Metrics, DerivedUsesTheVisibleUnits) {
  // A MIG-like slice: 16 SMs visible of an H100's 132.
  probe::DeviceInfo info;
  info.id = "cuda0";
  info.name = "H100 SXM";
  info.arch = "sm_90";
  info.units = 16;
  info.partial = true;
  info.partial_reason = "MIG 1g slice";
  auto m = device_metrics(info, {}, ChipDatabase::builtin());
  EXPECT_NEAR(*m.derived.tpp, 16 * 8192 * 1.83e9 / 1e12 * 8, 1e-6);
  auto v = assessed_values(m);  // a partial device is not assessed on the whole chip's datasheet
  EXPECT_EQ(v.at("tpp").basis, "derived");
}

TEST(Metrics, JsonCarriesAllThreeBases) {
  auto j = to_json(declared("H100 SXM"));
  EXPECT_NEAR(j["bases"]["declared"]["tpp"].get<double>(), 15832, 0.5);
  EXPECT_TRUE(j["bases"]["derived"]["available"].get<bool>());
  EXPECT_FALSE(j["bases"]["measured"]["available"].get<bool>());
  EXPECT_EQ(j["chip"]["id"], "h100-sxm5-80gb");
  EXPECT_TRUE(j["assessed"].contains("tpp"));
}

TEST(Format, NumbersAndPercents) {
  EXPECT_EQ(format_number(15832), "15,832");
  EXPECT_EQ(format_number(4706.8), "4,707");
  EXPECT_EQ(format_number(1234567), "1,234,567");
  EXPECT_EQ(format_number(19.4496), "19.45");
  EXPECT_EQ(format_number(5.92), "5.92");
  EXPECT_EQ(format_number(2), "2");
  EXPECT_EQ(format_number(0.47), "0.47");
  EXPECT_EQ(format_number(989.4), "989.4");
  EXPECT_EQ(format_percent(2.2983), "+230%");
  EXPECT_EQ(format_percent(-0.0194), "-1.9%");
}

namespace {
// What probe's core (measure_safely) records for a median above its own peak; test_rules links only the rules.
void flag_if_above(probe::Measurement& m, bool cpu) {
  const double ratio = m.stats.median / *m.theoretical;
  if (ratio <= 1 + probe::kAboveTheoreticalTolerance) return;
  m.above_theoretical = probe::AboveTheoretical{
      ratio, probe::kAboveTheoreticalTolerance, 0,
      fmt::format("measured above theoretical ({:.0f}% of it, beyond its 0.0% spread + 2% tolerance): {}", ratio * 100,
                  cpu ? "the per-cycle table or the clock is wrong for this CPU"
                      : "the per-unit rate table or the clock is wrong for this device")};
}

probe::Measurement cpu_kernel(std::string id, probe::DType dtype, double median, double theoretical, double clock_hz) {
  probe::Measurement m = compute(std::move(id), dtype, median);
  m.theoretical = theoretical;
  m.theoretical_basis = fmt::format("2 cores × N /cycle × {:.2f} GHz measured", clock_hz / 1e9);
  m.conditions.clock_hz = clock_hz;
  flag_if_above(m, true);
  return m;
}

probe::report::DeviceReport cpu_device(std::vector<probe::Measurement> ms) {
  probe::report::DeviceReport dev;
  dev.info.id = "cpu0";
  dev.info.kind = "cpu";
  dev.info.name = "Intel Xeon (masked model)";
  dev.info.arch = "sapphirerapids";
  dev.info.units = 2;
  dev.measurements = std::move(ms);
  return dev;
}
}  // namespace

TEST(Metrics, CpuDerivedBasisFromThePerKernelTheoreticalPeaks) {
  // FP16 0.728 TFLOPS theoretical × 16 = 11.648 beats FP64 0.118 × 64 = 7.55 and INT8 0.9458 × 8 = 7.57.
  auto dev = cpu_device({cpu_kernel("fma.fp64", probe::DType::fp64, 0.117e12, 0.118e12, 3.69e9),
                         cpu_kernel("fma.fp16", probe::DType::fp16, 0.720e12, 0.728e12, 3.50e9),
                         cpu_kernel("dot.int8", probe::DType::int8, 0.934e12, 0.9458e12, 3.69e9), memory("mem.copy", 50e9)});
  auto m = device_metrics(dev, ChipDatabase::builtin());
  ASSERT_TRUE(m.derived.available) << m.derived.unavailable_reason;
  ASSERT_TRUE(m.derived.tpp);
  EXPECT_NEAR(*m.derived.tpp, 11.648, 1e-9);
  EXPECT_EQ(m.derived.tpp_types, std::vector<PeakType>{PeakType::fp16});
  ASSERT_TRUE(m.derived.clock_mhz);
  EXPECT_NEAR(*m.derived.clock_mhz, 3500, 1e-9);  // the clock the TPP-setting kernel's peak was taken at
  EXPECT_NE(m.derived.note.find("TPP from fma.fp16 at 3.50 GHz"), std::string::npos) << m.derived.note;
  EXPECT_NEAR(*m.measured.tpp, 11.52, 1e-9);
  const std::string t = render_text(m);
  EXPECT_NE(t.find("derived   TPP 11.65 (fp16: fma.fp16)"), std::string::npos) << t;
  EXPECT_NE(t.find("measured  TPP 11.52 (fp16: fma.fp16)"), std::string::npos) << t;
  EXPECT_EQ(t.find("architecture unknown"), std::string::npos) << t;
  EXPECT_FALSE(has_flag(m, "above_theoretical"));
  EXPECT_FALSE(has_flag(m, "measured_above_declared"));
  ASSERT_TRUE(m.efficiency);
  EXPECT_NEAR(*m.efficiency, 11.52 / 11.648, 1e-9);
  // The derived figure (the theoretical peak) is what the rules read: a CPU's measured rate is lower.
  EXPECT_EQ(assessed_values(m).at("tpp").basis, "derived");
  const auto j = to_json(m);
  EXPECT_EQ(j["bases"]["derived"]["rates"][1]["kernel"], "fma.fp16");
  EXPECT_NEAR(j["bases"]["derived"]["rates"][1]["clock_mhz"].get<double>(), 3500, 1e-9);
}

TEST(Metrics, AContradictedTheoreticalIsLeftOutAndNotReadAsTheDeviceDoingMore) {
  // FP64 at 177% of a wrong peak (seen on a masked-model Xeon): measured TPP 0.5 × 64 = 32 over derived 11.648.
  auto dev = cpu_device({cpu_kernel("fma.fp64", probe::DType::fp64, 0.5e12, 0.5e12 / 1.77, 3.69e9),
                         cpu_kernel("fma.fp16", probe::DType::fp16, 0.720e12, 0.728e12, 3.50e9)});
  ASSERT_TRUE(dev.measurements[0].above_theoretical);
  auto m = device_metrics(dev, ChipDatabase::builtin());
  ASSERT_TRUE(m.derived.tpp);
  EXPECT_NEAR(*m.derived.tpp, 11.648, 1e-9);  // fp64's contradicted theoretical is not used
  EXPECT_NE(m.derived.note.find("left out, measured above their own theoretical peak: fma.fp64"), std::string::npos);
  EXPECT_TRUE(has_flag(m, "above_theoretical"));
  EXPECT_TRUE(has_flag(m, "measured_above_contradicted_derived"));
  EXPECT_FALSE(has_flag(m, "measured_above_declared"));
  const std::string t = render_text(m);
  EXPECT_EQ(t.find("the device does more than declared"), std::string::npos) << t;
  EXPECT_NE(t.find("[warning] measured TPP 32 (fp64: fma.fp64) exceeds derived TPP 11.65 by +175%, but the derived basis "
                   "rests on theoretical peaks a measurement contradicts (fma.fp64 measured above theoretical): the "
                   "per-cycle table or the clock is wrong for this CPU"),
            std::string::npos)
      << t;
  EXPECT_NE(t.find("[warning] fma.fp64: measured above theoretical (177% of it"), std::string::npos) << t;

  // Every theoretical contradicted: no derived basis, and it says why.
  auto all_wrong = cpu_device({cpu_kernel("fma.fp64", probe::DType::fp64, 0.5e12, 0.5e12 / 1.77, 3.69e9)});
  auto m2 = device_metrics(all_wrong, ChipDatabase::builtin());
  EXPECT_FALSE(m2.derived.available);
  EXPECT_NE(m2.derived.unavailable_reason.find("contradicted"), std::string::npos) << m2.derived.unavailable_reason;
}

TEST(Metrics, AGpuMeasuredAboveItsOwnPeakDoesNotClaimMoreThanDeclaredAgainstTheDerivedBasis) {
  // No chip entry, an architecture table (sm_90 → hopper) gives the derived basis; a kernel above its own peak
  // means the per-unit table or clock is wrong for this device.
  probe::DeviceInfo info;
  info.id = "cuda0";
  info.kind = "gpu";
  info.name = "Unknown Hopper part";
  info.arch = "sm_90";
  info.units = 16;
  probe::Measurement fp8 = compute("wgmma.fp8_e4m3", probe::DType::fp8_e4m3, 900e12);
  fp8.theoretical = 300e12;
  flag_if_above(fp8, false);
  ASSERT_TRUE(fp8.above_theoretical);
  std::vector<probe::Measurement> ms{fp8};
  auto m = device_metrics(info, ms, ChipDatabase::builtin());
  ASSERT_TRUE(m.derived.tpp);
  ASSERT_TRUE(m.measured.tpp);
  ASSERT_GT(*m.measured.tpp, *m.derived.tpp);
  EXPECT_TRUE(has_flag(m, "measured_above_contradicted_derived"));
  EXPECT_FALSE(has_flag(m, "measured_above_declared"));
  EXPECT_NE(render_text(m).find("the per-unit rate table or the clock is wrong for this device"), std::string::npos);
}
