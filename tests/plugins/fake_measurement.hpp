#pragma once
// What the test plugins report for a kernel that works: fixed samples around 1 TFLOP/s.
#include <algorithm>
#include <cmath>
#include <numeric>
#include <string>
#include <vector>

#include "probe/measurement.hpp"

namespace fake {

// Stats::from_samples lives in probe_core, which a plugin does not link (the core belongs to the executable,
// and a second copy inside a module is a trap), so the few fields are computed here.
inline probe::Stats stats_of(std::vector<double> samples) {
  probe::Stats s;
  s.samples = samples;
  if (samples.empty()) return s;
  std::sort(samples.begin(), samples.end());
  const std::size_t n = samples.size();
  s.min = samples.front();
  s.max = samples.back();
  s.median = n % 2 == 1 ? samples[n / 2] : (samples[n / 2 - 1] + samples[n / 2]) / 2;
  s.mean = std::accumulate(samples.begin(), samples.end(), 0.0) / static_cast<double>(n);
  double sq = 0;
  for (const double x : samples) sq += (x - s.mean) * (x - s.mean);
  s.stddev = n > 1 ? std::sqrt(sq / static_cast<double>(n - 1)) : 0.0;
  s.rel_spread = s.median > 0 ? (s.max - s.min) / s.median : 0.0;
  return s;
}

inline probe::KernelSpec fma_spec(std::string id, std::string title, probe::DType dtype) {
  probe::KernelSpec k;
  k.id = std::move(id);
  k.title = std::move(title);
  k.dtype = dtype;
  k.unit = probe::Unit::ops_per_s;
  k.kind = probe::KernelClass::compute;
  k.counting = "2 FLOP per FMA lane";
  return k;
}

inline probe::Measurement ok_measurement(const probe::KernelSpec& spec) {
  probe::Measurement m;
  m.spec = spec;
  m.status = probe::Status::ok;
  m.variant = "fake";
  m.stats = stats_of({1.00e12, 1.02e12, 0.98e12, 1.01e12, 0.99e12});
  m.conditions.threads = 1;
  m.conditions.iterations = 1000;
  m.conditions.work_per_sample = 1.0e9;
  m.conditions.clock_source = "none";
  m.theoretical = 1.1e12;
  m.theoretical_basis = "fake: 4 units × 275 GFLOP/s";
  return m;
}

}  // namespace fake
