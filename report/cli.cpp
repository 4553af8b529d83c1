#include "cli.hpp"

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <functional>
#include <iostream>

#include "cli_values.hpp"
#include "command.hpp"
#include "commands/commands.hpp"
#include "commands/options.hpp"
#include "sign.hpp"
#include "worker.hpp"
#include "probe/error.hpp"
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
  mpirun -n N probe --report --fleet-out fleet.json
                              one rank per node measures it; rank 0 gathers the node reports and writes the
                              fleet report (built with MPI: PROBE_ENABLE_MPI)
  probe merge NODE.json|DIR... [--key NAME.pub]... [--out fleet.json|.html|.md] [--sign NAME.key]
                              one fleet report from many node reports: totals, per-model distributions and
                              outliers, verdicts, version drift (exit 1 when a node failed or a signature did not hold)

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

// The commands that read the shared Options. Every output path is checked before anything is read or measured.
int dispatch(const Options& o, const std::string& command, const char* argv0) {
  const Outputs outputs = resolve_outputs(o.format, o.out_files, o.json_file);
  if (o.sign.key_file.empty() && !o.sign.challenge.empty()) {
    throw InputError("--challenge: only with --sign (it is bound into the signed statement)");
  }
  if (o.rules_command) return run_rules(o, outputs);
  if (o.classify_command) return run_classify(o, outputs, command);
  if (o.replay_command) return run_replay(ReplayOptions{o.replay_report, assessment_options(o)}, outputs);
  if (o.compare_command) return run_compare(CompareOptions{o.compare_base, o.compare_new}, outputs);
  if (o.describe_cpu_command) return run_describe_cpu(o);
  if (!o.fleet_out.empty()) {
    if (o.list) throw InputError("--fleet-out: needs a report run (--report), not --list");
    return run_fleet_mpi(o, command, argv0);
  }
  return run_report(o, outputs, command, argv0);
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
                 "the budget's time per kernel + 2x the sustained phase: 65 s quick, 92 s default, 250 s thorough)")
      ->type_name("SECONDS")
      ->check(CLI::Range(0.001, 1e6));
  app.add_option("--sustain", o.sustain,
                 "GPU kernels: after sampling, run each kernel back to back for SECONDS with the clocks, power, "
                 "temperature and clock event reasons sampled (NVML / ROCm SMI), verified before and after; the "
                 "report gives the figure over that phase against the peak at its own clock (default: 10 with "
                 "--thorough, else 0 = none)")
      ->type_name("SECONDS")
      ->check(CLI::Range(0.0, 3600.0));
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
  app.add_option("--fleet-out", o.fleet_out,
                 "Under MPI (mpirun -n N probe --report --fleet-out F): each rank measures its node, rank 0 writes "
                 "the fleet report of all of them to F (.json, .html, .md, .txt); several ranks on one node: the "
                 "first measures, the others stand down")
      ->type_name("FILE");
  add_sign_options(app, o.sign);
  const std::vector<Command> commands{add_keygen_command(app), add_verify_command(app), add_merge_command(app)};
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
  return guarded([&] { return dispatch(o, command, argv[0]); });
}

}  // namespace probe::cli
