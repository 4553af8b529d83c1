// Not a test: a throwaway single-thread timing of every supported compute kernel (and one memory pass), to
// compare with the per-cycle peaks (Zen 4: fp64 16, fp32 32, bf16 64, int8 128 per cycle). Built on demand:
//   cmake --build <build> --target kernel_bench && <build>/tests/kernels/kernel_bench
#include <chrono>
#include <cstdio>
#include <cstdlib>

#include "kernels/cpu/cpu_kernels.hpp"

using namespace probe::cpu;

int main(int argc, char** argv) {
  const double seconds = argc > 1 ? std::atof(argv[1]) : 1.0;
  const CpuFeatures f = detect_features();
  const double hz = measure_core_clock_hz(0.5);
  std::printf("%s, core clock %.3f GHz\n", f.brand.c_str(), hz / 1e9);
  for (const ComputeKernelInfo* k : compute_kernel_variants()) {
    if (!is_supported(*k, f)) {
      std::printf("%-9s %-7s not supported here\n", k->id.data(), k->variant.data());
      continue;
    }
    auto kernel = make_compute_kernel(*k);
    kernel->prepare(1);
    std::uint64_t n = 100000;
    double best = 0;
    for (int rep = 0; rep < 3; ++rep) {
      for (;;) {
        const auto t0 = std::chrono::steady_clock::now();
        kernel->run(n);
        const double t = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        if (t < seconds / 3) {
          n *= 2;
          continue;
        }
        best = std::max(best, static_cast<double>(n) * k->ops_per_iter() / t);
        break;
      }
    }
    const auto err = kernel->verify(n);
    std::printf("%-9s %-7s %-20s %8.1f G/s  %6.1f per cycle  %s\n", k->id.data(), k->variant.data(),
                k->instruction.data(), best / 1e9, best / hz, err ? err->c_str() : "verified");
  }
  // One thread, triad over 3 × 256 MiB.
  const std::size_t n = std::size_t{32} << 20;
  StreamArrays s{static_cast<double*>(std::aligned_alloc(64, n * 8)), static_cast<double*>(std::aligned_alloc(64, n * 8)),
                 static_cast<double*>(std::aligned_alloc(64, n * 8)), n};
  for (const char* id : {"mem.read", "mem.copy", "mem.copy.nt", "mem.triad", "mem.triad.nt"}) {
    const MemoryKernelInfo* k = select_memory_kernel(id, f, Isa::avx512);
    auto m = make_memory_kernel(*k);
    m->init(s, 0, n, 1);
    m->run(1);
    const auto t0 = std::chrono::steady_clock::now();
    m->run(5);
    const double t = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const auto err = m->verify(6);
    std::printf("%-13s %-7s %6.1f GB/s (counted bytes)  %s\n", id, k->variant.data(),
                5.0 * static_cast<double>(n) * k->counted_bytes_per_elem / t / 1e9, err ? err->c_str() : "verified");
  }
  std::free(s.a);
  std::free(s.b);
  std::free(s.c);
  return 0;
}
