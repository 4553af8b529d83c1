#pragma once
// The measurement engine shared by every backend: calibrate, warm up, sample until the spread is small or
// the budget is spent, verify every result. Backends supply a SampleRunner; the engine owns the policy.
#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "probe/measurement.hpp"
#include "probe/run_policy.hpp"

namespace probe {

class SampleRunner {
 public:
  virtual ~SampleRunner() = default;
  // Runs `iterations` of the kernel and returns the seconds the timed region took (> 0).
  virtual double run(std::uint64_t iterations) = 0;
  // Checks the result of the last run against the host reference; returns what is wrong, if anything.
  // `final` is true once, after the last sample (runners whose check is costly may check only then).
  [[nodiscard]] virtual std::optional<std::string> verify(std::uint64_t iterations, bool final) = 0;
  // Ops or bytes done by `iterations` (all threads): the same count the kernel file states.
  [[nodiscard]] virtual double work(std::uint64_t iterations) const = 0;
};

struct SamplingOutcome {
  bool ok = false;
  std::string failure;          // set when !ok: which run failed verification and how
  Stats stats;                  // rates, one per sample
  std::uint64_t iterations = 0; // per sample, after calibration
  double warmup_s = 0;          // timed seconds spent before sampling (calibration included)
  double sampled_s = 0;         // timed seconds spent sampling
  bool spread_met = false;      // stopped because the spread target was met
  bool interrupted = false;     // gave up because stop_requested() said so (then !ok)
};

// Never throws for verification failures (they are outcomes); exceptions from the runner propagate.
[[nodiscard]] SamplingOutcome run_sampling(SampleRunner& runner, const RunPolicy& policy);
// The same, giving up between runs once `stop_requested()` is true (outcome: !ok, interrupted).
[[nodiscard]] SamplingOutcome run_sampling(SampleRunner& runner, const RunPolicy& policy,
                                           const std::function<bool()>& stop_requested);

// Current UTC time as ISO 8601 with milliseconds ("2026-11-25T03:34:29.123Z").
[[nodiscard]] std::string utc_now_iso8601();

}  // namespace probe
