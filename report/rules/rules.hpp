#pragma once
// Control parameters (TPP, performance density, bandwidths), the chip database and versioned rulesets:
// everything needed to state a device in export-control terms (US 3A090 / 4A090, EU 3A501.a.16 / 4A507, the UK,
// Japanese and Korean lists, Sec. 232 tariff bands, APP, the "supercomputer" share) and explain why.
//
// Data flows one way and every stage is a pure function:
//   ChipDatabase (data/chips.json)  ─┐
//   DeviceReport (measurements)     ─┼─> DeviceMetrics (declared · derived · measured) ─> MetricValues
//   Overrides (--die-area, ...)     ─┘                                                    │
//   RuleBook (data/rules/*.json) ───────────────────────────────> evaluate() ─> Verdict ─┴─> evaluate_node()
//
// No threshold lives in C++: every number a verdict compares against comes from a rules file, with its
// source. Malformed data files throw probe::InputError naming the file, the entry and the field.
//
// Typical use (CLI):
//   const auto& db = probe::rules::ChipDatabase::builtin();          // or ChipDatabase::load_file(--chipdb)
//   auto book = probe::rules::RuleBook::builtin();                    // + book.add(load_ruleset_file(--rules))
//   auto sets = book.select(ids);                                     // empty ids: every ruleset in force
//   for (auto& dev : report.devices) {
//     auto m = probe::rules::device_metrics(dev, db, overrides);      // finds the chip by PCI id, then name
//     auto verdicts = probe::rules::evaluate(sets, m);                // device-scope rulesets only
//     std::cout << probe::rules::render_text(m) << probe::rules::render_text(verdicts);
//   }
//   auto node = probe::rules::evaluate_node(book.select_node(ids), all_device_verdicts);
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "probe/device.hpp"
#include "probe/dtype.hpp"
#include "probe/measurement.hpp"

namespace probe::report {
struct DeviceReport;  // report/report.hpp
}

namespace probe::rules {

// ───────────────────────────── data types of the peaks ─────────────────────────────

// The data types a datasheet peak, an architecture rate or a measurement is given for. fp64_tensor is the
// matrix-engine FP64 path where it is separate from the vector one (A100, H100, MI250X, MI300X).
enum class PeakType : std::uint8_t { fp64, fp64_tensor, fp32, tf32, fp16, bf16, fp8, int8, int4, fp4 };

inline constexpr PeakType kPeakTypes[] = {PeakType::fp64, PeakType::fp64_tensor, PeakType::fp32, PeakType::tf32,
                                          PeakType::fp16, PeakType::bf16,        PeakType::fp8,  PeakType::int8,
                                          PeakType::int4, PeakType::fp4};

[[nodiscard]] std::string_view to_string(PeakType t) noexcept;
[[nodiscard]] std::optional<PeakType> peak_type_from_string(std::string_view s) noexcept;
// The operand width TPP multiplies by: probe::bit_length of the matching DType (TF32 counts 32, FP8 8).
[[nodiscard]] int bit_length(PeakType t) noexcept;
// A measured kernel's dtype as a peak type (fp8_e4m3/fp8_e5m2 -> fp8); nullopt for DType::none.
[[nodiscard]] std::optional<PeakType> peak_type_from_dtype(DType d) noexcept;

// ───────────────────────────── the chip database ─────────────────────────────

// A figure with where it comes from. value empty = unknown, and then `note` says why; never invented.
template <class T>
struct Sourced {
  std::optional<T> value;
  std::string source;  // key into ChipDatabase::sources() ("E", "K", "B", "Z", ...); empty when unknown
  std::string note;
  [[nodiscard]] bool known() const noexcept { return value.has_value(); }
};

struct PciMatch {
  std::uint16_t vendor = 0, device = 0;
  std::optional<std::uint16_t> subvendor, subdevice;  // only where SKUs share a device id
  std::string source, note;
};

struct Source {
  std::string key, title, url;
};

struct Chip {
  std::string id;      // "h100-sxm5-80gb": stable, unique
  std::string vendor;  // "NVIDIA"
  std::string name;    // "H100 SXM"
  std::vector<std::string> aliases;  // "H100-SXM5-80GB", "NVIDIA H100 80GB HBM3", ...
  std::string architecture;          // key into the architecture tables; empty when none
  std::vector<PciMatch> pci;
  std::string pci_note;              // why an id is left out
  Sourced<bool> datacenter;          // designed or marketed for data centers (Note 2 to 3A090)
  Sourced<int> units;                // SMs, CUs, MMEs
  std::string unit_kind;             // "SM", "CU", "MME"
  Sourced<double> clock_mhz;         // the clock the datasheet tensor peaks use
  std::map<PeakType, Sourced<double>> peaks_tops;  // DENSE TFLOPS/TOPS per type (2 ops per multiply-add)
  Sourced<std::string> memory_type;
  Sourced<double> memory_gb, memory_bw_gbs;        // capacity; total DRAM/HBM bandwidth at datasheet peak
  Sourced<double> die_area_mm2;      // applicable die area: non-planar logic dies summed, HBM excluded
  Sourced<double> hbm_area_mm2;      // HBM stack/package area, for HBM bandwidth density
  Sourced<double> io_bw_bidir_gbs;   // aggregate bidirectional I/O (the 2022 rule)
  // Chip-to-chip interconnect (NVLink, xGMI, ...) at datasheet peak, as the vendor states it (SAFE Chips Act):
  // not measured by probe yet, so always the declared basis. Optional in chips.json.
  Sourced<double> interconnect_bw_gbs;
  std::string note;

  [[nodiscard]] std::string display_name() const { return vendor + " " + name; }
};

// A PCI device, listed as an accelerator by its class (display 0x03xx), that is known not to be a processor of any
// kind: the 2D VGA function of a server's management controller (ASPEED AST2x00, the Matrox G200e family). The
// node's 4A090 count lists it as what it is and does not count it. Exact vendor:device ids only.
struct NonProcessor {
  std::uint16_t vendor = 0, device = 0;
  std::string vendor_name;              // "ASPEED"
  std::string name;                     // "ASPEED Graphics Family" (as pci.ids names it)
  std::string role;                     // "BMC display controller (ASPEED AST2400/AST2500/AST2600 ...)"
  std::string pci_ids_source;           // key into sources: the pci.ids version quoted
  std::string pci_ids_text;             // the pci.ids entry's vendor and device lines
  std::vector<std::string> references;  // keys into sources: vendor pages, drivers
  std::string note;
};

// Dense operations per clock per unit, per type, for the derived basis.
struct Architecture {
  std::string id;         // "hopper"
  std::string name;       // "NVIDIA Hopper GH100"
  std::string unit_kind;  // "SM"
  std::vector<std::string> device_arch;  // DeviceInfo::arch values that mean this architecture ("sm_90")
  Sourced<double> reference_clock_mhz;   // used when a SKU's own tensor clock is unknown (named in the output)
  std::map<PeakType, Sourced<double>> ops_per_clock_per_unit;
  std::string note;
};

class ChipDatabase {
 public:
  // Parses chips.json text; `file_name` names the file in error messages ("chips.json (built-in)").
  // Throws InputError naming the file, the entry and the field for any defect.
  [[nodiscard]] static ChipDatabase parse(std::string_view text, std::string_view file_name);
  [[nodiscard]] static ChipDatabase load_file(const std::filesystem::path& path);  // --chipdb FILE
  // The copy compiled into the binary (data/chips.json); parsed once.
  [[nodiscard]] static const ChipDatabase& builtin();

  [[nodiscard]] std::span<const Chip> chips() const noexcept { return m_chips; }
  [[nodiscard]] std::span<const Architecture> architectures() const noexcept { return m_architectures; }
  [[nodiscard]] const std::map<std::string, Source>& sources() const noexcept { return m_sources; }
  [[nodiscard]] std::span<const NonProcessor> non_processors() const noexcept { return m_non_processors; }

  // By PCI ids: an entry with a subsystem wins over one without; nullptr when unknown.
  [[nodiscard]] const Chip* find_pci(std::uint16_t vendor, std::uint16_t device, std::uint16_t subvendor = 0,
                                     std::uint16_t subdevice = 0) const noexcept;
  [[nodiscard]] const Chip* find_pci(const PciId& id) const noexcept;
  // A device known not to be a processor (a BMC's display controller), by exact vendor:device; nullptr otherwise.
  [[nodiscard]] const NonProcessor* find_non_processor(std::uint16_t vendor, std::uint16_t device) const noexcept;
  [[nodiscard]] const NonProcessor* find_non_processor(const PciId& id) const noexcept;
  // By id, name, "vendor name" or alias; case-insensitive, spaces/dashes/underscores equivalent
  // ("h100 sxm", "H100-SXM5-80GB", "NVIDIA H100 SXM"). nullptr when unknown.
  [[nodiscard]] const Chip* find_name(std::string_view name) const;
  // Both: PCI first (exact), then the device name.
  [[nodiscard]] const Chip* find(const DeviceInfo& info) const;
  [[nodiscard]] const Architecture* find_architecture(std::string_view id) const noexcept;
  // By DeviceInfo::arch ("sm_90", "gfx942").
  [[nodiscard]] const Architecture* find_architecture_for_device_arch(std::string_view arch) const noexcept;
  [[nodiscard]] const Source* find_source(std::string_view key) const noexcept;

  [[nodiscard]] const std::string& file_name() const noexcept { return m_file_name; }
  [[nodiscard]] const std::string& sha256() const noexcept { return m_sha256; }  // of the file's text

 private:
  std::vector<Chip> m_chips;
  std::vector<Architecture> m_architectures;
  std::map<std::string, Source> m_sources;
  std::vector<NonProcessor> m_non_processors;
  std::map<std::string, std::size_t> m_names;  // normalised name -> index into m_chips
  std::string m_file_name, m_sha256;
};

// ───────────────────────────── metrics on three bases ─────────────────────────────

enum class Basis : std::uint8_t { declared, derived, measured };
[[nodiscard]] std::string_view to_string(Basis b) noexcept;

// One data type's dense rate on one basis.
struct TypeRate {
  PeakType type{};
  double tops = 0;   // dense T(FL)OPS, 2 ops per multiply-add
  int bits = 0;      // operand bit length
  double tpp = 0;    // tops × bits
  std::string from;  // "datasheet (E)", "132 SM × 8192 /clk × 1830 MHz", "kernel tensor.bf16.wgmma"
  std::string kernel;  // the kernel behind the rate (measured; a CPU's derived): "fma.fp16"; empty for tables
  std::optional<double> clock_mhz;  // a CPU's derived rate: the clock measured during that kernel
};

struct BasisMetrics {
  Basis basis = Basis::declared;
  bool available = false;
  std::string unavailable_reason;  // "no chip database entry", "no measured compute kernel"
  std::vector<TypeRate> rates;
  std::optional<double> tpp;
  std::vector<PeakType> tpp_types;  // the type(s) that set the TPP (ties listed: H100 fp8 and int8)
  std::optional<double> pd;         // TPP / applicable die area
  std::string pd_note;              // "die area unknown: PD not computed"
  std::optional<double> hbm_bw_density;  // GB/s per mm² of HBM stack/package
  std::string hbm_note;
  std::optional<double> fp64_tflops;  // highest FP64 rate (vector or matrix path): APP and "supercomputer"
  std::optional<double> fp32_tflops;  // FP32 (not TF32): "supercomputer"
  std::optional<double> total_dram_bw_gbs;
  std::string dram_note;            // measured: which kernel gave it ("best of copy/triad: mem.triad")
  std::optional<double> clock_mhz;  // derived: the clock used, always named
  std::string clock_note;
  std::string note;
};

struct Flag {
  std::string id;        // "derived_vs_declared", "measured_above_declared", "partial", "clock_fallback",
                         // "above_theoretical", "measured_above_contradicted_derived"
  std::string severity;  // "info", "warning", "red"
  std::string text;
  std::optional<double> value;  // the relative difference or ratio behind it
};

// Inputs that no measurement can give: --die-area MM2, --datacenter yes|no, and a clock for the derived basis.
struct Overrides {
  std::optional<double> die_area_mm2;
  std::optional<bool> datacenter;
  std::optional<double> derive_clock_mhz;  // e.g. 1980 to see H100 SXM at its max boost clock
  std::optional<double> io_bw_bidir_gbs;
  std::optional<double> hbm_area_mm2;
  // The volume a system's computing elements occupy, in cubic feet: an input of the "supercomputer" test
  // (15 CFR 772.1), never measurable. Node level.
  std::optional<double> envelope_ft3;
  // Whether the processor is a "vector processor" (APP's W = 0.9 instead of 0.3): --vector-processor yes|no.
  std::optional<bool> vector_processor;
};

struct DeviceMetrics {
  std::string device_id;    // "cuda0", or the chip id for classify --chip
  std::string device_name;
  const Chip* chip = nullptr;  // matched database entry (points into the ChipDatabase used)
  std::string chip_match;      // "pci 10de:2330", "name", "" when none
  bool partial = false;        // TPP of what is visible (a VM's cores, a MIG slice), not the whole chip's
  std::string partial_reason;
  BasisMetrics declared, derived, measured;
  std::optional<double> die_area_mm2;  // the applicable die area used, and where it came from
  std::string die_area_source;
  std::optional<bool> datacenter;
  std::string datacenter_source;
  std::optional<double> io_bw_bidir_gbs;
  std::string io_source;
  std::optional<double> hbm_area_mm2;
  std::optional<double> interconnect_bw_gbs;
  std::string interconnect_source;
  std::optional<bool> vector_processor;  // --vector-processor; unknown otherwise (no database holds it)  // "chip database (NV-H100), declared: NVLink/xGMI not measured yet"
  std::optional<double> efficiency;  // measured TPP / declared TPP
  std::vector<Flag> flags;
};

// Thresholds for flags (not rule thresholds: reporting tolerances of this tool).
inline constexpr double kDerivedTolerance = 0.02;  // derived vs declared: flag above 2%
inline constexpr double kNearMiss = 0.10;          // a failed comparison within 10% is reported as "just under"

// The metrics of one measured device. The chip is looked up in `db` (PCI id, then name) unless given.
// A CPU (DeviceInfo::kind "cpu") with no architecture table gets its derived basis from the per-kernel
// theoretical peaks its backend computed (cores × per-cycle rate × the clock measured during the kernel),
// leaving out any kernel measured above its own theoretical peak (Measurement::above_theoretical).
// CPU measurements: kernel ids "fma.fp64", "dot.int8", ... with stats.median in ops/s; GPU kernels
// "tensor.bf16.wgmma" ... — keyed off spec.dtype and spec.kind == compute, best per type; memory kernels
// (unit bytes_per_s) give the measured DRAM bandwidth (best of copy/triad, named).
[[nodiscard]] DeviceMetrics device_metrics(const report::DeviceReport& device, const ChipDatabase& db,
                                           const Overrides& overrides = {}, const Chip* chip = nullptr);
[[nodiscard]] DeviceMetrics device_metrics(const DeviceInfo& info, std::span<const Measurement> measurements,
                                           const ChipDatabase& db, const Overrides& overrides = {},
                                           const Chip* chip = nullptr);
// Declared and derived metrics of a database entry, measuring nothing (probe classify --chip NAME).
[[nodiscard]] DeviceMetrics chip_metrics(const Chip& chip, const ChipDatabase& db, const Overrides& overrides = {});

// ───────────────────────────── values the rules read ─────────────────────────────

struct MetricValue {
  std::optional<double> number;  // numeric metrics
  std::optional<bool> boolean;   // boolean metrics
  std::string basis;             // "declared", "measured (above declared)", "--die-area", "chip database"
  bool lower_bound = false;      // true value may be higher: a failed >=/> test is "not evaluable", not false
};
using MetricValues = std::map<std::string, MetricValue>;

struct MetricInfo {
  std::string_view name, label, unit;
  bool boolean;
  bool node;  // node-level (4A090) metric
};
// Every metric a rules file may name: tpp, pd, hbm_bw_density, total_dram_bw, io_bw_bidir, interconnect_bw,
// dram_plus_interconnect_bw, fp64_peak, fp32_peak, vector_processor, datacenter,
// main_function_logic (device); devices_3a090_a, devices_3a090_b, devices_3a090, devices, devices_3a501_a16,
// node_fp64_tflops, node_fp32_tflops, envelope_ft3, node_vector_processor (node).
[[nodiscard]] std::span<const MetricInfo> metric_catalog() noexcept;
[[nodiscard]] const MetricInfo* find_metric(std::string_view name) noexcept;

// The values verdicts are computed from. Per metric: declared when known, else derived, else measured;
// then measured wins where it is higher (a sustained lower bound on the true peak: if measured TPP crosses a
// line, the device is over it whatever anyone declares). Overrides apply. The basis is recorded per value.
[[nodiscard]] MetricValues assessed_values(const DeviceMetrics& m);
// The values of one basis alone (to evaluate, say, the derived basis on its own).
[[nodiscard]] MetricValues basis_values(const DeviceMetrics& m, Basis basis);

// ───────────────────────────── rulesets ─────────────────────────────

// proposed: a bill or draft, not law; evaluated only when its id is asked for (--ruleset), never by default.
enum class RuleStatus : std::uint8_t { in_force, superseded, rescinded, proposed };
[[nodiscard]] std::string_view to_string(RuleStatus s) noexcept;

enum class CompareOp : std::uint8_t { ge, gt, lt, le, eq };
[[nodiscard]] std::string_view to_string(CompareOp op) noexcept;  // ">=", ">", "<", "<=", "=="

// Deepest condition tree a rules file may hold (all_of / any_of / not levels, the leaf included). The deepest
// in data/rules is 4; reading, evaluating and rendering are recursive, so the bound keeps the stack safe.
inline constexpr int kMaxConditionDepth = 16;

// A condition tree: all_of / any_of / not over metric comparisons and references to earlier clauses.
struct Condition {
  enum class Kind : std::uint8_t { all_of, any_of, negation, compare, clause } kind = Kind::compare;
  std::vector<Condition> children;  // all_of, any_of; one for negation
  // compare
  std::string metric;
  CompareOp op = CompareOp::ge;
  double threshold = 0;
  std::optional<bool> boolean;  // the value compared against for boolean metrics
  std::string source, note;
  // Non-empty: the threshold is not confirmed against the text ("unconfirmed" in the file, which then has no
  // value): the comparison is unknown, so the clause shows "not evaluable: threshold not confirmed (source)".
  std::string unconfirmed;
  // false: the value is taken from a secondary source and not checked against the text; evaluated, and every
  // comparison text says so.
  bool confirmed = true;
  // The metric is multiplied by `scale` before the comparison and shown as `label` (APP = W × FP64 rate).
  double scale = 1;
  std::string label, unit;  // how the scaled value is named and its unit ("APP (W = 0.3)", "WT")
  // clause
  std::string clause_id;
};

struct Clause {
  std::string id;      // "3A090.a.1"
  std::string title;
  std::string kind;    // "classification", "exclusion", "exception", "policy"
  std::string eccn;    // classification clauses: "3A090.a"
  std::string effect;  // what matching means, in words
  std::string source;
  Condition when;
};

// A figure a ruleset states per customer or country (LPP), divided by a device metric to give a count.
struct Quantity {
  std::string id, title;
  double value = 0;
  std::string unit, per_metric, result_unit, source, note;
};

struct Ruleset {
  std::string id, title, citation, fr_doc, rin, kind;
  std::string published, effective;  // ISO dates
  RuleStatus status = RuleStatus::in_force;
  std::string status_note;
  std::string jurisdiction = "US";  // "US", "EU", "UK", "JP", "KR": who made the rule (optional in the file)
  std::string scope;      // "device" or "node"
  std::string otherwise;  // the classification when no classification clause matches
  std::map<std::string, Source> sources;
  std::vector<Clause> clauses;
  std::vector<Quantity> quantities;
  std::string file_name, sha256;  // where it was loaded from; SHA-256 of the file's text
};

// Throws InputError (file, entry, field) on bad JSON, a missing field, a wrong type, an unknown metric,
// operator, clause reference or source key, a duplicate clause id, or a metric of the wrong scope.
[[nodiscard]] Ruleset parse_ruleset(std::string_view text, std::string_view file_name);
[[nodiscard]] Ruleset load_ruleset_file(const std::filesystem::path& path);  // --rules FILE

class RuleBook {
 public:
  // Every ruleset compiled into the binary (data/rules/*.json), ordered by effective date; parsed once.
  // Copy it to add a user's --rules file: `RuleBook book = RuleBook::builtin(); book.add(...)`.
  [[nodiscard]] static const RuleBook& builtin();
  // Adds a ruleset; a duplicate id is an InputError unless `replace` (a user's file overriding a built-in).
  void add(Ruleset ruleset, bool replace = false);

  [[nodiscard]] std::span<const Ruleset> all() const noexcept { return m_rulesets; }
  [[nodiscard]] const Ruleset* find(std::string_view id) const noexcept;
  // Device-scope rulesets: the given ids (InputError naming the known ids for an unknown one), or every
  // ruleset in force when `ids` is empty. Node-scope ids given here are skipped (see select_node).
  // `jurisdictions` (upper case; empty: all) narrows the default selection; named ids are taken as named.
  // A `proposed` ruleset is selected only by its id.
  [[nodiscard]] std::vector<const Ruleset*> select(std::span<const std::string> ids = {},
                                                   std::span<const std::string> jurisdictions = {}) const;
  [[nodiscard]] std::vector<const Ruleset*> select_node(std::span<const std::string> ids = {},
                                                        std::span<const std::string> jurisdictions = {}) const;
  // Every jurisdiction the book holds a ruleset for, sorted; `in_force_only` keeps those with one in force.
  [[nodiscard]] std::vector<std::string> jurisdictions(bool in_force_only = false) const;

 private:
  std::vector<Ruleset> m_rulesets;
};

// ───────────────────────────── verdicts ─────────────────────────────

enum class Truth : std::uint8_t { yes, no, unknown };
enum class Outcome : std::uint8_t { matched, not_matched, not_evaluable };
[[nodiscard]] std::string_view to_string(Outcome o) noexcept;  // "matched", "not matched", "not evaluable"

// One comparison as evaluated: value, threshold, margin and how far under (or over) when it failed.
struct Comparison {
  std::string metric, label;  // "tpp", "TPP"
  CompareOp op = CompareOp::ge;
  double threshold = 0;
  std::optional<bool> boolean_threshold;
  std::optional<double> value;
  std::optional<bool> boolean_value;
  std::string basis;
  Truth result = Truth::unknown;
  std::optional<double> margin;  // (value - threshold) / threshold: +2.298 for TPP 15,832 vs 4,800
  bool near_miss = false;        // failed, within kNearMiss of the threshold
  std::string source, note;
  std::string unconfirmed;       // the threshold is not confirmed: why, and the source (the comparison is unknown)
  bool confirmed = true;         // false: threshold from a secondary source, not checked against the text
  double scale = 1;              // the metric was multiplied by this (APP's weighting factor)
  std::string text;              // "TPP 15,832 ≥ 4,800 (margin +230%)", "TPP 4,707 is 1.9% under 4,800"
};

struct ClauseVerdict {
  std::string clause_id, title, kind, eccn, effect;
  Outcome outcome = Outcome::not_evaluable;
  std::vector<Comparison> comparisons;  // every comparison in the clause's tree, in order
  std::vector<std::string> missing;     // metrics that were needed and unknown ("pd: die area unknown")
  std::string explanation;              // one line: "TPP 15,832 ≥ 4,800 → 3A090.a.1, margin +230%"
};

struct QuantityResult {
  std::string id, title;
  double value = 0;
  std::string unit;
  std::optional<double> result;  // value / metric
  std::string result_unit, text;
};

struct Verdict {
  std::string ruleset_id, ruleset_title, citation, effective;
  std::string jurisdiction = "US";
  RuleStatus status = RuleStatus::in_force;
  std::string subject;         // device id / chip id / "node"
  std::string classification;  // "3A090.a", the ruleset's `otherwise`, or "not evaluable"
  std::string classification_clause;  // the clause that set it
  Outcome outcome = Outcome::not_evaluable;  // of the classification: matched / not matched / not evaluable
  std::vector<ClauseVerdict> clauses;
  std::vector<QuantityResult> quantities;
  std::vector<std::string> near_misses;  // "TPP 4,707 is 1.9% under 4,800 (3A090.a.1)"
  std::string summary;                   // one line for the text report
  std::string rules_sha256;
  std::vector<std::string> notes;        // node: what the count rests on (declared members, a lower bound)
};

// The one engine: evaluates every clause of `ruleset` over `values` (three-valued logic: a comparison on an
// unknown metric is unknown; all_of/any_of/not follow Kleene's rules).
[[nodiscard]] Verdict evaluate(const Ruleset& ruleset, const MetricValues& values, std::string_view subject = {});
// Device-scope rulesets over a device's assessed values.
[[nodiscard]] std::vector<Verdict> evaluate(std::span<const Ruleset* const> rulesets, const DeviceMetrics& m);

// The IC classification a matched device verdict gives, as the node rules (4A090, 4A507) count it: 3A090.a or
// .b, 3A090 undivided (the 2022 rule), 3A501.a.16 (the EU's, or a list copying it: the caller reads
// Verdict::jurisdiction). Other classifications (3A090.c HBM, tariff bands, APP, "outside …") are none.
// Decided here once, for the node count and for every printer.
enum class IcClass { none, us_3a090_a, us_3a090_b, us_3a090, a3501_a16 };
[[nodiscard]] IcClass ic_class(const Verdict& v) noexcept;
// The distinct IC classifications among `verdicts`, each with the ids of the rulesets that gave it, in order.
struct IcClassification {
  std::string classification;         // "3A090.a", "3A501.a.16"
  std::vector<std::string> rulesets;  // "us-2023-10-acr", …
};
[[nodiscard]] std::vector<IcClassification> ic_classifications(std::span<const Verdict> verdicts);

// One processor of the node as the 4A090 count sees it: a measured device, an accelerator on the PCI bus that
// was not measured but is in the chip database (assessed on the declared basis), or one that is neither.
struct NodeMember {
  std::string subject;            // "cuda0", "0000:17:00.0"
  std::string label;              // "0000:17:00.0 NVIDIA H100 SXM (pci 10de:2330)", for the node's notes
  bool measured = true;           // false: assessed from the chip database only (declared basis)
  bool assessed = true;           // false: not measured and not in the chip database: the count is a lower bound
  std::vector<Verdict> verdicts;  // the device rulesets' verdicts (empty when not assessed)
  // Non-empty: a PCI device known not to be a processor (ChipDatabase::non_processors: a BMC's display
  // controller), and why; named in the node's notes, never counted and never a reason for a lower bound.
  std::string not_counted;
  // The device's assessed values (assessed_values), for the node's sums: FP64/FP32 peaks for per-node APP and the
  // "supercomputer" share. Empty: the member adds nothing to the sums and they become lower bounds.
  MetricValues values{};
};

// Node level (4A090): counts the members whose verdicts classify them 3A090.a / 3A090.b; a member not
// evaluable under every given verdict, or not assessed at all, makes the counts lower bounds. A member with
// `not_counted` is only named in the notes.
// `envelope_ft3`: the system's volume (--envelope-ft3), an input; the node report evaluates the "supercomputer"
// test over this node alone (its share of a system), the fleet report (not built yet) over every node it holds:
// it calls this same function with every node's members.
[[nodiscard]] MetricValues node_values(std::span<const NodeMember> members,
                                       std::optional<double> envelope_ft3 = std::nullopt);
[[nodiscard]] std::vector<Verdict> evaluate_node(std::span<const Ruleset* const> node_rulesets,
                                                 std::span<const NodeMember> members,
                                                 std::optional<double> envelope_ft3 = std::nullopt);
// The same over measured devices only (classify --chip, tests).
[[nodiscard]] MetricValues node_values(std::span<const std::vector<Verdict>> device_verdicts);
[[nodiscard]] std::vector<Verdict> evaluate_node(std::span<const Ruleset* const> node_rulesets,
                                                 std::span<const std::vector<Verdict>> device_verdicts);

// ───────────────────────────── rendering and JSON ─────────────────────────────

// "15,832", "4,707", "19.45", "5.92": thousands separators, significant decimals.
[[nodiscard]] std::string format_number(double v);
// "+230%", "-1.9%".
[[nodiscard]] std::string format_percent(double fraction);

[[nodiscard]] std::string render_text(const DeviceMetrics& m);        // the control-parameter section
[[nodiscard]] std::string render_text(const Verdict& v);              // a ruleset's verdict, clause lines
[[nodiscard]] std::string render_text(std::span<const Verdict> vs);   // several
[[nodiscard]] std::string render_rulesets(std::span<const Ruleset> rulesets);  // probe rules

[[nodiscard]] nlohmann::json to_json(const DeviceMetrics& m);
[[nodiscard]] nlohmann::json to_json(const Verdict& v);
[[nodiscard]] nlohmann::json to_json(const Ruleset& r);  // summary: id, title, citation, dates, status, sha256
// Provenance for the JSON report: chip database file + SHA-256, each ruleset id + file + SHA-256.
[[nodiscard]] nlohmann::json provenance_json(const ChipDatabase& db, std::span<const Ruleset* const> rulesets);

// ───────────────────────────── hashing ─────────────────────────────

// SHA-256 (FIPS 180-4) of `data`, lowercase hex. Small and local: no new dependency.
[[nodiscard]] std::string sha256_hex(std::string_view data);

}  // namespace probe::rules
