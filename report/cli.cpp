#include "cli.hpp"

#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdio>
#include <fmt/format.h>
#include <fnmatch.h>
#include <functional>
#include <iostream>
#include <set>

#include "assessment.hpp"
#include "cli_values.hpp"
#include "command.hpp"
#include "commands/commands.hpp"
#include "cpu_backend.hpp"
#include "cpu_description.hpp"
#include "interrupt.hpp"
#include "json_io.hpp"
#include "printer.hpp"
#include "remote_backend.hpp"
#include "sign.hpp"
#include "worker.hpp"
#include "probe/engine.hpp"
#include "probe/error.hpp"
#include "probe/plugin_loader.hpp"
#include "probe/registry.hpp"
#include "probe/version.hpp"

namespace probe::cli {
namespace {

constexpr const char* kFooter = R"(Commands:
  probe [--report]            inventory, measure, assess and print the report (default)
  probe --list                inventory, backends, devices and kernels; measures nothing
  probe rules                 the rulesets known (built in, plus --rules FILE), by jurisdiction
  probe rules --check FILE    validate a rules file you wrote (schema and engine) and show its verdicts on the
                              chip database; exit 2 naming the file, entry and field when it is wrong
  probe classify --chip NAME  declared and derived metrics of a chip in the database and its verdicts under
                              every ruleset, measuring nothing
  probe replay R.json         the verdicts of a recorded report under today's (or --rules) rules, what changed and
                              why; measuring nothing (exit 1 when a classification changed)
  probe compare BASE NEW      each figure of two reports against the spread of both runs; exit 1 on a regression
  probe describe-cpu          this machine's CPU as a recorded description (JSON; --json FILE writes it to FILE)
  probe --list --cpu-description FILE
                              identify a recorded CPU and list its theoretical per-cycle rates, measuring nothing
  probe keygen --out NAME     an Ed25519 key pair for --sign: NAME.key (mode 0600) and NAME.pub
  probe --report --json R.json --sign NAME.key [--challenge HEX]
                              also write R.json.intoto.json: a signed in-toto statement of the run
  probe verify R.json.intoto.json --key NAME.pub [--report R.json]
                              check a signed statement: 0 holds, 1 a check failed (named), 2 unusable input

Exit status:
  0  success
  1  a measurement failed (its reason is in the report); replay: a classification changed; compare: a regression;
     verify: a check failed
  2  usage or input error (a one-line message says what was wrong)
  3  internal error in probe (please report it with the message)
  130, 143  interrupted by SIGINT (Ctrl-C), SIGTERM: the report is written with status interrupted, the
     measurements completed kept and the kernels not reached listed; a second Ctrl-C exits at once

CPU kernels: fma.fp64 fma.fp32 fma.fp16 dot.bf16 dot.int8 amx.bf16 amx.int8 amx.fp16 mem.read mem.write
             mem.write.nt mem.copy mem.copy.nt mem.triad mem.triad.nt   (globs allowed: --kernels 'fma.*,mem.triad*')
GPU kernels: probe --list on the node (e.g. mma.bf16, wgmma.fp8_e4m3, mfma.bf16, library.bf16.cublaslt)
Plugins: probe_backend_*.so from --plugin-dir, $PROBE_PLUGIN_PATH, <exe>/../lib/probe/plugins.)";

std::vector<std::string> split_list(const std::string& s) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= s.size()) {
    const std::size_t end = s.find(',', start);
    std::string item = s.substr(start, end == std::string::npos ? std::string::npos : end - start);
    if (!item.empty()) out.push_back(item);
    if (end == std::string::npos) break;
    start = end + 1;
  }
  return out;
}

struct Options {
  bool report = false, list = false, quick = false, thorough = false, no_plugins = false, no_progress = false;
  std::string json_file, format = "text", kernels, devices, cpu_isa = "amx", mem_size, topology_xml,
      cpu_description;
  std::vector<std::string> plugin_dirs;
  int threads = 0;
  // Control parameters
  std::string rulesets, chipdb, datacenter, chip, jurisdictions, vector_processor, check_file;
  double envelope_ft3 = 0;
  std::vector<std::string> rules_files;
  std::vector<std::string> out_files;                       // --out FILE: format from the extension
  std::string replay_report, compare_base, compare_new;
  bool replay_command = false, compare_command = false;
  double die_area = 0, derive_clock = 0;
  double kernel_timeout = 0;  // seconds; 0: derived from the budget
  bool rules_command = false, classify_command = false, describe_cpu_command = false;
  SignOptions sign;
};

report::AssessmentOptions assessment_options(const Options& o) {
  report::AssessmentOptions a;
  a.ruleset_ids = split_list(o.rulesets);
  a.rules_files = o.rules_files;
  if (!o.chipdb.empty()) a.chipdb_file = o.chipdb;
  if (o.die_area > 0) a.overrides.die_area_mm2 = o.die_area;
  if (o.derive_clock > 0) a.overrides.derive_clock_mhz = o.derive_clock;
  if (!o.datacenter.empty()) {
    if (o.datacenter != "yes" && o.datacenter != "no") {
      throw InputError(fmt::format("--datacenter: '{}' is not yes or no", o.datacenter));
    }
    a.overrides.datacenter = o.datacenter == "yes";
  }
  if (!o.vector_processor.empty()) {
    if (o.vector_processor != "yes" && o.vector_processor != "no") {
      throw InputError(fmt::format("--vector-processor: '{}' is not yes or no", o.vector_processor));
    }
    a.overrides.vector_processor = o.vector_processor == "yes";
  }
  if (o.envelope_ft3 > 0) a.overrides.envelope_ft3 = o.envelope_ft3;
  for (auto j : split_list(o.jurisdictions)) {
    for (char& c : j) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    a.jurisdictions.push_back(j);
  }
  return a;
}

// Text, JSON or a printer's view of a command's result, to standard output and every output file.
void emit(const Outputs& outputs, std::string_view text_out, const nlohmann::json& doc,
          const std::function<std::string(report::Format)>& view) {
  emit_outputs(outputs, [&](report::Format f) {
    if (f == report::Format::json) return doc.dump(2) + "\n";
    if (f == report::Format::text) return std::string(text_out);
    return view(f);
  });
}

report::PrintContext print_context(std::string title, report::Format f) {
  report::PrintContext ctx;
  ctx.title = std::move(title);
  if (f == report::Format::html || f == report::Format::markdown) ctx.binary_sha256 = binary_sha256();
  ctx.signature = "not signed (a report as written by this run)";
  return ctx;
}

// probe rules --check FILE: the file through the same reader as --rules (exit 2 with file, entry and field when
// wrong), then through the engine: evaluated on every chip of the database (device scope) or on one node holding
// each chip (node scope), so a rule written the day it is published can be tried before a report is replayed.
int run_rules_check(const Options& o, const report::AssessmentOptions& a, const Outputs& outputs) {
  rules::Ruleset rs = rules::load_ruleset_file(o.check_file);
  const rules::ChipDatabase& db = a.chipdb_file ? rules::ChipDatabase::load_file(*a.chipdb_file) : rules::ChipDatabase::builtin();
  std::string text = fmt::format("{}: ok: ruleset '{}' [{}] {} ({}), {} clause(s), status {}, scope {}, sha256 {}\n", o.check_file,
                                 rs.id, rs.jurisdiction, rs.citation, rs.effective.empty() ? "no effective date" : rs.effective,
                                 rs.clauses.size(), rules::to_string(rs.status), rs.scope, rs.sha256);
  nlohmann::json verdicts = nlohmann::json::array();
  report::Table table;
  table.header = {"chip", "clause", "outcome"};
  const rules::Ruleset* one[] = {&rs};
  for (const auto& chip : db.chips()) {
    rules::DeviceMetrics m = rules::chip_metrics(chip, db, a.overrides);
    std::vector<rules::Verdict> vs;
    if (rs.scope == "device") {
      vs = rules::evaluate(one, m);
    } else {
      std::vector<rules::NodeMember> members{rules::NodeMember{m.device_id, m.device_name, true, true, {}, {}, rules::assessed_values(m)}};
      members.front().verdicts = rules::evaluate(rules::RuleBook::builtin().select(), m);
      vs = rules::evaluate_node(one, std::span<const rules::NodeMember>(members), a.overrides.envelope_ft3);
      for (auto& v : vs) v.subject = chip.id;
    }
    for (const auto& v : vs) {
      text += fmt::format("  {:<24} {}\n", chip.name, v.outcome == rules::Outcome::matched ? v.classification
                                                         : v.classification.empty() ? std::string(rules::to_string(v.outcome))
                                                                                    : v.classification);
      verdicts.push_back(rules::to_json(v));
      table.rows.push_back({chip.name, v.classification_clause, v.summary});
    }
  }
  report::Section section;
  section.title = fmt::format("{}: ruleset '{}' ({})", o.check_file, rs.id, rs.citation);
  section.tables.push_back(std::move(table));
  const std::vector<report::Section> sections{section};
  emit(outputs, text,
       nlohmann::json{{"check", {{"file", o.check_file}, {"ok", true}, {"ruleset", rules::to_json(rs)}, {"verdicts", verdicts}}}},
       [&](report::Format f) {
         return report::make_printer(f, print_context("probe rules --check", f))->render_sections(sections);
       });
  return kExitOk;
}

// probe rules: every ruleset the book holds, with its status and the hash of its file.
int run_rules(const Options& o, const Outputs& outputs) {
  report::AssessmentOptions a = assessment_options(o);
  a.all_rulesets_by_default = true;
  if (!o.check_file.empty()) return run_rules_check(o, a, outputs);
  report::Assessment assessment(a);
  const auto& book = assessment.rule_book();
  nlohmann::json doc = nlohmann::json::array();
  for (const auto& r : book.all()) doc.push_back(rules::to_json(r));
  std::vector<rules::Ruleset> shown;
  for (const auto& r : book.all()) {
    if (a.jurisdictions.empty() || std::find(a.jurisdictions.begin(), a.jurisdictions.end(), r.jurisdiction) != a.jurisdictions.end()) {
      shown.push_back(r);
    }
  }
  const std::string heading = fmt::format(
      "Jurisdictions: {} (in force: {}); default selection: every ruleset in force, proposed ones only by --ruleset ID\n",
      fmt::join(book.jurisdictions(), ", "), fmt::join(book.jurisdictions(true), ", "));
  report::Section section;
  section.title = "Rulesets";
  report::Table t;
  t.header = {"id", "jurisdiction", "citation", "effective", "status", "title", "file", "sha256"};
  for (const auto& r : shown) {
    t.rows.push_back({r.id, r.jurisdiction, r.citation, r.effective, std::string(rules::to_string(r.status)), r.title,
                      r.file_name, r.sha256});
  }
  section.tables.push_back(std::move(t));
  const std::vector<report::Section> sections{section};
  emit(outputs, heading + rules::render_rulesets(shown),
       nlohmann::json{{"rulesets", doc}, {"jurisdictions", book.jurisdictions()}}, [&](report::Format f) {
         return report::make_printer(f, print_context("probe rules", f))->render_sections(sections);
       });
  return kExitOk;
}

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

// probe describe-cpu: the live CPU as a recorded description (what --cpu-description reads back).
int run_describe_cpu(const Options& o) {
  if (!o.out_files.empty() || o.format != "text") {
    throw InputError("describe-cpu: --out and --format do not apply (it prints JSON; --json FILE writes it to FILE)");
  }
  const Topology topology{Topology::Options{}};
  const cpu::CpuDescription d = cpu::describe_this_cpu(
      topology.inventory(), fmt::format("recorded by probe {} describe-cpu on this machine, {}", kVersion,
                                        utc_now_iso8601()));
  const std::string text = cpu::to_json_text(d);
  if (!o.json_file.empty()) {
    report::write_file_atomically(o.json_file, text);
  } else {
    std::cout << text;
  }
  std::cout.flush();
  return kExitOk;
}

// Limits of the numeric flags: far above any real value, low enough that no later arithmetic overflows.
constexpr std::int64_t kMaxThreads = 1 << 16;  // threads per package
constexpr double kMaxDieAreaMm2 = 1e5;         // a wafer-scale engine is 46,225 mm²

// A CLI11 check from one of the strict parsers (cli_values.hpp), run before CLI11 converts the text: a value
// the parser refuses is a usage error (exit 2) with the parser's message (CLI11 puts the flag in front).
template <class Parse>
CLI::Validator strict(std::string flag, std::string description, Parse parse) {
  return CLI::Validator(
      [flag = std::move(flag), parse](const std::string& v) -> std::string {
        try {
          parse(v);
          return {};
        } catch (const InputError& e) {
          std::string_view msg = e.what();
          if (msg.starts_with(flag + ": ")) msg.remove_prefix(flag.size() + 2);
          return std::string(msg);
        }
      },
      std::move(description));
}

bool matches_any(const std::vector<std::string>& patterns, const std::string& id) {
  if (patterns.empty()) return true;
  for (const auto& p : patterns) {
    if (fnmatch(p.c_str(), id.c_str(), 0) == 0) return true;
  }
  return false;
}

std::string exe_path(const char* argv0) {
  std::error_code ec;
  auto p = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ec ? std::string(argv0) : p.string();
}

// One device as the run sees it: measured here (the built-in CPU backend) or by a plugin backend's worker.
struct Target {
  DeviceInfo info;
  std::vector<KernelSpec> kernels;
  Device* local = nullptr;          // measured in this process
  RemoteBackend* remote = nullptr;  // else measured by this backend's worker
  std::size_t remote_index = 0;     // its index in remote->devices()
};

// A single line on stderr, rewritten in place; only when stderr is a terminal.
class Progress {
 public:
  explicit Progress(bool enabled) : m_enabled(enabled) {}
  ~Progress() { clear(); }
  void show(std::string_view text) {
    if (!m_enabled) return;
    std::fprintf(stderr, "\r\033[K%.*s", static_cast<int>(text.size()), text.data());
    std::fflush(stderr);
    m_shown = true;
  }
  void clear() {
    if (m_enabled && m_shown) std::fputs("\r\033[K", stderr);
    m_shown = false;
  }

 private:
  bool m_enabled;
  bool m_shown = false;
};

// Each selected device's attestation for the run's nonce: in this process for the built-in backends, from each
// plugin backend's worker otherwise.
template <class Selected>
std::vector<evidence::DeviceEvidence> attest_selected(const std::vector<Target>& targets, const Selected& selected,
                                                      const std::string& nonce) {
  std::vector<evidence::DeviceEvidence> out;
  for (std::size_t i = 0; i < targets.size();) {
    const Target& t = targets[i];
    if (t.local != nullptr || t.remote == nullptr) {
      if (selected(t)) out.push_back({t.info, t.local ? t.local->attest(nonce) : Attestation{}});
      ++i;
      continue;
    }
    std::vector<std::size_t> indexes;
    std::vector<const Target*> asked;
    for (; i < targets.size() && targets[i].remote == t.remote; ++i) {
      if (selected(targets[i])) {
        indexes.push_back(targets[i].remote_index);
        asked.push_back(&targets[i]);
      }
    }
    if (indexes.empty()) continue;
    const std::vector<Attestation> got = t.remote->attest(indexes, nonce);
    for (std::size_t k = 0; k < asked.size(); ++k) out.push_back({asked[k]->info, got[k]});
  }
  return out;
}

int run(const Options& o, const std::string& command, const char* argv0) {
  // Every output path is checked before anything is read or measured.
  const Outputs outputs = resolve_outputs(o.format, o.out_files, o.json_file);
  // The key, the challenge and the statement's path too: a signing run never fails after measuring.
  std::optional<RunSigner> signer;
  if (!o.sign.key_file.empty()) signer.emplace(o.sign, o.json_file);
  if (!signer && !o.sign.challenge.empty()) throw InputError("--challenge: only with --sign (it is bound into the signed statement)");
  if (o.rules_command) return run_rules(o, outputs);
  if (o.classify_command) return run_classify(o, outputs, command);
  if (o.replay_command) return run_replay(ReplayOptions{o.replay_report, assessment_options(o)}, outputs);
  if (o.compare_command) return run_compare(CompareOptions{o.compare_base, o.compare_new}, outputs);
  if (o.describe_cpu_command) return run_describe_cpu(o);
  // Read before anything else: a bad description is an input error (exit 2) naming the file and the field.
  std::optional<cpu::CpuDescription> description;
  if (!o.cpu_description.empty()) description = cpu::load_cpu_description(o.cpu_description);
  // Data files are read before anything is measured: a bad --rules file is an input error, not a late crash.
  report::Assessment assessment(assessment_options(o));
  const RunPolicy policy = RunPolicy::for_budget(o.quick ? Budget::quick : o.thorough ? Budget::thorough : Budget::normal);
  const report::Format format = outputs.stdout_format;
  const auto isa = cpu::isa_from_string(o.cpu_isa);
  if (!isa) throw InputError(fmt::format("--cpu-isa: '{}' is not one of amx, avx512, avx2, sse2", o.cpu_isa));

  cpu::CpuOptions cpu_options;
  cpu_options.isa_cap = *isa;
  if (o.threads != 0) cpu_options.threads = o.threads;
  if (!o.mem_size.empty()) {
    cpu_options.array_bytes = parse_size(o.mem_size, "--mem-size");
    cpu::check_array_bytes(*cpu_options.array_bytes, cpu::available_memory_bytes());
  }

  // From here a SIGINT/SIGTERM stops the measurement and still writes the report (exit 130/143).
  const InterruptHandling interrupts;
  report::Report rep;
  rep.tool_version = kVersion;
  rep.command = command;
  rep.budget = std::string(to_string(policy.budget));
  rep.started_at = utc_now_iso8601();

  Topology::Options topo_options;
  if (!o.topology_xml.empty()) topo_options.xml_path = o.topology_xml;
  auto topology = std::make_shared<const Topology>(topo_options);
  rep.inventory = topology->inventory();

  // The CPU backend is our own code and runs here; every plugin runs in a worker process (docs/design.md,
  // "Isolation"), so a plugin that crashes or hangs costs its own kernels and nothing else.
  std::vector<SourcedBackend> backends;
  if (description) {
    backends.push_back({std::shared_ptr<Backend>(cpu::make_described_cpu_backend(*description, o.cpu_description,
                                                                                 cpu_options)),
                        "built-in"});
  } else {
    backends.push_back({std::shared_ptr<Backend>(cpu::make_cpu_backend(topology, cpu_options)), "built-in"});
  }
  Enumeration en = enumerate(backends);
  rep.backends = en.backends;
  std::vector<Target> targets;
  for (auto& h : en.devices) {
    const auto ks = h.device->kernels();
    targets.push_back(Target{h.device->info(), {ks.begin(), ks.end()}, h.device.get(), nullptr, 0});
  }
  std::vector<std::unique_ptr<RemoteBackend>> remotes;
  if (!o.no_plugins) {
    WorkerSettings workers;
    // The worker is this very file, reached through /proc/self/exe rather than its path: a path that another
    // user (setpriv, sudo -u) cannot traverse, or a binary replaced since start, would stop every plugin.
    workers.exe = "/proc/self/exe";
    workers.kernel_timeout_s = o.kernel_timeout > 0 ? o.kernel_timeout : policy.kernel_timeout_s();
    workers.stop = [] { return stop_requested(); };
    rep.watchdog = report::Watchdog{workers.kernel_timeout_s,
                                    o.kernel_timeout > 0 ? std::string("--kernel-timeout")
                                                         : fmt::format("the {} budget", rep.budget)};
    std::vector<std::filesystem::path> dirs(o.plugin_dirs.begin(), o.plugin_dirs.end());
    for (auto& d : default_plugin_dirs(exe_path(argv0))) dirs.push_back(std::move(d));
    // A plugin may not take the name of a built-in backend (two "cpu0" devices would share one verdict).
    std::vector<std::string> built_in;
    for (const auto& b : backends) built_in.emplace_back(b.backend->name());
    PluginScanResult scan = scan_plugins(workers, dirs, built_in);
    rep.plugins = std::move(scan.records);
    rep.plugin_folders = std::move(scan.folders);
    for (const auto& record : rep.plugins) {
      if (!record.loaded) continue;
      auto& remote = *remotes.emplace_back(std::make_unique<RemoteBackend>(workers, record.path, record.name));
      rep.backends.push_back(remote.status());
      for (std::size_t i = 0; i < remote.devices().size(); ++i) {
        targets.push_back(Target{remote.devices()[i].info, remote.devices()[i].kernels, nullptr, &remote, i});
      }
    }
  }

  const std::vector<std::string> kernel_patterns = split_list(o.kernels);
  const std::vector<std::string> device_patterns = split_list(o.devices);
  // A filter that selects nothing is a usage error, not an empty report.
  for (const auto& p : kernel_patterns) {
    bool hit = false;
    std::set<std::string> known;
    for (const auto& t : targets) {
      for (const auto& k : t.kernels) {
        known.insert(k.id);
        hit |= fnmatch(p.c_str(), k.id.c_str(), 0) == 0;
      }
    }
    if (!hit && !targets.empty()) {
      throw InputError(fmt::format("--kernels: '{}' matches no kernel (known: {})", p, fmt::join(known, ", ")));
    }
  }
  for (const auto& p : device_patterns) {
    bool hit = false;
    std::vector<std::string> known;
    for (const auto& t : targets) {
      known.push_back(t.info.id);
      hit |= fnmatch(p.c_str(), t.info.id.c_str(), 0) == 0;
    }
    if (!hit) {
      throw InputError(fmt::format("--device: '{}' matches no device (found: {})", p,
                                   known.empty() ? "none" : fmt::format("{}", fmt::join(known, ", "))));
    }
  }
  auto selected = [&](const Target& t) { return matches_any(device_patterns, t.info.id); };
  auto selected_kernels = [&](const Target& t) {
    std::vector<std::size_t> out;
    for (std::size_t k = 0; k < t.kernels.size(); ++k) {
      if (matches_any(kernel_patterns, t.kernels[k].id)) out.push_back(k);
    }
    return out;
  };

  if (!o.list) {
    Progress progress(!o.no_progress && ::isatty(STDERR_FILENO) == 1);
    std::size_t total = 0, finished = 0;
    for (const auto& t : targets) total += selected(t) ? selected_kernels(t).size() : 0;
    std::vector<report::DeviceReport> results(targets.size());
    for (std::size_t i = 0; i < targets.size(); ++i) results[i].info = targets[i].info;
    auto begin = [&](std::size_t i, const KernelSpec& k) {
      progress.show(fmt::format("probe [{}/{}] {} {}", finished + 1, total, targets[i].info.id, k.id));
    };
    auto record = [&](std::size_t i, Measurement m) {
      ++finished;
      results[i].measurements.push_back(std::move(m));
    };
    auto detail = [&](std::string_view what) {
      progress.show(fmt::format("probe [{}/{}] {}", std::min(finished + 1, total), total, what));
    };
    for (std::size_t i = 0; i < targets.size() && !stop_requested();) {
      Target& t = targets[i];
      if (t.local != nullptr) {
        if (selected(t)) {
          std::vector<KernelSpec> kernels;
          for (const std::size_t k : selected_kernels(t)) kernels.push_back(t.kernels[k]);
          RunContext ctx;
          ctx.progress = detail;
          ctx.stop_requested = [] { return stop_requested(); };
          KernelLoopEvents events;
          events.begin = [&](const KernelSpec& k) { begin(i, k); };
          events.result = [&](Measurement m) { record(i, std::move(m)); };
          static_cast<void>(measure_kernels(*t.local, kernels, policy, ctx, events));
        }
        ++i;
        continue;
      }
      // Every selected device of one plugin backend, in one worker (restarted after a fault).
      RemoteBackend* remote = t.remote;
      const std::size_t first = i;
      std::vector<RemoteBackend::Job> jobs;
      for (; i < targets.size() && targets[i].remote == remote; ++i) {
        if (selected(targets[i])) jobs.push_back({targets[i].remote_index, selected_kernels(targets[i])});
      }
      RemoteBackend::Events events;
      events.begin = [&](std::size_t d, const KernelSpec& k) { begin(first + d, k); };
      events.progress = detail;
      events.result = [&](std::size_t d, Measurement m) { record(first + d, std::move(m)); };
      remote->measure(jobs, policy.budget, events);
    }
    progress.clear();
    if (stop_requested()) {
      rep.status = "interrupted";
      rep.interrupted_by = signal_name(stop_signal());
      for (std::size_t i = 0; i < targets.size(); ++i) {
        if (!selected(targets[i])) continue;
        for (const std::size_t k : selected_kernels(targets[i])) {
          const std::string& id = targets[i].kernels[k].id;
          const auto& ms = results[i].measurements;
          if (std::none_of(ms.begin(), ms.end(), [&](const Measurement& m) { return m.spec.id == id; })) {
            rep.not_reached.push_back({targets[i].info.id, id});
          }
        }
      }
    }
    for (std::size_t i = 0; i < targets.size(); ++i) {
      if (selected(targets[i])) rep.devices.push_back(std::move(results[i]));
    }
  } else {
    for (const auto& t : targets) {
      if (selected(t)) rep.devices.push_back({t.info, {}});
    }
  }
  std::vector<DeviceInfo> deselected;  // found, but left out by --device: not the same as "no runtime"
  for (const auto& t : targets) {
    if (!selected(t)) deselected.push_back(t.info);
  }
  rep.unmeasured = report::unmeasured_accelerators(rep.inventory, rep.devices, rep.backends, deselected,
                                                   fmt::format("--device {}", o.devices));
  rep.conventions = report::standard_conventions();
  rep.finished_at = utc_now_iso8601();
  assessment.assess(rep);

  const auto view = [&](report::Format f) {
    if (f == report::Format::json) return report::to_json_text(rep, &assessment);
    report::PrintContext ctx = print_context("probe report", f);
    if (signer) ctx.signature = signer->describe();
    return report::make_printer(f, ctx)->render(rep, &assessment);
  };
  if (!outputs.files.empty()) {
    const ExitDeferred writing;  // a second Ctrl-C waits for the rename: no half-written report, no temporary
    for (const auto& f : outputs.files) report::write_file_atomically(f.path, view(f.format));
  }
  std::string signed_note;
  if (signer) {
    const std::string text = view(report::Format::json);  // the text --json wrote
    SignedRun run{o.json_file, text, exe_path(argv0), command, &rep, &assessment, {}, {}};
    for (const auto& f : {o.cpu_description, o.topology_xml}) {
      if (!f.empty()) run.input_files.push_back(f);
    }
    run.devices = attest_selected(targets, selected, signer->nonce(text));
    const ExitDeferred writing;
    signed_note = signer->write(run);
  }
  remotes.clear();  // the idle workers exit (--list, devices left out)
  if (o.list && format == report::Format::text) {
    std::string out = report::render_inventory(rep);
    out += "\nDevices and kernels\n";
    for (const auto& t : targets) {
      if (!selected(t)) continue;
      std::vector<std::string> ids;
      for (const auto& k : t.kernels) ids.push_back(k.id);
      out += fmt::format("  {:<8}{} ({}): {}\n", t.info.id, t.info.name, t.info.arch, fmt::join(ids, " "));
      // How the device was identified, its evidence and theoretical rates: what a reader checks first.
      for (const auto& [key, value] : t.info.properties) out += fmt::format("          {}: {}\n", key, value);
    }
    std::cout << out;
  } else {
    std::cout << view(format);
  }
  if (format == report::Format::text) std::cout << signed_note;
  std::cout.flush();
  if (const int sig = stop_signal(); sig != 0) return 128 + sig;
  return rep.any_failed() ? kExitMeasurementFailed : kExitOk;
}

// Runs a command's work with the exit statuses of --help: an InputError is 2 with its one line, anything else 3.
int guarded(const std::function<int()>& work) {
  try {
    return work();
  } catch (const InputError& e) {
    std::cerr << "probe: " << e.what() << "\n";
    return kExitUsage;
  } catch (const std::exception& e) {
    std::cerr << "probe: internal error: " << e.what() << "\n";
    return kExitInternal;
  } catch (...) {
    std::cerr << "probe: internal error: unknown exception\n";
    return kExitInternal;
  }
}

}  // namespace

int run_cli(int argc, char** argv) {
  // The worker mode is internal (probe re-executes itself to run plugin code): not an option in --help.
  if (argc >= 2 && std::string_view(argv[1]) == kWorkerFlag) return run_worker(argc, argv);
  CLI::App app{"probe — measures what a node's CPUs and accelerators can really do, and states it in the terms "
               "export controls use (TPP, bandwidth).",
               "probe"};
  app.footer(kFooter);
  app.set_version_flag("--version", std::string("probe ") + kVersion, "Print the version and exit");
  Options o;
  app.add_flag("--report", o.report, "Inventory, measure every device, print the report (the default action)");
  auto* list = app.add_flag("--list", o.list, "Inventory and devices with their kernels; measure nothing");
  auto* quick = app.add_flag("--quick", o.quick, "Short budget: a few samples per kernel (about 5 s on 2 cores)");
  auto* thorough = app.add_flag("--thorough", o.thorough, "Long budget: more samples, tighter spread target");
  quick->excludes(thorough);
  app.add_option("--json", o.json_file, "Also write the JSON report to FILE (written atomically)")->type_name("FILE");
  app.add_option("--format", o.format, "Standard-output format: text (default), json, html or md")->type_name("FMT");
  app.add_option("--out", o.out_files,
                 "Also write the output to FILE in the format its extension names: .txt, .json, .html, .md "
                 "(repeatable; written atomically)")
      ->type_name("FILE");
  app.add_option("--kernels", o.kernels, "Only these kernels: comma-separated ids or globs")->type_name("LIST");
  app.add_option("--device", o.devices, "Only these devices: comma-separated ids or globs (cpu0, cuda*)")
      ->type_name("LIST");
  app.add_option("--cpu-isa", o.cpu_isa, "Highest CPU code path to use: amx (default), avx512, avx2 or sse2")
      ->type_name("ISA");
  app.add_option("--threads", o.threads, "CPU threads per package (default: one per core)")
      ->type_name("N")
      ->check(strict("--threads", "1 to 65536", [](std::string_view v) { (void)parse_count(v, "--threads", 1, kMaxThreads); }));
  app.add_option("--mem-size", o.mem_size,
                 "Bytes per array for the CPU memory kernels (default: 4x the last-level caches, at least 64 MiB, at most 1/6 of available memory; e.g. 512M, 2G; accepted: 1M to 256T)")
      ->type_name("SIZE");
  app.add_option("--plugin-dir", o.plugin_dirs, "Also look for backend plugins in DIR (repeatable)")->type_name("DIR");
  auto* noplug = app.add_flag("--no-plugins", o.no_plugins, "Load no backend plugins (the CPU backend is built in)");
  noplug->excludes(app.get_option("--plugin-dir"));
  app.add_option("--topology", o.topology_xml,
                 "Read the node's topology from an hwloc XML file (another node's inventory; nothing is measured "
                 "on the CPU then)")
      ->type_name("FILE");
  app.add_option("--cpu-description", o.cpu_description,
                 "Describe the CPU from a recorded description (probe describe-cpu; schema "
                 "probe-cpu-description/1) instead of the live CPU: identified and listed, nothing measured on it")
      ->type_name("FILE");
  app.add_option("--kernel-timeout", o.kernel_timeout,
                 "Watchdog: stop a plugin (GPU) kernel after SECONDS of wall time and fail it (default: 60 s + 20x "
                 "the budget's time per kernel: 65 s quick, 92 s default, 230 s thorough)")
      ->type_name("SECONDS")
      ->check(CLI::Range(0.001, 1e6));
  app.add_flag("--no-progress", o.no_progress, "No progress line on stderr (it is shown only on a terminal anyway)");
  list->excludes(quick)->excludes(thorough);
  app.add_option("--ruleset", o.rulesets,
                 "Evaluate only these rulesets: comma-separated ids (default: every ruleset in force; see probe rules)")
      ->type_name("LIST");
  app.add_option("--rules", o.rules_files, "Also load this rules file (same schema; replaces a built-in of the same id)")
      ->type_name("FILE");
  app.add_option("--chipdb", o.chipdb, "Use this chip database instead of the built-in one")->type_name("FILE");
  app.add_option("--die-area", o.die_area,
                 "Applicable die area in mm² for performance density, where the chip database has none")
      ->type_name("MM2")
      ->check(strict("--die-area", "above 0, up to 100000", [](std::string_view v) {
        if (parse_number(v, "--die-area", 0, kMaxDieAreaMm2) <= 0) {
          throw InputError(fmt::format("--die-area: '{}' is not a positive number of mm²", v));
        }
      }));
  app.add_option("--derive-clock", o.derive_clock,
                 "Clock in MHz for the derived basis (default: the datasheet tensor-peak clock; e.g. 1980 for H100 "
                 "SXM at its maximum boost)")
      ->type_name("MHZ")
      ->check(strict("--derive-clock", "1 to 100000", [](std::string_view v) { (void)parse_number(v, "--derive-clock", 1, 100000); }));
  app.add_option("--datacenter", o.datacenter, "Whether the device is designed or marketed for data centers (Note 2 "
                                               "to 3A090): yes or no")
      ->type_name("yes|no");

  app.add_option("--jurisdiction", o.jurisdictions,
                 "Evaluate only the rulesets of these jurisdictions: comma-separated (US, EU, UK, JP, KR; default: every "
                 "jurisdiction with a ruleset in force; see probe rules)")
      ->type_name("LIST");
  app.add_option("--envelope-ft3", o.envelope_ft3,
                 "The system's envelope in cubic feet, for the 'supercomputer' test (15 CFR 772.1): an input, never measured")
      ->type_name("FT3")
      ->check(strict("--envelope-ft3", "above 0, up to 1e9", [](std::string_view v) {
        if (parse_number(v, "--envelope-ft3", 0, 1e9) <= 0) throw InputError(fmt::format("--envelope-ft3: '{}' is not a positive volume", v));
      }));
  app.add_option("--vector-processor", o.vector_processor,
                 "Whether the processors are 'vector processors' (APP weighting factor 0.9, else 0.3): yes or no")
      ->type_name("yes|no");

  auto* rules_cmd = app.add_subcommand("rules", "List the rulesets by jurisdiction: id, instrument, effective date, status, file hash");
  rules_cmd->add_option("--check", o.check_file, "Validate this rules file (schema and engine) and show its verdicts on the chip database")
      ->type_name("FILE");
  rules_cmd->fallthrough();
  auto* classify_cmd = app.add_subcommand(
      "classify", "Declared and derived metrics of a chip in the database and its verdicts, measuring nothing");
  classify_cmd->add_option("--chip", o.chip, "The chip: a name or alias from the database (\"H100 SXM\")")
      ->type_name("NAME")
      ->required();
  classify_cmd->fallthrough();
  auto* describe_cmd = app.add_subcommand(
      "describe-cpu", "Print this machine's CPU as a recorded description (JSON; --json FILE writes it to FILE)");
  describe_cmd->fallthrough();
  auto* replay_cmd = app.add_subcommand(
      "replay", "Assess a recorded report again under today's (or --rules/--ruleset/--chipdb) rules and data, measuring "
                "nothing, and show which verdicts changed and why");
  replay_cmd->add_option("report", o.replay_report, "The recorded JSON report")->type_name("R.json")->required();
  replay_cmd->fallthrough();
  auto* compare_cmd = app.add_subcommand(
      "compare", "Pair the devices and kernels of two reports and show each figure's change against the spread of "
                 "both runs; exit 1 on a regression");
  compare_cmd->add_option("base", o.compare_base, "The earlier (or golden) report")->type_name("BASE.json")->required();
  compare_cmd->add_option("new", o.compare_new, "The report to judge")->type_name("NEW.json")->required();
  compare_cmd->fallthrough();
  add_sign_options(app, o.sign);
  const std::vector<Command> commands{add_keygen_command(app), add_verify_command(app)};
  app.require_subcommand(0, 1);

  std::string command = "probe";
  for (int i = 1; i < argc; ++i) command += fmt::format(" {}", argv[i]);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::cerr << "probe: " << e.what() << " (see probe --help)\n";
    return kExitUsage;
  }
  if (o.report && o.list) {
    std::cerr << "probe: --report and --list exclude each other (see probe --help)\n";
    return kExitUsage;
  }
  for (const auto& c : commands) {
    if (!c.app->parsed()) continue;
    if (o.report || o.list || o.quick || o.thorough || !o.json_file.empty() || !o.out_files.empty() ||
        !o.sign.key_file.empty()) {
      std::cerr << "probe: " << c.app->get_name() << " measures nothing: --report, --list, --quick, --thorough, --json, "
                   "--out and --sign do not apply (see probe " << c.app->get_name() << " --help)\n";
      return kExitUsage;
    }
    return guarded([&] { return c.run(); });
  }
  o.rules_command = rules_cmd->parsed();
  o.classify_command = classify_cmd->parsed();
  o.describe_cpu_command = describe_cmd->parsed();
  o.replay_command = replay_cmd->parsed();
  o.compare_command = compare_cmd->parsed();
  if (o.compare_command && (!o.rules_files.empty() || !o.rulesets.empty() || !o.chipdb.empty())) {
    std::cerr << "probe: compare compares measurements: --rules, --ruleset and --chipdb do not apply (replay each "
                 "report for its verdicts; see probe --help)\n";
    return kExitUsage;
  }
  if ((o.rules_command || o.classify_command || o.describe_cpu_command || o.replay_command || o.compare_command) &&
      (o.report || o.list || o.quick || o.thorough || !o.cpu_description.empty() || !o.sign.key_file.empty())) {
    std::cerr << "probe: "
              << (o.rules_command      ? "rules"
                  : o.classify_command ? "classify"
                  : o.replay_command   ? "replay"
                  : o.compare_command  ? "compare"
                                       : "describe-cpu")
              << " measures nothing: --report, --list, --quick, --thorough, --cpu-description and --sign do not apply (see "
                 "probe --help)\n";
    return kExitUsage;
  }
  return guarded([&] { return run(o, command, argv[0]); });
}

}  // namespace probe::cli
