#pragma once
// Which data/cpu_uarch.json entry describes a CPU, from evidence rather than the model number alone: a
// hypervisor may mask the model (a Xeon guest reporting Rocket Lake's 167 while showing AMX), so the model-table
// match is checked against the features each entry requires and forbids, and a contradicted match falls back to
// GCC's feature order (cpu.md). The empirical 512-bit FMA-unit count is a cross-check, and decides Skylake-SP's
// per-SKU unit count where CPUID cannot.
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "kernels/cpu/cpu_kernels.hpp"
#include "uarch.hpp"

namespace probe::cpu {

enum class IdMethod { table_match, features_masked, none };
// "table match", "features (model treated as masked)", "none"
[[nodiscard]] std::string_view to_string(IdMethod m) noexcept;

// The empirical 512-bit FMA-unit count, interpreted for the vendor.
struct FmaUnitCheck {
  bool ran = false;
  std::string not_run_reason;  // when !ran
  FmaUnitTiming timing;
  int units = 0;  // 1 or 2 where conclusive, 0 where not
  std::string summary;  // in words: the ratio and what it means here
};
// > 1.5 → 2 units (GROMACS' threshold); ratios within 0.15 of it, and every ratio on a non-Intel CPU, are not
// conclusive (the test relies on Intel's port-5 FMA unit: Zen 4 splits zmm ops over 256-bit pipes).
[[nodiscard]] FmaUnitCheck interpret_fma_units(const FmaUnitTiming& t, std::string_view vendor);

// What the CPU backend calls once per device (live CPU only; never for a recorded description). Tests swap in
// a fake.
class FmaUnitCounter {
 public:
  virtual ~FmaUnitCounter() = default;
  [[nodiscard]] virtual FmaUnitCheck count(const CpuFeatures& f) = 0;
};
// Runs time_zmm_fma_units() where AVX-512 is usable.
[[nodiscard]] std::unique_ptr<FmaUnitCounter> make_fma_unit_counter();

struct Identification {
  const Uarch* entry = nullptr;
  IdMethod method = IdMethod::none;
  std::vector<std::string> evidence;        // what was seen and what it says
  std::vector<std::string> contradictions;  // evidence that disagrees with other evidence or with the table
  std::vector<std::string> undecided;       // what the evidence cannot decide
  std::optional<FmaUnitCheck> fma_units;    // the empirical count, where it ran
};

[[nodiscard]] Identification identify(const CpuFeatures& f, const UarchTable& table);
// Adds the empirical count: evidence where it agrees, decides or is not conclusive; a contradiction where it
// conclusively disagrees with the table's per-cycle 512-bit FMA rate.
void cross_check_fma_units(Identification& id, const FmaUnitCheck& check);

// The per-core per-cycle rate of "<kernel id>/<variant>" (counted instructions), or why it is unknown.
struct RateLookup {
  std::optional<double> per_cycle;
  std::string source;          // the table's source, or how the empirical count was made
  bool empirical = false;
  bool confirmed = true;       // false: the table marks the figure as presumed ("confirmed": false)
  std::string unknown_reason;  // when !per_cycle
};
[[nodiscard]] RateLookup per_cycle_rate(const Identification& id, const CpuFeatures& f, std::string_view key);

// Report properties of what CPUID says, shared by the live and the described CPU device: brand,
// family/model/stepping, the microarchitecture identified and the feature list.
[[nodiscard]] std::vector<std::pair<std::string, std::string>> cpuid_properties(const CpuFeatures& f,
                                                                                const Identification& id);
// Report properties: the identification, each evidence/contradiction/undecided line, the FMA-unit check.
[[nodiscard]] std::vector<std::pair<std::string, std::string>> identification_properties(const Identification& id);
// One property per compute kernel id: the variant this CPU would run under `cap` and its theoretical rate per
// core per cycle and per GHz for `cores` cores, or why unknown.
[[nodiscard]] std::vector<std::pair<std::string, std::string>> rate_properties(const Identification& id,
                                                                               const CpuFeatures& f, int cores,
                                                                               Isa cap);

// "AMX-TILE" for amx_tile: how features are named in messages.
[[nodiscard]] std::string display_feature(std::string_view name);

}  // namespace probe::cpu
