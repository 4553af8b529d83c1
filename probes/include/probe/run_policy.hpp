#pragma once
// How long and how carefully to measure: the three budgets and the stopping rule.
#include <optional>
#include <string_view>

namespace probe {

enum class Budget { quick, normal, thorough };

[[nodiscard]] constexpr std::string_view to_string(Budget b) noexcept {
  switch (b) {
    case Budget::quick: return "quick";
    case Budget::normal: return "default";
    case Budget::thorough: return "thorough";
  }
  return "default";
}

struct RunPolicy {
  Budget budget = Budget::normal;
  double warmup_s = 0.1;         // run the kernel this long before sampling (clocks settle, pages fault in)
  double sample_s = 0.02;        // target duration of one sample; iterations are calibrated to it
  int min_samples = 5;
  int max_samples = 60;
  double target_spread = 0.01;   // stop when the spread (IQR / median) is under this and min_samples are taken
  double max_time_s = 1.5;       // time budget for sampling one kernel (warm-up excluded)
  // The sustained phase (--sustain): run the kernel back to back this long after sampling, with the sensors
  // sampled, for the figure and the clock a long job sees (GPU backends; 0: none). Thorough: kThoroughSustainS.
  double sustain_s = 0;
  static constexpr double kThoroughSustainS = 10.0;

  // The watchdog's limit on one accelerator kernel, wall time from its start to its result: a minute for
  // set-up, calibration and verification (a GPU's arrays are large), plus twenty times the timed budget (it is
  // counted in timed seconds; wall time is more), plus twice the sustained phase, rounded up to a whole second:
  // quick 65 s, default 92 s, thorough 250 s (230 + 2 x 10 s sustained).
  [[nodiscard]] constexpr double kernel_timeout_s() const noexcept {
    const double s = 60.0 + 20.0 * (warmup_s + max_time_s) + 2.0 * sustain_s;
    const auto whole = static_cast<long long>(s);
    return static_cast<double>(static_cast<double>(whole) < s ? whole + 1 : whole);
  }

  [[nodiscard]] static constexpr RunPolicy for_budget(Budget b) noexcept {
    RunPolicy p;
    p.budget = b;
    switch (b) {
      case Budget::quick:
        p.warmup_s = 0.02; p.sample_s = 0.02; p.min_samples = 3; p.max_samples = 10; p.target_spread = 0.02;
        p.max_time_s = 0.2;
        break;
      case Budget::normal:
        break;
      case Budget::thorough:
        p.warmup_s = 0.5; p.sample_s = 0.2; p.min_samples = 10; p.max_samples = 100; p.target_spread = 0.005;
        p.max_time_s = 8.0;
        p.sustain_s = kThoroughSustainS;
        break;
    }
    return p;
  }
};

}  // namespace probe
