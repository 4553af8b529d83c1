#pragma once
// The fleet level: many node reports (one per node of a cluster) folded into one fleet report, one node at a
// time. Only numbers per device are kept between nodes (the per-model medians need every device's value), never
// a node's report, so memory grows with the device count, not with the size of the reports.
#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <span>
#include <string>
#include <vector>

#include "printer.hpp"
#include "probe/error.hpp"
#include "report.hpp"
#include "rules.hpp"

namespace probe::fleet {

inline constexpr int kFleetSchemaVersion = 1;
inline constexpr std::string_view kFleetSchema = "probe-fleet";
// A node that could not be measured at all (an MPI rank or Slurm task whose probe failed) is recorded as a
// small document of its own, so the fleet report still names it.
inline constexpr std::string_view kNodeFailureSchema = "probe-node-failure";
// H100 SXM's TPP (989.4 dense BF16 TFLOP/s × 16 bits): the unit of "H100-equivalents".
inline constexpr double kH100Tpp = 15832;

struct FleetOptions {
  double margin = 0.10;  // a device more than this fraction below its model's fleet median is an outlier
};

// A node's signature as the merge found it.
struct NodeSignature {
  enum class State { not_checked, verified, unsigned_node, failed };
  State state = State::not_checked;
  std::string text;  // "verified (key alice.pub)", "unsigned (no R.json.intoto.json)", "FAILED: signature, …"
};

// A node that failed to measure: who and why.
struct NodeFailure {
  std::string host, reason, at;
};

// The probe-node-failure document: {"schema": "probe-node-failure", "schema_version": 1, "host", "reason", "at"}.
[[nodiscard]] bool is_node_failure(const nlohmann::json& j) noexcept;
// InputError naming `source` and the field for a document that is not one.
[[nodiscard]] NodeFailure read_node_failure(const nlohmann::json& j, std::string_view source);
[[nodiscard]] nlohmann::json node_failure_json(const NodeFailure& f);

class FleetBuilder {
 public:
  explicit FleetBuilder(FleetOptions options = {});

  // One node report: its typed value and the JSON it came from (for the recorded control metrics and verdicts).
  // InputError naming both sources when the host or a device serial was seen before.
  void add_report(const std::string& source, const nlohmann::json& json, const report::Report& report,
                  NodeSignature signature);
  // A node that could not be measured. InputError when its host was seen before.
  void add_failure(const std::string& source, const NodeFailure& failure, NodeSignature signature = {});

  [[nodiscard]] std::size_t nodes() const noexcept { return m_nodes.size(); }
  [[nodiscard]] std::size_t failed_nodes() const noexcept;
  [[nodiscard]] std::size_t signature_problems() const noexcept;  // unsigned or failed, where keys were given

  // The fleet report (schema probe-fleet/1): medians and outliers are computed here.
  [[nodiscard]] nlohmann::json to_json(std::string_view generated_at) const;

 private:
  struct Figure {
    std::string name, unit;
    bool measured = false;  // a measured figure is judged against the fleet median; a declared one is not
  };
  struct Device {
    std::uint32_t node = 0;
    std::string id, serial;
    std::vector<double> values;                    // per figure of its model; NaN where the device has none
    std::uint32_t classifications = 0;             // a set of interned "ruleset\tclassification" (intern_set)
    std::vector<std::string> above_peak;           // rare: the reasons it is above its declared peak
    std::string status;                            // "measured", "not measured: …"
  };
  struct Model {
    std::string name;
    std::vector<Figure> figures;
    std::map<std::string, std::size_t, std::less<>> figure_index;
    std::vector<Device> devices;
  };
  struct Node {
    std::string source, host, status, reason, probe, kernel, started_at, finished_at;
    NodeSignature signature;
    std::size_t devices = 0;
    bool failed = false;
    std::uint32_t verdicts = 0;  // a set of interned "ruleset\tclassification" (intern_set)
  };

  std::uint32_t intern(const std::string& s);
  // Devices of one model mostly share one set of verdicts: each distinct set is kept (and written) once.
  std::uint32_t intern_set(std::vector<std::uint32_t> set);
  std::size_t model_index(const std::string& name);
  static std::size_t figure(Model& m, const std::string& name, const std::string& unit, bool measured);
  void note_version(const std::string& kind, const std::string& value);

  FleetOptions m_options;
  std::vector<Node> m_nodes;
  std::vector<Model> m_models;
  std::map<std::string, std::size_t, std::less<>> m_model_index;
  std::vector<std::string> m_strings;
  std::map<std::string, std::uint32_t, std::less<>> m_string_index;
  std::vector<std::vector<std::uint32_t>> m_sets;
  std::map<std::vector<std::uint32_t>, std::uint32_t> m_set_index;
  std::map<std::string, std::string, std::less<>> m_hosts, m_serials;  // -> the source that had it first
  std::map<std::string, std::map<std::string, std::size_t>> m_versions;  // kind -> value -> nodes
  std::map<std::string, double> m_tpp_totals;                            // basis -> sum
  std::string m_first_start, m_last_finish;
};

// The HTML/Markdown view of a fleet report: the totals, the outliers first, a table per model, the TPP × PD chart
// with one point per model (the regions of the first ruleset among `rulesets` that classifies on both).
[[nodiscard]] std::vector<report::Section> fleet_sections(const nlohmann::json& fleet,
                                                          std::span<const rules::Ruleset* const> rulesets);

}  // namespace probe::fleet
