// Calibrate → warm up → sample → verify. The budget is counted in the timed seconds the runner reports, so
// the stopping rule is deterministic for a given sequence of timings (and testable with a scripted runner).
#include "probe/engine.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <ctime>
#include <fmt/format.h>

namespace probe {
namespace {

constexpr std::uint64_t kMaxIterations = std::uint64_t{1} << 60;

std::uint64_t scaled(std::uint64_t iters, double factor) {
  const double next = std::ceil(static_cast<double>(iters) * factor);
  if (next >= static_cast<double>(kMaxIterations)) return kMaxIterations;
  return std::max<std::uint64_t>(1, static_cast<std::uint64_t>(next));
}

}  // namespace

std::string utc_now_iso8601() {
  const auto now = std::chrono::system_clock::now();
  const auto secs = std::chrono::time_point_cast<std::chrono::seconds>(now);
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now - secs).count();
  const std::time_t tt = std::chrono::system_clock::to_time_t(secs);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                     tm.tm_hour, tm.tm_min, tm.tm_sec, ms);
}

SamplingOutcome run_sampling(SampleRunner& runner, const RunPolicy& policy) {
  return run_sampling(runner, policy, [] { return false; });
}

SamplingOutcome run_sampling(SampleRunner& runner, const RunPolicy& policy,
                             const std::function<bool()>& stop_requested) {
  SamplingOutcome out;
  // Checked before every run: a stop is noticed within one sample (sample_s), never after the whole budget.
  auto stopping = [&] {
    if (!stop_requested()) return false;
    out.ok = false;
    out.interrupted = true;
    out.failure = "interrupted";
    return true;
  };
  double spent = 0;
  auto timed = [&](std::uint64_t iters) {
    const double t = runner.run(iters);
    spent += t;
    return t;
  };
  auto check = [&](std::uint64_t iters, bool final, std::string_view when) -> bool {
    if (auto wrong = runner.verify(iters, final)) {
      out.ok = false;
      out.failure = fmt::format("verification failed ({}, {} iterations): {}", when, iters, *wrong);
      return false;
    }
    return true;
  };

  // Calibrate: the first run is one iteration, which checks the kernel's semantics exactly before any
  // timing matters; then grow until one run lasts about sample_s.
  std::uint64_t iters = 1;
  if (stopping()) return out;
  double t = timed(iters);
  if (!check(iters, false, "first run")) return out;
  for (int step = 0; step < 64 && t < 0.9 * policy.sample_s && iters < kMaxIterations; ++step) {
    // Short runs are dominated by timer and start-up noise: grow by at most 10x until they are measurable.
    const double factor = t < 1e-4 ? 10.0 : std::clamp(policy.sample_s / t, 1.1, 10.0);
    iters = scaled(iters, factor);
    if (stopping()) return out;
    t = timed(iters);
    if (!check(iters, false, "calibration")) return out;
  }
  // Warm up (clocks ramp, pages fault in), then correct the count once for the settled speed.
  while (spent < policy.warmup_s) {
    if (stopping()) return out;
    t = timed(iters);
    if (!check(iters, false, "warm-up")) return out;
  }
  if (t > 0) iters = scaled(iters, std::clamp(policy.sample_s / t, 0.5, 2.0));
  out.warmup_s = spent;
  out.iterations = iters;

  std::vector<double> rates;
  double sampled = 0;
  const double work = runner.work(iters);
  for (;;) {
    if (stopping()) return out;
    t = runner.run(iters);
    sampled += t;
    if (!check(iters, false, fmt::format("sample {}", rates.size() + 1))) return out;
    if (!(t > 0)) {
      out.failure = fmt::format("sample {} reported a non-positive duration ({} s)", rates.size() + 1, t);
      return out;
    }
    rates.push_back(work / t);
    const auto n = static_cast<int>(rates.size());
    if (n >= policy.min_samples) {
      const Stats s = Stats::from_samples(rates);
      if (s.rel_spread <= policy.target_spread) {
        out.spread_met = true;
        break;
      }
    }
    if (n >= policy.max_samples) break;
    if (sampled >= policy.max_time_s && n >= std::min(policy.min_samples, 3)) break;
  }
  if (!check(iters, true, "final check")) return out;
  out.ok = true;
  out.stats = Stats::from_samples(std::move(rates));
  out.sampled_s = sampled;
  return out;
}

}  // namespace probe
