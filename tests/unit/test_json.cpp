// The JSON report: round trip, schema validity, and clear errors for malformed input.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "assessment.hpp"
#include "json_io.hpp"
#include "printer.hpp"
#include "probe/error.hpp"

using namespace probe;
using namespace probe::report;
namespace fs = std::filesystem;

namespace {

Report sample_report() {
  Report r;
  r.tool_version = "0.1.0";
  r.run_id = "0f8fad5b-d9cb-469f-a165-70867728950e";
  r.command = "probe --report --quick";
  r.budget = "quick";
  r.started_at = "2026-11-25T03:34:29.123Z";
  r.finished_at = "2026-11-25T03:34:33.456Z";
  Inventory& inv = r.inventory;
  inv.hostname = "node7";
  inv.os_name = "Debian GNU/Linux 12 (bookworm)";
  inv.os_release = "12";
  inv.os_version = "#1 SMP";
  inv.kernel = "6.18.0";
  inv.machine = "x86_64";
  inv.hwloc_version = "2.9.0";
  inv.source = "hwloc";
  inv.memory_total_bytes = 24ull << 30;
  inv.packages.push_back(CpuPackage{0, "AuthenticAMD", "AMD EPYC 9654", 25, 17, 1, 2, 2, {0, 1}, {0, 1}, 32u << 20});
  inv.caches.push_back(CacheInfo{1, "data", 32768, 64, 2, 1});
  inv.caches.push_back(CacheInfo{3, "unified", 32u << 20, 64, 1, 2});
  inv.numa_nodes.push_back(NumaNode{0, 6ull << 30});
  PciDevice gpu{PciId{"0000:17:00.0", 0x10de, 0x2330, 0x10de, 0x16c1}, 0x0302, "3D", "NVIDIA Corporation", "GH100"};
  inv.accelerators.push_back(gpu);
  r.backends.push_back(BackendStatus{"cpu", "built-in", true, "", "built in; hwloc 2.9.0", 1});
  r.backends.push_back(BackendStatus{"cuda", "/opt/probe/lib/probe/plugins/probe_backend_cuda.so", false,
                                     "no driver (cudaErrorInsufficientDriver)", "", 0});
  r.plugins.push_back(PluginRecord{"/x/probe_backend_bad.so", "bad", false, "plugin ABI version 99, this probe expects 1"});

  DeviceReport d;
  d.info.id = "cpu0";
  d.info.backend = "cpu";
  d.info.kind = "cpu";
  d.info.name = "AMD EPYC 9654";
  d.info.vendor = "AuthenticAMD";
  d.info.arch = "zen4";
  d.info.units = 2;
  d.info.unit_name = "cores";
  d.info.partial = true;
  d.info.partial_reason = "virtual machine";
  d.info.properties = {{"isa", "avx512f"}, {"cores", "2"}};
  Measurement ok;
  ok.spec = KernelSpec{"fma.fp64", "FP64 FMA", DType::fp64, Unit::ops_per_s, KernelClass::compute, "2 FLOP per FMA lane"};
  ok.status = Status::ok;
  ok.variant = "avx512";
  ok.stats = Stats::from_samples({114.1e9, 114.7e9, 114.5e9, 0.1 + 114.2e9});
  ok.theoretical = 115.2e9;
  ok.theoretical_basis = "2 cores × 16 FLOP/cycle × 3.600 GHz measured";
  ok.conditions = Conditions{"2026-11-25T03:34:29.200Z", "2026-11-25T03:34:30.200Z", 3.6e9, 3.59e9, 3.61e9,
                             "dependent add chain", 3.7e9, 2, {0, 1}, 1000000, 1.92e8, 0.1, 1.0, 0, {{"instruction", "vfmadd231pd zmm"}}};
  ok.conditions.load_average_1min = 0.25;
  Measurement mem = ok;
  mem.spec = KernelSpec{"mem.triad", "Triad", DType::fp64, Unit::bytes_per_s, KernelClass::memory, "STREAM: 24 B"};
  mem.theoretical.reset();
  mem.conditions.working_set_bytes = 3ull * 128 << 20;
  mem.conditions.array_bytes = 128ull << 20;
  mem.conditions.warnings = {"arrays of 128 MiB are under 4x the last-level caches (256 MiB): part of the traffic "
                             "may be served from cache"};
  mem.derived.push_back(DerivedFigure{"with_write_allocate", 4.0e10, "median × 32/24"});
  Measurement skipped;
  skipped.spec = KernelSpec{"fma.fp16", "FP16 FMA", DType::fp16, Unit::ops_per_s, KernelClass::compute, "2 FLOP"};
  skipped.status = Status::skipped;
  skipped.reason = "no native FP16 arithmetic";
  Measurement failed = skipped;
  failed.spec.id = "dot.bf16";
  failed.spec.dtype = DType::bf16;
  failed.status = Status::failed;
  failed.reason = "verification failed (sample 3): lane 2 differs";
  d.measurements = {ok, mem, skipped, failed};
  r.devices.push_back(d);
  r.unmeasured.push_back(UnmeasuredDevice{gpu, "not measured: no runtime (no cuda backend plugin found)"});
  r.conventions = standard_conventions();
  return r;
}

int validate(const fs::path& file) {
  const std::string cmd = std::string(PROBE_PYTHON3) + " " + PROBE_VALIDATOR + " " + PROBE_SCHEMA + " " + file.string();
  return std::system(cmd.c_str());
}

fs::path temp_dir() {
  fs::path d = fs::temp_directory_path() / ("probe_test_json_" + std::to_string(::getpid()));
  fs::create_directories(d);
  return d;
}

}  // namespace

TEST(Json, RoundTripIsExact) {
  const Report r = sample_report();
  const nlohmann::json j = to_json(r);
  const Report back = report_from_json(nlohmann::json::parse(to_json_text(r)), "test");
  EXPECT_EQ(back, r);
  EXPECT_EQ(to_json(back), j);
  EXPECT_TRUE(j["any_failed"].get<bool>());
  EXPECT_TRUE(r.any_failed());
}

TEST(Json, SampleReportIsValidAgainstTheSchema) {
  const fs::path f = temp_dir() / "sample.json";
  write_file_atomically(f, to_json_text(sample_report()));
  EXPECT_EQ(validate(f), 0);
}

TEST(Json, SchemaRejectsAnOkMeasurementWithoutSamples) {
  nlohmann::json j = to_json(sample_report());
  j["devices"][0]["measurements"][0]["stats"] = nullptr;
  const fs::path f = temp_dir() / "bad.json";
  write_file_atomically(f, j.dump());
  EXPECT_NE(validate(f), 0);
}

TEST(Json, MalformedReportsNameTheField) {
  nlohmann::json j = to_json(sample_report());
  j["devices"][0]["measurements"][1]["conditions"]["threads"] = "two";
  try {
    (void)report_from_json(j, "rec.json");
    FAIL() << "expected InputError";
  } catch (const InputError& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("rec.json"), std::string::npos) << m;
    EXPECT_NE(m.find("devices[0].measurements[1].conditions.threads"), std::string::npos) << m;
    EXPECT_NE(m.find("expected an integer"), std::string::npos) << m;
  }
  j = to_json(sample_report());
  j["devices"][0]["measurements"][0]["kernel"]["dtype"] = "fp128";
  EXPECT_THROW((void)report_from_json(j, "rec.json"), InputError);
  j = to_json(sample_report());
  j.erase("inventory");
  EXPECT_THROW((void)report_from_json(j, "rec.json"), InputError);
  j = to_json(sample_report());
  j["schema_version"] = 99;
  EXPECT_THROW((void)report_from_json(j, "rec.json"), InputError);
  EXPECT_THROW((void)report_from_json(nlohmann::json::array(), "rec.json"), InputError);
}

TEST(Json, AtomicWriteLeavesNothingBehindOnFailure) {
  const fs::path missing = temp_dir() / "no" / "such" / "dir" / "r.json";
  EXPECT_THROW(write_file_atomically(missing, "{}"), InputError);
  EXPECT_FALSE(fs::exists(missing));
  const fs::path ok = temp_dir() / "atomic.json";
  write_file_atomically(ok, "first");
  write_file_atomically(ok, "second");
  std::ifstream in(ok);
  std::string content((std::istreambuf_iterator<char>(in)), {});
  EXPECT_EQ(content, "second");
  int files = 0;
  for (const auto& e : fs::directory_iterator(ok.parent_path())) files += e.path().filename().string().starts_with(".atomic") ? 1 : 0;
  EXPECT_EQ(files, 0);  // no temporary left
}

TEST(TextPrinter, ShowsTablesStatusesAndConventions) {
  const std::string t = make_printer(Format::text)->render(sample_report());
  EXPECT_NE(t.find("FP64 FMA"), std::string::npos);
  EXPECT_NE(t.find("114.4 GFLOP/s"), std::string::npos) << t;  // the median
  EXPECT_NE(t.find("115.2 GFLOP/s"), std::string::npos);
  EXPECT_NE(t.find("99.3%"), std::string::npos);
  EXPECT_NE(t.find("skipped: no native FP16 arithmetic"), std::string::npos);
  EXPECT_NE(t.find("failed: verification failed"), std::string::npos);
  EXPECT_NE(t.find("not measured: no runtime"), std::string::npos);
  EXPECT_NE(t.find("40 GB/s"), std::string::npos);  // with write-allocate
  EXPECT_NE(t.find("partial: virtual machine"), std::string::npos);
  EXPECT_NE(t.find("STREAM"), std::string::npos);
  EXPECT_NE(t.find("exit status 1"), std::string::npos);
}

TEST(Report, UnmeasuredAcceleratorsNameTheMissingRuntime) {
  Report r = sample_report();
  auto un = unmeasured_accelerators(r.inventory, r.devices, r.backends);
  ASSERT_EQ(un.size(), 1u);
  EXPECT_NE(un[0].reason.find("cuda backend: no driver"), std::string::npos) << un[0].reason;
  r.backends.pop_back();
  un = unmeasured_accelerators(r.inventory, r.devices, r.backends);
  EXPECT_NE(un[0].reason.find("no cuda backend plugin found"), std::string::npos);
  r.devices[0].info.pci = r.inventory.accelerators[0].id;  // a device on that bus id: measured
  EXPECT_TRUE(unmeasured_accelerators(r.inventory, r.devices, r.backends).empty());
}

TEST(Printer, RatesAndBytesAreHumanReadable) {
  EXPECT_EQ(format_rate(114.7e9, Unit::ops_per_s, DType::fp64), "114.7 GFLOP/s");
  EXPECT_EQ(format_rate(931e9, Unit::ops_per_s, DType::int8), "931 GOP/s");
  EXPECT_EQ(format_rate(4.8e12, Unit::bytes_per_s, DType::fp64), "4.8 TB/s");
  EXPECT_EQ(format_bytes(32u << 20), "32 MiB");
  EXPECT_EQ(format_bytes(100), "100 B");
  EXPECT_FALSE(format_from_string("xml"));
}

TEST(Json, AboveTheoreticalIsCarriedWithheldInTextAndRecomputedForOlderReports) {
  Report r = sample_report();
  Measurement& m = r.devices[0].measurements[0];  // fma.fp64, spread ~0.2%
  m.theoretical = m.stats.median / 1.77;           // a wrong peak, as on a masked-model Xeon
  m.above_theoretical = check_above_theoretical(m, "cpu");
  ASSERT_TRUE(m.above_theoretical);
  EXPECT_NEAR(m.above_theoretical->ratio, 1.77, 1e-9);

  const Report back = report_from_json(nlohmann::json::parse(to_json_text(r)), "test");
  EXPECT_EQ(back, r);
  const fs::path f = temp_dir() / "above.json";
  write_file_atomically(f, to_json_text(r));
  EXPECT_EQ(validate(f), 0);

  // A report written before the field existed: the same rule is applied on reading.
  nlohmann::json old = to_json(r);
  for (auto& x : old["devices"][0]["measurements"]) x.erase("above_theoretical");
  EXPECT_EQ(report_from_json(old, "old.json"), r);

  const std::string t = make_printer(Format::text)->render(r);
  EXPECT_NE(t.find("withheld"), std::string::npos) << t;
  EXPECT_EQ(t.find("177.0%"), std::string::npos) << t;  // no "% peak" of a contradicted peak
  EXPECT_NE(t.find("warning: fma.fp64: measured above theoretical (177% of it"), std::string::npos) << t;
  EXPECT_NE(t.find("the per-cycle table or the clock is wrong for this CPU"), std::string::npos) << t;
}

TEST(Json, WithinSpreadAndToleranceIsNotFlagged) {
  Report r = sample_report();
  Measurement& m = r.devices[0].measurements[0];
  m.theoretical = m.stats.median / (1.01 + m.stats.rel_spread);
  EXPECT_FALSE(check_above_theoretical(m, "cpu"));
  nlohmann::json old = to_json(r);
  old["devices"][0]["measurements"][0].erase("above_theoretical");
  EXPECT_FALSE(report_from_json(old, "old.json").devices[0].measurements[0].above_theoretical);
  EXPECT_EQ(make_printer(Format::text)->render(r).find("withheld"), std::string::npos);
}

TEST(Report, AcceleratorsLeftOutByTheDeviceFilterSaySo) {
  Report r = sample_report();
  r.backends[1] = BackendStatus{"cuda", "/x/probe_backend_cuda.so", true, "", "CUDA 12.4", 1};
  DeviceInfo h100;
  h100.id = "cuda0";
  h100.backend = "cuda";
  h100.pci = r.inventory.accelerators[0].id;
  const auto un = unmeasured_accelerators(r.inventory, r.devices, r.backends, {h100}, "--device cpu0");
  ASSERT_EQ(un.size(), 1u);
  EXPECT_EQ(un[0].reason.find("not selected (--device cpu0)"), 0u) << un[0].reason;
  EXPECT_EQ(un[0].reason.find("no runtime"), std::string::npos) << un[0].reason;
  // Not deselected, and the backend runs: it did not see the device; still not "no runtime".
  const auto un2 = unmeasured_accelerators(r.inventory, r.devices, r.backends);
  EXPECT_NE(un2[0].reason.find("found no device at this bus id"), std::string::npos) << un2[0].reason;
  EXPECT_EQ(un2[0].reason.find("no runtime"), std::string::npos) << un2[0].reason;
}

TEST(Assessment, AnUnmeasuredH100OnTheBusCountsInTheNodeOnTheDeclaredBasis) {
  const Report r = sample_report();  // cpu0 measured; an H100 SXM (10de:2330) on the bus, CUDA without a driver
  Assessment a(AssessmentOptions{});
  a.assess(r);
  ASSERT_EQ(a.unmeasured().size(), 1u);
  ASSERT_TRUE(a.unmeasured()[0].assessed);
  ASSERT_FALSE(a.node().empty());
  const auto& node = a.node()[0];
  EXPECT_EQ(node.classification, "4A090.a") << node.summary;
  EXPECT_NE(node.summary.find("counted from the chip database by PCI id (declared basis, not measured): 0000:17:00.0 NVIDIA "
                              "H100 SXM (pci 10de:2330): 3A090.a"),
            std::string::npos)
      << node.summary;
  const std::string t = make_printer(Format::text)->render(r, &a);
  EXPECT_NE(t.find("0000:17:00.0 NVIDIA H100 SXM (pci 10de:2330): not measured; declared TPP 15,832"), std::string::npos) << t;
  const fs::path f = temp_dir() / "assessed.json";
  write_file_atomically(f, to_json_text(r, &a));
  EXPECT_EQ(validate(f), 0);
  const auto j = nlohmann::json::parse(to_json_text(r, &a));
  EXPECT_EQ(j["unmeasured"][0]["control"]["metrics"]["chip"]["id"], "h100-sxm5-80gb");
  EXPECT_FALSE(j["node_verdicts"][0]["notes"].empty());
  EXPECT_EQ(report_from_json(j, "assessed.json"), r);  // the assessment is recomputed, not read back
}

// A BMC's ASPEED VGA (1a03:2000, class 0x0300) is on almost every server's bus: named for what it is, not counted,
// and the node verdict stays "not 4A090" rather than "not evaluable: at least 0". An unknown accelerator next to it
// still makes the count a lower bound.
TEST(Assessment, ABmcDisplayControllerIsNamedNotCounted) {
  Report r = sample_report();
  PciDevice bmc{PciId{"0000:03:00.0", 0x1a03, 0x2000, 0x15d9, 0x1b95}, 0x0300, "VGA", "ASPEED Technology, Inc.",
                "ASPEED Graphics Family"};
  r.inventory.accelerators = {bmc};
  r.unmeasured = {UnmeasuredDevice{bmc, "not measured: no runtime (no backend for this vendor)"}};
  Assessment a(AssessmentOptions{});
  a.assess(r);
  ASSERT_EQ(a.unmeasured().size(), 1u);
  ASSERT_TRUE(a.unmeasured()[0].non_processor);
  EXPECT_FALSE(a.unmeasured()[0].assessed);
  ASSERT_FALSE(a.node().empty());
  const auto& node = a.node()[0];
  EXPECT_EQ(node.outcome, probe::rules::Outcome::not_matched) << node.summary;
  EXPECT_EQ(node.summary.find("at least"), std::string::npos) << node.summary;
  EXPECT_NE(node.summary.find("1 PCI device(s) not counted, not processors: 0000:03:00.0 ASPEED Graphics Family (pci "
                              "1a03:2000): BMC display controller"),
            std::string::npos)
      << node.summary;
  const std::string t = make_printer(Format::text)->render(r, &a);
  EXPECT_NE(t.find("  0000:03:00.0 ASPEED Graphics Family (pci 1a03:2000): BMC display controller (ASPEED "
                   "AST2400/AST2500/AST2600 server management SoCs), not a processor (chips.json (built-in) "
                   "non_processors; sources: PCIIDS-2023, ASPEED-AST2600, LINUX-AST): not counted\n"),
            std::string::npos)
      << t;
  const fs::path f = temp_dir() / "bmc.json";
  write_file_atomically(f, to_json_text(r, &a));
  EXPECT_EQ(validate(f), 0);
  const auto j = nlohmann::json::parse(to_json_text(r, &a));
  const auto& np = j["unmeasured"][0]["non_processor"];
  EXPECT_EQ(np["counted"], false);
  EXPECT_EQ(np["name"], "ASPEED Graphics Family");
  EXPECT_EQ(np["pci_ids"]["source"], "PCIIDS-2023");
  EXPECT_TRUE(j["unmeasured"][0]["control"].is_null());
  EXPECT_EQ(report_from_json(j, "bmc.json"), r);

  // An accelerator nobody knows next to it: a lower bound again, and the BMC still not counted.
  PciDevice unknown{PciId{"0000:65:00.0", 0x1d22, 0x3684, 0x1d22, 0x3684}, 0x1200, "ProcessingAccelerator",
                    "Baidu Technology", "Kunlun AI Accelerator"};
  r.inventory.accelerators.push_back(unknown);
  r.unmeasured.push_back(UnmeasuredDevice{unknown, "not measured: no runtime (no backend for this vendor)"});
  a.assess(r);
  const auto& node2 = a.node()[0];
  EXPECT_EQ(node2.outcome, probe::rules::Outcome::not_evaluable) << node2.summary;
  EXPECT_NE(node2.summary.find("not evaluable: at least 0 3A090.a and 0 3A090.b device(s) in the node; 1 accelerator(s) "
                               "not assessed: 0000:65:00.0 1d22:3684 Kunlun AI Accelerator"),
            std::string::npos)
      << node2.summary;
  EXPECT_NE(node2.summary.find("not counted, not processors: 0000:03:00.0 ASPEED"), std::string::npos) << node2.summary;
  const fs::path f2 = temp_dir() / "bmc_unknown.json";
  write_file_atomically(f2, to_json_text(r, &a));
  EXPECT_EQ(validate(f2), 0);
}

TEST(Assessment, AnUnknownAcceleratorMakesTheNodeCountALowerBound) {
  Report r = sample_report();
  PciDevice unknown{PciId{"0000:65:00.0", 0x1e52, 0x0001, 0, 0}, 0x1200, "ProcessingAccelerator", "", ""};
  r.inventory.accelerators = {unknown};
  r.unmeasured = {UnmeasuredDevice{unknown, "not measured: no runtime (no backend for this vendor)"}};
  Assessment a(AssessmentOptions{});
  a.assess(r);
  ASSERT_FALSE(a.node().empty());
  const auto& node = a.node()[0];
  EXPECT_EQ(node.outcome, probe::rules::Outcome::not_evaluable) << node.summary;
  EXPECT_NE(node.summary.find("not evaluable: at least 0 3A090.a and 0 3A090.b device(s) in the node; 1 accelerator(s) "
                              "not assessed: 0000:65:00.0 1e52:0001 ProcessingAccelerator (not in the chip database; "
                              "not measured: no runtime (no backend for this vendor))"),
            std::string::npos)
      << node.summary;
  const fs::path f = temp_dir() / "unknown.json";
  write_file_atomically(f, to_json_text(r, &a));
  EXPECT_EQ(validate(f), 0);
}

// A kernel that ran at a licence clock below the scalar clock around it says so, and names both clocks; one at
// the scalar clock does not.
TEST(TextPrinter, NamesAKernelThatRanBelowTheScalarClock) {
  Report r = sample_report();
  Measurement& m = r.devices.at(0).measurements.at(0);
  ASSERT_EQ(m.spec.kind, KernelClass::compute);
  m.conditions.clock_hz_scalar = m.conditions.clock_hz;
  EXPECT_EQ(make_printer(Format::text)->render(r).find("below the scalar clock during the kernel"), std::string::npos);
  m.conditions.clock_hz_scalar = m.conditions.clock_hz * 1.25;
  const std::string t = make_printer(Format::text)->render(r);
  EXPECT_NE(t.find("below the scalar clock during the kernel (licence clock)"), std::string::npos) << t;
  EXPECT_NE(t.find(fmt::format("{} {:.2f} GHz ({:.2f} GHz scalar)", m.spec.id, m.conditions.clock_hz / 1e9,
                               m.conditions.clock_hz * 1.25 / 1e9)),
            std::string::npos)
      << t;
}

// The device section says how a CPU was identified and what contradicted the model number.
TEST(TextPrinter, ShowsHowTheCpuWasIdentified) {
  Report r = sample_report();
  auto& p = r.devices.at(0).info.properties;
  p.emplace_back("identification", "intel-sapphire-rapids (Intel Sapphire Rapids)");
  p.emplace_back("identification_method", "features (model treated as masked)");
  p.emplace_back("contradiction", "CPUID model 167 (Rocket Lake) contradicts AMX-TILE: model treated as masked");
  const std::string t = make_printer(Format::text)->render(r);
  EXPECT_NE(t.find("identified: intel-sapphire-rapids (Intel Sapphire Rapids) (features (model treated as masked))"),
            std::string::npos)
      << t;
  EXPECT_NE(t.find("contradiction: CPUID model 167 (Rocket Lake) contradicts AMX-TILE"), std::string::npos) << t;
}

TEST(Json, AnInterruptedReportRoundTripsAndIsValid) {
  Report r = sample_report();
  r.status = "interrupted";
  r.interrupted_by = "SIGINT";
  r.not_reached = {{"cuda0", "mma.bf16"}, {"cuda1", "fma.fp32"}};
  r.watchdog = Watchdog{2, "--kernel-timeout"};
  Measurement& m = r.devices.front().measurements.front();
  m.status = Status::failed;
  m.reason = "worker crashed: SIGSEGV while measuring " + m.spec.id;
  m.stats = {};
  m.device_aborted = true;
  const Report back = report_from_json(nlohmann::json::parse(to_json_text(r)), "test");
  EXPECT_EQ(back, r);
  const fs::path f = temp_dir() / "interrupted.json";
  write_file_atomically(f, to_json_text(r));
  EXPECT_EQ(validate(f), 0);
  EXPECT_NE(make_printer(Format::text)->render(r).find("INTERRUPTED by SIGINT"), std::string::npos);
}

TEST(Json, AReportWrittenBeforeInterruptsReadsAsComplete) {
  nlohmann::json j = to_json(sample_report());
  for (const char* k : {"status", "interrupted_by", "not_reached", "watchdog"}) j.erase(k);
  const Report back = report_from_json(j, "old.json");
  EXPECT_EQ(back.status, "complete");
  EXPECT_TRUE(back.not_reached.empty());
  EXPECT_FALSE(back.watchdog.has_value());
  j["status"] = "paused";
  try {
    static_cast<void>(report_from_json(j, "old.json"));
    FAIL() << "an unknown status must be refused";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("status"), std::string::npos) << e.what();
  }
}

// Before schema 1.2 the array size, the load average and the warnings were notes: a recorded report of then reads
// into the typed fields, and prints as it did.
TEST(Json, ConditionNotesOfOlderReportsBecomeTypedFields) {
  const Report r = sample_report();
  nlohmann::json j = to_json(r);
  j.erase("run_id");
  for (auto& m : j["devices"][0]["measurements"]) {
    auto& c = m["conditions"];
    nlohmann::json notes = c["notes"];
    if (c["array_bytes"].get<std::uint64_t>() > 0) {
      notes.push_back({{"key", "array_bytes"}, {"value", std::to_string(c["array_bytes"].get<std::uint64_t>())}});
    }
    for (const auto& w : c["warnings"]) notes.push_back({{"key", "warning"}, {"value", w}});
    notes.push_back({{"key", "load_average_1min"}, {"value", c["load_average_1min"].is_null() ? "unknown" : "0.25"}});
    c["notes"] = notes;
    for (const char* k : {"array_bytes", "load_average_1min", "warnings"}) c.erase(k);
  }
  const Report back = report_from_json(j, "old.json");
  ASSERT_EQ(back.devices.size(), 1u);
  const auto& ms = back.devices[0].measurements;
  EXPECT_EQ(ms[1].conditions.array_bytes, 128ull << 20);
  EXPECT_EQ(ms[1].conditions.warnings, r.devices[0].measurements[1].conditions.warnings);
  EXPECT_EQ(ms[0].conditions.load_average_1min, std::optional<double>(0.25));
  EXPECT_TRUE(back.run_id.empty());
  for (std::size_t i = 0; i < ms.size(); ++i) {
    EXPECT_EQ(ms[i].conditions.notes, r.devices[0].measurements[i].conditions.notes) << "notes taken over stay out";
  }
  const std::string text = make_printer(Format::text)->render(back);
  EXPECT_NE(text.find("arrays of 128 MiB each"), std::string::npos) << text;
  EXPECT_NE(text.find("warning: arrays of 128 MiB are under 4x"), std::string::npos) << text;
  // A note that is not a byte count is refused, naming the field.
  j["devices"][0]["measurements"][1]["conditions"]["notes"].push_back({{"key", "array_bytes"}, {"value", "12x"}});
  try {
    static_cast<void>(report_from_json(j, "old.json"));
    FAIL() << "expected InputError";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("devices[0].measurements[1].conditions.notes"), std::string::npos) << e.what();
  }
}

TEST(TextPrinter, WarningsAndArraySizeComeFromTypedConditions) {
  Report r = sample_report();
  const std::string text = make_printer(Format::text)->render(r);
  EXPECT_NE(text.find("arrays of 128 MiB each"), std::string::npos) << text;
  EXPECT_EQ(text.find("warning: arrays of 128 MiB are under 4x"), text.rfind("warning: arrays of 128 MiB are under 4x"))
      << "printed once";
  const std::string md = make_printer(Format::markdown)->render(r);
  EXPECT_NE(md.find("warning: arrays of 128 MiB are under 4x"), std::string::npos);
  const std::string html = make_printer(Format::html)->render(r);
  EXPECT_NE(html.find("warning: arrays of 128 MiB are under 4x"), std::string::npos);
  EXPECT_NE(html.find("0f8fad5b-d9cb-469f-a165-70867728950e"), std::string::npos) << "run id in the header";
  // A noisy measurement names the load average recorded when it began.
  r.devices[0].measurements[0].stats = Stats::from_samples({100e9, 120e9, 110e9, 90e9});
  const std::string noisy = make_printer(Format::text)->render(r);
  EXPECT_NE(noisy.find("(load average 0.25)"), std::string::npos) << noisy;
}

// The sustained phase (--sustain): typed in the report, round-trips, valid against the schema, in every printer.
TEST(Json, SustainedPhaseRoundTripsIsValidAndIsPrinted) {
  Report r = sample_report();
  Measurement& m = r.devices[0].measurements[0];  // fma.fp64, theoretical 115.2 G
  SustainedPhase p;
  p.requested_s = 10;
  p.kernel_s = 9.9;
  p.wall_s = 10.0;
  p.launches = 99;
  p.value = 110.0e9;
  p.theoretical = 115.2e9;  // the peak at the phase's clock (here the sampling's)
  p.verified_after = true;
  p.sensors = "NVML every 20 ms on a sampler thread";
  p.sample_rate_hz = 49.0;
  p.core_clock_hz = trace_of({1.755e9, 1.785e9, 1.815e9});
  p.memory_clock_hz = trace_of({2.619e9});
  p.power_w = trace_of({650, 700});
  p.temperature_c = trace_of({60, 64});
  p.clock_event_reasons = {"GPU idle", "software power cap"};
  m.sustained = p;
  Measurement& hot = r.devices[0].measurements[1];
  SustainedPhase q = p;
  q.throttled_by = {"hardware thermal slowdown"};
  hot.sustained = q;

  const Report back = report_from_json(nlohmann::json::parse(to_json_text(r)), "test");
  EXPECT_EQ(back, r);
  EXPECT_EQ(back.devices[0].measurements[0].sustained->core_clock_hz.median, 1.785e9);
  const fs::path f = temp_dir() / "sustained.json";
  write_file_atomically(f, to_json_text(r));
  EXPECT_EQ(validate(f), 0);
  // Absent without a phase (older reports read as before).
  EXPECT_FALSE(to_json(sample_report())["devices"][0]["measurements"][0].contains("sustained"));

  const std::string t = make_printer(Format::text)->render(r);
  EXPECT_NE(t.find("Sustained phase"), std::string::npos) << t;
  EXPECT_NE(t.find("1.755 / 1.785 / 1.815"), std::string::npos) << t;
  EXPECT_NE(t.find("95.5%"), std::string::npos) << t;  // 110 / 115.2, the peak at the phase's clock
  EXPECT_NE(t.find("GPU idle, software power cap"), std::string::npos) << t;
  EXPECT_NE(t.find("hardware thermal slowdown"), std::string::npos) << t;
  for (const Format fm : {Format::markdown, Format::html}) {
    const std::string o = make_printer(fm)->render(r);
    EXPECT_NE(o.find("Sustained phase"), std::string::npos) << to_string(fm);
    EXPECT_NE(o.find("hardware thermal slowdown"), std::string::npos) << to_string(fm);
  }
}
