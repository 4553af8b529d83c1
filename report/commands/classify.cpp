// probe classify --chip NAME: a chip of the database through the report's engine, measuring nothing.
#include <algorithm>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <iostream>
#include <span>

#include "cli.hpp"
#include "json_io.hpp"
#include "options.hpp"
#include "printer.hpp"
#include "probe/engine.hpp"
#include "probe/error.hpp"
#include "probe/version.hpp"

namespace probe::cli {

// probe classify --chip NAME: the calculator, from the same engine as the report.
int run_classify(const Options& o, const Outputs& outputs, const std::string& command) {
  report::AssessmentOptions a = assessment_options(o);
  a.all_rulesets_by_default = true;
  report::Assessment assessment(a);
  assessment.assess_chip(o.chip);
  const report::DeviceAssessment& d = assessment.devices().front();
  std::string text = rules::render_text(d.metrics);
  text += "\n";
  text += rules::render_text(d.verdicts);
  if (!assessment.node().empty()) {
    text += "\nA computer containing this chip (4A090, 4A507, node APP; supercomputer: this one chip's share):\n";
    for (const auto& v : assessment.node()) text += fmt::format("  [{}] {}\n", v.jurisdiction, v.summary);
  }
  nlohmann::json doc = assessment.device_json(d);
  doc["node_verdicts"] = assessment.node_json();
  doc["provenance"] = assessment.provenance_json();
  // The HTML and Markdown views read a report: one with no device, the chip coming from the assessment alone.
  report::Report rep;
  rep.tool_version = kVersion;
  rep.command = command;
  rep.started_at = rep.finished_at = utc_now_iso8601();
  emit(outputs, text, doc, [&](report::Format f) {
    report::PrintContext ctx = print_context(fmt::format("probe classify --chip {}", o.chip), f);
    ctx.embedded_json = doc.dump(2) + "\n";
    return report::make_printer(f, ctx)->render(rep, &assessment);
  });
  return kExitOk;
}

}  // namespace probe::cli
