#pragma once
// Per-microarchitecture instruction throughput (data/cpu_uarch.json), for theoretical peaks:
// cores × instructions per cycle × ops per instruction × measured clock.
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace probe::cpu {

struct UarchThroughput {
  double per_cycle = 0;  // counted instructions per cycle per core
  std::string source;
  bool confirmed = true;  // false: a presumed figure (optional "confirmed": false in the JSON)
};

// A figure that bounds what a CPU of this entry can show, with its source (e.g. the largest L3 of any SKU).
struct UarchBound {
  double value = 0;
  std::string source;
};

struct Uarch {
  std::string id, name, vendor, note;
  int family = -1;
  std::vector<std::pair<int, int>> models;           // inclusive ranges
  std::map<std::string, UarchThroughput> throughput;  // "<kernel id>/<variant>"
  // Evidence: features every CPU of the entry has / none has (names from feature_flags() or "avx10.N"). A
  // CPUID model in `models` whose features contradict these is treated as masked by a hypervisor.
  std::vector<std::string> requires_features, forbids_features;
  std::optional<UarchBound> l3_max_mib;  // largest L3 per package of any part of this entry
  // Keys whose per-cycle rate is the 512-bit FMA unit count, which differs by SKU (Skylake-SP Silver vs Gold):
  // the empirical count decides them when the table cannot.
  std::vector<std::string> fma_unit_keys;
  std::string ambiguity;  // what the evidence cannot decide for this entry, in words
  std::map<int, std::string> model_names;  // e.g. 167 -> "Rocket Lake": which part a model number stands for
};

// GCC's order for telling generations apart by features (driver-i386.cc, cpu.md): the first rule whose
// feature is present names the generation and its entry ("" = not in the table).
struct FeatureRule {
  std::string vendor, feature, generation, entry, caveat;
};

class UarchTable {
 public:
  // Throws InputError naming the file, the entry and the field for anything malformed.
  [[nodiscard]] static UarchTable parse(std::string_view json_text, std::string_view file_name);
  // The table compiled into probe.
  [[nodiscard]] static const UarchTable& builtin();
  // The first entry whose vendor, family and model range match (model number only: see identify()).
  [[nodiscard]] const Uarch* find(std::string_view vendor, int family, int model) const noexcept;
  [[nodiscard]] const std::vector<Uarch>& entries() const noexcept { return m_entries; }
  [[nodiscard]] const Uarch* by_id(std::string_view id) const noexcept;
  [[nodiscard]] const std::vector<FeatureRule>& feature_order() const noexcept { return m_feature_order; }
  [[nodiscard]] const std::string& feature_order_source() const noexcept { return m_feature_order_source; }

 private:
  std::vector<Uarch> m_entries;
  std::vector<FeatureRule> m_feature_order;
  std::string m_feature_order_source;
};

}  // namespace probe::cpu
