#pragma once
// probe merge: node reports (files, folders of them, or texts gathered by MPI) folded into one fleet report.
#include <optional>
#include <string>
#include <vector>

#include "commands.hpp"
#include "fleet.hpp"
#include "output.hpp"
#include "sign.hpp"

namespace probe::cli {

struct MergeOptions {
  std::vector<std::string> keys;  // --key NAME.pub: each node's statement must verify under one of them
  double margin = 0.10;           // --margin PCT / 100
};

// Reads node reports one at a time into a FleetBuilder: only the per-device figures stay in memory.
class FleetMerge {
 public:
  explicit FleetMerge(MergeOptions options);
  // A node report file read and checked, not yet folded in: safe to run on several threads at once.
  struct Parsed {
    std::string source;
    nlohmann::json json;
    std::optional<RecordedReport> report;  // empty: a probe-node-failure document
    fleet::NodeSignature signature;
  };
  // Reads one file (its signature beside it checked when keys were given). InputError naming the file for
  // anything that is not a node report of this schema version nor a probe-node-failure document.
  [[nodiscard]] Parsed parse_file(const std::string& path) const;
  // Folds a parsed file in; InputError naming both files for a duplicate host or serial.
  void add(Parsed parsed);
  // parse_file then add, for each file in order, reading a few files ahead on other threads.
  void add_files(const std::vector<std::string>& paths);
  // The same for a text that is no file (a rank's report under MPI): no signature to check.
  void add_text(std::string_view text, const std::string& source);
  void add_failure(const std::string& source, const fleet::NodeFailure& failure);

  // Writes the fleet report to each output (and its signed statement with a signer); 0 when every node was
  // measured and every signature checked held, 1 otherwise.
  int write(const Outputs& outputs, const RunSigner* signer, const std::string& command,
            const std::vector<std::string>& input_files) const;

 private:
  [[nodiscard]] static Parsed parse_json(nlohmann::json json, const std::string& source, fleet::NodeSignature signature);
  fleet::NodeSignature check_signature(const std::string& path) const;

  MergeOptions m_options;
  fleet::FleetBuilder m_builder;
  std::string m_started_at;
};

// A command line's inputs: each file as given, each folder's *.json (not *.intoto.json) in name order.
// InputError for a path that is neither, or when nothing is left.
[[nodiscard]] std::vector<std::string> expand_node_inputs(const std::vector<std::string>& inputs);

}  // namespace probe::cli
