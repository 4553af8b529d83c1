#pragma once
// The memory loops' common signature. Declarations only: included by the ISA-flagged TUs (mem_avx512.cpp,
// mem_avx2.cpp) as well as by baseline code, so it must not define any function.
#include <cstddef>

namespace probe::cpu::detail {

// One pass over [0, n) of the slice: a = destination (or the array read), b and c = sources.
struct MemArgs {
  double* a;
  const double* b;
  const double* c;
  std::size_t n;
  double scalar;  // write: the value stored; triad: s in a = b + s·c
  double* sum;    // read: where the sum goes
};
using MemFn = void (*)(const MemArgs*) noexcept;

}  // namespace probe::cpu::detail

#define PROBE_DECLARE_MEM_LOOPS(ISA)                                                              \
  extern "C" {                                                                                   \
  void probe_cpu_mem_read_##ISA(const probe::cpu::detail::MemArgs* p) noexcept;                  \
  void probe_cpu_mem_write_##ISA(const probe::cpu::detail::MemArgs* p) noexcept;                 \
  void probe_cpu_mem_write_nt_##ISA(const probe::cpu::detail::MemArgs* p) noexcept;              \
  void probe_cpu_mem_copy_##ISA(const probe::cpu::detail::MemArgs* p) noexcept;                  \
  void probe_cpu_mem_copy_nt_##ISA(const probe::cpu::detail::MemArgs* p) noexcept;               \
  void probe_cpu_mem_triad_##ISA(const probe::cpu::detail::MemArgs* p) noexcept;                 \
  void probe_cpu_mem_triad_nt_##ISA(const probe::cpu::detail::MemArgs* p) noexcept;              \
  }

PROBE_DECLARE_MEM_LOOPS(avx512)
PROBE_DECLARE_MEM_LOOPS(avx2)
PROBE_DECLARE_MEM_LOOPS(sse2)
