// Prints the CUDA kernel table (kernels/cuda/cuda_kernels.hpp) for the static audits, one tab-separated row per
// kernel: id, symbol, instruction, instructions per loop iteration, declared ops per iteration, targets, and with
// --runs-on a seventh column: the compute capabilities the kernel is measured on (the SASS audit judges a target's
// machine code only where the kernel runs there).
// The audits' expectations therefore come from the code the kernels and the host share, never from the scripts.
#include <cstdio>
#include <cstring>

#include "cuda_kernels.hpp"

int main(int argc, char** argv) {
  const bool runs_on = argc > 1 && std::strcmp(argv[1], "--runs-on") == 0;
  if (argc > 1 && !runs_on) {
    std::fprintf(stderr, "usage: %s [--runs-on]\n", argv[0]);
    return 2;
  }
  for (const auto& d : probe_cuda::kComputeKernels) {
    std::printf("%s\t%s\t%s\t%d\t%.17g\t%s", d.id, d.symbol, d.ptx_instruction, d.instr_per_iter, d.ops_per_iter(),
                d.built_for);
    if (runs_on) std::printf("\t%s", d.runs_on);
    std::printf("\n");
  }
  return 0;
}
