// Core clock from a dependent chain of register adds: each add needs the previous result, and an integer add
// has 1-cycle latency on every x86-64 core, so adds per second = core cycles per second while it runs. The
// TSC is no substitute: it ticks at a fixed reference rate (2.596 GHz on the team's Zen 4 VMs, core ~3.6 GHz).
#include <algorithm>
#include <chrono>
#include <cstdint>

#include "kernels/cpu/cpu_kernels.hpp"

namespace probe::cpu {
namespace {

constexpr std::uint64_t kAddsPerIteration = 100;

#define ADD10 \
  "add %[one], %[acc]\n\tadd %[one], %[acc]\n\tadd %[one], %[acc]\n\tadd %[one], %[acc]\n\tadd %[one], %[acc]\n\t" \
  "add %[one], %[acc]\n\tadd %[one], %[acc]\n\tadd %[one], %[acc]\n\tadd %[one], %[acc]\n\tadd %[one], %[acc]\n\t"

// The addend is a register, not an immediate: some recent cores fold chains of small-immediate adds at rename.
// The loop counter is a separate register, so its sub/jnz run beside the chain.
extern "C" __attribute__((noinline, used)) std::uint64_t probe_cpu_clock_add_chain(std::uint64_t iterations) noexcept {
  std::uint64_t acc = 0;
  const std::uint64_t one = 1;
  if (iterations == 0) return 0;
  asm volatile(
      ".p2align 5\n"
      "1:\n\t" ADD10 ADD10 ADD10 ADD10 ADD10 ADD10 ADD10 ADD10 ADD10 ADD10
      "sub $1, %[n]\n\t"
      "jnz 1b\n"
      : [acc] "+r"(acc), [n] "+r"(iterations)
      : [one] "r"(one)
      : "cc");
  return acc;
}

double seconds_for(std::uint64_t iterations) noexcept {
  const auto t0 = std::chrono::steady_clock::now();
  const std::uint64_t adds = probe_cpu_clock_add_chain(iterations);
  const auto t1 = std::chrono::steady_clock::now();
  (void)adds;
  return std::chrono::duration<double>(t1 - t0).count();
}

}  // namespace

double measure_core_clock_hz(double seconds) noexcept {
  seconds = std::clamp(seconds, 0.01, 60.0);
  // Calibrate: grow the count until one run takes at least 5 ms (timer resolution and call overhead vanish).
  std::uint64_t n = 10000;  // 1e6 adds, ~0.3 ms at 3 GHz
  double t = seconds_for(n);
  while (t < 0.005 && n < (1ULL << 40)) {
    n *= 4;
    t = seconds_for(n);
  }
  // Then five runs sharing the time; the fastest is the one least disturbed by interrupts or preemption.
  constexpr int kRuns = 5;
  const double per_run = seconds / kRuns;
  const auto runs_n = std::max<std::uint64_t>(1, static_cast<std::uint64_t>(static_cast<double>(n) * per_run / t));
  double best = 0;
  for (int i = 0; i < kRuns; ++i) {
    const double s = seconds_for(runs_n);
    if (s > 0) best = std::max(best, static_cast<double>(runs_n * kAddsPerIteration) / s);
  }
  return best;
}

double core_clock_hz_brief(std::uint64_t adds) noexcept {
  // Four bursts, the fastest kept: a burst that an interrupt or preemption hit reads low, never high.
  constexpr int kBursts = 4;
  const std::uint64_t n = std::max<std::uint64_t>(1, adds / kAddsPerIteration / kBursts);
  double best = 0;
  for (int i = 0; i < kBursts; ++i) {
    const double s = seconds_for(n);
    if (s > 0) best = std::max(best, static_cast<double>(n * kAddsPerIteration) / s);
  }
  return best;
}

}  // namespace probe::cpu
