#pragma once
// The built-in CPU backend: one device per CPU package, one thread per core pinned through hwloc.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "kernels/cpu/cpu_kernels.hpp"
#include "probe/device.hpp"
#include "probe/inventory.hpp"

namespace probe::cpu {

struct CpuOptions {
  Isa isa_cap = Isa::amx;                   // measure no ISA above this (--cpu-isa)
  std::optional<int> threads;               // threads per package (default: one per core)
  std::optional<std::uint64_t> array_bytes; // memory kernels: bytes per array (default: 4 × all last-level caches)
};

[[nodiscard]] std::unique_ptr<Backend> make_cpu_backend(std::shared_ptr<const Topology> topology, CpuOptions options);
// The same with another empirical FMA-unit counter (tests; nullptr: none is run).
class FmaUnitCounter;
[[nodiscard]] std::unique_ptr<Backend> make_cpu_backend(std::shared_ptr<const Topology> topology, CpuOptions options,
                                                        std::unique_ptr<FmaUnitCounter> fma_unit_counter);

// A CPU described by a recorded description (probe --cpu-description FILE) instead of the live CPU: one device
// per described package, identified from the description; nothing on it is measured (every kernel is skipped
// with the reason) and no empirical check runs. `file` names the description in the report.
struct CpuDescription;
[[nodiscard]] std::unique_ptr<Backend> make_described_cpu_backend(const CpuDescription& description,
                                                                  std::string file, CpuOptions options);

// The memory kernels allocate three arrays of `array_bytes` each. Throws InputError naming --mem-size when
// they would not fit in `available_bytes` (0: unknown, then only the arithmetic is checked), so a size too
// large for this machine is refused before anything runs rather than failing (or worse) in an allocation.
void check_array_bytes(std::uint64_t array_bytes, std::uint64_t available_bytes);
// Memory available now (sysconf _SC_AVPHYS_PAGES × page size); 0 when the system does not say.
[[nodiscard]] std::uint64_t available_memory_bytes() noexcept;

// The kernel specs every CPU device lists, in report order.
[[nodiscard]] const std::vector<KernelSpec>& cpu_kernel_specs();

}  // namespace probe::cpu
