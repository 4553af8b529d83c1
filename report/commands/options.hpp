#pragma once
// The parsed command line, shared by the command files: cli.cpp fills it (CLI11) and dispatches; each command
// reads the fields it uses. Also the small helpers several commands share.
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "assessment.hpp"
#include "output.hpp"
#include "printer.hpp"
#include "sign.hpp"

namespace probe::cli {

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
  double sustain = -1;        // seconds of the sustained phase; < 0: the budget's (thorough 10 s, else none)
  bool rules_command = false, classify_command = false, describe_cpu_command = false;
  SignOptions sign;
  std::string fleet_out;  // --fleet-out FILE: under MPI, rank 0 writes the fleet report of every rank's node
};

// Comma-separated items, empty ones dropped.
[[nodiscard]] std::vector<std::string> split_list(const std::string& s);
// The assessment's inputs from the flags; InputError for a --datacenter or --vector-processor not yes/no.
[[nodiscard]] report::AssessmentOptions assessment_options(const Options& o);
// Text, JSON or a printer's view of a command's result, to standard output and every output file.
void emit(const Outputs& outputs, std::string_view text_out, const nlohmann::json& doc,
          const std::function<std::string(report::Format)>& view);
[[nodiscard]] report::PrintContext print_context(std::string title, report::Format f);
// The running executable (workers re-execute it; the signed statement names it).
[[nodiscard]] std::string exe_path(const char* argv0);

// The commands that read the Options (commands/*.cpp); each returns the exit status and may throw InputError.
[[nodiscard]] int run_rules(const Options& o, const Outputs& outputs);                                // rules.cpp
[[nodiscard]] int run_classify(const Options& o, const Outputs& outputs, const std::string& command);  // classify.cpp
[[nodiscard]] int run_describe_cpu(const Options& o);                                                 // describe_cpu.cpp
// probe [--report] and probe --list (report.cpp).
[[nodiscard]] int run_report(const Options& o, const Outputs& outputs, const std::string& command, const char* argv0);
// mpirun -n N probe --report --fleet-out F: one node report per rank, merged by rank 0 (fleet_mpi.cpp).
[[nodiscard]] int run_fleet_mpi(const Options& o, const std::string& command, const char* argv0);

}  // namespace probe::cli
