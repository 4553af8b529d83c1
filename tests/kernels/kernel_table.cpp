// Prints what the objdump audit (asm_audit.py) must find, straight from the kernel registry, so the expected
// counts are never duplicated in the script. Tab-separated rows:
//   compute <id> <variant> <symbol> <mnemonic(s), '+'-joined> <register width> <instr_per_iter>
//   memory  <id> <variant> <symbol> <register width> <nontemporal 0/1>
#include <iostream>
#include <string>

#include "kernels/cpu/detail.hpp"

namespace {

std::string_view width_of(probe::cpu::Isa isa) {
  switch (isa) {
    case probe::cpu::Isa::amx: return "tmm";
    case probe::cpu::Isa::avx512: return "zmm";
    case probe::cpu::Isa::avx2: return "ymm";
    case probe::cpu::Isa::sse2: return "xmm";
  }
  return "?";
}

}  // namespace

int main() {
  for (const auto& e : probe::cpu::detail::compute_entries()) {
    // "vfmadd213pd zmm" -> mnemonic "vfmadd213pd", width "zmm"; "{vex} vpdpbusd ymm" keeps its prefix.
    const std::string_view instr = e.info->instruction;
    const auto space = instr.rfind(' ');
    std::cout << "compute\t" << e.info->id << '\t' << e.info->variant << '\t' << e.symbol << '\t'
              << instr.substr(0, space) << '\t' << instr.substr(space + 1) << '\t' << e.info->instr_per_iter
              << '\n';
  }
  for (const auto& e : probe::cpu::detail::memory_entries_all()) {
    std::cout << "memory\t" << e.info->id << '\t' << e.info->variant << '\t' << e.symbol << '\t'
              << width_of(e.info->isa) << '\t' << (e.info->nontemporal ? 1 : 0) << '\n';
  }
  return 0;
}
