#pragma once
// The control-parameter assessment of a report: metrics on three bases and the verdicts of each ruleset, per
// device and for the node. A pure function of the report and the data files, so a recorded report can be
// assessed again under other rules without measuring.
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "report.hpp"
#include "rules.hpp"

namespace probe::report {

struct AssessmentOptions {
  std::vector<std::string> ruleset_ids;  // empty: every ruleset in force (classify: every ruleset)
  std::vector<std::string> rules_files;  // --rules FILE: added to (or replacing) the built-in rulesets
  std::optional<std::string> chipdb_file;  // --chipdb FILE instead of the built-in chip database
  rules::Overrides overrides;              // --die-area, --datacenter
  bool all_rulesets_by_default = false;    // classify: superseded and rescinded ones too (proposed: only by id)
  std::vector<std::string> jurisdictions;  // --jurisdiction: narrows the default selection; empty: all
};

struct DeviceAssessment {
  rules::DeviceMetrics metrics;
  std::vector<rules::Verdict> verdicts;
};

// An accelerator on the PCI bus that was not measured: assessed from the chip database by PCI id (declared
// basis) when it is there, so the node's 4A090 count does not drop it.
struct UnmeasuredAssessment {
  std::string bus_id;
  std::string label;                         // "0000:17:00.0 10de:2330 NVIDIA H100 SXM"
  std::optional<DeviceAssessment> assessed;  // empty: not in the chip database (the node count is a lower bound)
  // Set: known not to be a processor (the chip database's non_processors: a BMC's display controller); not
  // counted in the node and no reason for a lower bound. `label` is then "0000:03:00.0 ASPEED Graphics Family
  // (pci 1a03:2000)" and `not_counted` the reason the node's notes give.
  std::optional<rules::NonProcessor> non_processor;
  std::string not_counted;  // "BMC display controller (…), not a processor (chips.json (built-in) non_processors; …)"
};

class Assessment {
 public:
  // Loads the chip database and rulesets (InputError for a bad file or an unknown ruleset id).
  explicit Assessment(const AssessmentOptions& options);
  Assessment(const Assessment&) = delete;
  Assessment& operator=(const Assessment&) = delete;

  // Assesses every device of the report and the node.
  void assess(const Report& report);
  // Assesses one chip of the database by name, measuring nothing (probe classify --chip NAME).
  void assess_chip(std::string_view name);

  [[nodiscard]] const rules::ChipDatabase& chip_database() const noexcept { return *m_db; }
  [[nodiscard]] const rules::RuleBook& rule_book() const noexcept { return m_book; }
  [[nodiscard]] const std::vector<const rules::Ruleset*>& device_rulesets() const noexcept { return m_device_sets; }
  [[nodiscard]] const std::vector<DeviceAssessment>& devices() const noexcept { return m_devices; }
  [[nodiscard]] const std::vector<rules::Verdict>& node() const noexcept { return m_node; }
  [[nodiscard]] const DeviceAssessment* find(std::string_view device_id) const noexcept;
  [[nodiscard]] const std::vector<UnmeasuredAssessment>& unmeasured() const noexcept { return m_unmeasured; }
  [[nodiscard]] const UnmeasuredAssessment* find_unmeasured(std::string_view bus_id) const noexcept;

  // {"provenance": …, "node_verdicts": […]} and, per device id, {"metrics": …, "verdicts": […]}.
  [[nodiscard]] nlohmann::json provenance_json() const;
  [[nodiscard]] nlohmann::json node_json() const;
  [[nodiscard]] nlohmann::json device_json(const DeviceAssessment& d) const;

 private:
  std::unique_ptr<rules::ChipDatabase> m_owned_db;
  const rules::ChipDatabase* m_db = nullptr;
  rules::RuleBook m_book;
  rules::Overrides m_overrides;
  std::vector<const rules::Ruleset*> m_device_sets, m_node_sets;
  std::vector<DeviceAssessment> m_devices;
  std::vector<UnmeasuredAssessment> m_unmeasured;
  std::vector<rules::Verdict> m_node;
};

}  // namespace probe::report
