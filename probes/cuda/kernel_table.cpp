// Prints the CUDA kernel table (kernels/cuda/cuda_kernels.hpp) for the static PTX audit, one tab-separated row per
// kernel: id, symbol, instruction, instructions per loop iteration, declared ops per iteration, targets.
// The audit's expectations therefore come from the code the kernels and the host share, never from the script.
#include <cstdio>

#include "cuda_kernels.hpp"

int main() {
  for (const auto& d : probe_cuda::kComputeKernels) {
    std::printf("%s\t%s\t%s\t%d\t%.17g\t%s\n", d.id, d.symbol, d.ptx_instruction, d.instr_per_iter, d.ops_per_iter(),
                d.built_for);
  }
  return 0;
}
