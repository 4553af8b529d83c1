#pragma once
// What one measurement is: a kernel's spec, every sample, the statistics and the conditions it ran under.
#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "probe/dtype.hpp"

namespace probe {

enum class Unit : std::uint8_t { ops_per_s, bytes_per_s };
enum class KernelClass : std::uint8_t { compute, memory };
enum class Status : std::uint8_t { ok, skipped, unavailable, failed };

[[nodiscard]] std::string_view to_string(Unit u) noexcept;
[[nodiscard]] std::string_view to_string(KernelClass c) noexcept;
[[nodiscard]] std::string_view to_string(Status s) noexcept;
[[nodiscard]] std::optional<Unit> unit_from_string(std::string_view s) noexcept;
[[nodiscard]] std::optional<KernelClass> kernel_class_from_string(std::string_view s) noexcept;
[[nodiscard]] std::optional<Status> status_from_string(std::string_view s) noexcept;

// One measurable thing. The work per iteration is THE op or byte count: the kernel loop and the report use
// the same number (set from the constants atop each kernel file).
struct KernelSpec {
  std::string id;           // "fma.fp64", "dot.bf16", "mem.triad.nt"
  std::string title;        // "FP64 FMA"
  DType dtype = DType::none;
  Unit unit = Unit::ops_per_s;
  KernelClass kind = KernelClass::compute;
  std::string counting;     // how work is counted, in words ("2 FLOP per FMA lane", "STREAM: 24 B per element")

  friend bool operator==(const KernelSpec&, const KernelSpec&) = default;
};

// Summary of the samples. Rates are in the spec's unit (ops/s or bytes/s), one per sample.
struct Stats {
  std::vector<double> samples;
  double median = 0, min = 0, max = 0, mean = 0, stddev = 0;
  double q1 = 0, q3 = 0;  // quartiles (linear interpolation between order statistics)
  // (q3 - q1) / median: the spread the stopping rule and the report use. Robust to a stray sample hit by
  // preemption, which min/max (also kept) are not.
  double rel_spread = 0;
  double rel_range = 0;   // (max - min) / median

  [[nodiscard]] static Stats from_samples(std::vector<double> samples);
  friend bool operator==(const Stats&, const Stats&) = default;
};

// Under what conditions the samples were taken.
struct Conditions {
  std::string started_at, finished_at;  // ISO 8601 UTC
  double clock_hz = 0;                  // measured core clock during the measurement (0: not measured)
  double clock_hz_min = 0, clock_hz_max = 0;  // over the threads and the clock samples
  std::string clock_source;             // how the clock was measured
  // CPU: the scalar add-chain clock just before and after sampling (0: not measured). A vector or matrix loop
  // may run at a lower licence clock than this: clock_hz is the clock during the loop where it is measurable.
  double clock_hz_scalar = 0;
  int threads = 0;
  std::vector<int> pus;                 // OS indexes of the processing units the threads were pinned to
  std::uint64_t iterations = 0;         // kernel iterations per sample (per thread)
  double work_per_sample = 0;           // ops or bytes per sample, all threads
  double warmup_s = 0;
  double elapsed_s = 0;                 // wall time the whole measurement took
  std::uint64_t working_set_bytes = 0;  // memory kernels: all arrays together
  std::vector<std::pair<std::string, std::string>> notes;  // anything else worth keeping (key, value)
  std::uint64_t array_bytes = 0;        // memory kernels: one array (0: not a memory kernel)
  std::optional<double> load_average_1min;  // of the host when the measurement began (absent: unreadable)
  std::vector<std::string> warnings;    // what may make the figure unrepresentative, in a sentence each

  friend bool operator==(const Conditions&, const Conditions&) = default;
};

// A figure derived from the measured one (e.g. bandwidth including write-allocate traffic).
struct DerivedFigure {
  std::string name;  // "with_write_allocate"
  double value = 0;  // in the spec's unit
  std::string basis; // how it was derived

  friend bool operator==(const DerivedFigure&, const DerivedFigure&) = default;
};

// A median above the measurement's own theoretical peak by more than its spread plus this tolerance
// contradicts the theoretical figure: the per-unit rate table or the clock behind it is wrong for the device
// (seen on a masked-model Xeon: FP64 at 177% of a wrong peak). 2% covers the clock's own uncertainty (the
// add-chain clock is sampled before and after, not during, the loop on some paths) and rounding in the tables.
inline constexpr double kAboveTheoreticalTolerance = 0.02;

// Set on a measurement whose median exceeds theoretical × (1 + tolerance + rel_spread). The measured figure
// stands (its result was verified); the theoretical one does not, and the report says so.
struct AboveTheoretical {
  double ratio = 0;       // median / theoretical
  double tolerance = 0;   // the stated tolerance used (kAboveTheoreticalTolerance when set by this probe)
  double rel_spread = 0;  // the measurement's own spread (IQR / median) allowed on top of it
  std::string message;    // "measured above theoretical: the per-cycle table or the clock is wrong for this CPU"

  friend bool operator==(const AboveTheoretical&, const AboveTheoretical&) = default;
};

// One sensor over a phase (the vendor library's samples): how many, and their min, median and max.
struct SensorTrace {
  int samples = 0;
  double min = 0, median = 0, max = 0;

  friend bool operator==(const SensorTrace&, const SensorTrace&) = default;
};
// min, median and max of `samples` (empty: all zero). Shared by the NVML and ROCm SMI samplers.
[[nodiscard]] inline SensorTrace trace_of(std::vector<double> samples) {
  SensorTrace t;
  if (samples.empty()) return t;
  std::sort(samples.begin(), samples.end());
  const std::size_t n = samples.size();
  t.samples = static_cast<int>(n);
  t.min = samples.front();
  t.max = samples.back();
  t.median = n % 2 ? samples[n / 2] : (samples[n / 2 - 1] + samples[n / 2]) / 2;
  return t;
}

// The sustained phase (RunPolicy::sustain_s > 0): after sampling, the kernel runs back to back for that long with
// the sensors sampled on their own thread, its result verified before (the sampling's check) and after. The figure
// over the phase, the clock trace and the clock event reasons, typed: the printers word them. The measurement's own
// median, clock and theoretical stay the sampling phase's (each figure is held against the peak at its own clock).
struct SustainedPhase {
  double requested_s = 0;      // --sustain
  double kernel_s = 0;         // device time of the launches (events), the figure's denominator
  double wall_s = 0;           // wall time of the phase (the launches' host round trips included)
  std::uint64_t launches = 0;  // kernel runs of `iterations` each (Conditions::iterations)
  double value = 0;            // work / kernel_s, in the spec's unit
  // The peak at this phase's own clock (the measurement's theoretical scaled by the phase's median core clock over
  // the sampling's clock where that peak is clock-proportional; memory: the same peak), for its % of peak.
  std::optional<double> theoretical;
  bool verified_after = false; // the result after the last launch matched the reference
  std::string sensors;         // "NVML every 20 ms" or why there are no traces
  double sample_rate_hz = 0;   // sensor samples per second of wall time achieved
  SensorTrace core_clock_hz, memory_clock_hz, power_w, temperature_c;
  std::vector<std::string> clock_event_reasons;  // every reason the driver reported during the phase
  // The reasons that held the clock down (a subset): empty on a healthy GPU at its normal boost, where the driver
  // still reports benign ones (idle, application clocks, a power cap that keeps the clock within spec).
  std::vector<std::string> throttled_by;

  friend bool operator==(const SustainedPhase&, const SustainedPhase&) = default;
};

struct Measurement {
  KernelSpec spec;
  Status status = Status::skipped;
  std::string reason;   // why skipped/unavailable/failed; empty when ok
  std::string variant;  // the code path that ran ("avx512", "avx2", "sse2")
  Stats stats;          // empty unless ok
  Conditions conditions;
  std::optional<double> theoretical;  // peak at the measured clock, in the spec's unit
  std::string theoretical_basis;      // "2 cores × 16 FLOP/cycle × 3.60 GHz measured"
  // false: the theoretical peak rests on a rate its data file marks as presumed ("confirmed": false)
  bool theoretical_confirmed = true;
  std::vector<DerivedFigure> derived;
  std::optional<AboveTheoretical> above_theoretical;  // set by check_above_theoretical (every backend alike)
  std::optional<SustainedPhase> sustained;            // RunPolicy::sustain_s > 0, where the backend supports it
  // The error left the device unusable (a CUDA/HIP sticky error poisons its context): the engine skips the rest
  // of this device's kernels ("device aborted after <kernel>: <reason>") instead of letting each fail the same way.
  bool device_aborted = false;

  [[nodiscard]] bool ok() const noexcept { return status == Status::ok; }
  friend bool operator==(const Measurement&, const Measurement&) = default;
};

// The one check for every backend: nullopt unless `m` is ok, has a theoretical peak and its median exceeds it
// by more than its spread plus `tolerance`. `device_kind` ("cpu", "gpu", ...) only words the message.
[[nodiscard]] std::optional<AboveTheoretical> check_above_theoretical(
    const Measurement& m, std::string_view device_kind, double tolerance = kAboveTheoreticalTolerance);

}  // namespace probe
