#pragma once
// The sustained phase's vendor-neutral part (RunPolicy::sustain_s): the launches back to back, the figure, the check
// after the phase and the peak at the phase's clock. The backends (CUDA, HIP) add their sensor sampler around
// run_sustained. No GPU runtime here: tests/cuda/test_reference.cpp runs it with a stand-in SampleRunner.
#include <chrono>
#include <cstdint>
#include <fmt/format.h>
#include <functional>
#include <optional>
#include <string>
#include <utility>

#include "probe/engine.hpp"
#include "probe/measurement.hpp"

// In each plugin's own namespace (gpu_api.hpp's PROBE_GPU_NS: the CUDA and HIP plugins share no symbol); the tests,
// which have no GPU API, use probe::gpu_sustain.
#ifdef PROBE_GPU_NS
#define PROBE_SUSTAIN_NS probe::PROBE_GPU_NS::gpu
#else
#define PROBE_SUSTAIN_NS probe::gpu_sustain
#endif

namespace PROBE_SUSTAIN_NS {

// The sustained phase's launches: runner.run(iterations) back to back (one calibrated sample's length each,
// nothing copied or checked in between) until `seconds` of wall time have passed, at least once, then the result
// verified as after the last sample. The sensors are the caller's, started before and stopped after.
struct SustainRun {
  double kernel_s = 0, wall_s = 0;
  std::uint64_t launches = 0;
  std::optional<std::string> failure;  // the check after the phase
  bool interrupted = false;
};
inline SustainRun run_sustained(SampleRunner& runner, std::uint64_t iterations, double seconds,
                                const std::function<bool()>& stop_requested) {
  SustainRun r;
  const auto t0 = std::chrono::steady_clock::now();
  do {
    r.kernel_s += runner.run(iterations);
    ++r.launches;
    r.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (stop_requested()) {
      r.interrupted = true;
      break;
    }
  } while (r.wall_s < seconds);
  r.failure = runner.verify(iterations, true);
  return r;
}

// The end of a sustained phase, vendor-neutral: `p` holds the sensors (the backend's sampler); the launches, the
// figure and the check after the phase are added and a failed check fails the measurement. The measurement's clock
// stays the sampling phase's: its median is held against the peak at that clock, the phase's figure against the
// peak at the phase's clock (sustained_peak, once the backend has stated the theoretical).
inline void finish_sustained(Measurement& m, SustainedPhase p, const SustainRun& run, double work_per_launch) {
  p.kernel_s = run.kernel_s;
  p.wall_s = run.wall_s;
  p.launches = run.launches;
  p.value = run.kernel_s > 0 ? work_per_launch * static_cast<double>(run.launches) / run.kernel_s : 0;
  p.verified_after = !run.failure;
  auto& c = m.conditions;
  if (run.failure) {
    m.status = Status::failed;
    m.reason = "sustained phase: " + *run.failure;
    m.stats = {};
  } else if (run.interrupted) {
    c.notes.emplace_back("sustained", fmt::format("interrupted after {:.1f} s", run.wall_s));
  }
  m.sustained = std::move(p);
}

// The sustained phase's peak once the backend has stated the measurement's theoretical: scaled to the phase's
// median core clock where the peak is proportional to it (compute kernels), else the same peak (memory).
inline void sustained_peak(Measurement& m, bool clock_proportional) {
  if (!m.sustained || !m.theoretical) return;
  SustainedPhase& p = *m.sustained;
  if (!clock_proportional) {
    p.theoretical = m.theoretical;
  } else if (p.core_clock_hz.samples > 0 && m.conditions.clock_hz > 0) {
    p.theoretical = *m.theoretical * p.core_clock_hz.median / m.conditions.clock_hz;
  }
}

}  // namespace PROBE_SUSTAIN_NS
