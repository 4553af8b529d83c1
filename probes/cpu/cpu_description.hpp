#pragma once
// A recorded CPU description (schema probe-cpu-description/1, data/schema/cpu_description.schema.json): what
// CPUID says about a CPU plus its package/core/thread counts, so that another machine's CPU can be identified and
// its theoretical rates listed without running on it (probe --list --cpu-description FILE). probe describe-cpu
// records the live CPU in this form.
#include <string>
#include <string_view>

#include "kernels/cpu/cpu_kernels.hpp"
#include "probe/inventory.hpp"

namespace probe::cpu {

struct CpuDescription {
  CpuFeatures cpu;  // exactly what live detection gives
  int packages = 1, cores_per_package = 0, threads_per_package = 0;
  std::string source;  // provenance: where the facts come from, in words (optional)
};

// Throws InputError naming the file, the entry and the field for anything malformed or unknown.
[[nodiscard]] CpuDescription parse_cpu_description(std::string_view json_text, std::string_view file_name);
// Reads and parses a file; a missing or unreadable file is an InputError naming it.
[[nodiscard]] CpuDescription load_cpu_description(const std::string& path);
// The JSON text parse_cpu_description() reads back to the same description.
[[nodiscard]] std::string to_json_text(const CpuDescription& d);
// The live CPU: CPUID here, counts from the hwloc inventory.
[[nodiscard]] CpuDescription describe_this_cpu(const Inventory& inventory, std::string source);

}  // namespace probe::cpu
