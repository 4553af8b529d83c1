// probe [--report] and probe --list: each step in a function of its own, in the order the run takes them:
// inputs checked (outputs, key, data files, CPU options) before anything is measured; the devices opened
// (devices.cpp); measured (measure_devices.cpp); assessed; written and signed; printed.
#include <fmt/format.h>
#include <functional>
#include <fmt/ranges.h>
#include <iostream>
#include <optional>

#include "cli.hpp"
#include "cli_values.hpp"
#include "cpu_backend.hpp"
#include "cpu_description.hpp"
#include "devices.hpp"
#include "statement.hpp"
#include "interrupt.hpp"
#include "json_io.hpp"
#include "printer.hpp"
#include "probe/error.hpp"
#include "probe/inventory.hpp"
#include "probe/version.hpp"

namespace probe::cli {
namespace {

// The CPU backend's options from --cpu-isa, --threads and --mem-size; InputError for a bad value.
cpu::CpuOptions cpu_options(const Options& o) {
  const auto isa = cpu::isa_from_string(o.cpu_isa);
  if (!isa) throw InputError(fmt::format("--cpu-isa: '{}' is not one of amx, avx512, avx2, sse2", o.cpu_isa));
  cpu::CpuOptions c;
  c.isa_cap = *isa;
  if (o.threads != 0) c.threads = o.threads;
  if (!o.mem_size.empty()) {
    c.array_bytes = parse_size(o.mem_size, "--mem-size");
    cpu::check_array_bytes(*c.array_bytes, cpu::available_memory_bytes());
  }
  return c;
}

// The CPU backend is our own code and runs here: the live CPU, or the recorded one of --cpu-description.
SourcedBackend builtin_backend(const Options& o, const std::optional<cpu::CpuDescription>& description,
                               std::shared_ptr<const Topology> topology, const cpu::CpuOptions& options) {
  if (description) {
    return {std::shared_ptr<Backend>(cpu::make_described_cpu_backend(*description, o.cpu_description, options)),
            "built-in"};
  }
  return {std::shared_ptr<Backend>(cpu::make_cpu_backend(std::move(topology), options)), "built-in"};
}

// The accelerators found but not measured, the conventions, the end time, and the verdicts.
void complete_report(const Options& o, const std::vector<Target>& targets, const Selection& selection,
                     report::Assessment& assessment, report::Report& rep) {
  std::vector<DeviceInfo> deselected;  // found, but left out by --device: not the same as "no runtime"
  for (const auto& t : targets) {
    if (!selection.device(t)) deselected.push_back(t.info);
  }
  rep.unmeasured = report::unmeasured_accelerators(rep.inventory, rep.devices, rep.backends, deselected,
                                                   fmt::format("--device {}", o.devices));
  rep.conventions = report::standard_conventions();
  rep.finished_at = utc_now_iso8601();
  assessment.assess(rep);
}

// probe --list in text: the inventory, then each selected device with its kernels and properties.
std::string render_list(const report::Report& rep, const std::vector<Target>& targets, const Selection& selection) {
  std::string out = report::render_inventory(rep);
  out += "\nDevices and kernels\n";
  for (const auto& t : targets) {
    if (!selection.device(t)) continue;
    std::vector<std::string> ids;
    for (const auto& k : t.kernels) ids.push_back(k.id);
    out += fmt::format("  {:<8}{} ({}): {}\n", t.info.id, t.info.name, t.info.arch, fmt::join(ids, " "));
    // How the device was identified, its evidence and theoretical rates: what a reader checks first.
    for (const auto& [key, value] : t.info.properties) out += fmt::format("          {}: {}\n", key, value);
  }
  return out;
}

// Every --out and --json file, each atomically.
void write_outputs(const Outputs& outputs, const std::function<std::string(report::Format)>& view) {
  if (outputs.files.empty()) return;
  const ExitDeferred writing;  // a second Ctrl-C waits for the rename: no half-written report, no temporary
  for (const auto& f : outputs.files) report::write_file_atomically(f.path, view(f.format));
}

// --sign: the devices attest the report's text, the statement is signed and written; returns the lines to print.
std::string sign_run(const RunSigner& signer, const Options& o, const std::string& command, const char* argv0,
                     const std::string& json_text, const report::Report& rep, const report::Assessment& assessment,
                     const std::vector<Target>& targets, const Selection& selection) {
  SignedRun run{o.json_file, json_text, exe_path(argv0), command, &rep, &assessment, {}, {}};  // the text --json wrote
  for (const auto& f : {o.cpu_description, o.topology_xml}) {
    if (!f.empty()) run.input_files.push_back(f);
  }
  run.devices = attest_selected(targets, selection, signer.nonce(json_text));
  const ExitDeferred writing;
  return signer.write(run);
}

}  // namespace

int run_report(const Options& o, const Outputs& outputs, const std::string& command, const char* argv0) {
  // The key, the challenge and the statement's path are checked first too: a signing run never fails after
  // measuring.
  std::optional<RunSigner> signer;
  if (!o.sign.key_file.empty()) signer.emplace(o.sign, o.json_file);
  // Read before anything else: a bad description is an input error (exit 2) naming the file and the field.
  std::optional<cpu::CpuDescription> description;
  if (!o.cpu_description.empty()) description = cpu::load_cpu_description(o.cpu_description);
  // Data files are read before anything is measured: a bad --rules file is an input error, not a late crash.
  report::Assessment assessment(assessment_options(o));
  const RunPolicy policy = [&] {
    RunPolicy p = RunPolicy::for_budget(o.quick ? Budget::quick : o.thorough ? Budget::thorough : Budget::normal);
    if (o.sustain >= 0) p.sustain_s = o.sustain;
    return p;
  }();
  const report::Format format = outputs.stdout_format;
  const cpu::CpuOptions cpu = cpu_options(o);

  // From here a SIGINT/SIGTERM stops the measurement and still writes the report (exit 130/143).
  const InterruptHandling interrupts;
  report::Report rep;
  rep.tool_version = kVersion;
  rep.run_id = evidence::new_run_id();
  rep.command = command;
  rep.budget = std::string(to_string(policy.budget));
  rep.started_at = utc_now_iso8601();

  Topology::Options topo_options;
  if (!o.topology_xml.empty()) topo_options.xml_path = o.topology_xml;
  auto topology = std::make_shared<const Topology>(topo_options);
  rep.inventory = topology->inventory();

  DeviceSet devices = open_devices(o, builtin_backend(o, description, topology, cpu), policy, argv0, rep);
  const Selection selection(o, devices.targets);
  if (!o.list) {
    measure_devices(devices.targets, selection, policy, !o.no_progress, rep);
  } else {
    for (const auto& t : devices.targets) {
      if (selection.device(t)) rep.devices.push_back({t.info, {}});
    }
  }
  complete_report(o, devices.targets, selection, assessment, rep);

  const auto view = [&](report::Format f) {
    if (f == report::Format::json) return report::to_json_text(rep, &assessment);
    report::PrintContext ctx = print_context("probe report", f);
    if (signer) ctx.signature = signer->describe();
    return report::make_printer(f, ctx)->render(rep, &assessment);
  };
  write_outputs(outputs, view);
  const std::string signed_note =
      signer ? sign_run(*signer, o, command, argv0, view(report::Format::json), rep, assessment, devices.targets, selection)
             : std::string();
  devices.remotes.clear();  // the idle workers exit (--list, devices left out)
  std::cout << (o.list && format == report::Format::text ? render_list(rep, devices.targets, selection) : view(format));
  if (format == report::Format::text) std::cout << signed_note;
  std::cout.flush();
  if (const int sig = stop_signal(); sig != 0) return 128 + sig;
  return rep.any_failed() ? kExitMeasurementFailed : kExitOk;
}

}  // namespace probe::cli
