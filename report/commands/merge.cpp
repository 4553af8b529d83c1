// probe merge NODE.json|DIR... [--key PUB]... [--out fleet.json|.html|.md] [--sign KEY]: one fleet report from
// the node reports of a cluster, read one at a time (see report/fleet/).
#include "merge.hpp"

#include <algorithm>
#include <deque>
#include <filesystem>
#include <future>
#include <thread>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <memory>

#include "cli.hpp"
#include "command.hpp"
#include "commands.hpp"
#include "json_io.hpp"
#include "keys.hpp"
#include "probe/engine.hpp"
#include "probe/error.hpp"
#include "probe/input_file.hpp"
#include "probe/json_text.hpp"
#include "probe/version.hpp"
#include "signature.hpp"
#include "verify.hpp"

namespace probe::cli {
namespace fs = std::filesystem;
using nlohmann::json;

std::vector<std::string> expand_node_inputs(const std::vector<std::string>& inputs) {
  std::vector<std::string> out;
  for (const auto& in : inputs) {
    std::error_code ec;
    if (fs::is_directory(in, ec)) {
      std::vector<std::string> found;
      for (const auto& e : fs::directory_iterator(in, ec)) {
        const std::string name = e.path().filename().string();
        if (e.is_regular_file() && name.ends_with(".json") && !name.ends_with(".intoto.json")) found.push_back(e.path().string());
      }
      if (ec) throw InputError(fmt::format("{}: cannot list the folder: {}", in, ec.message()));
      if (found.empty()) throw InputError(fmt::format("{}: no node report (*.json) in this folder", in));
      std::sort(found.begin(), found.end());
      out.insert(out.end(), found.begin(), found.end());
    } else if (fs::exists(in, ec)) {
      out.push_back(in);
    } else {
      throw InputError(fmt::format("{}: no such file or folder", in));
    }
  }
  if (out.empty()) throw InputError("merge: no node report given");
  return out;
}

FleetMerge::FleetMerge(MergeOptions options)
    : m_options(std::move(options)), m_builder(fleet::FleetOptions{m_options.margin}), m_started_at(utc_now_iso8601()) {}

fleet::NodeSignature FleetMerge::check_signature(const std::string& path) const {
  using S = fleet::NodeSignature::State;
  if (m_options.keys.empty()) return {S::not_checked, signature_state(path).text};
  const auto statement = find_statement(path);
  if (!statement) return {S::unsigned_node, fmt::format("unsigned (no {}.intoto.json beside it)", fs::path(path).filename().string())};
  // The node's statement must verify, report digest included, under one of the keys given.
  std::string why;
  for (const auto& key : m_options.keys) {
    evidence::VerifyOptions vo;
    vo.envelope = *statement;
    vo.key = key;
    vo.report = path;
    const evidence::VerifyOutcome outcome = evidence::verify(vo);
    if (outcome.holds() && std::any_of(outcome.checks.begin(), outcome.checks.end(), [](const evidence::Check& c) {
          return c.what == "signature" && c.state == evidence::Check::State::ok;
        })) {
      return {S::verified, fmt::format("verified (key {})", fs::path(key).filename().string())};
    }
    if (why.empty()) why = fmt::format("{}", fmt::join(outcome.failed(), ", "));
  }
  return {S::failed, fmt::format("FAILED under every --key ({}): {}", fmt::join(m_options.keys, ", "),
                                 why.empty() ? std::string("signature not checked") : why)};
}

FleetMerge::Parsed FleetMerge::parse_json(json j, const std::string& source, fleet::NodeSignature signature) {
  Parsed p;
  p.source = source;
  p.signature = std::move(signature);
  if (fleet::is_node_failure(j)) {
    p.json = std::move(j);
    (void)fleet::read_node_failure(p.json, source);  // checked here, on the reading thread
  } else {
    p.report = recorded_report_from_json(std::move(j), source);
  }
  return p;
}

namespace {

// The parts of a node report's control sections (per device: metrics and verdicts, a third of a GPU node
// report's bytes, clauses alone over half) that the merge reads: everything else under "control" is dropped
// while parsing, so it is never built in memory. The rest of the report is read and checked as replay reads it.
class MergeFilter {
 public:
  bool operator()(int depth, json::parse_event_t event, json& parsed) {
    if (event != json::parse_event_t::key || !parsed.is_string()) return true;
    const auto& key = parsed.get_ref<const std::string&>();
    if (m_control_depth >= 0 && depth <= m_control_depth) m_control_depth = -1;  // left the control section
    if (m_control_depth < 0) {
      if (key == "control") m_control_depth = depth;
      return true;
    }
    static constexpr std::string_view kKept[] = {"metrics", "verdicts", "chip", "name", "device_name", "bases",
                                                 "declared", "derived", "measured", "available", "tpp", "pd",
                                                 "total_dram_bw_gbs", "ruleset", "classification"};
    return std::find(std::begin(kKept), std::end(kKept), key) != std::end(kKept);
  }

 private:
  int m_control_depth = -1;  // the depth of the "control" key being inside; -1: outside
};

}  // namespace

FleetMerge::Parsed FleetMerge::parse_file(const std::string& path) const {
  return parse_json(parse_json_text(read_input_file(path), path, MergeFilter{}), path, check_signature(path));
}

void FleetMerge::add(Parsed p) {
  if (!p.report) {
    m_builder.add_failure(p.source, fleet::read_node_failure(p.json, p.source), std::move(p.signature));
    return;
  }
  m_builder.add_report(p.source, p.report->json, p.report->report, std::move(p.signature));
}

void FleetMerge::add_files(const std::vector<std::string>& paths) {
  // Parsing dominates (a node report of 8 GPUs is ~400 kB of JSON): a few files are read ahead on other threads
  // and folded in order, so at most that many reports are in memory and errors name the first bad file.
  const std::size_t ahead = std::clamp<std::size_t>(std::thread::hardware_concurrency(), 1, 4);
  std::deque<std::future<Parsed>> inflight;
  std::size_t next = 0;
  while (next < paths.size() || !inflight.empty()) {
    while (next < paths.size() && inflight.size() < ahead) {
      inflight.push_back(std::async(std::launch::async, [this, &paths, i = next] { return parse_file(paths[i]); }));
      ++next;
    }
    Parsed p = inflight.front().get();
    inflight.pop_front();
    add(std::move(p));
  }
}

void FleetMerge::add_text(std::string_view text, const std::string& source) {
  add(parse_json(parse_json_text(text, source), source, {fleet::NodeSignature::State::not_checked, "not checked (gathered by MPI)"}));
}

void FleetMerge::add_failure(const std::string& source, const fleet::NodeFailure& failure) {
  m_builder.add_failure(source, failure, {fleet::NodeSignature::State::not_checked, "none (the node failed)"});
}

int FleetMerge::write(const Outputs& outputs, const RunSigner* signer, const std::string& command,
                      const std::vector<std::string>& input_files) const {
  const std::string finished_at = utc_now_iso8601();
  json doc = m_builder.to_json(finished_at);
  doc["command"] = command;
  const std::string json_text = doc.dump(2, ' ', false, json::error_handler_t::replace) + "\n";

  // The chart's regions come from the built-in rules, the same the node reports' charts use.
  report::Assessment assessment(report::AssessmentOptions{});
  const auto sections = fleet::fleet_sections(doc, assessment.device_rulesets());
  report::PrintContext ctx;
  ctx.title = fmt::format("probe fleet report: {} nodes", m_builder.nodes());
  ctx.signature = signer ? signer->describe() : std::string("not signed (probe merge --sign KEY)");
  ctx.embedded_json = json_text;
  std::string json_path;
  emit_outputs(outputs, [&](report::Format f) -> std::string {
    if (f == report::Format::json) return json_text;
    if (f == report::Format::text) return fmt::format("probe fleet report ({} nodes)\n\n", m_builder.nodes()) +
                                          report::render_sections_text(sections);
    if (ctx.binary_sha256.empty()) ctx.binary_sha256 = binary_sha256();
    return report::make_printer(f, ctx)->render_sections(sections);
  });
  if (signer) {
    for (const auto& f : outputs.files) {
      if (f.format == report::Format::json) json_path = f.path.string();
    }
    report::Report rep;  // what the statement says of the run: the merge's own span and status
    rep.tool_version = kVersion;
    rep.command = command;
    rep.started_at = m_started_at;
    rep.finished_at = finished_at;
    SignedRun run;
    run.report_path = json_path;
    run.report_text = json_text;
    run.exe = "/proc/self/exe";
    run.command = command;
    run.report = &rep;
    run.assessment = &assessment;
    run.input_files = input_files;
    std::cerr << signer->write(run);
  }
  return m_builder.failed_nodes() > 0 || m_builder.signature_problems() > 0 ? 1 : kExitOk;
}

namespace {

struct MergeArgs {
  std::vector<std::string> inputs, keys, out;
  std::string format = "text";
  double margin_pct = 10;
  SignOptions sign;
};

int run_merge(const MergeArgs& a, const std::string& command) {
  const Outputs outputs = resolve_outputs(a.format, a.out, "");
  std::unique_ptr<RunSigner> signer;
  if (!a.sign.key_file.empty()) {
    std::string json_out;
    for (const auto& f : outputs.files) {
      if (f.format == report::Format::json) json_out = f.path.string();
    }
    if (json_out.empty()) throw InputError("--sign: needs --out FLEET.json (the statement signs the JSON fleet report)");
    signer = std::make_unique<RunSigner>(a.sign, json_out);
  }
  for (const auto& k : a.keys) (void)evidence::read_public_key(k);  // an unusable key is exit 2 before any node
  const std::vector<std::string> files = expand_node_inputs(a.inputs);
  FleetMerge merge(MergeOptions{a.keys, a.margin_pct / 100});
  merge.add_files(files);
  return merge.write(outputs, signer.get(), command, a.sign.key_file.empty() ? std::vector<std::string>{} : files);
}

}  // namespace

Command add_merge_command(CLI::App& parent) {
  auto args = std::make_shared<MergeArgs>();
  CLI::App* app = parent.add_subcommand(
      "merge", "Fold node reports (files or folders of them) into one fleet report: totals, per-model "
               "distributions, outliers, verdicts, version drift; exit 1 when a node failed or a signature did not hold");
  app->add_option("reports", args->inputs, "Node reports (probe --json), probe-node-failure files, or folders of them")
      ->type_name("NODE.json|DIR")
      ->required();
  app->add_option("--key", args->keys, "Check each node's signed statement (R.json.intoto.json) against these public "
                                       "keys (repeatable); unsigned nodes and failed signatures are named")
      ->type_name("NAME.pub");
  app->add_option("--out", args->out, "Write the fleet report to FILE: .json, .html, .md or .txt (repeatable)")
      ->type_name("FILE");
  app->add_option("--format", args->format, "Standard-output format: text (default), json, html or md")->type_name("FMT");
  app->add_option("--margin", args->margin_pct,
                  "Outlier margin: a device more than PCT% below its model's fleet median is an outlier (default 10)")
      ->type_name("PCT")
      ->check(CLI::Range(0.0, 100.0));
  app->add_option("--sign", args->sign.key_file, "Sign the JSON fleet report (--out FLEET.json) like a node report: "
                                                 "FLEET.json.intoto.json")
      ->type_name("NAME.key");
  return {app, [args] {
            std::string command = "probe merge";
            for (const auto& i : args->inputs) command += " " + i;
            return run_merge(*args, command);
          }};
}

}  // namespace probe::cli
