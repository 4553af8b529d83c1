#pragma once
// The probe command line: parse, build the report, print it. main() only calls run_cli.
namespace probe::cli {

// Exit statuses, as documented in --help and the README.
inline constexpr int kExitOk = 0;
inline constexpr int kExitMeasurementFailed = 1;
inline constexpr int kExitUsage = 2;
// A defect in probe itself (an exception nothing else caught): not the user's input, not a measurement.
inline constexpr int kExitInternal = 3;

int run_cli(int argc, char** argv);

}  // namespace probe::cli
