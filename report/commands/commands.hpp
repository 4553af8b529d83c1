#pragma once
// Commands that read recorded reports and measure nothing: one file each, registered from report/cli.cpp.
#include <string>
#include <vector>

#include "assessment.hpp"
#include "output.hpp"

namespace probe::cli {

// probe replay R.json: re-derives the control metrics and verdicts of a recorded report under today's (or the
// given) rules and chip data, and shows which verdicts changed from the recorded ones and why.
struct ReplayOptions {
  std::string report;
  report::AssessmentOptions assessment;
};
// 0: no verdict changed; 1: at least one classification changed. InputError for a bad file.
[[nodiscard]] int run_replay(const ReplayOptions& options, const Outputs& outputs);

// probe compare BASE.json NEW.json: pairs devices and kernels, and shows each figure's change against the spread
// of both runs. 0: no regression; 1: at least one (listed first).
struct CompareOptions {
  std::string base, current;
};
[[nodiscard]] int run_compare(const CompareOptions& options, const Outputs& outputs);

// Reads a recorded report's JSON, refusing with a clear message anything that is not a probe report of the
// schema version this probe reads (an older or newer one is never misread). The raw JSON is kept for what the
// Report value does not hold (the recorded verdicts).
struct RecordedReport {
  std::string path;
  nlohmann::json json;
  report::Report report;
};
[[nodiscard]] RecordedReport read_recorded_report(const std::string& path);
// The same for a report already parsed (probe merge reads each file once; MPI's rank 0 gets the text, not a file).
[[nodiscard]] RecordedReport recorded_report_from_json(nlohmann::json json, const std::string& path);

}  // namespace probe::cli
