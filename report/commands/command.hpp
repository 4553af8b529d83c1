#pragma once
// The shared core of probe's commands: each command lives in a file of its own (report/commands/*.cpp), adds a
// CLI11 subcommand with its options, and runs when that subcommand was given. cli.cpp only registers them.
#include <CLI/CLI.hpp>
#include <functional>
#include <string>

namespace probe::cli {

struct Command {
  CLI::App* app = nullptr;   // the subcommand
  std::function<int()> run;  // its work once parsed: the exit status; may throw InputError (exit 2)
};

Command add_keygen_command(CLI::App& parent);  // commands/keygen.cpp
Command add_verify_command(CLI::App& parent);  // commands/verify.cpp
Command add_merge_command(CLI::App& parent);   // commands/merge.cpp

}  // namespace probe::cli
