// Prints the HIP kernel table (kernels/hip/hip_kernels.hpp) for the static assembly audit, one tab-separated row per
// kernel and target it is built for: id, symbol, target, instruction, instructions per iteration, declared ops per
// iteration. The audit's expectations come from the code the kernels and the host share, never from the script.
#include <cstdio>

#include "hip_kernels.hpp"

int main() {
  for (const auto& d : probe_hip::kComputeKernels) {
    const struct {
      const char* target;
      const char* instr;
    } per_target[] = {{"gfx90a", d.isa_cdna2}, {"gfx940", d.isa_cdna3}};
    for (const auto& t : per_target) {
      if (*t.instr == 0) continue;
      std::printf("%s\t%s\t%s\t%s\t%d\t%.17g\n", d.id, d.symbol, t.target, t.instr, d.instr_per_iter,
                  d.ops_per_iter());
    }
  }
  return 0;
}
